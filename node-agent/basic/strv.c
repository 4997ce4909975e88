/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"

int strv_add(char ***v, const char *s)
{
	size_t n = 0;
	char **nv;

	while (*v && (*v)[n])
		n++;
	nv = reallocarray(*v, n + 2, sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[n] = strdup(s);
	nv[n + 1] = NULL;
	return nv[n] ? 0 : -ENOMEM;
}

bool strv_has(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int kv_set(na_kv_list *l, const char *key, const char *value)
{
	_cleanup_free_ char *k = NULL, *v = strdup(value);
	na_kv *nv;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key)) {
			free(l->v[i].value);
			l->v[i].value = TAKE_PTR(v);
			return 0;
		}
	k = strdup(key);
	if (!k)
		return -ENOMEM;
	nv = reallocarray(l->v, l->n + 1, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n].key = TAKE_PTR(k);
	l->v[l->n].value = TAKE_PTR(v);
	l->n++;
	return 0;
}

const char *kv_get(const na_kv_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return l->v[i].value;
	return NULL;
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const na_kv *)a)->key, ((const na_kv *)b)->key);
}

void kv_sort(na_kv_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), kv_cmp);
}

void kv_free(na_kv_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
