/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the files of the config parser share (config.h is the interface):
 *   config.c    na_config_parse/load/free: libyaml's document, the top-level keys, the
 *               checks that involve several sections
 *   values.c    typed values from YAML nodes, the walk over a mapping, bounds, and the
 *               reporting of problems as FILE:LINE:COLUMN
 *   rules.c     rules[]: match, labels, taints
 *   sections.c  cluster, node_name, containerd, data_disk, report
 *   gitops.c    gitops: the repository, refs, paths and intervals Flux and Argo CD take
 *
 * Every problem found is reported with config_err() and the walk goes on, so that one run
 * shows them all; a value that is invalid is left unset. An allocation that fails sets
 * oom: the config is then refused with -ENOMEM, never loaded without a value.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/yaml-load.h"
#include "config/config.h"

#define CONFIG_MAX_ERRORS  50
#define CONFIG_MAX_ENTRIES 1000	  /* keys of one mapping, items of one list */
#define CONFIG_MAX_VALUES  100000 /* entries walked in all, counting every use of an alias */

typedef struct config_parser {
	const char *path;
	const na_log *log; /* each problem, one LOG_ERR line */
	unsigned n_errors;
	size_t n_values;
	yaml_document_t *doc;
	na_config *cfg;
	/* an allocation failed: the config is refused (-ENOMEM), not loaded without a value */
	bool oom;
	/* top-level keys and their values, for problems that involve several keys */
	yaml_node_t *cluster_key, *cluster, *rules_key, *disk_key, *disk, *gitops_key, *gitops;
} config_parser;

/* --- values.c --- */

/* One problem, at node n (NULL: the start of the file). */
_printf_(3, 4) void config_err(config_parser *p, const yaml_node_t *n, const char *fmt, ...);
/* A syntax error from libyaml, where the mistake most likely is. */
void config_yaml_error(config_parser *p, const yaml_problem *at);

yaml_node_t *config_node(config_parser *p, int id);
/* The value of `key` in mapping `map`, or NULL. */
yaml_node_t *config_map_get(config_parser *p, const yaml_node_t *map, const char *key);
/* A mapping that lacks `key`; a value that is not a mapping has been reported already. */
bool config_map_lacks(config_parser *p, const yaml_node_t *map, const char *key);
/* Counts `entries` more values against the bounds of the walk; false (and reported) when
 * they are exceeded. */
bool config_within_bounds(config_parser *p, const yaml_node_t *n, size_t entries,
			  const char *where);
/* "a mapping", "a list", ... for messages */
const char *config_node_kind(const yaml_node_t *n);
bool config_is_null(const yaml_node_t *n);
/* A scalar with a NUL character in it (reported). */
bool config_has_nul(config_parser *p, const yaml_node_t *n, const char *what);

/* A string value (NULL when it is not one, reported). */
const char *config_str(config_parser *p, const yaml_node_t *n, const char *what);
/* strdup() that marks the parse as failed for want of memory. */
char *config_dup(config_parser *p, const char *s);
char *config_dup_str(config_parser *p, const yaml_node_t *n, const char *what);
/* An fnmatch() pattern. */
char *config_dup_glob(config_parser *p, const yaml_node_t *n, const char *what);
/* An https:// URL. */
char *config_secure_url(config_parser *p, const yaml_node_t *n, const char *what);
char *config_abs_path(config_parser *p, const yaml_node_t *n, const char *what);
/* A whole number from 0 to max. */
bool config_get_int(config_parser *p, const yaml_node_t *n, const char *what, int64_t max,
		    int64_t *ret);
bool config_get_bool(config_parser *p, const yaml_node_t *n, const char *what, bool *ret);

/* A check of one item of a list of strings: false when it is bad (and reported). */
typedef bool (*config_item_check)(config_parser *p, const yaml_node_t *n, const char *what,
				  const char *s);
/* A list of strings, each passing check (if any); never NULL unless memory ran out. */
char **config_str_list(config_parser *p, const yaml_node_t *n, const char *what,
		       config_item_check check);

/* Called for each key of a mapping; false: the key is not known there. */
typedef bool (*config_key_fn)(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v,
			      void *data);
/*
 * Walk a mapping of the schema: `fn` is called for each key; unknown keys are reported
 * by fn returning false, with the list of keys that are valid in that place. Duplicate
 * keys are reported, and so are keys that would put a token into the config.
 */
void config_walk_map(config_parser *p, yaml_node_t *n, const char *where, const char *valid,
		     config_key_fn fn, void *data);
/* Walk a mapping whose keys the user names (labels): "token" is a fine label name. */
void config_walk_names(config_parser *p, yaml_node_t *n, const char *where, config_key_fn fn,
		       void *data);

/* --- rules.c, sections.c, gitops.c: the value of each top-level key --- */

void config_rules_parse(config_parser *p, yaml_node_t *n);
/* A rule's match: (min_* unset), and the mapping N into M; also the acceptance rules of
 * `node-agent serve` (serve/config.c), so both files mean the same by a match. */
void config_match_init(na_match *m);
void config_match_parse(config_parser *p, yaml_node_t *n, na_match *m);
void config_cluster_parse(config_parser *p, yaml_node_t *n);
void config_node_name_parse(config_parser *p, yaml_node_t *n);
void config_containerd_parse(config_parser *p, yaml_node_t *n);
void config_data_disk_parse(config_parser *p, yaml_node_t *n);
void config_report_parse(config_parser *p, yaml_node_t *n);
void config_gitops_parse(config_parser *p, yaml_node_t *n);
