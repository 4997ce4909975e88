/* SPDX-License-Identifier: MIT */
#pragma once

/* (config, inventory, target facts) -> plan: what this node must become. Pure: reads
 * nothing but the few target facts passed in. Schema node-agent/plan/v1 (DESIGN.md). */

#include <json-c/json.h>
#include <stdbool.h>

#include "config/config.h"
#include "hw.h"

#define PLAN_SCHEMA "node-agent/plan/v1"

/* What the plan needs to know about the machine it will be applied to. */
typedef struct plan_target {
	/* where K3s would find nvidia-container-runtime, or NULL; and every directory of
	 * PLAN_RUNTIME_DIRS that has it (bit i: the i-th) */
	char *nvidia_runtime;
	unsigned nvidia_runtime_dirs;
	/* the K3s release the image carries (/usr/lib/node-agent/k3s-version, written by make
	 * image from `k3s --version`): {major, minor, patch}, all 0 when not known */
	int k3s_version[3];
	/* installed standalone containerd (Debian package), major version or 0 */
	int containerd_major;
	/* existing /etc/containerd/config.toml: absent, ours, Debian's untouched default
	 * (which node-agent may replace, keeping its settings), or someone else's */
	enum {
		CONTAINERD_CONFIG_ABSENT,
		CONTAINERD_CONFIG_OURS,
		CONTAINERD_CONFIG_DEBIAN_DEFAULT,
		CONTAINERD_CONFIG_FOREIGN,
	} containerd_config;
	/* Debian's packaged settings are (or were, before node-agent replaced that file) in
	 * force: the files that replace them carry them on */
	bool containerd_debian_settings;
	/* in the config in place: runc's SystemdCgroup (1, 0; -1 not set: containerd's default,
	 * false), which the nvidia runtime copies as nvidia-ctk does; and whether it disables
	 * the CRI plugin (docker's containerd.io ships disabled_plugins = ["cri"]) */
	int runc_systemd_cgroup;
	bool containerd_cri_disabled;
} plan_target;

typedef struct plan_file {
	char *path;
	unsigned mode;
	char *content;
	bool needs_disk; /* only written once the data disk is ready (its mount unit) */
} plan_file;

typedef struct plan_disk {
	char *device; /* disk name, e.g. "nvme1n1" */
	char *action; /* "format" | "mount" */
	char *reason;
	char *serial;
	char *fs_uuid;
	char *fs_label;
	char *mount;
	char *unit;
	bool wipe_allowed; /* format although it has signatures: allow_wipe_serials names it */
	char **persists;   /* what it keeps across reboots: PLAN_PERSIST_PATHS */
	char **bind_dirs;  /* on the disk, the sources of bind mounts: apply creates them */
} plan_disk;

/* What K3s needs to find again after a reboot to be the same node (RAM roots lose them):
 * its node password (written outside the data dir) and its data dir (the agent's
 * certificates; a server's etcd, CA keys and token). */
#define PLAN_PERSIST_PATHS "/etc/rancher/node", "/var/lib/rancher/k3s"

typedef struct na_plan {
	char *node_name;
	na_role role;
	char **matched_rules;
	na_kv_list labels;
	na_kv_list api_labels;
	/* the hardware labels of another tool's family (GPU Feature Discovery, Node Feature
	 * Discovery, AMD's labeller: key -> that tool): set by the join, only while that tool
	 * does not manage the key, and never through K3s node-label, which K3s re-applies at
	 * every start (k3s pkg/agent/run.go, updateMutableLabels) */
	na_kv_list label_owners;
	char **taints;
	bool nvidia;
	char *default_runtime;
	char *node_ip;
	plan_file *files;
	size_t n_files;
	char **units;
	plan_disk *disk;
	char **disk_decisions; /* why each candidate disk was taken or refused */
	char **warnings;
	/* why this plan must not be applied (a server without persistent state): `plan`
	 * prints it and exits 1; apply, join and run refuse it */
	char **errors;
	char *role_rule;	 /* the rule that gave the role; NULL: no rule did (agent) */
	const na_gitops *gitops; /* borrowed from the config */
} na_plan;

/* The plan's errors: 0, or -EPERM with each written to LOG (one LOG_ERR line each). */
int plan_check(const na_plan *p, const na_log *log);

/* Facts about the target root (DIR/usr/bin/..., DIR/var/lib/dpkg/status, ...). */
int plan_target_probe(const char *root, plan_target *ret);
void plan_target_done(plan_target *t);

int plan_compute(const na_config *cfg, const hw_inventory *inv, const plan_target *target,
		 na_plan **ret);
na_plan *plan_free(na_plan *p);
json_object *plan_to_json(const na_plan *p);

/* systemd's escaping of a path into a unit name ("/var/lib/rancher" -> "var-lib-rancher"). */
char *plan_unit_name_from_path(const char *path, const char *suffix);

/* Whether INV has everything match M asks for (a rule's match of the node config; also the
 * acceptance rules of `node-agent serve`). */
bool plan_match(const na_match *m, const hw_inventory *inv);
