/* SPDX-License-Identifier: MIT */
/* node-agent: the verb table; each verb's code is in cli/. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

void cmd_usage(FILE *f)
{
	fprintf(
	    f,
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
	    "  preflight --config FILE [--role agent|server] [--timeout SECONDS]\n"
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
	    "  serve [--config FILE]\n"
	    "            The operator's side: boot scripts, kernel, initrd and node configs\n"
	    "            over HTTP, machines' reports into SQLite, a JSON API (config\n"
	    "            schema node-agent/serve/v1, default /etc/node-agent/serve.yaml).\n"
	    "  machines list|show ID|accept ID|retire ID|wake ID [--server URL]\n"
	    "           [--ca FILE] [--token-file FILE] [--format table|json]\n"
	    "            The machines `serve` knows, through its JSON API; wake: serve sends\n"
	    "            a Wake-on-LAN magic packet on its LAN.\n"
	    "  machines rules --config FILE [--server URL] [--ca FILE] [--format table|json]\n"
	    "            Which rule of a candidate serve.yaml's accept: would accept each\n"
	    "            machine (discovered ones first); changes nothing.\n"
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
	    CMD_PROGRAM);
}

static int cmd_plan_verb(int argc, char **argv)
{
	return cmd_plan(argc, argv, false);
}

static int cmd_apply(int argc, char **argv)
{
	return cmd_plan(argc, argv, true);
}

static int cmd_help(int argc, char **argv)
{
	cmd_usage(stdout);
	return 0;
}

static const struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
} verbs[] = {
    {"inventory", cmd_inventory},
    {"config", cmd_config},
    {"plan", cmd_plan_verb},
    {"apply", cmd_apply},
    {"run", cmd_run},
    {"status", cmd_status},
    {"preflight", cmd_preflight},
    {"join", cmd_join},
    {"roles", cmd_roles},
    {"report-send", cmd_report_send},
    {"gitops", cmd_gitops},
    {"report", cmd_report},
    {"diff", cmd_diff},
    {"serve", cmd_serve},
    {"machines", cmd_machines},
    {"help", cmd_help},
    {"--help", cmd_help},
    {"-h", cmd_help},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		cmd_usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command \"%s\"\n\n", CMD_PROGRAM, argv[1]);
	cmd_usage(stderr);
	return EXIT_USAGE;
}
