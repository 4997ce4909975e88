/* SPDX-License-Identifier: MIT */
/* The fleet report as Markdown: one table (cells escaped for Markdown and its inline HTML),
 * a totals row, GPUs by model. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>

#include "fleet/report-internal.h"
#include "inventory/output.h"

static void md_text(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fputc(' ', f);
		else if (strchr("\\|*_`[]~", *p))
			fprintf(f, "\\%c", *p);
		else if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '>')
			fputs("&gt;", f);
		else if (*p == '&')
			fputs("&amp;", f);
		else
			fputc(*p, f);
	}
}

static void md_list(FILE *f, char **v, size_t n)
{
	if (n == 0)
		fputs("-", f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs("<br>", f);
		md_text(f, v[i]);
	}
}

static void md_size(FILE *f, int64_t b)
{
	char s[32];

	output_format_bytes(b, s, sizeof(s));
	fputs(s, f);
}

static void md_count(FILE *f, int64_t v)
{
	if (v >= 0)
		fprintf(f, "%" PRId64, v);
	else
		fputs("-", f);
}

void fleet_write_markdown(FILE *f, const fleet_row *rows, size_t n, const fleet_totals *t)
{
	char date[64];

	fputs("## Fleet report\n\n", f);
	if (fleet_source_date(date, sizeof(date), true))
		fprintf(f, "Generated %s by `node-agent report` from %zu inventor%s.\n\n", date, n,
			n == 1 ? "y" : "ies");
	fputs("| Node | Role | System | CPU | Cores/Threads | Memory | Storage | Disks | GPUs | "
	      "NICs | Health |\n"
	      "|---|---|---|---|--:|--:|--:|---|---|---|---|\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		const fleet_row *w = &rows[i];
		const hw_inventory *inv = w->node->inv;

		fputs("| ", f);
		md_text(f, fleet_known(inv->hostname) ? inv->hostname : "-");
		fputs(" | ", f);
		md_text(f, w->node->role);
		fputs(" | ", f);
		md_text(f, w->system ? w->system : "-");
		fputs(" | ", f);
		md_text(f, fleet_known(inv->cpu.model) ? inv->cpu.model : "-");
		fputs(" | ", f);
		md_count(f, inv->cpu.cores);
		fputs("/", f);
		md_count(f, inv->cpu.threads);
		fputs(" | ", f);
		md_size(f, w->memory_bytes);
		fputs(" | ", f);
		md_size(f, w->storage_bytes);
		fputs(" | ", f);
		md_list(f, w->disks, w->n_disks);
		fputs(" | ", f);
		md_list(f, w->gpus, w->n_gpus);
		fputs(" | ", f);
		md_list(f, w->nics, w->n_nics);
		fputs(" | ", f);
		if (w->n_problems)
			md_list(f, w->problems, w->n_problems);
		else
			md_text(f, w->health ? w->health : "-");
		fputs(" |\n", f);
	}
	fprintf(f, "| **Total: %" PRId64 " node%s** |  |  |  | **%" PRId64 "/%" PRId64 "** | **",
		t->nodes, t->nodes == 1 ? "" : "s", t->cores, t->threads);
	md_size(f, t->memory_bytes);
	fputs("** | **", f);
	md_size(f, t->storage_bytes);
	fprintf(f,
		"** | %" PRId64 " disk%s | %" PRId64 " GPU%s |  | %" PRId64 " failing, %" PRId64
		" warning |\n",
		t->disks, t->disks == 1 ? "" : "s", t->gpus, t->gpus == 1 ? "" : "s", t->failing,
		t->warning);
	if (t->n_models) {
		fputs("\n### GPUs by model\n\n| Model | Count |\n|---|--:|\n", f);
		for (size_t i = 0; i < t->n_models; i++) {
			fputs("| ", f);
			md_text(f, t->models[i].model);
			fprintf(f, " | %" PRId64 " |\n", t->models[i].count);
		}
	}
}
