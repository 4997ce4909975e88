/* SPDX-License-Identifier: MIT */
/* node-agent plan, node-agent apply. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apply.h"
#include "basic/json-util.h"
#include "cli/cmd.h"
#include "config/config.h"
#include "hw.h"
#include "inventory/inventory-json.h"
#include "inventory/output.h"
#include "plan/plan.h"

int cmd_plan(int argc, char **argv, bool apply)
{
	/* each verb takes its own options only: plan prints (--format), apply writes (--dry-run) */
	static const struct option plan_opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"root", required_argument, NULL, 'r'},
	    {"inventory", required_argument, NULL, 'i'},
	    {"target", required_argument, NULL, 't'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	static const struct option apply_opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"root", required_argument, NULL, 'r'},
	    {"inventory", required_argument, NULL, 'i'},
	    {"target", required_argument, NULL, 't'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *config = NULL, *root = "/", *inv_file = NULL, *target = NULL;
	out_format fmt = FMT_JSON;
	bool dry_run = false;
	na_log to_stderr = na_log_stream(stderr);
	/* released in reverse order of declaration: the plan before what it was made from */
	_cleanup_(na_config_freep) na_config *cfg = NULL;
	_cleanup_(hw_inventory_freep) hw_inventory *inv = NULL;
	_cleanup_(plan_target_done) plan_target tgt = {0};
	_cleanup_(plan_freep) na_plan *plan = NULL;
	int c, r, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, apply ? "c:r:i:t:nh" : "c:r:i:t:f:h",
				apply ? apply_opts : plan_opts, NULL)) >= 0) {
		if (cmd_path_option(c, &config, &root, &inv_file, &target))
			continue;
		switch (c) {
		case 'f':
			if (cmd_parse_format(optarg, &fmt) < 0 || fmt == FMT_TABLE) {
				fprintf(stderr, "%s: unknown format \"%s\" (json or yaml)\n",
					CMD_PROGRAM, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			dry_run = true;
			break;
		default:
			return cmd_help_or_usage_error(c);
		}
	}
	if (!config || optind < argc) {
		fprintf(stderr,
			"usage: %s %s --config FILE [--root DIR] [--inventory FILE] "
			"[--target DIR]%s\n",
			CMD_PROGRAM, apply ? "apply" : "plan",
			apply ? " [--dry-run]" : " [--format json|yaml]");
		return EXIT_USAGE;
	}
	if (!target)
		target = apply ? "/" : root;

	r = na_config_load(config, &to_stderr, &cfg);
	if (r < 0) {
		if (r != -EINVAL)
			fprintf(stderr, "%s: %s: %s\n", CMD_PROGRAM, config, strerror(-r));
		/* running out of memory is not the config's fault */
		return r == -ENOMEM ? EXIT_FAILURE : EXIT_USAGE;
	}
	r = cmd_get_inventory(inv_file, root, &inv);
	if (r < 0)
		return r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
	r = plan_target_probe(target, &tgt);
	if (r < 0) {
		fprintf(stderr, "%s: cannot open target %s: %s\n", CMD_PROGRAM, target,
			strerror(-r));
		return r == -ENOMEM ? EXIT_FAILURE : EXIT_USAGE;
	}
	r = plan_compute(cfg, inv, &tgt, &plan);
	if (r < 0) {
		fprintf(stderr, "%s: cannot make a plan: %s\n", CMD_PROGRAM, strerror(-r));
		return EXIT_FAILURE;
	}
	for (char **w = plan->warnings; w && *w; w++)
		fprintf(stderr, "%s: plan warning: %s\n", CMD_PROGRAM, *w);
	if (apply && cmd_plan_refused(plan)) {
		fprintf(stderr, "%s: nothing was applied\n", CMD_PROGRAM);
		return EXIT_FAILURE;
	}
	if (!apply) {
		_cleanup_json_ json_object *j = plan_to_json(plan);

		if (!j) {
			fprintf(stderr, "%s: cannot print the plan: %s\n", CMD_PROGRAM,
				strerror(ENOMEM));
			return EXIT_FAILURE;
		}
		r = fmt == FMT_YAML ? output_yaml(stdout, j) : output_json(stdout, j);
		ret = r < 0 || fflush(stdout) != 0 ? EXIT_FAILURE : 0;
		if (ret != 0)
			fprintf(stderr, "%s: cannot write the plan: %s\n", CMD_PROGRAM,
				strerror(r < 0 ? -r : errno));
		/* printed whole, so its reasons can be read, but refused */
		else if (cmd_plan_refused(plan))
			ret = EXIT_FAILURE;
	} else {
		apply_result res;

		printf("node-agent apply: %s for node %s (%s)%s\n", target, plan->node_name,
		       na_role_name(plan->role), dry_run ? ", dry run" : "");
		na_log l = na_log_stream(stdout);

		r = apply_plan(plan, target, dry_run, &l, &res);
		printf("%u changed, %u unchanged, %u failed\n", res.changed, res.unchanged,
		       res.failed);
		ret = r < 0 || res.failed ? EXIT_FAILURE : 0;
	}
	return ret;
}
