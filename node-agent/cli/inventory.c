/* SPDX-License-Identifier: MIT */
/* node-agent inventory, node-agent config check. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "config/config.h"
#include "hw.h"
#include "inventory/inventory-json.h"
#include "inventory/output.h"

int cmd_inventory(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"format", required_argument, NULL, 'f'},
	    {"pci-ids", required_argument, NULL, 'p'},
	    {"nvml", no_argument, NULL, 'n'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *root = "/", *pci_ids = NULL;
	out_format fmt = FMT_JSON;
	bool nvml = false, quiet = false;
	hw_ctx *ctx = NULL;
	hw_inventory *inv = NULL;
	json_object *j = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:f:qh", opts, NULL)) >= 0) {
		if (cmd_path_option(c, NULL, &root, NULL, NULL))
			continue;
		switch (c) {
		case 'f':
			if (cmd_parse_format(optarg, &fmt) < 0) {
				fprintf(stderr, "%s: unknown format \"%s\" (json, yaml or table)\n",
					CMD_PROGRAM, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'p':
			pci_ids = optarg;
			break;
		case 'n':
			nvml = true;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return cmd_help_or_usage_error(c);
		}
	}
	if (cmd_no_operands("inventory", argc, argv))
		return EXIT_USAGE;

	r = hw_ctx_new(root, &ctx);
	if (r < 0) {
		fprintf(stderr, "%s: cannot open root %s: %s\n", CMD_PROGRAM, root, strerror(-r));
		return EXIT_USAGE;
	}
	if ((pci_ids && hw_ctx_set_pci_ids(ctx, pci_ids) < 0)) {
		hw_ctx_free(ctx);
		return EXIT_FAILURE;
	}
	if (nvml)
		hw_ctx_set_nvml(ctx, true);
	r = hw_inventory_collect(ctx, &inv);
	hw_ctx_free(ctx);
	if (r < 0) {
		fprintf(stderr, "%s: detection failed: %s\n", CMD_PROGRAM, strerror(-r));
		return EXIT_FAILURE;
	}
	if (!quiet)
		for (char **w = inv->warnings; w && *w; w++)
			fprintf(stderr, "%s: warning: %s%s\n", CMD_PROGRAM,
				strcmp(root, "/") == 0 ? "" : root, *w);
	j = inventory_to_json(inv);
	if (!j) {
		hw_inventory_free(inv);
		fprintf(stderr, "%s: out of memory\n", CMD_PROGRAM);
		return EXIT_FAILURE;
	}
	switch (fmt) {
	case FMT_JSON:
		r = output_json(stdout, j);
		break;
	case FMT_YAML:
		r = output_yaml(stdout, j);
		break;
	case FMT_TABLE:
		r = output_inventory_table(stdout, j, inv);
		break;
	}
	json_object_put(j);
	hw_inventory_free(inv);
	if (r < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write output: %s\n", CMD_PROGRAM,
			strerror(r < 0 ? -r : errno));
		return EXIT_FAILURE;
	}
	return 0;
}

int cmd_config(int argc, char **argv)
{
	na_log l = na_log_stream(stderr);
	na_config *c = NULL;
	int r;

	if (argc != 3 || strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "usage: %s config check FILE\n", CMD_PROGRAM);
		return EXIT_USAGE;
	}
	r = na_config_load(argv[2], &l, &c);
	if (r == -EINVAL)
		return EXIT_USAGE;
	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", CMD_PROGRAM, argv[2], strerror(-r));
		return r == -ENOMEM ? EXIT_FAILURE : EXIT_USAGE;
	}
	printf("%s: valid (%zu rule%s)\n", argv[2], c->n_rules, c->n_rules == 1 ? "" : "s");
	na_config_free(c);
	return 0;
}
