/* SPDX-License-Identifier: MIT */
/* node-agent run, node-agent status. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cmd.h"
#include "inventory/output.h"
#include "run/run.h"

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"target", required_argument, NULL, 't'},
	    {"config", required_argument, NULL, 'c'},
	    {"state-dir", required_argument, NULL, 's'},
	    {"config-timeout", required_argument, NULL, 'T'},
	    {"no-start", no_argument, NULL, 'N'},
	    {"join-timeout", required_argument, NULL, 'J'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	run_opts o = {.root = "/", .target = "/", .config_timeout_s = 600};
	int64_t v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:t:c:s:h", opts, NULL)) >= 0) {
		if (cmd_path_option(c, &o.config, &o.root, NULL, &o.target))
			continue;
		switch (c) {
		case 's':
			o.state_dir = optarg;
			break;
		case 'T':
			if (cmd_parse_number("run", "--config-timeout", optarg, "seconds", 0, 86400,
					     &v) < 0)
				return EXIT_USAGE;
			o.config_timeout_s = (int)v;
			break;
		case 'N':
			o.no_start = true;
			break;
		case 'J':
			if (cmd_parse_number("run", "--join-timeout", optarg, "seconds", 1, 86400,
					     &v) < 0)
				return EXIT_USAGE;
			o.join_timeout_s = (long)v;
			break;
		default:
			return cmd_help_or_usage_error(c);
		}
	}
	if (cmd_no_operands("run", argc, argv))
		return EXIT_USAGE;
	return run_pipeline(&o) == 0 ? 0 : EXIT_FAILURE;
}

/* The last run's per-stage result (STATE_DIR/state.json). */
static int print_status(const char *state_dir, bool json)
{
	char *path = NULL;
	json_object *o, *stages;
	int r = 0;

	if (asprintf(&path, "%s/state.json", state_dir) < 0)
		return 1;
	r = run_state_read(path, &o);
	if (r < 0) {
		if (r == -ENOENT)
			fprintf(stderr,
				"node-agent: no state in %s: node-agent run has not run here\n",
				path);
		else
			fprintf(stderr, "node-agent: %s: %s\n", path,
				r == -EBADMSG ? "not a state file (no JSON object)" : strerror(-r));
		free(path);
		return 1;
	}
	if (json)
		output_json(stdout, o);
	else {
		json_object *v;
		printf("last run: %s, started %s, finished %s\n",
		       json_object_object_get_ex(o, "result", &v) ? json_object_get_string(v)
								  : "running",
		       json_object_object_get_ex(o, "started_at", &v) ? json_object_get_string(v)
								      : "?",
		       json_object_object_get_ex(o, "finished_at", &v) ? json_object_get_string(v)
								       : "-");
		if (json_object_object_get_ex(o, "stages", &stages))
			for (size_t i = 0; i < json_object_array_length(stages); i++) {
				json_object *s = json_object_array_get_idx(stages, i), *a, *b, *c;
				json_object_object_get_ex(s, "stage", &a);
				json_object_object_get_ex(s, "result", &b);
				json_object_object_get_ex(s, "message", &c);
				printf("  %-8s %-8s %s\n", json_object_get_string(a),
				       json_object_get_string(b),
				       c ? json_object_get_string(c) : "");
			}
	}
	if (json_object_object_get_ex(o, "result", &stages) &&
	    strcmp(json_object_get_string(stages), "ok"))
		r = 1;
	json_object_put(o);
	free(path);
	return r;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"target", required_argument, NULL, 't'},
	    {"state-dir", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *target = "/", *state_dir = NULL;
	bool json = false;
	char *dir = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:s:jh", opts, NULL)) >= 0) {
		if (cmd_path_option(c, NULL, NULL, NULL, &target))
			continue;
		switch (c) {
		case 's':
			state_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			return cmd_help_or_usage_error(c);
		}
	}
	if (cmd_no_operands("status", argc, argv))
		return EXIT_USAGE;
	if (!state_dir &&
	    asprintf(&dir, "%s/var/lib/node-agent", strcmp(target, "/") ? target : "") < 0) {
		fprintf(stderr, "%s: out of memory\n", CMD_PROGRAM);
		return EXIT_FAILURE;
	}
	r = print_status(state_dir ? state_dir : dir, json);
	free(dir);
	return r;
}
