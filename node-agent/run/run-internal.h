/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "basic/log.h"
#include "config/config.h"
#include "hw.h"
#include "plan/plan.h"
#include "run/run.h"

#define STATE_SCHEMA	"node-agent/state/v1"
#define NODEAGENT_LABEL "NODEAGENT"

/* journal.c: a line for the journal (or stderr), tagged with its stage */
_printf_(3, 4) void run_log(int prio, const char *stage, const char *fmt, ...);
/* sd_notify STATUS=, when started by systemd */
_printf_(1, 2) void run_notify(const char *fmt, ...);
/* The sink for a stage's log lines: one run_log() each, the terminal's indentation dropped. */
na_log run_stage_log(const char *stage);

/* state.c */
typedef struct run_state {
	json_object *root;
	json_object *stages;
	char *path;
} run_state;

char *run_now_rfc3339(void);
/* A new state.json at st->path: started now, and which stage the last run stopped at, when
 * it failed (logged: "resuming: ..."). */
void run_state_begin(run_state *st);
/* Finished now, ok or failed; written, and st's memory freed. */
void run_state_end(run_state *st, bool ok);
void run_state_save(run_state *st);
/* Record a stage's result (ok, failed, skipped) in state.json and log it. */
_printf_(4, 5) void run_stage_result(run_state *st, const char *stage, const char *result,
				     const char *fmt, ...);

/* discover.c: the config, from o->config or discovered; *ret_source says where from. */
int run_discover_config(const run_opts *o, const hw_inventory *inv, bool live, na_config **ret,
			char **ret_source);

/* credentials.c: the K3s credentials from node-agent serve (cluster.credentials) */
#define RUN_CREDENTIALS_DIR "/run/node-agent/credentials"
typedef struct run_credentials {
	char *machine; /* serve's id of this machine, and its code */
	char *code;
	na_role role;	     /* serve's decision: the plan must agree */
	char *server;	     /* NULL for the server-init */
	char *token;	     /* secrets from here on: never logged */
	char *agent_token;   /* the server-init's K3s agent-token */
	char *node_password; /* for /etc/rancher/node/password */
	char *machine_key;   /* bearer for POST /api/v1/cluster; memory only */
} run_credentials;

/* serve's 200 answer: 0, or -EBADMSG with *ret_err (which quotes no secret). */
int run_credentials_parse(const char *body, size_t len, run_credentials *ret, char **ret_err);
void run_credentials_done(run_credentials *c);
/* POST the join request to cluster.credentials.url, waiting while serve answers 503 (for
 * NODE_AGENT_CREDENTIALS_WAIT_S, default 900 s). 0 with *ret; -EACCES when serve refuses
 * (*ret_msg "refused by serve: REASON (...)"), -ETIMEDOUT, -errno. */
int run_credentials_redeem(const na_config *cfg, const char *inventory_json, run_credentials *ret,
			   char **ret_msg);
/* The config as serve completes it: cluster.server, and the token files under TARGET's
 * RUN_CREDENTIALS_DIR (nothing written yet). */
int run_credentials_apply(na_config *cfg, const run_credentials *c, const char *target);
/* The token files the config names now: 0600 in a 0700 directory, atomically. */
int run_credentials_write(const na_config *cfg, const run_credentials *c, const char *target,
			  char **ret_err);
/* TARGET/etc/rancher/node/password from serve's, only when there is none: 1 written, 0 kept. */
int run_node_password_write(const run_credentials *c, const char *target, char **ret_msg);
/* The cluster's server URL for serve: the admin kubeconfig's, or https://NODE_IPV4:6443
 * when that is a loopback address. */
int run_cluster_server_url(const char *kube_server, const char *node_ipv4, char **ret,
			   char **ret_err);
/* The server-init, joined: POST its server URL, CA hash and a ServiceAccount token to serve
 * (/api/v1/cluster on cluster.credentials.url's origin). */
int run_cluster_announce(const na_config *cfg, const run_credentials *c, const na_plan *plan,
			 const hw_inventory *inv, const char *target, char **ret_msg);
