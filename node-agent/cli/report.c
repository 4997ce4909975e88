/* SPDX-License-Identifier: MIT */
/* `node-agent report FILE|DIR... [--format markdown|csv|html|json]`: one fleet table from
 * many inventories (fleet/report.h). Exit 0, or 2 for usage errors and unreadable or
 * invalid inventories (nothing is written then). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "cli/cmd.h"
#include "fleet/report.h"

typedef struct nodes {
	report_node *v;
	size_t n;
} nodes;

static void nodes_done(nodes *l)
{
	for (size_t i = 0; i < l->n; i++)
		report_node_done(&l->v[i]);
	free(l->v);
}

static int cmp_host(const void *a, const void *b)
{
	const report_node *x = a, *y = b;

	return strcmp(x->inv->hostname, y->inv->hostname);
}

/* The same hostname on several nodes: a fresh install's "localhost", or a copy. */
static void warn_duplicates(const report_node *v_in, size_t n)
{
	_cleanup_free_ report_node *v = calloc(n + 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		if (v_in[i].inv->hostname && *v_in[i].inv->hostname)
			v[k++] = v_in[i];
	qsort(v, k, sizeof(*v), cmp_host);
	for (size_t i = 0, j; i < k; i = j) {
		for (j = i + 1; j < k && strcmp(v[i].inv->hostname, v[j].inv->hostname) == 0; j++)
			;
		if (j - i > 1) {
			fputs("node-agent report: warning: hostname \"", stderr);
			for (const char *p = v[i].inv->hostname; *p; p++)
				fputc((unsigned char)*p < 0x20 ? '?' : *p, stderr);
			fprintf(stderr, "\" is in %zu inventories\n", j - i);
		}
	}
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, report_format *fmt)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) >= 0) {
		if (c == 'f' && report_parse_format(optarg, fmt) < 0) {
			fprintf(stderr,
				"node-agent report: unknown format \"%s\" "
				"(markdown, csv, html or json)\n",
				optarg);
			return EXIT_USAGE;
		}
		if (c == 'h') {
			printf("usage: node-agent report FILE|DIR... [--format "
			       "markdown|csv|html|json]\n"
			       "One table of many nodes' inventories (a DIR means its *.json "
			       "files).\n");
			return 0;
		}
		if (c != 'f')
			return EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: node-agent report FILE|DIR... "
				"[--format markdown|csv|html|json]\n");
		return EXIT_USAGE;
	}
	return -1;
}

static int collect(char **paths, int n, report_inputs *in)
{
	for (int i = 0; i < n; i++) {
		int r = report_inputs_add(in, paths[i]);

		if (r == -ENOENT)
			fprintf(stderr, "%s: no *.json inventories in this directory\n", paths[i]);
		else if (r == -E2BIG)
			fprintf(stderr, "node-agent report: more than %d inventories\n",
				REPORT_MAX_FILES);
		else if (r < 0)
			fprintf(stderr, "%s: %s\n", paths[i], strerror(-r));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every file is read, so that one run names every bad input. */
static int load_all(const report_inputs *in, nodes *ret)
{
	size_t n_bad = 0;

	ret->v = calloc(in->n + 1, sizeof(*ret->v));
	if (!ret->v)
		return -ENOMEM;
	for (size_t i = 0; i < in->n; i++) {
		na_log l = na_log_stream(stderr);
		int r = report_load(in->files[i], &l, &ret->v[ret->n]);

		if (r == -EINVAL)
			n_bad++;
		else if (r < 0) {
			fprintf(stderr, "%s: %s\n", in->files[i], strerror(-r));
			n_bad++;
		} else
			ret->n++;
	}
	if (n_bad) {
		fprintf(stderr,
			"node-agent report: %zu of %zu inventor%s not usable; no report written\n",
			n_bad, in->n, in->n == 1 ? "y is" : "ies are");
		return -EINVAL;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	_cleanup_(report_inputs_done) report_inputs in = {0};
	_cleanup_(nodes_done) nodes l = {0};
	report_format fmt = REPORT_MARKDOWN;
	int r;

	r = parse_args(argc, argv, &fmt);
	if (r >= 0)
		return r;
	if (collect(argv + optind, argc - optind, &in) < 0 || load_all(&in, &l) < 0)
		return EXIT_USAGE;
	warn_duplicates(l.v, l.n);
	r = report_write(stdout, fmt, l.v, l.n);
	if (r < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "node-agent report: cannot write the report: %s\n",
			strerror(r < 0 ? -r : errno));
		return EXIT_FAILURE;
	}
	return 0;
}
