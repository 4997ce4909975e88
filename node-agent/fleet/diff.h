/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What changed on one machine between two inventories (schema node-agent/inventory/v1):
 * disks (matched by serial, then WWN, then kernel name), GPUs (PCI address + model),
 * memory, CPU, NICs (by MAC; virtual links are not hardware and are ignored), and the
 * system's serial/UUID (a different machine). `node-agent diff` and the boot job use it.
 * A value that is unknown (null) on either side is never reported as a change.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "hw.h"

typedef struct inventory_change {
	const char *kind;	/* static, stable for tools: "disk-removed", "memory-shrank", ... */
	char *subject;		/* what changed: "sda", "0000:01:00.0", "eth0", "memory", ... */
	char *message;		/* one line for people and the journal, no control characters */
	json_object *old_value; /* NULL when there is none (added) */
	json_object *new_value; /* NULL when there is none (removed) */
	bool warning;		/* something is gone, shrank, or the machine is another one */
} inventory_change;

/* All changes, in a fixed order (system, cpu, memory, disks, gpus, nics). Returns the
 * number of changes (>= 0) or -ENOMEM; *ret_changes is NULL when there are none. */
int inventory_diff_compute(const hw_inventory *old_inv, const hw_inventory *new_inv,
			   inventory_change **ret_changes, size_t *ret_n);
inventory_change *inventory_changes_free(inventory_change *changes, size_t n);

/* One line per change ("disk sda removed (…)"), each ending in "\n", written to `out`
 * when it is not NULL. Returns the number of changes or -errno. */
int inventory_diff(const hw_inventory *old_inv, const hw_inventory *new_inv, FILE *out);

/* The same lines without "\n", NULL-terminated (for the journal, one entry each; a
 * change's severity is in inventory_diff_compute()). Returns the number of changes or
 * -ENOMEM; free with hw_strv_free()-style loop or inventory_diff_lines_free(). */
int inventory_diff_lines(const hw_inventory *old_inv, const hw_inventory *new_inv,
			 char ***ret_lines);
char **inventory_diff_lines_free(char **lines);

/* Schema node-agent/diff/v1: {schema, old, new, changes[] {kind, subject, severity,
 * message, old, new}}. */
json_object *inventory_changes_to_json(const char *old_file, const char *new_file,
				       const inventory_change *changes, size_t n);
