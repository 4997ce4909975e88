/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "join/join.h"

/* join.c: small readers of Node objects and of the comma lists in annotations */
const char *join_map_get_string(json_object *map, const char *key);
json_object *join_meta_map(json_object *node, const char *field);
bool join_list_has(const char *list, const char *key);
/* what a node wrote may go to the journal only if it cannot forge lines there */
bool join_log_safe(const char *s);

/* taints.c: the plan's taints as the node asks for them ("" for none; NULL: out of memory) */
char *join_wanted_taints(const na_plan *plan);
/* Server side, one node: apply the taints it asks for that the config gives, remove those
 * given up; 1 changed (*ret_node the Node after the patch), 0 nothing to do, -errno. */
int join_reconcile_taints(const na_config *cfg, kube_client *admin, json_object *node,
			  const char *name, const na_log *log, json_object **ret_node);
