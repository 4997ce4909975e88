/* SPDX-License-Identifier: MIT */
/*
 * The pinned install manifest: from the cache when what the cache holds has the pinned
 * SHA-256, else downloaded and checked against the pin; then made ready to write.
 *
 * Why Argo CD's manifest is rewritten: K3s applies each file with wrangler's apply, which
 * puts a namespaced object that has no metadata.namespace into "default" (wrangler
 * pkg/apply: adjustNamespace with defaultNamespace "default"); it is not `kubectl apply
 * -n argocd`. Argo CD's install.yaml carries no namespaces and expects to live in argocd,
 * so every namespaced object without one gets metadata.namespace: argocd and a Namespace
 * argocd document is put first. Cluster-scoped kinds (the built-in ones, and those the
 * manifest's own CRDs declare with scope Cluster) are left alone. Flux's install.yaml names
 * flux-system on every object and is written byte for byte as pinned.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/dl.h"
#include "basic/fetch.h"
#include "basic/fileio.h"
#include "gitops/gitops-internal.h"

#define FETCH_TIMEOUT_S 300L

void gitops_manifest_done(gitops_manifest *m)
{
	free(m->data);
	m->data = NULL;
}

/* 1 when DATA has the SHA-256 SHA256, 0 when not (*ret_hash: the one it has). */
static int pinned(const char *data, size_t len, const char *sha256, char ret_hash[65],
		  char **ret_err)
{
	int r = sha256_hex(data, len, ret_hash);

	if (r < 0)
		return gitops_fail(ret_err, r, "cannot compute SHA-256 (libcrypto.so.3): %s",
				   strerror(-r));
	return !strcmp(ret_hash, sha256);
}

int gitops_manifest_from_cache(const char *path, const char *sha256, gitops_manifest *m,
			       char **ret_err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = read_full_file_at(AT_FDCWD, path, O_NOFOLLOW | O_NONBLOCK, MANIFEST_MAX, &data,
				  &len, NULL);

	if (r < 0) {
		m->cache_error = r;
		return 0;
	}
	r = pinned(data, len, sha256, m->cache_hash, ret_err);
	if (r <= 0) {
		m->cache_error = -EBADMSG;
		return r;
	}
	m->data = TAKE_PTR(data);
	m->len = len;
	m->cached = true;
	return 1;
}

int gitops_manifest_download(const na_gitops *g, gitops_manifest *m, char **ret_err)
{
	fetch_opts fo = {
	    .max_bytes = MANIFEST_MAX, .timeout_s = FETCH_TIMEOUT_S, .ca_file = g->install_ca_file};
	_cleanup_(fetch_result_done) fetch_result res = {0};
	char hash[65];
	int r;

	r = fetch_url(g->install_url, NULL, 0, &fo, &res);
	if (r < 0)
		return gitops_fail(ret_err, r, "install manifest: %s; nothing written",
				   res.error[0] ? res.error : strerror(-r));
	r = pinned(res.body, res.len, g->install_sha256, hash, ret_err);
	if (r < 0)
		return r;
	if (r == 0)
		return gitops_fail(ret_err, -EBADMSG,
				   "install manifest %s: sha256 mismatch: expected %s, got %s; "
				   "nothing written",
				   g->install_url, g->install_sha256, hash);
	m->data = TAKE_PTR(res.body);
	m->len = res.len;
	m->cached = false;
	return 0;
}

void gitops_manifest_prune_cache(const char *dir, const char *keep)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n != 64 + 5 || strcmp(e->d_name + 64, ".yaml") ||
		    !strncmp(e->d_name, keep, 64) || strspn(e->d_name, "0123456789abcdef") != 64)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* --- namespaces --- */

/* Built-in kinds that are not namespaced (kubectl api-resources --namespaced=false). */
static const char *const cluster_kinds[] = {
    "Namespace",
    "Node",
    "PersistentVolume",
    "ComponentStatus",
    "CustomResourceDefinition",
    "APIService",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "IngressClass",
    "RuntimeClass",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "CertificateSigningRequest",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "TokenReview",
    "SelfSubjectReview",
    "SubjectAccessReview",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "ResourceClass",
    "DeviceClass",
    "StorageVersion",
    "StorageVersionMigration",
    "VolumeAttributesClass",
    "ClusterTrustBundle",
    "IPAddress",
    "ServiceCIDR",
};

typedef struct kinds {
	char **v; /* "group/Kind" of CRDs with scope Cluster */
	size_t n;
} kinds;

static void kinds_free(kinds *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
}

/* Whether API_VERSION ("group/version", or "version" for the core group "") is of GROUP,
 * given as its first N bytes. */
static bool api_group_of(const char *api_version, const char *group, size_t n)
{
	const char *slash = strchr(api_version, '/');

	return (slash ? (size_t)(slash - api_version) : 0) == n && !strncmp(api_version, group, n);
}

static bool cluster_scoped(const kinds *crd, const char *api_version, const char *kind)
{
	const char *slash = strchr(api_version, '/');

	for (size_t i = 0; i < crd->n; i++) {
		const char *s = strchr(crd->v[i], '/');
		if (!strcmp(s + 1, kind) &&
		    api_group_of(api_version, crd->v[i], (size_t)(s - crd->v[i])))
			return true;
	}
	/* a built-in kind only when its API group is a Kubernetes one (core, *.k8s.io) */
	if (slash && !(slash - api_version > 7 && !strncmp(slash - 7, ".k8s.io", 7)))
		return false;
	for (size_t i = 0; i < ELEMENTSOF(cluster_kinds); i++)
		if (!strcmp(kind, cluster_kinds[i]))
			return true;
	return false;
}

static int crd_kinds(gitops_docs *d, kinds *ret)
{
	for (size_t i = 0; i < d->n; i++) {
		yaml_document_t *doc = &d->v[i];
		yaml_node_t *spec = yaml_map_get(doc, yaml_document_get_root_node(doc), "spec");
		const char *group = yaml_scalar(yaml_map_get(doc, spec, "group"));
		const char *scope = yaml_scalar(yaml_map_get(doc, spec, "scope"));
		const char *kind =
		    yaml_scalar(yaml_map_get(doc, yaml_map_get(doc, spec, "names"), "kind"));
		char **nv, *s;

		if (strcmp(gitops_doc_str(doc, "kind"), "CustomResourceDefinition") || !group ||
		    !kind || !scope || strcmp(scope, "Cluster"))
			continue;
		if (asprintf(&s, "%s/%s", group, kind) < 0)
			return -ENOMEM;
		nv = reallocarray(ret->v, ret->n + 1, sizeof(*ret->v));
		if (!nv) {
			free(s);
			return -ENOMEM;
		}
		ret->v = nv;
		ret->v[ret->n++] = s;
	}
	return 0;
}

/* NS added to every namespaced object of D that names no namespace: how many (*ret_added);
 * *ret_have_ns: whether D has the Namespace NS itself. */
static int add_namespace(gitops_docs *d, const char *ns, unsigned *ret_added, bool *ret_have_ns)
{
	_cleanup_(kinds_free) kinds crd = {0};
	unsigned added = 0;
	bool have_ns = false;
	int r = crd_kinds(d, &crd);

	if (r < 0)
		return r;
	for (size_t i = 0; i < d->n; i++) {
		yaml_document_t *doc = &d->v[i];
		yaml_node_t *meta = yaml_map_get(doc, yaml_document_get_root_node(doc), "metadata");
		const char *kind = gitops_doc_str(doc, "kind");
		const char *api = gitops_doc_str(doc, "apiVersion");
		int meta_id, k, v;

		if (!strcmp(kind, "Namespace") && !strcmp(gitops_doc_meta(doc, "name"), ns))
			have_ns = true;
		if (cluster_scoped(&crd, api, kind) || yaml_map_get(doc, meta, "namespace") ||
		    (strlen(kind) > 4 && !strcmp(kind + strlen(kind) - 4, "List")))
			continue;
		meta_id = (int)(meta - doc->nodes.start) + 1; /* nodes move when one is added */
		k = yaml_document_add_scalar(doc, NULL, (yaml_char_t *)"namespace", -1,
					     YAML_PLAIN_SCALAR_STYLE);
		v = yaml_document_add_scalar(doc, NULL, (yaml_char_t *)ns, -1,
					     YAML_PLAIN_SCALAR_STYLE);
		if (!k || !v || !yaml_document_append_mapping_pair(doc, meta_id, k, v))
			return -ENOMEM;
		added++;
	}
	*ret_added = added;
	*ret_have_ns = have_ns;
	return 0;
}

int gitops_manifest_prepare(const char *what, const char *data, size_t len, const char *ns,
			    char **ret, size_t *ret_docs, unsigned *ret_added, char **ret_err)
{
	_cleanup_(gitops_docs_free) gitops_docs d = {0};
	_cleanup_yaml_emit_ yaml_emit m = {0};
	unsigned added = 0;
	bool have_ns = false;
	int r;

	r = gitops_docs_load(what, data, len, &d, ret_err);
	if (r < 0)
		return r;
	*ret = NULL;
	*ret_docs = d.n;
	*ret_added = 0;
	if (!ns)
		return 0;
	r = add_namespace(&d, ns, &added, &have_ns);
	if (r < 0)
		return r;
	if (added == 0 && have_ns)
		return 0;
	r = gitops_render_open(&m);
	if (r < 0)
		return r;
	if (!have_ns) {
		gitops_emit_object_start(&m, "v1", "Namespace", ns, NULL, NULL, NULL);
		gitops_emit_object_end(&m);
	}
	for (size_t i = 0; i < d.n; i++) {
		d.v[i].start_implicit = 0;
		yaml_emit_yaml_document(&m, &d.v[i]); /* deletes the document */
	}
	r = yaml_emit_close_string(&m, ret);
	if (r < 0)
		return gitops_fail(ret_err, r, "%s: cannot be written out again as YAML", what);
	*ret_docs = d.n + !have_ns;
	*ret_added = added;
	return 0;
}
