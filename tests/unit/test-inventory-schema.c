/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the inventory schema tables (node-agent/inventory/inventory-schema.c) and
 * the writer and reader that walk them, as TAP: the tables are well formed (the writer
 * relies on each key being once in its table), an inventory with every field set is
 * written without a null and read back to the same JSON, and the messages made from the
 * tables read as they always did.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/inventory-json.h"
#include "inventory/inventory-schema.h"
#include "tap.h"

/* Problems of table t (and the ones below it), each printed as a TAP comment. */
static int table_problems(const schema_table *t, const char *name)
{
	int bad = 0;

	if (!t->fields || t->n_fields == 0) {
		printf("# %s: no fields\n", name);
		return 1;
	}
	for (size_t i = 0; i < t->n_fields; i++) {
		const schema_field *f = &t->fields[i];

		if (!f->key || !*f->key) {
			printf("# %s: field %zu has no key\n", name, i);
			bad++;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->fields[j].key, f->key) == 0) {
				printf("# %s: \"%s\" twice\n", name, f->key);
				bad++;
			}
		if ((f->kind == SCHEMA_STRING && f->values && !f->allowed) ||
		    (f->kind == SCHEMA_INT && f->ints && !f->allowed)) {
			printf("# %s.%s: allowed values without their text\n", name, f->key);
			bad++;
		}
		if (f->kind == SCHEMA_OBJECT || f->kind == SCHEMA_OPT_OBJECT)
			bad += table_problems(f->object, f->key);
		if (f->kind == SCHEMA_LIST) {
			if (f->list->elem_size == 0 || f->list->max == 0) {
				printf("# %s.%s: element size or max is 0\n", name, f->key);
				bad++;
			}
			bad += table_problems(f->list->table, f->key);
		}
	}
	return bad;
}

/* Every field of the struct at obj set to a value that is not "unknown", by its table:
 * strings "<key>-<n>" (or the first allowed value), numbers, true, two-entry lists. */
static int fill(const schema_table *t, void *obj, int n)
{
	for (size_t i = 0; i < t->n_fields; i++) {
		const schema_field *f = &t->fields[i];
		void *p = (char *)obj + f->offset;

		switch (f->kind) {
		case SCHEMA_STRING:
			if (f->values)
				*(char **)p = strdup(f->values[0]);
			else if (asprintf((char **)p, "%s-%d", f->key, n) < 0)
				*(char **)p = NULL;
			if (!*(char **)p)
				return -ENOMEM;
			break;
		case SCHEMA_INT:
			*(int64_t *)p = f->ints ? f->ints[0] : 1000 + n;
			break;
		case SCHEMA_TRI:
			*(hw_tri *)p = HW_TRI_TRUE;
			break;
		case SCHEMA_BOOL:
			*(bool *)p = true;
			break;
		case SCHEMA_HEX4:
			*(uint16_t *)p = (uint16_t)(0xab00 + n);
			break;
		case SCHEMA_STRV: {
			char **v = calloc(3, sizeof(char *));

			*(char ***)p = v;
			if (!v || asprintf(&v[0], "%s-a", f->key) < 0 ||
			    asprintf(&v[1], "%s-b", f->key) < 0)
				return -ENOMEM;
			break;
		}
		case SCHEMA_PCI_CLASS:
			*(uint32_t *)p = 0x030200;
			break;
		case SCHEMA_REV2:
			*(int16_t *)p = 0xa1;
			break;
		case SCHEMA_OBJECT:
			if (fill(f->object, p, n) < 0)
				return -ENOMEM;
			break;
		case SCHEMA_OPT_OBJECT:
			*(bool *)p = true;
			if (fill(f->object, p, n) < 0)
				return -ENOMEM;
			break;
		case SCHEMA_LIST: {
			char *a = calloc(3, f->list->elem_size);

			*(char **)p = a;
			if (!a)
				return -ENOMEM;
			for (int k = 0; k < 2; k++) {
				void *e = a + k * f->list->elem_size;

				(*(size_t *)((char *)obj + f->list->count_offset))++;
				if (fill(f->list->table, e, n * 10 + k) < 0)
					return -ENOMEM;
			}
			break;
		}
		}
	}
	return 0;
}

/* The number of nulls anywhere in j. */
static int nulls(json_object *j)
{
	int n = 0;

	if (!j)
		return 1;
	if (json_object_is_type(j, json_type_object)) {
		json_object_object_foreach (j, key, v) {
			(void)key;
			n += nulls(v);
		}
	} else if (json_object_is_type(j, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(j); i++)
			n += nulls(json_object_array_get_idx(j, i));
	}
	return n;
}

/* Whether o's keys are exactly t's, in t's order (after a leading "schema" at the root). */
static bool keys_in_order(json_object *o, const schema_table *t, bool root)
{
	size_t i = 0;
	bool first = true;

	json_object_object_foreach (o, key, v) {
		if (root && first && strcmp(key, "schema") == 0) {
			first = false;
			continue;
		}
		first = false;
		if (i >= t->n_fields || strcmp(key, t->fields[i].key) != 0)
			return false;
		if (t->fields[i].kind == SCHEMA_OBJECT &&
		    !keys_in_order(v, t->fields[i].object, false))
			return false;
		if (t->fields[i].kind == SCHEMA_LIST)
			for (size_t k = 0; k < json_object_array_length(v); k++)
				if (!keys_in_order(json_object_array_get_idx(v, k),
						   t->fields[i].list->table, false))
					return false;
		i++;
	}
	return i == t->n_fields;
}

/* The messages inventory_from_json() gives for text, one per line, in *ret (malloc'd). */
static int messages(const char *text, char **ret)
{
	size_t len = 0;
	FILE *f = open_memstream(ret, &len);
	json_object *root = json_tokener_parse(text);
	hw_inventory *inv = NULL;
	int r;

	if (!f)
		return -ENOMEM;
	na_log l = na_log_stream(f);
	r = inventory_from_json(root, "f.json", &l, &inv);
	fclose(f);
	json_object_put(root);
	hw_inventory_free(inv);
	return r;
}

static void says(const char *text, const char *want, const char *what)
{
	char *got = NULL;
	int r = messages(text, &got);

	ok(r == -EINVAL && got && strcmp(got, want) == 0, what);
	if (!got || strcmp(got, want) != 0)
		printf("#   got:  %s#   want: %s", got ? got : "(nothing)\n", want);
	free(got);
}

int main(void)
{
	hw_inventory *inv = calloc(1, sizeof(*inv)), *back = NULL;
	json_object *j = NULL, *j2 = NULL;
	const char *s1, *s2;
	int r;

	ok(table_problems(&inventory_schema, "$") == 0,
	   "every table has fields, each key once, the text of its allowed values");
	ok(inv && fill(&inventory_schema, inv, 1) == 0, "an inventory with every field set");
	j = inv ? inventory_to_json(inv) : NULL;
	ok(j != NULL, "is written");
	ok(j && nulls(j) == 0, "without a null: every field is written");
	ok(j && keys_in_order(j, &inventory_schema, true), "with the keys in table order");
	r = j ? inventory_from_json(j, "full.json", NULL, &back) : -EINVAL;
	ok(r == 0, "is read back without a problem");
	j2 = r == 0 ? inventory_to_json(back) : NULL;
	s1 = j ? json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN) : "";
	s2 = j2 ? json_object_to_json_string_ext(j2, JSON_C_TO_STRING_PLAIN) : "";
	ok(j2 && strcmp(s1, s2) == 0, "and written again to the same JSON");
	if (j2 && strcmp(s1, s2) != 0)
		printf("#   first:  %s\n#   second: %s\n", s1, s2);
	ok(back && back->n_pci_devices == 2 && back->pci_devices[0].has_ids,
	   "PCI devices read have their ids");
	json_object_put(j);
	json_object_put(j2);
	hw_inventory_free(inv);
	hw_inventory_free(back);

	says("{\"schema\": \"node-agent/inventory/v1\", \"nics\": [{\"duplex\": \"FULL\"}]}",
	     "f.json: nics[0]: \"duplex\" must be \"full\", \"half\" or null\n",
	     "a value not allowed: the message lists the allowed strings");
	says("{\"schema\": \"node-agent/inventory/v1\", \"boot\": {\"uefi_bitness\": 16}}",
	     "f.json: boot: \"uefi_bitness\" must be 32, 64 or null\n",
	     "a number not allowed: the message lists the allowed numbers");
	says("{\"schema\": \"node-agent/inventory/v1\", \"cpu\": [], \"gpus\": {}, \"disks\": [1]}",
	     "f.json: cpu: must be an object or null\nf.json: gpus: must be a list\n"
	     "f.json: disks[0]: must be an object\n",
	     "sections and lists of the document: their own path");
	says("{\"schema\": \"node-agent/inventory/v1\", \"disks\": [{\"filesystems\": 1},"
	     " {\"filesystems\": [1, {\"uuid\": 2}]}]}",
	     "f.json: disks[0]: \"filesystems\" must be a list or null\n"
	     "f.json: disks[1]: \"filesystems\"[0] must be an object\n"
	     "f.json: disks[1]: \"uuid\" must be a string or null\n",
	     "a list within a part: named at the part's path, its fields too");

	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
