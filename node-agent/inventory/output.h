/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>

int output_json(FILE *f, json_object *o);
/* Any JSON tree as one YAML document; strings that YAML would read as something else
 * (numbers, booleans, "0300") are quoted: yaml_write_json(), yaml_plain_ok(). */
int output_yaml(FILE *f, json_object *o);
/* An inventory (JSON tree of schema node-agent/inventory/v1) for people. */
int output_inventory_table(FILE *f, json_object *inv);
void output_format_bytes(int64_t b, char *buf, size_t n);
