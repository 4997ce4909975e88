/* SPDX-License-Identifier: MIT */
/* Shared by the commands: number and format options, the inventory a command works on. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/parse-util.h"
#include "cli/cmd.h"
#include "hw.h"
#include "inventory/inventory-json.h"

int cmd_parse_format(const char *s, out_format *ret)
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

/* A number given to OPTION of VERB; a usage error that names both and the value when it is
 * not a whole number of UNIT from MIN to MAX. */
int cmd_parse_number(const char *verb, const char *option, const char *value, const char *unit,
		     int64_t min, int64_t max, int64_t *ret)
{
	int r = parse_int64(value, min, max, ret);

	if (r < 0)
		fprintf(stderr,
			"%s %s: %s \"%s\": %s; expected %s from %" PRId64 " to %" PRId64 "\n",
			CMD_PROGRAM, verb, option, value,
			r == -ERANGE ? "out of range" : "not a whole number", unit, min, max);
	return r;
}

/* The inventory a plan is made from: a file, or detected under --root. */
int cmd_get_inventory(const char *file, const char *root, hw_inventory **ret)
{
	hw_ctx *ctx = NULL;
	int r;

	if (file) {
		na_log l = na_log_stream(stderr);

		r = inventory_load(file, &l, ret);
		if (r < 0 && r != -EINVAL)
			fprintf(stderr, "%s: %s: %s\n", CMD_PROGRAM, file, strerror(-r));
		return r;
	}
	r = hw_ctx_new(root, &ctx);
	if (r < 0) {
		fprintf(stderr, "%s: cannot open root %s: %s\n", CMD_PROGRAM, root, strerror(-r));
		return -EINVAL;
	}
	r = hw_inventory_collect(ctx, ret);
	hw_ctx_free(ctx);
	if (r < 0)
		fprintf(stderr, "%s: detection failed: %s\n", CMD_PROGRAM, strerror(-r));
	return r;
}

int cmd_help_or_usage_error(int c)
{
	if (c != 'h')
		return EXIT_USAGE;
	cmd_usage(stdout);
	return 0;
}

int cmd_no_operands(const char *verb, int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	fprintf(stderr, "%s %s: unexpected argument \"%s\"\n", CMD_PROGRAM, verb, argv[optind]);
	return EXIT_USAGE;
}

bool cmd_path_option(int c, const char **config, const char **root, const char **inventory,
		     const char **target)
{
	const char **slot = c == 'c'   ? config
			    : c == 'r' ? root
			    : c == 'i' ? inventory
			    : c == 't' ? target
				       : NULL;

	if (!slot)
		return false;
	*slot = optarg;
	return true;
}

bool cmd_plan_refused(const na_plan *plan)
{
	for (char **e = plan->errors; e && *e; e++)
		fprintf(stderr, "%s: plan refused: %s\n", CMD_PROGRAM, *e);
	return plan->errors && plan->errors[0];
}
