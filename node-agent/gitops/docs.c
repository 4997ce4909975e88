/* SPDX-License-Identifier: MIT */
/*
 * Manifests as libyaml documents: loaded with bounds (count, nesting, alias expansion) and
 * each checked to be a Kubernetes object; what the stage renders is parsed back the same
 * way before it is written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitops/gitops-internal.h"

#define MAX_DOCS     20000
#define MAX_DEPTH    200     /* nesting; libyaml's emitter recurses. Argo CD's CRDs reach ~20 */
#define MAX_EXPANDED 1000000 /* values in one document with every alias expanded */
#define MANAGED_BY   "node-agent"

yaml_node_t *gitops_map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

const char *gitops_scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

const char *gitops_doc_str(yaml_document_t *d, const char *key)
{
	return gitops_scalar(gitops_map_get(d, yaml_document_get_root_node(d), key));
}

const char *gitops_doc_meta(yaml_document_t *d, const char *key)
{
	yaml_node_t *root = yaml_document_get_root_node(d);

	return gitops_scalar(gitops_map_get(d, gitops_map_get(d, root, "metadata"), key));
}

static bool doc_empty(yaml_document_t *d)
{
	yaml_node_t *root = yaml_document_get_root_node(d);

	return !root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0 &&
			 root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
}

/* What one node amounts to, aliases followed: nesting height and node count. */
typedef struct shape {
	int height; /* 0: not computed yet, -1: being computed */
	uint64_t size;
} shape;

/* Shape of node ID, memoised so that each node is walked once however many aliases name
 * it; false when deeper than MAX_DEPTH or when an alias refers to a node containing it. */
static bool node_shape(yaml_document_t *d, int id, shape *memo, int level)
{
	yaml_node_t *n = yaml_document_get_node(d, id);
	shape *me = n ? &memo[id - 1] : NULL;
	int best = 0;
	uint64_t size = 1;

	if (!n)
		return true;
	if (me->height < 0 || level > MAX_DEPTH)
		return false;
	if (me->height > 0)
		return true;
	me->height = -1;
	if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++) {
			shape *c = &memo[*i - 1];
			if (!node_shape(d, *i, memo, level + 1))
				return false;
			best = c->height > best ? c->height : best;
			size = size + c->size < MAX_EXPANDED ? size + c->size : MAX_EXPANDED;
		}
	} else if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			shape *k = &memo[p->key - 1], *v = &memo[p->value - 1];
			if (!node_shape(d, p->key, memo, level + 1) ||
			    !node_shape(d, p->value, memo, level + 1))
				return false;
			best = k->height > best ? k->height : best;
			best = v->height > best ? v->height : best;
			size += k->size + v->size;
			size = size < MAX_EXPANDED ? size : MAX_EXPANDED;
		}
	}
	me->height = best + 1;
	me->size = size;
	return true;
}

/* Bounded nesting (libyaml's emitter recurses) and bounded alias expansion (K3s's YAML
 * reader expands every alias: a "billion laughs" document is small here, huge there). */
static bool shape_ok(yaml_document_t *d)
{
	size_t n = (size_t)(d->nodes.top - d->nodes.start);
	_cleanup_free_ shape *memo = NULL;

	if (n == 0)
		return true;
	memo = calloc(n, sizeof(*memo));
	if (!memo)
		return false;
	return node_shape(d, 1, memo, 1) && memo[0].height <= MAX_DEPTH &&
	       memo[0].size < MAX_EXPANDED;
}

void gitops_docs_free(gitops_docs *d)
{
	for (size_t i = 0; i < d->n; i++)
		yaml_document_delete(&d->v[i]);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/* The next document of P that is not empty into *DOC (its root in *ROOT); *ROOT NULL at
 * the end of the stream. */
static int load_next(yaml_parser_t *p, const char *what, yaml_document_t *doc, yaml_node_t **root,
		     char **ret_err)
{
	for (;;) {
		if (!yaml_parser_load(p, doc)) /* which leaves *doc empty */
			return gitops_fail(ret_err, -EBADMSG,
					   "%s: invalid YAML at line %zu column %zu: %s%s%s", what,
					   p->problem_mark.line + 1, p->problem_mark.column + 1,
					   p->problem ? p->problem : "syntax error",
					   p->context ? " " : "", p->context ? p->context : "");
		*root = yaml_document_get_root_node(doc);
		if (!*root || !doc_empty(doc))
			return 0;
		yaml_document_delete(doc);
	}
}

int gitops_docs_load(const char *what, const char *data, size_t len, gitops_docs *ret,
		     char **ret_err)
{
	_cleanup_yaml_parser_ yaml_parser_t p = {0};
	_cleanup_(gitops_docs_free) gitops_docs d = {0};

	if (memchr(data, '\0', len))
		return gitops_fail(ret_err, -EBADMSG, "%s: not YAML (contains a NUL byte)", what);
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	for (;;) {
		_cleanup_yaml_document_ yaml_document_t doc = {0};
		yaml_node_t *root = NULL, *meta;
		yaml_document_t *nv;
		int r = load_next(&p, what, &doc, &root, ret_err);

		if (r < 0)
			return r;
		if (!root)
			break;
		if (!shape_ok(&doc))
			return gitops_fail(
			    ret_err, -EBADMSG,
			    "%s: the document at line %zu nests deeper than %d levels, "
			    "refers to itself, or expands its aliases to more than %d "
			    "values",
			    what, root->start_mark.line + 1, MAX_DEPTH, MAX_EXPANDED);
		meta = gitops_map_get(&doc, root, "metadata");
		if (root->type != YAML_MAPPING_NODE || !gitops_doc_str(&doc, "apiVersion") ||
		    !gitops_doc_str(&doc, "kind") ||
		    !gitops_scalar(gitops_map_get(&doc, meta, "name")))
			return gitops_fail(
			    ret_err, -EBADMSG,
			    "%s: the document at line %zu is not a Kubernetes object "
			    "(apiVersion, kind and metadata.name are required)",
			    what, root->start_mark.line + 1);
		if (d.n >= MAX_DOCS)
			return gitops_fail(ret_err, -E2BIG, "%s: more than %d documents", what,
					   MAX_DOCS);
		nv = reallocarray(d.v, d.n + 1, sizeof(*d.v));
		if (!nv)
			return -ENOMEM;
		d.v = nv;
		d.v[d.n++] = doc;
		doc = (yaml_document_t){0};
	}
	if (d.n == 0)
		return gitops_fail(ret_err, -EBADMSG, "%s: no Kubernetes objects in it", what);
	*ret = d;
	d = (gitops_docs){0};
	return 0;
}

int gitops_check_written(const char *name, const char *content, size_t n_expect,
			 const char *const *expect, char **ret_err)
{
	_cleanup_(gitops_docs_free) gitops_docs d = {0};
	int r = gitops_docs_load(name, content, strlen(content), &d, ret_err);

	if (r < 0)
		return gitops_fail(ret_err, r, "%s: the rendered file does not parse back", name);
	if (d.n != n_expect)
		return gitops_fail(ret_err, -EPROTO, "%s: %zu objects rendered, %zu expected", name,
				   d.n, n_expect);
	for (size_t i = 0; expect && i < d.n; i++) {
		_cleanup_free_ char *got = NULL;

		if (asprintf(&got, "%s %s", gitops_doc_str(&d.v[i], "apiVersion"),
			     gitops_doc_str(&d.v[i], "kind")) < 0) {
			got = NULL;
			return -ENOMEM;
		}
		if (strcmp(got, expect[i]))
			return gitops_fail(ret_err, -EPROTO, "%s: object %zu is %s, expected %s",
					   name, i + 1, got, expect[i]);
	}
	return 0;
}

int gitops_render_open(yaml_emit *m)
{
	return yaml_emit_open_string(m, RENDERED_MAX, -1);
}

/* metadata: name, namespace (NS unless NULL), labels: managed-by node-agent, LABEL_KEY. */
static void emit_metadata(yaml_emit *m, const char *name, const char *ns, const char *label_key,
			  const char *label_value)
{
	yaml_emit_string(m, "metadata");
	yaml_emit_mapping_start(m, false);
	yaml_emit_pair(m, "name", name);
	if (ns)
		yaml_emit_pair(m, "namespace", ns);
	yaml_emit_string(m, "labels");
	yaml_emit_mapping_start(m, false);
	yaml_emit_pair(m, "app.kubernetes.io/managed-by", MANAGED_BY);
	if (label_key)
		yaml_emit_pair(m, label_key, label_value);
	yaml_emit_mapping_end(m);
	yaml_emit_mapping_end(m);
}

void gitops_emit_object_start(yaml_emit *m, const char *api_version, const char *kind,
			      const char *name, const char *ns, const char *label_key,
			      const char *label_value)
{
	yaml_emit_document_start(m);
	yaml_emit_mapping_start(m, false);
	yaml_emit_pair(m, "apiVersion", api_version);
	yaml_emit_pair(m, "kind", kind);
	emit_metadata(m, name, ns, label_key, label_value);
}

void gitops_emit_object_end(yaml_emit *m)
{
	yaml_emit_mapping_end(m);
	yaml_emit_document_end(m);
}
