/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The inventory schema (node-agent/inventory/v1) as data: for each object kind, its keys in
 * output order, each with the member of the hw_inventory struct that holds it. The writer
 * (inventory-json.c) and the reader (inventory-read.c) walk these tables, so a new field
 * is one line in inventory-schema.c (and its member in hw.h). Internal to
 * node-agent/inventory/.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw.h"

typedef enum schema_kind {
	SCHEMA_STRING,	  /* char *: a string, null when NULL; values: the ones allowed */
	SCHEMA_INT,	  /* int64_t: 0..2^60, null when HW_UNKNOWN; ints: the ones allowed */
	SCHEMA_TRI,	  /* hw_tri: true, false, null when unknown */
	SCHEMA_BOOL,	  /* bool: written true or false; read as a tri, null meaning false */
	SCHEMA_HEX4,	  /* uint16_t: 4 hex digits, "%04x" */
	SCHEMA_STRV,	  /* char **: a list of strings, null when NULL */
	SCHEMA_PCI_CLASS, /* uint32_t PCI class code: class and subclass as "%04x" */
	SCHEMA_REV2,	  /* int16_t: 2 lower-case hex digits, null when < 0 */
	SCHEMA_OBJECT,	  /* a struct member: an object (read: an object or null) */
	/* a struct member whose first member is `bool known`: an object, or null when not
	 * known (read: null or absent make it not known) */
	SCHEMA_OPT_OBJECT,
	SCHEMA_LIST, /* an array and its count: a list of objects */
} schema_kind;

typedef struct schema_field schema_field;

typedef struct schema_table {
	const schema_field *fields;
	size_t n_fields;
} schema_table;

typedef struct schema_list {
	const schema_table *table; /* of one element */
	size_t elem_size;
	size_t count_offset; /* of the size_t count, in the struct that holds the array */
	size_t max;	     /* more entries are an error */
	/* Written as null when the array is NULL (read: absent, null or not a list leave it
	 * NULL); otherwise always a list, allocated even when empty. */
	bool nullable;
} schema_list;

struct schema_field {
	const char *key;
	schema_kind kind;
	size_t offset;
	union {
		const char *const *values; /* SCHEMA_STRING: NULL-terminated, or NULL: any */
		const int64_t *ints;	   /* SCHEMA_INT: ending with HW_UNKNOWN, or NULL: any */
		const schema_table *object;
		const schema_list *list;
	};
	const char *allowed; /* with values or ints: the list as messages give it, "32, 64" */
};

/* The whole document but "schema", which the writer and the reader handle themselves. */
extern const schema_table inventory_schema;
