/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>

#include "hw.h"

int output_json(FILE *f, json_object *o);
/* Any JSON tree as one YAML document; strings that YAML would read as something else
 * (numbers, booleans, "0300") are quoted: yaml_write_json(), yaml_plain_ok(). */
int output_yaml(FILE *f, json_object *o);
/* An inventory (JSON tree of schema node-agent/inventory/v1) for people; with HW (the same
 * inventory, or NULL) its condition too (output_health_table). */
int output_inventory_table(FILE *f, json_object *inv, const hw_inventory *hw);
void output_format_bytes(int64_t b, char *buf, size_t n);
/* The condition of the machine for people (output-health.c): disk health, DIMMs,
 * batteries, platform, and its problems worst first. */
int output_health_table(FILE *f, const hw_inventory *inv);
