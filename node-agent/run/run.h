/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

typedef struct run_opts {
	const char *root;      /* where hardware is read ("/") */
	const char *target;    /* where files are written ("/") */
	const char *config;    /* a file or URL given on the command line, else discovered */
	const char *state_dir; /* default TARGET/var/lib/node-agent */
	int config_timeout_s;  /* how long to keep retrying the config, default 600 */
	bool no_start;	       /* K3s is started by something else: only wait for it */
	long join_timeout_s;   /* until the Node is Ready, default 600 */
} run_opts;

/* STATE_DIR/state.json (schema node-agent/state/v1), read with a bound: 0, -errno, or
 * -EBADMSG when it is no JSON object. */
#define STATE_MAX_BYTES (1024 * 1024)
int run_state_read(const char *path, json_object **ret);

/* The boot job: detect, config, report, plan, apply, join, gitops. 0 on success. */
int run_pipeline(const run_opts *o);
/* "nodeagent.config=" on a kernel command line, with ${mac} ${uuid} ${serial} ${hostname}
 * substituted (URL-escaped) into *ret_url: 1 when found, 0 when the command line has none,
 * -EINVAL with *ret_err when it is empty or uses a value unknown here, -ENOMEM. */
int run_config_url_from_cmdline(const char *cmdline, const char *mac, const char *uuid,
				const char *serial, const char *hostname, char **ret_url,
				char **ret_err);
