/* SPDX-License-Identifier: MIT */
#pragma once

#include "basic/log.h"

/*
 * Fleet reports: many inventories (schema node-agent/inventory/v1) as one table, in
 * Markdown (for a README), CSV (RFC 4180), JSON (schema node-agent/report/v1, for tools)
 * or one self-contained HTML page (sortable columns, no external assets).
 * Output depends only on the inputs (and SOURCE_DATE_EPOCH, when set, for a date line).
 */

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>

#include "hw.h"

typedef enum report_format {
	REPORT_MARKDOWN,
	REPORT_CSV,
	REPORT_HTML,
	REPORT_JSON,
} report_format;

typedef struct report_node {
	const char *file; /* where the inventory came from, as given */
	const char *role; /* the inventory's optional top-level "role"/"node_role", or NULL */
	const hw_inventory *inv;
} report_node;

int report_parse_format(const char *s, report_format *ret);
/* Render the nodes in the order given. Returns 0 or -errno (-EIO on a write error). */
int report_write(FILE *f, report_format fmt, const report_node *nodes, size_t n);

/* "NVMe SSD", "SATA SSD", "HDD", "USB disk", "eMMC/SD", "virtual disk", ... */
const char *report_disk_type(const hw_disk *d);
/* "1 Gb/s", "2.5 Gb/s", "100 Mb/s"; "-" when unknown. */
void report_format_speed(int64_t mbps, char *buf, size_t n);
/* The machine's model for people: "LENOVO ThinkPad T480 (20L5CTO1WW)"; NULL when unknown. */
char *report_system_model(const hw_system *s);

/* a fleet of homelab PCs is dozens; this bounds memory and time on a wrong directory */
#define REPORT_MAX_FILES 100000

/* The inventory files a report is made from, as the command line names them. */
typedef struct report_inputs {
	char **files;
	size_t n;
} report_inputs;

/* PATH: a file, or a directory's *.json regular files (not hidden) in byte order of names.
 * -ENOENT for a directory without any, -E2BIG past REPORT_MAX_FILES, -errno. */
int report_inputs_add(report_inputs *in, const char *path);
void report_inputs_done(report_inputs *in);

/* One inventory FILE (kept as the node's file, not copied) and its optional role.
 * What is wrong with its content goes to ERRORS ("FILE: PATH: message") and returns
 * -EINVAL; other failures return -errno unsaid. */
int report_load(const char *file, const na_log *log, report_node *ret);
void report_node_done(report_node *node);
/* What the fleet report says of one machine, from its inventory (parsed JSON of schema
 * node-agent/inventory/v1): an entry of the JSON report's "nodes" (model, CPU, memory,
 * disks, GPUs, NICs, role, health and problems; "file" null). 0, -EINVAL, -ENOMEM. */
int report_node_summary(json_object *inventory, json_object **ret);
