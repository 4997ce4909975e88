/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "basic/log.h"
#include "config/config.h"
#include "hw.h"
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
