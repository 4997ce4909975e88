/* SPDX-License-Identifier: MIT */
/* The fleet report as CSV (RFC 4180: CRLF, a header row, quotes doubled), one row per node. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/report-internal.h"
#include "inventory/output.h"

static void csv_field(FILE *f, const char *s, bool last)
{
	s = s ? s : "";
	if (strpbrk(s, ",\"\r\n") || (*s && (s[0] == ' ' || s[strlen(s) - 1] == ' '))) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else
		fputs(s, f);
	fputs(last ? "\r\n" : ",", f);
}

static void csv_int(FILE *f, int64_t v)
{
	if (v >= 0)
		fprintf(f, "%" PRId64, v);
	fputc(',', f);
}

static void csv_list(FILE *f, char **v, size_t n, bool last)
{
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);

	if (!m) {
		csv_field(f, "", last);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(m, "%s%s", i ? "; " : "", v[i]);
	fclose(m);
	csv_field(f, s, last);
	free(s);
}

void fleet_write_csv(FILE *f, const fleet_row *rows, size_t n)
{
	char s[32];

	fputs("file,node,role,system_vendor,system_product,system_serial,system,cpu_model,"
	      "cpu_sockets,cpu_cores,cpu_threads,memory_bytes,memory,disk_count,storage_bytes,"
	      "storage,disks,gpu_count,gpus,nic_count,nics,health,problems\r\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		const fleet_row *w = &rows[i];
		const hw_inventory *inv = w->node->inv;

		csv_field(f, w->node->file, false);
		csv_field(f, inv->hostname, false);
		csv_field(f, w->node->role, false);
		csv_field(f, inv->system.vendor, false);
		csv_field(f, inv->system.product, false);
		csv_field(f, inv->system.serial, false);
		csv_field(f, w->system, false);
		csv_field(f, inv->cpu.model, false);
		csv_int(f, inv->cpu.sockets);
		csv_int(f, inv->cpu.cores);
		csv_int(f, inv->cpu.threads);
		csv_int(f, w->memory_bytes);
		output_format_bytes(w->memory_bytes, s, sizeof(s));
		csv_field(f, w->memory_bytes >= 0 ? s : "", false);
		csv_int(f, (int64_t)w->n_disks);
		csv_int(f, w->storage_bytes);
		output_format_bytes(w->storage_bytes, s, sizeof(s));
		csv_field(f, s, false);
		csv_list(f, w->disks, w->n_disks, false);
		csv_int(f, (int64_t)w->n_gpus);
		csv_list(f, w->gpus, w->n_gpus, false);
		csv_int(f, (int64_t)w->n_nics);
		csv_list(f, w->nics, w->n_nics, false);
		csv_field(f, w->health, false);
		csv_list(f, w->problems, w->n_problems, true);
	}
}
