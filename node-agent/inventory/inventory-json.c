/* SPDX-License-Identifier: MIT */
/* hw_inventory -> JSON, schema node-agent/inventory/v1 (see DESIGN.md), by the tables of
 * inventory-schema.c. */
#include <stdio.h>

#include "inventory/inventory-json.h"
#include "inventory/inventory-schema.h"

typedef struct writer {
	bool failed; /* an allocation failed: the tree lacks a value */
} writer;

/* v, or NULL: a json-c constructor's result where NULL means out of memory */
static json_object *made(writer *w, json_object *v)
{
	if (!v)
		w->failed = true;
	return v;
}

/* json-c leaves a value it could not add to its caller */
static void add(writer *w, json_object *o, const char *key, json_object *v)
{
	/* The keys are string literals, each once in its table (test-inventory-schema checks):
	 * json-c need not copy them nor look for them in o. */
	const unsigned opts = JSON_C_OBJECT_ADD_CONSTANT_KEY | JSON_C_OBJECT_ADD_KEY_IS_NEW;

	if (json_object_object_add_ex(o, key, v, opts) < 0) {
		json_object_put(v);
		w->failed = true;
	}
}

static void append(writer *w, json_object *a, json_object *v)
{
	if (json_object_array_add(a, v) < 0) {
		json_object_put(v);
		w->failed = true;
	}
}

/* v as `digits` lower-case hex digits */
static json_object *hex_text(writer *w, int digits, unsigned v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%0*x", digits, v);
	return made(w, json_object_new_string(buf));
}

static json_object *strv_json(writer *w, char *const *v)
{
	json_object *a;

	if (!v)
		return NULL;
	a = made(w, json_object_new_array());
	for (; a && *v; v++)
		append(w, a, made(w, json_object_new_string(*v)));
	return a;
}

static json_object *object_json(writer *w, const schema_table *t, const void *obj);

static json_object *list_json(writer *w, const schema_list *l, const void *holder,
			      const char *elems)
{
	size_t n = *(const size_t *)((const char *)holder + l->count_offset);
	json_object *a;

	if (!elems && l->nullable)
		return NULL;
	a = made(w, json_object_new_array());
	for (size_t i = 0; a && i < n; i++)
		append(w, a, object_json(w, l->table, elems + i * l->elem_size));
	return a;
}

/* The value of field f of the struct at obj; NULL for JSON null (or out of memory). */
static json_object *field_json(writer *w, const schema_field *f, const void *obj)
{
	const void *p = (const char *)obj + f->offset;

	switch (f->kind) {
	case SCHEMA_STRING: {
		const char *s = *(char *const *)p;
		return s ? made(w, json_object_new_string(s)) : NULL;
	}
	case SCHEMA_INT: {
		int64_t v = *(const int64_t *)p;
		return v == HW_UNKNOWN ? NULL : made(w, json_object_new_int64(v));
	}
	case SCHEMA_TRI: {
		hw_tri t = *(const hw_tri *)p;
		return t == HW_TRI_UNKNOWN ? NULL
					   : made(w, json_object_new_boolean(t == HW_TRI_TRUE));
	}
	case SCHEMA_BOOL:
		return made(w, json_object_new_boolean(*(const bool *)p));
	case SCHEMA_HEX4:
		return hex_text(w, 4, *(const uint16_t *)p);
	case SCHEMA_STRV:
		return strv_json(w, *(char **const *)p);
	case SCHEMA_PCI_CLASS:
		return hex_text(w, 4, *(const uint32_t *)p >> 8);
	case SCHEMA_REV2: {
		int16_t rev = *(const int16_t *)p;
		return rev < 0 ? NULL : hex_text(w, 2, (unsigned)rev);
	}
	case SCHEMA_OBJECT:
		return object_json(w, f->object, p);
	case SCHEMA_OPT_OBJECT:
		return *(const bool *)p ? object_json(w, f->object, p) : NULL;
	case SCHEMA_LIST:
		return list_json(w, f->list, obj, *(const char *const *)p);
	}
	return NULL;
}

static void add_fields(writer *w, json_object *o, const schema_table *t, const void *obj)
{
	for (size_t i = 0; i < t->n_fields; i++)
		add(w, o, t->fields[i].key, field_json(w, &t->fields[i], obj));
}

static json_object *object_json(writer *w, const schema_table *t, const void *obj)
{
	json_object *o = made(w, json_object_new_object());

	if (o)
		add_fields(w, o, t, obj);
	return o;
}

json_object *inventory_to_json(const hw_inventory *inv)
{
	writer w = {.failed = false};
	json_object *o = made(&w, json_object_new_object());

	if (!o)
		return NULL;
	add(&w, o, "schema", made(&w, json_object_new_string(INVENTORY_SCHEMA)));
	add_fields(&w, o, &inventory_schema, inv);
	if (w.failed) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
