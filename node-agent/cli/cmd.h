/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "basic/macro.h"
#include "hw.h"
#include "plan/plan.h"

#include <stdbool.h>
#include <stdio.h>

#define CMD_PROGRAM "node-agent"
#define EXIT_USAGE  2

/* What a verb holds until it returns: _cleanup_(na_config_freep) na_config *cfg = NULL; */
DEFINE_TRIVIAL_CLEANUP_FUNC(na_config *, na_config_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(hw_inventory *, hw_inventory_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(na_plan *, plan_free)

/* The commands of main.c's verb table; each returns the process exit status. */
int cmd_inventory(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_plan(int argc, char **argv, bool apply);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_gitops(int argc, char **argv);
int cmd_preflight(int argc, char **argv);
int cmd_join(int argc, char **argv);
int cmd_roles(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_report_send(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_machines(int argc, char **argv);

/* The path options several verbs share, -c/--config, -r/--root, -i/--inventory and
 * -t/--target (getopt's option string decides which a verb takes): true when getopt's c is
 * one of them, its optarg then stored through the matching pointer. */
bool cmd_path_option(int c, const char **config, const char **root, const char **inventory,
		     const char **target);

/* After the options: 0 when no operand is left, else says which one is unexpected and
 * returns EXIT_USAGE. */
int cmd_no_operands(const char *verb, int argc, char **argv);

/* The end of a verb's option switch: for -h/--help the help text on stdout and 0, for
 * anything else (getopt said what) EXIT_USAGE. */
int cmd_help_or_usage_error(int c);

/* The whole help text (main.c). */
void cmd_usage(FILE *f);

typedef enum { FMT_JSON, FMT_YAML, FMT_TABLE } out_format;
/* json, yaml or table; -EINVAL for anything else. */
int cmd_parse_format(const char *s, out_format *ret);

/* The inventory a plan is made from: FILE, or detected under ROOT; says why on stderr
 * when it fails (-EINVAL: the input is at fault). */
int cmd_get_inventory(const char *file, const char *root, hw_inventory **ret);
/* The plan's errors on stderr ("node-agent: plan refused: ..."); true when it has any. */
bool cmd_plan_refused(const na_plan *plan);

/* A number given to OPTION of VERB (parse-util.h), from MIN to MAX; says on stderr what is
 * wrong with it, naming the option, the value and the UNIT, when it is not one. */
int cmd_parse_number(const char *verb, const char *option, const char *value, const char *unit,
		     int64_t min, int64_t max, int64_t *ret);
