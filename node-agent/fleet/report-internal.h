/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Inside the fleet report (report.h): report.c prepares one row per node and the totals
 * once, and each format writes them: markdown.c, csv.c, html.c, json.c.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fleet/report.h"

/* one node, prepared once for every format */
typedef struct fleet_row {
	const report_node *node;
	char *system;
	int64_t memory_bytes;
	const char *memory_source; /* "physical" | "total" | NULL */
	int64_t storage_bytes;	   /* sum of known disk sizes */
	char **disks;		   /* "238.5 GiB NVMe SSD" */
	size_t n_disks;
	char **gpus; /* "NVIDIA GeForce RTX 3050 (8.0 GiB)" */
	size_t n_gpus;
	char **gpu_models; /* "NVIDIA GeForce RTX 3050", "GPU 1234:1111" when unnamed */
	size_t n_gpu_models;
	char **nics; /* "eth0 1 Gb/s" */
	size_t n_nics;
	/* its condition: the worst problem's severity ("ok" when none, NULL when nothing
	 * about its condition is known) and every problem, worst first ("failing: disk ...") */
	const char *health;
	char **problems;
	size_t n_problems;
	int severity; /* na_health, for ordering: problems first */
} fleet_row;

typedef struct fleet_gpu_count {
	const char *model;
	int64_t count;
} fleet_gpu_count;

typedef struct fleet_totals {
	int64_t nodes, cores, threads, memory_bytes, storage_bytes, disks, gpus;
	int64_t failing, warning; /* nodes whose worst problem is failing, warning */
	fleet_gpu_count *models;  /* most first */
	size_t n_models;
} fleet_totals;

static inline bool fleet_known(const char *s)
{
	return s && *s;
}

/* SOURCE_DATE_EPOCH (reproducible-builds.org) as RFC 3339 (or "YYYY-MM-DD HH:MM UTC" with
 * DATE_ONLY), or false when unset/invalid. */
bool fleet_source_date(char *buf, size_t n, bool date_only);

/* One node's row: 0 or -ENOMEM; fleet_row_done() frees it either way. */
int fleet_row_build(const report_node *node, fleet_row *w);
void fleet_row_done(fleet_row *w);
/* The node as an entry of the JSON report's "nodes" (json.c), NULL when out of memory. */
json_object *fleet_node_json(const fleet_row *w);

void fleet_write_markdown(FILE *f, const fleet_row *rows, size_t n, const fleet_totals *t);
void fleet_write_csv(FILE *f, const fleet_row *rows, size_t n);
void fleet_write_html(FILE *f, const fleet_row *rows, size_t n, const fleet_totals *t);
int fleet_write_json(FILE *f, const fleet_row *rows, size_t n, const fleet_totals *t);
