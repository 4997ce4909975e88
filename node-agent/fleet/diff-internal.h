/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Inside `node-agent diff` (diff.h): diff.c collects the changes and writes them; each part
 * of the inventory is compared in its own file: diff-machine.c (system, CPU, memory),
 * diff-disks.c, diff-gpus.c and diff-nics.c.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fleet/diff.h"
#include "hw.h"

/* the changes found so far; after an allocation failure, oom is set and nothing is added */
typedef struct diff_changes {
	inventory_change *v;
	size_t n;
	size_t cap;
	bool oom;
} diff_changes;

static inline bool diff_known(const char *s)
{
	return s && *s;
}

/* Both known and different. */
static inline bool diff_str_changed(const char *a, const char *b)
{
	return diff_known(a) && diff_known(b) && strcmp(a, b) != 0;
}

static inline bool diff_str_same(const char *a, const char *b)
{
	return diff_known(a) && diff_known(b) && strcmp(a, b) == 0;
}

static inline bool diff_i64_changed(int64_t a, int64_t b)
{
	return a >= 0 && b >= 0 && a != b;
}

static inline json_object *diff_jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static inline json_object *diff_jint(int64_t v)
{
	return v >= 0 ? json_object_new_int64(v) : NULL;
}

/* Appends one change; takes OLD_VALUE and NEW_VALUE (dropped on failure, which sets c->oom). */
__attribute__((format(printf, 7, 8))) void diff_add(diff_changes *c, bool warning, const char *kind,
						    const char *subject, json_object *old_value,
						    json_object *new_value, const char *fmt, ...);

void diff_system(diff_changes *c, const hw_system *a, const hw_system *b);
void diff_cpu(diff_changes *c, const hw_cpu *a, const hw_cpu *b);
void diff_memory(diff_changes *c, const hw_memory *a, const hw_memory *b);

/* The lists are matched with MATCH_A (one entry per item of A: the index in B, or -1) and
 * USED_B (one per item of B), scratch arrays at least as long as the lists. Entries with
 * nothing that identifies them cannot be told apart across inventories (not even from
 * themselves): they are left out rather than reported added and removed. */
void diff_disks(diff_changes *c, const hw_inventory *a, const hw_inventory *b, int *match_a,
		bool *used_b);
void diff_gpus(diff_changes *c, const hw_inventory *a, const hw_inventory *b, int *match_a,
	       bool *used_b);
void diff_nics(diff_changes *c, const hw_inventory *a, const hw_inventory *b, int *match_a,
	       bool *used_b);

/* diff-health.c: a matched disk's health, a matched device's PCIe link, the batteries */
void diff_disk_health(diff_changes *c, const hw_disk *x, const hw_disk *y);
void diff_link(diff_changes *c, const char *what, const char *subject, const hw_pcie_link *a,
	       const hw_pcie_link *b);
void diff_batteries(diff_changes *c, const hw_inventory *a, const hw_inventory *b);
