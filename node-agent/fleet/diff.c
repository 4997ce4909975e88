/* SPDX-License-Identifier: MIT */
/*
 * Hardware changes between two inventories of one machine. Matching follows what stays
 * put when a machine is serviced: a disk keeps its serial (or WWN) when the kernel
 * renames it, a GPU keeps its model when it moves slot, a NIC keeps its MAC. Values that
 * are unknown on either side never count as a change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/diff-internal.h"
#include "inventory/inventory-json.h"

#define DIFF_SCHEMA "node-agent/diff/v1"

/* Input strings go into one-line messages: control characters become '?'. */
static void clean_line(char *s)
{
	for (unsigned char *p = (unsigned char *)s; p && *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

void diff_add(diff_changes *c, bool warning, const char *kind, const char *subject,
	      json_object *old_value, json_object *new_value, const char *fmt, ...)
{
	inventory_change *x;
	va_list ap;
	char *msg = NULL;
	int r;

	if (c->oom)
		goto fail;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		inventory_change *v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			goto fail;
		c->v = v;
		c->cap = cap;
	}
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		goto fail;
	x = &c->v[c->n];
	*x = (inventory_change){
	    .kind = kind,
	    .subject = strdup(subject ? subject : "?"),
	    .message = msg,
	    .old_value = old_value,
	    .new_value = new_value,
	    .warning = warning,
	};
	if (!x->subject) {
		free(msg);
		goto fail;
	}
	clean_line(x->subject);
	clean_line(x->message);
	c->n++;
	return;
fail:
	c->oom = true;
	json_object_put(old_value);
	json_object_put(new_value);
}

/* --- API --- */

static size_t max3(size_t a, size_t b, size_t c)
{
	return a > b ? (a > c ? a : c) : (b > c ? b : c);
}

inventory_change *inventory_changes_free(inventory_change *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].subject);
		free(v[i].message);
		json_object_put(v[i].old_value);
		json_object_put(v[i].new_value);
	}
	free(v);
	return NULL;
}

int inventory_diff_compute(const hw_inventory *a, const hw_inventory *b,
			   inventory_change **ret_changes, size_t *ret_n)
{
	diff_changes c = {0};
	size_t na = max3(a->n_disks, a->n_gpus, a->n_nics) + 1;
	size_t nb = max3(b->n_disks, b->n_gpus, b->n_nics) + 1;
	int *match_a = calloc(na, sizeof(int));
	bool *used_b = calloc(nb, sizeof(bool));

	if (!match_a || !used_b) {
		free(match_a);
		free(used_b);
		return -ENOMEM;
	}
	diff_system(&c, &a->system, &b->system);
	diff_cpu(&c, &a->cpu, &b->cpu);
	diff_memory(&c, &a->memory, &b->memory);
	diff_disks(&c, a, b, match_a, used_b);
	memset(used_b, 0, nb * sizeof(bool));
	diff_gpus(&c, a, b, match_a, used_b);
	memset(used_b, 0, nb * sizeof(bool));
	diff_nics(&c, a, b, match_a, used_b);
	diff_batteries(&c, a, b);
	free(match_a);
	free(used_b);
	if (c.oom || c.n > INT32_MAX) {
		inventory_changes_free(c.v, c.n);
		return -ENOMEM;
	}
	if (c.n == 0) {
		free(c.v);
		c.v = NULL;
	}
	*ret_changes = c.v;
	*ret_n = c.n;
	return (int)c.n;
}

int inventory_diff(const hw_inventory *a, const hw_inventory *b, FILE *out)
{
	inventory_change *v = NULL;
	size_t n = 0;
	int r;

	r = inventory_diff_compute(a, b, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; out && i < n; i++)
		if (fprintf(out, "%s\n", v[i].message) < 0) {
			r = -EIO;
			break;
		}
	inventory_changes_free(v, n);
	return r;
}

char **inventory_diff_lines_free(char **lines)
{
	for (char **l = lines; l && *l; l++)
		free(*l);
	free(lines);
	return NULL;
}

int inventory_diff_lines(const hw_inventory *a, const hw_inventory *b, char ***ret_lines)
{
	inventory_change *v = NULL;
	size_t n = 0;
	char **lines;
	int r;

	r = inventory_diff_compute(a, b, &v, &n);
	if (r < 0)
		return r;
	lines = calloc(n + 1, sizeof(char *));
	if (!lines) {
		inventory_changes_free(v, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		lines[i] = v[i].message;
		v[i].message = NULL;
	}
	inventory_changes_free(v, n);
	*ret_lines = lines;
	return r;
}

json_object *inventory_changes_to_json(const char *old_file, const char *new_file,
				       const inventory_change *v, size_t n)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();

	if (!o || !arr) {
		json_object_put(o);
		json_object_put(arr);
		return NULL;
	}
	json_object_object_add(o, "schema", json_object_new_string(DIFF_SCHEMA));
	json_object_object_add(o, "old", diff_jstr(old_file));
	json_object_object_add(o, "new", diff_jstr(new_file));
	json_object_object_add(o, "changes", arr);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_new_object();
		if (!e || json_object_array_add(arr, e) < 0) {
			json_object_put(e);
			json_object_put(o);
			return NULL;
		}
		json_object_object_add(e, "kind", json_object_new_string(v[i].kind));
		json_object_object_add(e, "subject", json_object_new_string(v[i].subject));
		json_object_object_add(e, "severity",
				       json_object_new_string(v[i].warning ? "warning" : "notice"));
		json_object_object_add(e, "message", json_object_new_string(v[i].message));
		json_object_object_add(e, "old", json_object_get(v[i].old_value));
		json_object_object_add(e, "new", json_object_get(v[i].new_value));
	}
	return o;
}
