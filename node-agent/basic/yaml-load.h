/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "macro.h"

/*
 * The one YAML document loader (libyaml's document API) of every reader of outside YAML:
 * the config, kubeconfigs, install manifests, GitOps credentials. Each caller words its
 * own messages; the loader says where and why libyaml stopped, as people count.
 */

typedef struct yaml_problem {
	size_t line;	     /* 1-based */
	size_t column;	     /* 1-based, in characters */
	const char *problem; /* libyaml's words, "syntax error" when it has none */
	const char *context; /* what it was reading, "" when unknown */
} yaml_problem;

typedef struct yaml_loader {
	yaml_parser_t parser;
	const char *data;
	size_t len;
	bool open;
} yaml_loader;

/* Read DATA (LEN bytes, which must outlive the loader): 0, or -ENOMEM. */
int yaml_loader_open(yaml_loader *l, const char *data, size_t len);
void yaml_loader_close(yaml_loader *l);
#define _cleanup_yaml_loader_ _cleanup_(yaml_loader_close)

/*
 * The next document into *ret (the caller deletes it): 1, or 0 at the end of the stream
 * (*ret empty). A syntax error: -EBADMSG and *ret_problem (its texts live as long as the
 * loader). Out of memory: -ENOMEM. Reader errors (bad UTF-8, control characters) are placed
 * from their byte offset; an input that ends inside a token (an unclosed quote) is placed
 * where that token starts, because the end of the file is never where the mistake is.
 */
int yaml_loader_next(yaml_loader *l, yaml_document_t *ret, yaml_problem *ret_problem);

/* A document with nothing in it ("---" alone, or only comments). */
bool yaml_document_is_empty(yaml_document_t *d);

/*
 * Nesting at most MAX_DEPTH levels and at most MAX_EXPANDED values with every alias
 * followed: bounds for what recurses (libyaml's emitter) and for readers that expand
 * aliases (Go's YAML: a "billion laughs" document is small here, huge there). False also
 * for an alias to a node that contains it, and when out of memory.
 */
bool yaml_document_bounded(yaml_document_t *d, int max_depth, uint64_t max_expanded);

/* The value of KEY in the mapping MAP (NULL when MAP is no mapping or has no such key). */
yaml_node_t *yaml_map_get(yaml_document_t *d, yaml_node_t *map, const char *key);
/* A scalar's text, NULL for other nodes and NULL. */
const char *yaml_scalar(const yaml_node_t *n);

/* yaml_document_delete() after overwriting every scalar: for documents holding secrets. */
void yaml_document_erase(yaml_document_t *d);

static inline void yaml_document_deletep(yaml_document_t *d)
{
	yaml_document_delete(d);
}
#define _cleanup_yaml_document_ _cleanup_(yaml_document_deletep)
