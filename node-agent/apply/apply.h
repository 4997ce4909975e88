/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include "basic/log.h"

#include "plan/plan.h"

typedef struct apply_result {
	unsigned changed;
	unsigned unchanged;
	unsigned failed;
} apply_result;

/*
 * Make TARGET what the plan says: each file written atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory) with its mode, units enabled, the data
 * disk formatted only after a fresh libblkid check. What is already right is left alone.
 * With dry_run nothing is written and `out` gets a unified diff of every change.
 *
 * Tests can stop the process part-way: NODE_AGENT_FAULT=before-rename:N or after-rename:N
 * _exit()s around the N-th file's rename.
 */
int apply_plan(const na_plan *plan, const char *target, bool dry_run, const na_log *log,
	       apply_result *ret);
