/* SPDX-License-Identifier: MIT */
/* node-agent gitops. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fileio.h"
#include "cli/cmd.h"
#include "config/config.h"
#include "gitops/gitops.h"

int cmd_gitops(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"target", required_argument, NULL, 't'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *config = NULL, *target = "/";
	gitops_opts go = {0};
	na_log l = na_log_stream(stderr);
	na_config *cfg = NULL;
	char *summary = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:t:nh", opts, NULL)) >= 0) {
		if (cmd_path_option(c, &config, NULL, NULL, &target))
			continue;
		switch (c) {
		case 'n':
			go.dry_run = true;
			break;
		default:
			return cmd_help_or_usage_error(c);
		}
	}
	if (!config || optind < argc) {
		fprintf(stderr, "usage: %s gitops --config FILE [--target DIR] [--dry-run]\n",
			CMD_PROGRAM);
		return EXIT_USAGE;
	}
	r = na_config_load(config, &l, &cfg);
	if (r < 0) {
		if (r != -EINVAL)
			fprintf(stderr, "%s: %s: %s\n", CMD_PROGRAM, config, strerror(-r));
		return EXIT_USAGE;
	}
	r = gitops_run(cfg, target, &go, &l, &summary);
	na_config_free(cfg);
	if (r == 1) {
		fprintf(stderr, "%s: %s: %s\n", CMD_PROGRAM, config,
			summary ? summary : "no gitops");
		free(summary);
		return EXIT_USAGE;
	}
	if (r < 0)
		fprintf(stderr, "%s gitops: %s\n", CMD_PROGRAM, summary ? summary : strerror(-r));
	else
		printf("%s\n", summary ? summary : "done");
	free(summary);
	return r < 0 ? EXIT_FAILURE : 0;
}
