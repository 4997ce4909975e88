/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "join/join.h"

/* join.c: small readers of Node objects and of the comma lists in annotations */
const char *join_map_get_string(json_object *map, const char *key);
json_object *join_meta_map(json_object *node, const char *field);
bool join_list_has(const char *list, const char *key);
/* what a node wrote may go to the journal only if it cannot forge lines there */
bool join_log_safe(const char *s);

/* k3s-log.c: what a line K3s logs says went wrong for good, with the remedy (a static
 * string), or NULL for any other line. NODE: the node's name. */
const char *join_k3s_diagnose(const char *line, size_t len);
/* k3s-log.c: the newest of the last 500 journal lines of UNIT in the boot BOOT_ID (as
 * /proc/sys/kernel/random/boot_id has it; NULL: any boot), logged at or
 * after SINCE_USEC (CLOCK_REALTIME), that join_k3s_diagnose() knows, as
 * "K3s: <line>: <remedy>" in *RET; 1 found, 0 none, -errno (no journal: libsystemd
 * missing, not booted with systemd). */
int join_k3s_journal_scan(const char *unit, const char *boot_id, uint64_t since_usec, char **ret);

/* taints.c: the plan's taints as the node asks for them ("" for none; NULL: out of memory) */
char *join_wanted_taints(const na_plan *plan);
/* Server side, one node: apply the taints it asks for that the config gives, remove those
 * given up; 1 changed (*ret_node the Node after the patch), 0 nothing to do, -errno. */
int join_reconcile_taints(const na_config *cfg, kube_client *admin, json_object *node,
			  const char *name, const na_log *log, json_object **ret_node);
