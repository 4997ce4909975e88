/* SPDX-License-Identifier: MIT */
#pragma once

#include "basic/log.h"

#include <json-c/json.h>
#include <stdio.h>

#include "hw.h"

#define INVENTORY_SCHEMA "node-agent/inventory/v1"

/* The inventory as a JSON tree with the keys in DESIGN.md's order. */
json_object *inventory_to_json(const hw_inventory *inv);

/* JSON tree / file -> inventory. Problems go to `errors` as "FILE: PATH: message"; -EINVAL
 * for invalid input, -errno when the file cannot be read. */
int inventory_from_json(json_object *root, const char *file, const na_log *log, hw_inventory **ret);
int inventory_load(const char *file, const na_log *log, hw_inventory **ret);
/* The bounded JSON step alone (at most 16 MiB, nesting 64, no NUL bytes, nothing but
 * whitespace after the value): bytes or a file -> JSON tree, for readers that also want
 * keys hw_inventory does not carry. Same error contract as inventory_load(). */
int inventory_parse_json(const char *file, const char *buf, size_t len, const na_log *log,
			 json_object **ret);
int inventory_read_json(const char *file, const na_log *log, json_object **ret);
