/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>

#include "hw.h"

#define INVENTORY_SCHEMA "node-agent/inventory/v1"

/* The inventory as a JSON tree with the keys in DESIGN.md's order. */
json_object *inventory_to_json(const hw_inventory *inv);
