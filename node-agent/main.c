/* SPDX-License-Identifier: MIT */
/* node-agent: command line. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw.h"
#include "inventory-json.h"
#include "output.h"

#define EXIT_USAGE 2

static const char *program = "node-agent";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  inventory [--root DIR] [--format json|yaml|table]\n"
		"            Detect this machine's hardware and print the inventory\n"
		"            (schema node-agent/inventory/v1).\n"
		"  help      Show this help.\n"
		"\n"
		"inventory options:\n"
		"  --root DIR       read sys/, proc/, dev/, etc/ under DIR (default /); with a root\n"
		"                   other than / the live kernel (netlink, ioctls) is not consulted\n"
		"  --format FMT     json (default), yaml or table\n"
		"  --pci-ids FILE   use FILE instead of the root's pci.ids\n"
		"  --nvml           consult NVML (libnvidia-ml.so.1) even with --root\n"
		"  -q, --quiet      do not repeat warnings on stderr (they stay in the output)\n"
		"\n"
		"Exit status: 0 success, 1 runtime failure, 2 usage or invalid input.\n",
		program);
}

typedef enum { FMT_JSON, FMT_YAML, FMT_TABLE } out_format;

static int parse_format(const char *s, out_format *ret)
{
	if (strcmp(s, "json") == 0)
		*ret = FMT_JSON;
	else if (strcmp(s, "yaml") == 0)
		*ret = FMT_YAML;
	else if (strcmp(s, "table") == 0)
		*ret = FMT_TABLE;
	else
		return -EINVAL;
	return 0;
}

static int cmd_inventory(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "pci-ids", required_argument, NULL, 'p' },
		{ "nvml", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
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
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'f':
			if (parse_format(optarg, &fmt) < 0) {
				fprintf(stderr, "%s: unknown format \"%s\" (json, yaml or table)\n",
					program, optarg);
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
		case 'h':
			usage(stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s inventory: unexpected argument \"%s\"\n", program, argv[optind]);
		return EXIT_USAGE;
	}

	r = hw_ctx_new(root, &ctx);
	if (r < 0) {
		fprintf(stderr, "%s: cannot open root %s: %s\n", program, root, strerror(-r));
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
		fprintf(stderr, "%s: detection failed: %s\n", program, strerror(-r));
		return EXIT_FAILURE;
	}
	if (!quiet)
		for (char **w = inv->warnings; w && *w; w++)
			fprintf(stderr, "%s: warning: %s%s\n", program,
				strcmp(root, "/") == 0 ? "" : root, *w);
	j = inventory_to_json(inv);
	hw_inventory_free(inv);
	if (!j) {
		fprintf(stderr, "%s: out of memory\n", program);
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
		r = output_inventory_table(stdout, j);
		break;
	}
	json_object_put(j);
	if (r < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write output: %s\n", program, strerror(r < 0 ? -r : errno));
		return EXIT_FAILURE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "inventory") == 0)
		return cmd_inventory(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "%s: unknown command \"%s\"\n\n", program, argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
