/* SPDX-License-Identifier: MIT */
/* `node-agent diff OLD NEW [--format text|json]`: hardware changes between two inventories
 * of one machine (fleet/diff.h). Exit 0 no changes, 1 changes, 2 usage or invalid input. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "fleet/diff.h"
#include "inventory/inventory-json.h"
#include "inventory/output.h"

static int load(const char *file, hw_inventory **ret)
{
	na_log l = na_log_stream(stderr);
	int r = inventory_load(file, &l, ret);

	if (r == -EINVAL)
		fprintf(stderr, "node-agent diff: %s: not a valid inventory\n", file);
	else if (r < 0)
		fprintf(stderr, "node-agent diff: %s: %s\n", file, strerror(-r));
	return r;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	hw_inventory *a = NULL, *b = NULL;
	inventory_change *v = NULL;
	size_t n = 0;
	bool json = false;
	int c, r, ret = EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") == 0)
				json = false;
			else {
				fprintf(stderr,
					"node-agent diff: unknown format \"%s\" (text or json)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			printf("usage: %s diff OLD NEW [--format text|json]\n"
			       "Hardware changes between two inventories of one machine.\n"
			       "Exit status: 0 no changes, 1 changes, 2 usage or invalid input.\n",
			       CMD_PROGRAM);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: node-agent diff OLD NEW [--format text|json]\n");
		return EXIT_USAGE;
	}
	/* both files are checked, so one run names every bad input */
	r = load(argv[optind], &a);
	if (load(argv[optind + 1], &b) < 0 || r < 0)
		goto out;
	r = inventory_diff_compute(a, b, &v, &n);
	if (r < 0) {
		fprintf(stderr, "node-agent diff: %s\n", strerror(-r));
		ret = EXIT_FAILURE;
		goto out;
	}
	if (json) {
		json_object *j = inventory_changes_to_json(argv[optind], argv[optind + 1], v, n);
		r = j ? output_json(stdout, j) : -ENOMEM;
		json_object_put(j);
	} else
		for (size_t i = 0; i < n && r >= 0; i++)
			if (printf("%s\n", v[i].message) < 0)
				r = -EIO;
	if (r < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "node-agent diff: cannot write output: %s\n",
			strerror(r < 0 ? -r : errno));
		ret = EXIT_USAGE;
		goto out;
	}
	ret = n > 0 ? 1 : 0;
out:
	inventory_changes_free(v, n);
	hw_inventory_free(a);
	hw_inventory_free(b);
	return ret;
}
