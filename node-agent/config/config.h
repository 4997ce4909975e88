/* SPDX-License-Identifier: MIT */
#pragma once

/* The node config, schema node-agent/config/v1 (DESIGN.md), parsed with libyaml. */

#include <stdbool.h>
#include <stdint.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "hw.h"

#define CONFIG_SCHEMA "node-agent/config/v1"

typedef enum na_role {
	ROLE_UNSET = 0,
	ROLE_AGENT,
	ROLE_SERVER,
	ROLE_SERVER_INIT,
} na_role;

const char *na_role_name(na_role r);

typedef struct na_match {
	char *gpu_vendor;
	char *gpu_model; /* glob */
	int64_t min_gpus;
	int64_t min_memory_gib;
	int64_t min_cpu_threads;
	char *dmi_product; /* glob */
	char **serial;
	char **mac;
	/* any disk whose own health report says one of these ("ok", "warning", "failing") */
	char **disk_health;
	/* the memory controller's account (EDAC) is one of these */
	char **memory_health;
} na_match;

/* Frees what M holds (not M). */
void na_match_done(na_match *m);

typedef struct na_rule {
	char *name;
	bool has_match;
	na_match match;
	na_role role;
	char *node_role;
	na_kv *labels;
	size_t n_labels;
	char **taints;
	char *node_ip_interface; /* glob on nics[].name */
} na_rule;

typedef struct na_data_disk {
	bool present;
	int64_t min_size_gib;
	int64_t max_size_gib;
	hw_tri rotational;
	char *transport;
	char *model; /* glob */
	char **serial;
	char **allow_wipe_serials;
	char *mount;
	char *label;
} na_data_disk;

typedef struct na_gitops {
	bool present;
	char *engine; /* "flux" | "argocd" */
	char *install_url;
	char *install_sha256;
	char *repository;
	char *branch;
	char *tag;
	char *path;
	char *credentials_file;
	char *interval;
	char *install_ca_file; /* trust only this CA for install_url */
} na_gitops;

typedef struct na_config {
	char *path;
	char *text; /* the YAML it was parsed from */
	char *server;
	char *token_file;	/* the server token: servers need it (it can fetch the CA keys) */
	char *agent_token_file; /* the agent token, for agents; they use token_file without one */
	char *server_ca_file; /* cluster.ca_file: pins the server's CA when the token has no hash */
	char *node_name;
	na_rule *rules;
	size_t n_rules;
	bool containerd_nvidia;	       /* auto (true) | off */
	int containerd_config_version; /* 0 = detect, 2, 3 */
	na_data_disk data_disk;
	/* the node's root survives a reboot (installed, not booted from RAM): K3s's state and
	 * node password may stay there without a data disk */
	bool persistent_root;
	na_gitops gitops;
	char *report_url;
	char *report_ca_file; /* trust only this CA for report.url */
	char *report_ca_pem;  /* ... or this one, given inline */
	/* cluster.credentials: node-agent serve hands the server and tokens to an accepted
	 * machine at this https URL for this single-use ticket (never logged) */
	struct {
		char *url;
		char *ticket;
	} credentials;
} na_config;

/*
 * Parse and validate FILE. On invalid input returns -EINVAL and hands every problem to
 * `log` as one LOG_ERR line "FILE:LINE:COLUMN: message" (at most a few dozen, then
 * "FILE: N more errors not shown"). -errno when the file cannot be read.
 */
int na_config_load(const char *path, const na_log *log, na_config **ret);
int na_config_parse(const char *path, const char *data, size_t len, const na_log *log,
		    na_config **ret);
na_config *na_config_free(na_config *c);

/* An inventory-only config: no cluster.server, no cluster.credentials and no rule that
 * creates a cluster, so there is nothing to join (what `node-agent serve` hands a machine it
 * has not accepted). The boot job then detects and reports, and writes nothing: no plan, no
 * data disk, no K3s. */
bool na_config_inventory_only(const na_config *c);

/* The token a node of ROLE joins with: agents the agent token when the config gives one,
 * servers (and agents without one) cluster.token_file; NULL when there is none. */
const char *na_config_token_file(const na_config *c, na_role role);
