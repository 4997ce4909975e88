/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* NULL-terminated string lists and key/value lists, each string owned by its list.
 * Functions that can fail return 0 or -ENOMEM and leave the list as it was. */

int strv_add(char ***v, const char *s);
bool strv_has(char *const *v, const char *s);
void strv_free(char **v);

typedef struct na_kv {
	char *key;
	char *value;
} na_kv;

typedef struct na_kv_list {
	na_kv *v;
	size_t n;
} na_kv_list;

/* Set key=value, replacing an earlier value of the key. */
int kv_set(na_kv_list *l, const char *key, const char *value);
/* The value of key, or NULL. */
const char *kv_get(const na_kv_list *l, const char *key);
/* Sort by key (strcmp). */
void kv_sort(na_kv_list *l);
void kv_free(na_kv_list *l);
