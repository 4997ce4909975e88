/* SPDX-License-Identifier: MIT */
/* Commands: preflight, join, roles. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "config/config.h"
#include "join/join.h"
#include "join/preflight.h"

static int load_config(const char *path, na_config **ret)
{
	na_log l = na_log_stream(stderr);
	int r = na_config_load(path, &l, ret);

	if (r < 0 && r != -EINVAL)
		fprintf(stderr, "node-agent: %s: %s\n", path, strerror(-r));
	return r;
}

int cmd_preflight(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"role", required_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *config = NULL;
	long timeout_s = 15;
	na_role role = ROLE_SERVER;
	int64_t v;
	na_config *cfg = NULL;
	preflight_result pf;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'T':
			if (cmd_parse_number("preflight", "--timeout", optarg, "seconds", 1, 3600,
					     &v) < 0)
				return EXIT_USAGE;
			timeout_s = (long)v;
			break;
		case 'R':
			if (strcmp(optarg, "agent") && strcmp(optarg, "server")) {
				fprintf(
				    stderr,
				    "node-agent preflight: --role: \"%s\" is not agent or server\n",
				    optarg);
				return EXIT_USAGE;
			}
			role = !strcmp(optarg, "agent") ? ROLE_AGENT : ROLE_SERVER;
			break;
		case 'h':
			printf("usage: node-agent preflight --config FILE [--role agent|server] "
			       "[--timeout SECONDS]\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (!config || optind < argc) {
		fprintf(stderr, "usage: node-agent preflight --config FILE [--role agent|server] "
				"[--timeout SECONDS]\n");
		return EXIT_USAGE;
	}
	if (load_config(config, &cfg) < 0)
		return EXIT_USAGE;
	r = preflight_check(cfg, role, timeout_s, &pf);
	if (r < 0)
		fprintf(stderr, "node-agent: preflight failed: %s\n",
			pf.message ? pf.message : strerror(-r));
	else
		printf("preflight: %s\n", pf.message ? pf.message : "verified");
	if (r >= 0 && role == ROLE_AGENT && pf.server_token)
		fprintf(stderr, "node-agent: warning: %s\n", PREFLIGHT_SERVER_TOKEN_WARNING);
	preflight_result_done(&pf);
	na_config_free(cfg);
	return r < 0 ? EXIT_FAILURE : 0;
}

static void print_progress(void *userdata, int prio, const char *msg)
{
	(void)userdata, (void)prio;
	fprintf(stderr, "join: %s\n", msg);
}

int cmd_join(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"root", required_argument, NULL, 'r'},
	    {"inventory", required_argument, NULL, 'i'},
	    {"target", required_argument, NULL, 't'},
	    {"no-start", no_argument, NULL, 'N'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *usage_line = "usage: node-agent join --config FILE [--root DIR] [--inventory "
				 "FILE] [--target DIR] [--no-start] [--timeout SECONDS]\n";
	const char *config = NULL, *root = "/", *inv_file = NULL, *target = "/";
	join_opts jo = {.start_units = true, .log = {.fn = print_progress}};
	na_config *cfg = NULL;
	hw_inventory *inv = NULL;
	plan_target tgt = {0};
	na_plan *plan = NULL;
	char *summary = NULL;
	int64_t v;
	int c, r, ret = EXIT_FAILURE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:r:i:t:h", opts, NULL)) >= 0) {
		if (cmd_path_option(c, &config, &root, &inv_file, &target))
			continue;
		switch (c) {
		case 'N':
			jo.start_units = false;
			break;
		case 'T':
			if (cmd_parse_number("join", "--timeout", optarg, "seconds", 1, 86400, &v) <
			    0)
				return EXIT_USAGE;
			jo.ready_timeout_s = (long)v;
			break;
		case 'h':
			printf("%s", usage_line);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (!config || optind < argc) {
		fprintf(stderr, "%s", usage_line);
		return EXIT_USAGE;
	}
	jo.target = target;
	if (load_config(config, &cfg) < 0)
		return EXIT_USAGE;
	r = cmd_get_inventory(inv_file, root, &inv);
	if (r < 0) {
		ret = r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
		goto out;
	}
	r = plan_target_probe(target, &tgt);
	if (r >= 0)
		r = plan_compute(cfg, inv, &tgt, &plan);
	if (r < 0) {
		fprintf(stderr, "node-agent: cannot make a plan: %s\n", strerror(-r));
		goto out;
	}
	if (cmd_plan_refused(plan))
		goto out;
	r = join_cluster(cfg, plan, &jo, &summary);
	if (r < 0)
		fprintf(stderr, "node-agent: join failed: %s\n", summary ? summary : strerror(-r));
	else
		printf("join: %s%s\n", r > 0 ? "skipped: " : "", summary ? summary : "");
	ret = r < 0 ? EXIT_FAILURE : 0;
out:
	free(summary);
	plan_free(plan);
	plan_target_done(&tgt);
	hw_inventory_free(inv);
	na_config_free(cfg);
	return ret;
}

int cmd_roles(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"kubeconfig", required_argument, NULL, 'k'},
	    {"target", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *usage_line = "usage: node-agent roles [--config FILE] [--kubeconfig FILE] "
				 "[--target DIR]\n";
	const char *config = NULL, *kcpath = K3S_ADMIN_KUBECONFIG, *target = "/";
	char *cfgpath = NULL, *err = NULL;
	na_config *cfg = NULL;
	kubeconfig *kc = NULL;
	kube_client *kube = NULL;
	int c, r, ret = EXIT_FAILURE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:k:t:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			kcpath = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'h':
			printf("%s", usage_line);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s", usage_line);
		return EXIT_USAGE;
	}
	/* the config the last boot used (node-agent run keeps a copy) */
	if (!config && asprintf(&cfgpath, "%s/var/lib/node-agent/config.yaml",
				strcmp(target, "/") ? target : "") < 0)
		return EXIT_FAILURE;
	if (load_config(config ? config : cfgpath, &cfg) < 0) {
		free(cfgpath);
		return EXIT_USAGE;
	}
	r = kubeconfig_load(target, kcpath, &kc, &err);
	if (r >= 0)
		r = kube_client_new(kc, 15, &kube, &err);
	if (r < 0) {
		fprintf(stderr, "node-agent: %s\n", err ? err : strerror(-r));
		goto out;
	}
	na_log l = na_log_stream(stdout);

	r = roles_reconcile(cfg, kube, &l);
	if (r >= 0)
		printf("%d node(s) changed\n", r);
	ret = r < 0 ? EXIT_FAILURE : 0;
out:
	free(err);
	free(cfgpath);
	kube_client_free(kube);
	kubeconfig_free(kc);
	na_config_free(cfg);
	return ret;
}
