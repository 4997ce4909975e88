/* SPDX-License-Identifier: MIT */
/* node-agent: command line. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apply.h"
#include "cli/cmd.h"
#include "config/config.h"
#include "fleet/diff.h"
#include "gitops/gitops.h"
#include "report/deliver.h"
#include "hw.h"
#include "inventory/inventory-json.h"
#include "inventory/output.h"
#include "plan/plan.h"
#include "fleet/report.h"
#include "run/run.h"
#include "basic/parse-util.h"

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
		"  config check FILE\n"
		"            Validate a node config (schema node-agent/config/v1) without a machine.\n"
		"  plan --config FILE [--root DIR] [--inventory FILE] [--target DIR]\n"
		"       [--format json|yaml]\n"
		"            Print what this node must become (schema node-agent/plan/v1);\n"
		"            writes nothing.\n"
		"  apply --config FILE [--root DIR] [--inventory FILE] [--target DIR] [--dry-run]\n"
		"            Make TARGET (default /) match the plan: files written atomically,\n"
		"            units enabled, the data disk prepared; --dry-run shows a diff.\n"
		"  run [--root DIR] [--target DIR] [--config FILE|URL] [--state-dir DIR]\n"
		"      [--config-timeout SECONDS] [--no-start] [--join-timeout SECONDS]\n"
		"            The boot job: detect, find the config (kernel command line\n"
		"            nodeagent.config=URL, a filesystem labelled NODEAGENT,\n"
		"            /etc/node-agent/config.yaml), report, plan, apply, join, gitops.\n"
		"            --no-start: K3s is started by something else; only wait for it.\n"
		"  gitops --config FILE [--target DIR] [--dry-run]\n"
		"            Write the pinned Flux or Argo CD install manifest (sha256-checked)\n"
		"            and its GitRepository/Kustomization or root Application to\n"
		"            TARGET/var/lib/rancher/k3s/server/manifests/ (server-init node).\n"
		"  status [--target DIR | --state-dir DIR] [--json]\n"
		"            The last run's result per stage.\n"
		"  report FILE|DIR... [--format markdown|csv|html|json]\n"
		"            One fleet table from many inventory JSON files (a DIR: its *.json).\n"
		"  diff OLD NEW [--format text|json]\n"
		"            Hardware changes between two inventories of one machine;\n"
		"            exit 0 no changes, 1 changes, 2 invalid input.\n"
		"  preflight --config FILE [--timeout SECONDS]\n"
		"            Verify cluster.server against the token's CA hash (K10 token) or\n"
		"            cluster.ca_file before anything is sent to it; exit 0 when the\n"
		"            node may join.\n"
		"  join --config FILE [--root DIR] [--inventory FILE] [--target DIR]\n"
		"       [--no-start] [--timeout SECONDS]\n"
		"            Preflight, start k3s.service or k3s-agent.service over D-Bus, wait\n"
		"            until the Node is Ready, bring its labels to the plan.\n"
		"  roles [--config FILE] [--kubeconfig FILE] [--target DIR]\n"
		"            On a server: apply the node-role labels nodes ask for (annotation\n"
		"            node-agent.io/api-labels) that the config allows.\n"
		"  report-send (--config FILE | --url URL) [--state-dir DIR] [--inventory FILE]\n"
		"            Spool an inventory as a report and send the spool to report.url\n"
		"            (what the report stage of run does).\n"
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

/* A number given to OPTION of VERB; a usage error that names both and the value when it is
 * not a whole number of UNIT from MIN to MAX. */
int cmd_parse_number(const char *verb, const char *option, const char *value, const char *unit,
		     int64_t min, int64_t max, int64_t *ret)
{
	int r = parse_int64(value, min, max, ret);

	if (r < 0)
		fprintf(stderr, "%s %s: %s \"%s\": %s; expected %s from %" PRId64 " to %" PRId64 "\n",
			program, verb, option, value,
			r == -ERANGE ? "out of range" : "not a whole number", unit, min, max);
	return r;
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

static int cmd_config(int argc, char **argv)
{
	na_config *c = NULL;
	int r;

	if (argc != 3 || strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "usage: %s config check FILE\n", program);
		return EXIT_USAGE;
	}
	r = na_config_load(argv[2], stderr, &c);
	if (r == -EINVAL)
		return EXIT_USAGE;
	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", program, argv[2], strerror(-r));
		return r == -ENOMEM ? EXIT_FAILURE : EXIT_USAGE;
	}
	printf("%s: valid (%zu rule%s)\n", argv[2], c->n_rules, c->n_rules == 1 ? "" : "s");
	na_config_free(c);
	return 0;
}

/* The inventory a plan is made from: a file, or detected under --root. */
int cmd_get_inventory(const char *file, const char *root, hw_inventory **ret)
{
	hw_ctx *ctx = NULL;
	int r;

	if (file) {
		r = inventory_load(file, stderr, ret);
		if (r < 0 && r != -EINVAL)
			fprintf(stderr, "%s: %s: %s\n", program, file, strerror(-r));
		return r;
	}
	r = hw_ctx_new(root, &ctx);
	if (r < 0) {
		fprintf(stderr, "%s: cannot open root %s: %s\n", program, root, strerror(-r));
		return -EINVAL;
	}
	r = hw_inventory_collect(ctx, ret);
	hw_ctx_free(ctx);
	if (r < 0)
		fprintf(stderr, "%s: detection failed: %s\n", program, strerror(-r));
	return r;
}

static int cmd_plan(int argc, char **argv, bool apply)
{
	/* each verb takes its own options only: plan prints (--format), apply writes (--dry-run) */
	static const struct option plan_opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "inventory", required_argument, NULL, 'i' },
		{ "target", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const struct option apply_opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "inventory", required_argument, NULL, 'i' },
		{ "target", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL, *root = "/", *inv_file = NULL, *target = NULL;
	out_format fmt = FMT_JSON;
	bool dry_run = false;
	na_config *cfg = NULL;
	hw_inventory *inv = NULL;
	plan_target tgt = { 0 };
	na_plan *plan = NULL;
	int c, r, ret = EXIT_FAILURE;

	optind = 1;
	while ((c = getopt_long(argc, argv, apply ? "c:r:i:t:nh" : "c:r:i:t:f:h",
				apply ? apply_opts : plan_opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'i':
			inv_file = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'f':
			if (parse_format(optarg, &fmt) < 0 || fmt == FMT_TABLE) {
				fprintf(stderr, "%s: unknown format \"%s\" (json or yaml)\n", program,
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			dry_run = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (!config || optind < argc) {
		fprintf(stderr, "usage: %s %s --config FILE [--root DIR] [--inventory FILE] "
				"[--target DIR]%s\n",
			program, apply ? "apply" : "plan", apply ? " [--dry-run]" : " [--format json|yaml]");
		return EXIT_USAGE;
	}
	if (!target)
		target = apply ? "/" : root;

	r = na_config_load(config, stderr, &cfg);
	if (r < 0) {
		if (r != -EINVAL)
			fprintf(stderr, "%s: %s: %s\n", program, config, strerror(-r));
		/* running out of memory is not the config's fault */
		return r == -ENOMEM ? EXIT_FAILURE : EXIT_USAGE;
	}
	r = cmd_get_inventory(inv_file, root, &inv);
	if (r < 0) {
		ret = r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
		goto out;
	}
	r = plan_target_probe(target, &tgt);
	if (r < 0) {
		fprintf(stderr, "%s: cannot open target %s: %s\n", program, target, strerror(-r));
		ret = r == -ENOMEM ? EXIT_FAILURE : EXIT_USAGE;
		goto out;
	}
	r = plan_compute(cfg, inv, &tgt, &plan);
	if (r < 0) {
		fprintf(stderr, "%s: cannot make a plan: %s\n", program, strerror(-r));
		goto out;
	}
	for (char **w = plan->warnings; w && *w; w++)
		fprintf(stderr, "%s: plan warning: %s\n", program, *w);
	if (!apply) {
		json_object *j = plan_to_json(plan);

		if (!j) {
			fprintf(stderr, "%s: cannot print the plan: %s\n", program, strerror(ENOMEM));
			goto out;
		}
		r = fmt == FMT_YAML ? output_yaml(stdout, j) : output_json(stdout, j);
		json_object_put(j);
		ret = r < 0 || fflush(stdout) != 0 ? EXIT_FAILURE : 0;
		if (ret != 0)
			fprintf(stderr, "%s: cannot write the plan: %s\n", program,
				strerror(r < 0 ? -r : errno));
	} else {
		apply_result res;

		printf("node-agent apply: %s for node %s (%s)%s\n", target, plan->node_name,
		       na_role_name(plan->role), dry_run ? ", dry run" : "");
		r = apply_plan(plan, target, dry_run, stdout, &res);
		printf("%u changed, %u unchanged, %u failed\n", res.changed, res.unchanged,
		       res.failed);
		ret = r < 0 || res.failed ? EXIT_FAILURE : 0;
	}
out:
	plan_free(plan);
	plan_target_done(&tgt);
	hw_inventory_free(inv);
	na_config_free(cfg);
	return ret;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "target", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "config-timeout", required_argument, NULL, 'T' },
		{ "no-start", no_argument, NULL, 'N' },
		{ "join-timeout", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	run_opts o = { .root = "/", .target = "/", .config_timeout_s = 600 };
	int64_t v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:t:c:s:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'r':
			o.root = optarg;
			break;
		case 't':
			o.target = optarg;
			break;
		case 'c':
			o.config = optarg;
			break;
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
		case 'h':
			usage(stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s run: unexpected argument \"%s\"\n", program, argv[optind]);
		return EXIT_USAGE;
	}
	return run_pipeline(&o) == 0 ? 0 : EXIT_FAILURE;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *target = "/", *state_dir = NULL;
	bool json = false;
	char *dir = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:s:jh", opts, NULL)) >= 0) {
		switch (c) {
		case 't':
			target = optarg;
			break;
		case 's':
			state_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s status: unexpected argument \"%s\"\n", program, argv[optind]);
		return EXIT_USAGE;
	}
	if (!state_dir && asprintf(&dir, "%s/var/lib/node-agent",
				   strcmp(target, "/") ? target : "") < 0) {
		fprintf(stderr, "%s: out of memory\n", program);
		return EXIT_FAILURE;
	}
	r = run_status(state_dir ? state_dir : dir, json);
	free(dir);
	return r;
}

static int cmd_gitops(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "target", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL, *target = "/";
	gitops_opts go = { 0 };
	na_config *cfg = NULL;
	char *summary = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:t:nh", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'n':
			go.dry_run = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (!config || optind < argc) {
		fprintf(stderr, "usage: %s gitops --config FILE [--target DIR] [--dry-run]\n",
			program);
		return EXIT_USAGE;
	}
	r = na_config_load(config, stderr, &cfg);
	if (r < 0) {
		if (r != -EINVAL)
			fprintf(stderr, "%s: %s: %s\n", program, config, strerror(-r));
		return EXIT_USAGE;
	}
	r = gitops_run(cfg, target, &go, stderr, &summary);
	na_config_free(cfg);
	if (r == 1) {
		fprintf(stderr, "%s: %s: %s\n", program, config, summary ? summary : "no gitops");
		free(summary);
		return EXIT_USAGE;
	}
	if (r < 0)
		fprintf(stderr, "%s gitops: %s\n", program, summary ? summary : strerror(-r));
	else
		printf("%s\n", summary ? summary : "done");
	free(summary);
	return r < 0 ? EXIT_FAILURE : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "inventory") == 0)
		return cmd_inventory(argc - 1, argv + 1);
	if (strcmp(argv[1], "config") == 0)
		return cmd_config(argc - 1, argv + 1);
	if (strcmp(argv[1], "plan") == 0)
		return cmd_plan(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "apply") == 0)
		return cmd_plan(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "preflight") == 0)
		return cmd_preflight(argc - 1, argv + 1);
	if (strcmp(argv[1], "join") == 0)
		return cmd_join(argc - 1, argv + 1);
	if (strcmp(argv[1], "roles") == 0)
		return cmd_roles(argc - 1, argv + 1);
	if (strcmp(argv[1], "report-send") == 0)
		return cmd_report_send(argc - 1, argv + 1);
	if (strcmp(argv[1], "gitops") == 0)
		return cmd_gitops(argc - 1, argv + 1);
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	if (strcmp(argv[1], "diff") == 0)
		return diff_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "%s: unknown command \"%s\"\n\n", program, argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
