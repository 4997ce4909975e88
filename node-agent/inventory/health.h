/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A machine's condition from its inventory, as every consumer reads it: the plan (a failing
 * disk is never the data disk; node-agent.io/disk-health and memory-health labels; rules on
 * health), the fleet
 * report (problems first), the table and the diff. The rules are in README.md.
 */

#include <stddef.h>

#include "hw.h"

typedef enum na_health {
	HEALTH_UNKNOWN = -1,
	HEALTH_OK = 0,
	HEALTH_NOTE, /* worth knowing, nothing wrong: no free DIMM slot */
	HEALTH_WARNING,
	HEALTH_FAILING,
} na_health;

/* "ok", "note", "warning", "failing"; NULL for unknown */
const char *health_name(na_health h);
/* the status of a disk's own health report ("ok", "warning", "failing"), unknown if none */
na_health health_disk(const hw_disk *d);
/* the worst of the disks that report their health; unknown when none does */
na_health health_disks(const hw_inventory *inv);
/* memory: failing with uncorrected errors, warning with corrected ones, ok when the
 * memory controller counts none; unknown without EDAC */
na_health health_memory(const hw_inventory *inv);

/* The error counts of a disk's health report, as people name them: the offset of each
 * int64_t in hw_disk_health. */
typedef struct health_count {
	size_t offset;
	const char *what; /* "media errors", "reallocated sectors", ... */
} health_count;
#define HEALTH_DISK_COUNTS 4
extern const health_count health_disk_counts[HEALTH_DISK_COUNTS];

static inline int64_t health_count_of(const hw_disk_health *h, const health_count *c)
{
	return *(const int64_t *)((const char *)h + c->offset);
}

/* The battery wear at which a battery is worth a warning, percent of its design capacity */
#define HEALTH_BATTERY_WEAR_WARNING 40

/* One problem of a machine, for people. */
typedef struct health_problem {
	na_health severity;
	char *text; /* "disk nvme0n1 (model): critical warning spare, reliability" */
} health_problem;

/* Every problem of INV, worst first (then in inventory order). Returns the count or -ENOMEM. */
int health_problems(const hw_inventory *inv, health_problem **ret);
void health_problems_free(health_problem *p, size_t n);
/* The worst severity of INV's problems: HEALTH_OK when none, HEALTH_UNKNOWN out of memory */
na_health health_worst(const hw_inventory *inv);
