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

const char *gitops_doc_str(yaml_document_t *d, const char *key)
{
	return yaml_scalar(yaml_map_get(d, yaml_document_get_root_node(d), key));
}

const char *gitops_doc_meta(yaml_document_t *d, const char *key)
{
	yaml_node_t *root = yaml_document_get_root_node(d);

	return yaml_scalar(yaml_map_get(d, yaml_map_get(d, root, "metadata"), key));
}

void gitops_docs_free(gitops_docs *d)
{
	for (size_t i = 0; i < d->n; i++)
		yaml_document_delete(&d->v[i]);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/* The next document of L that is not empty into *DOC (its root in *ROOT); *ROOT NULL at
 * the end of the stream. */
static int load_next(yaml_loader *l, const char *what, yaml_document_t *doc, yaml_node_t **root,
		     char **ret_err)
{
	for (;;) {
		yaml_problem at;
		int r = yaml_loader_next(l, doc, &at);

		if (r == -EBADMSG)
			return gitops_fail(
			    ret_err, r, "%s: invalid YAML at line %zu column %zu: %s%s%s", what,
			    at.line, at.column, at.problem, *at.context ? " " : "", at.context);
		if (r <= 0) {
			*root = NULL;
			return r;
		}
		*root = yaml_document_get_root_node(doc);
		if (!yaml_document_is_empty(doc))
			return 0;
		yaml_document_delete(doc);
	}
}

int gitops_docs_load(const char *what, const char *data, size_t len, gitops_docs *ret,
		     char **ret_err)
{
	_cleanup_yaml_loader_ yaml_loader l = {0};
	_cleanup_(gitops_docs_free) gitops_docs d = {0};

	if (memchr(data, '\0', len))
		return gitops_fail(ret_err, -EBADMSG, "%s: not YAML (contains a NUL byte)", what);
	if (yaml_loader_open(&l, data, len) < 0)
		return -ENOMEM;
	for (;;) {
		_cleanup_yaml_document_ yaml_document_t doc = {0};
		yaml_node_t *root = NULL, *meta;
		yaml_document_t *nv;
		int r = load_next(&l, what, &doc, &root, ret_err);

		if (r < 0)
			return r;
		if (!root)
			break;
		if (!yaml_document_bounded(&doc, MAX_DEPTH, MAX_EXPANDED))
			return gitops_fail(
			    ret_err, -EBADMSG,
			    "%s: the document at line %zu nests deeper than %d levels, "
			    "refers to itself, or expands its aliases to more than %d "
			    "values",
			    what, root->start_mark.line + 1, MAX_DEPTH, MAX_EXPANDED);
		meta = yaml_map_get(&doc, root, "metadata");
		if (root->type != YAML_MAPPING_NODE || !gitops_doc_str(&doc, "apiVersion") ||
		    !gitops_doc_str(&doc, "kind") || !yaml_scalar(yaml_map_get(&doc, meta, "name")))
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
