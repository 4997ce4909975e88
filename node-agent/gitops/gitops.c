/* SPDX-License-Identifier: MIT */
/*
 * The GitOps stage: a pinned Flux or Argo CD install manifest plus the objects that point
 * it at the cluster's repository, written where K3s's deploy controller applies them.
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
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "apply/apply.h"
#include "basic/dl.h"
#include "basic/fetch.h"
#include "basic/yaml-emit.h"
#include "gitops/gitops.h"

#define MANIFEST_MAX (16u * 1024 * 1024) /* Argo CD's install.yaml is ~2 MB */
#define RENDERED_MAX (64u * 1024 * 1024)
#define CREDENTIALS_MAX (64u * 1024)
#define MAX_DOCS 20000
#define MAX_DEPTH 200 /* nesting; libyaml's emitter recurses. Argo CD's CRDs reach ~20 */
#define MAX_EXPANDED 1000000 /* values in one document with every alias expanded */
#define FETCH_TIMEOUT_S 300L

#define FILE_INSTALL "node-agent-gitops-install.yaml"
#define FILE_SECRET "node-agent-gitops-secret.yaml"
#define FILE_SOURCE "node-agent-gitops-source.yaml"
#define MANAGED_BY "node-agent"

/* --- context: the first error, said once --- */

typedef struct ctx {
	FILE *log;
	char *error;
} ctx;

__attribute__((format(printf, 3, 4))) static int fail(ctx *x, int r, const char *fmt, ...)
{
	va_list ap;

	if (!x->error) {
		va_start(ap, fmt);
		if (vasprintf(&x->error, fmt, ap) < 0)
			x->error = NULL;
		va_end(ap);
	}
	return r;
}

__attribute__((format(printf, 2, 3))) static void say(ctx *x, const char *fmt, ...)
{
	va_list ap;

	if (!x->log)
		return;
	fputs("gitops: ", x->log);
	va_start(ap, fmt);
	vfprintf(x->log, fmt, ap);
	va_end(ap);
	fputc('\n', x->log);
}

/* --- growing buffers, capped --- */

typedef struct buf {
	char *data;
	size_t len, cap, max;
} buf;

static bool buf_add(buf *b, const void *p, size_t n)
{
	if (n > b->max - b->len)
		return false;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *nd;
		while (cap < b->len + n + 1)
			cap *= 2;
		nd = realloc(b->data, cap);
		if (!nd)
			return false;
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

/* --- hashing, reading --- */

/* A regular file of at most MAX bytes; -EFBIG when larger. */
static int read_file_max(const char *path, size_t max, bool nofollow, char **ret, size_t *ret_len,
			 unsigned *ret_mode)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0);
	int fd = open(path, flags);
	struct stat st;
	buf b = { .max = max };
	char chunk[65536];
	ssize_t k;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	for (;;) {
		k = read(fd, chunk, sizeof(chunk));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (k == 0)
			break;
		if (!buf_add(&b, chunk, (size_t)k)) {
			r = b.len + (size_t)k > max ? -EFBIG : -ENOMEM;
			break;
		}
	}
	if (r == 0 && !b.data && !(b.data = strdup("")))
		r = -ENOMEM;
out:
	close(fd);
	if (r < 0) {
		free(b.data);
		return r;
	}
	*ret = b.data;
	if (ret_len)
		*ret_len = b.len;
	if (ret_mode)
		*ret_mode = st.st_mode & 07777;
	return 0;
}

static char *path_join(const char *target, const char *path)
{
	size_t n = strlen(target);
	char *s;

	while (n > 0 && target[n - 1] == '/')
		n--;
	if (asprintf(&s, "%.*s%s", (int)n, target, path) < 0)
		return NULL;
	return s;
}

/* --- libyaml documents --- */

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
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

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
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
	shape *memo;
	bool ok;

	if (n == 0)
		return true;
	memo = calloc(n, sizeof(*memo));
	if (!memo)
		return false;
	ok = node_shape(d, 1, memo, 1) && memo[0].height <= MAX_DEPTH &&
	     memo[0].size < MAX_EXPANDED;
	free(memo);
	return ok;
}

typedef struct docs {
	yaml_document_t *v;
	size_t n;
} docs;

static void docs_free(docs *d)
{
	for (size_t i = 0; i < d->n; i++)
		yaml_document_delete(&d->v[i]);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/*
 * Every document of DATA; empty ones are dropped. Each must be a mapping with string
 * apiVersion and kind and a metadata mapping with a name: what K3s turns into an object.
 * Problems are reported with WHAT, line and column.
 */
static int docs_load(ctx *x, const char *what, const char *data, size_t len, docs *ret)
{
	yaml_parser_t p;
	docs d = { 0 };
	int r = 0;

	if (memchr(data, '\0', len))
		return fail(x, -EBADMSG, "%s: not YAML (contains a NUL byte)", what);
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	for (;;) {
		yaml_document_t doc;
		yaml_node_t *root, *meta;
		yaml_document_t *nv;

		if (!yaml_parser_load(&p, &doc)) {
			r = fail(x, -EBADMSG, "%s: invalid YAML at line %zu column %zu: %s%s%s", what,
				 p.problem_mark.line + 1, p.problem_mark.column + 1,
				 p.problem ? p.problem : "syntax error", p.context ? " " : "",
				 p.context ? p.context : "");
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root) { /* end of the stream */
			yaml_document_delete(&doc);
			break;
		}
		if (doc_empty(&doc)) {
			yaml_document_delete(&doc);
			continue;
		}
		if (!shape_ok(&doc)) {
			r = fail(x, -EBADMSG,
				 "%s: the document at line %zu nests deeper than %d levels, refers to "
				 "itself, or expands its aliases to more than %d values",
				 what, root->start_mark.line + 1, MAX_DEPTH, MAX_EXPANDED);
			yaml_document_delete(&doc);
			break;
		}
		meta = map_get(&doc, root, "metadata");
		if (root->type != YAML_MAPPING_NODE || !scalar(map_get(&doc, root, "apiVersion")) ||
		    !scalar(map_get(&doc, root, "kind")) || !scalar(map_get(&doc, meta, "name"))) {
			r = fail(x, -EBADMSG,
				 "%s: the document at line %zu is not a Kubernetes object (apiVersion, "
				 "kind and metadata.name are required)",
				 what, root->start_mark.line + 1);
			yaml_document_delete(&doc);
			break;
		}
		if (d.n >= MAX_DOCS) {
			r = fail(x, -E2BIG, "%s: more than %d documents", what, MAX_DOCS);
			yaml_document_delete(&doc);
			break;
		}
		nv = reallocarray(d.v, d.n + 1, sizeof(*d.v));
		if (!nv) {
			yaml_document_delete(&doc);
			r = -ENOMEM;
			break;
		}
		d.v = nv;
		d.v[d.n++] = doc;
	}
	yaml_parser_delete(&p);
	if (r == 0 && d.n == 0)
		r = fail(x, -EBADMSG, "%s: no Kubernetes objects in it", what);
	if (r < 0) {
		docs_free(&d);
		return r;
	}
	*ret = d;
	return 0;
}

static const char *doc_str(yaml_document_t *d, const char *key)
{
	return scalar(map_get(d, yaml_document_get_root_node(d), key));
}

static const char *doc_meta(yaml_document_t *d, const char *key)
{
	yaml_node_t *root = yaml_document_get_root_node(d);
	return scalar(map_get(d, map_get(d, root, "metadata"), key));
}

/* --- emitting --- */

static int em_init(yaml_emit *m)
{
	return yaml_emit_open_string(m, RENDERED_MAX, -1); /* never fold long values */
}

static void em_metadata(yaml_emit *m, const char *name, const char *ns, const char *label_key,
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

static void em_namespace_doc(yaml_emit *m, const char *ns)
{
	yaml_emit_document_start(m);
	yaml_emit_mapping_start(m, false);
	yaml_emit_pair(m, "apiVersion", "v1");
	yaml_emit_pair(m, "kind", "Namespace");
	em_metadata(m, ns, NULL, NULL, NULL);
	yaml_emit_mapping_end(m);
	yaml_emit_document_end(m);
}

/* --- the install manifest --- */

/* Built-in kinds that are not namespaced (kubectl api-resources --namespaced=false). */
static const char *const cluster_kinds[] = {
	"Namespace", "Node", "PersistentVolume", "ComponentStatus", "CustomResourceDefinition",
	"APIService", "ClusterRole", "ClusterRoleBinding", "PriorityClass", "StorageClass",
	"CSIDriver", "CSINode", "VolumeAttachment", "IngressClass", "RuntimeClass",
	"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
	"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
	"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "CertificateSigningRequest",
	"FlowSchema", "PriorityLevelConfiguration", "TokenReview", "SelfSubjectReview",
	"SubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview",
	"ResourceClass", "DeviceClass", "StorageVersion", "StorageVersionMigration",
	"VolumeAttributesClass", "ClusterTrustBundle", "IPAddress", "ServiceCIDR",
};

typedef struct kinds {
	char **v; /* "group/Kind" of CRDs with scope Cluster */
	size_t n;
} kinds;

static bool api_group_of(const char *api_version, const char *group)
{
	const char *slash = strchr(api_version, '/');
	size_t n = slash ? (size_t)(slash - api_version) : 0;

	return strlen(group) == n && !strncmp(api_version, group, n);
}

static bool cluster_scoped(const kinds *crd, const char *api_version, const char *kind)
{
	for (size_t i = 0; i < crd->n; i++) {
		const char *slash = strchr(crd->v[i], '/');
		char *group = strndup(crd->v[i], (size_t)(slash - crd->v[i]));
		bool same = group && !strcmp(slash + 1, kind) && api_group_of(api_version, group);
		free(group);
		if (same)
			return true;
	}
	/* a built-in kind only when its API group is a Kubernetes one (core, *.k8s.io) */
	if (strchr(api_version, '/')) {
		const char *slash = strchr(api_version, '/');
		size_t n = (size_t)(slash - api_version);
		if (!(n > 7 && !strncmp(slash - 7, ".k8s.io", 7)))
			return false;
	}
	for (size_t i = 0; i < sizeof(cluster_kinds) / sizeof(cluster_kinds[0]); i++)
		if (!strcmp(kind, cluster_kinds[i]))
			return true;
	return false;
}

static void kinds_free(kinds *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
}

static int crd_kinds(docs *d, kinds *ret)
{
	for (size_t i = 0; i < d->n; i++) {
		yaml_document_t *doc = &d->v[i];
		yaml_node_t *spec = map_get(doc, yaml_document_get_root_node(doc), "spec");
		const char *group = scalar(map_get(doc, spec, "group"));
		const char *scope = scalar(map_get(doc, spec, "scope"));
		const char *kind = scalar(map_get(doc, map_get(doc, spec, "names"), "kind"));
		char **nv, *s;

		if (strcmp(doc_str(doc, "kind"), "CustomResourceDefinition") || !group || !kind ||
		    !scope || strcmp(scope, "Cluster"))
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

/*
 * The install manifest as it will be written. Without a default namespace to add, or
 * when nothing lacks one, it is DATA unchanged (*ret NULL). Otherwise namespaced objects
 * without metadata.namespace get NS, a Namespace NS comes first unless the manifest has
 * one, and the whole stream is emitted again by libyaml (*ret). *ret_docs: objects.
 */
static int install_prepare(ctx *x, const char *what, const char *data, size_t len, const char *ns,
			   char **ret, size_t *ret_docs, unsigned *ret_added)
{
	docs d = { 0 };
	kinds crd = { 0 };
	bool have_ns = false;
	unsigned added = 0;
	yaml_emit m;
	int r;

	r = docs_load(x, what, data, len, &d);
	if (r < 0)
		return r;
	*ret = NULL;
	*ret_docs = d.n;
	*ret_added = 0;
	if (!ns)
		goto out;
	r = crd_kinds(&d, &crd);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < d.n; i++) {
		yaml_document_t *doc = &d.v[i];
		yaml_node_t *root = yaml_document_get_root_node(doc);
		yaml_node_t *meta = map_get(doc, root, "metadata");
		const char *kind = doc_str(doc, "kind"), *api = doc_str(doc, "apiVersion");
		int meta_id, k, v;

		if (!strcmp(kind, "Namespace") && !strcmp(doc_meta(doc, "name"), ns))
			have_ns = true;
		if (cluster_scoped(&crd, api, kind) || map_get(doc, meta, "namespace") ||
		    (strlen(kind) > 4 && !strcmp(kind + strlen(kind) - 4, "List")))
			continue;
		meta_id = (int)(meta - doc->nodes.start) + 1; /* nodes move when one is added */
		k = yaml_document_add_scalar(doc, NULL, (yaml_char_t *)"namespace", -1,
					     YAML_PLAIN_SCALAR_STYLE);
		v = yaml_document_add_scalar(doc, NULL, (yaml_char_t *)ns, -1,
					     YAML_PLAIN_SCALAR_STYLE);
		if (!k || !v || !yaml_document_append_mapping_pair(doc, meta_id, k, v)) {
			r = -ENOMEM;
			goto out;
		}
		added++;
	}
	if (added == 0 && have_ns)
		goto out;
	r = em_init(&m);
	if (r < 0)
		goto out;
	if (!have_ns)
		em_namespace_doc(&m, ns);
	for (size_t i = 0; i < d.n; i++) {
		d.v[i].start_implicit = 0;
		yaml_emit_yaml_document(&m, &d.v[i]); /* deletes the document */
	}
	r = yaml_emit_close_string(&m, ret);
	if (r < 0) {
		fail(x, r, "%s: cannot be written out again as YAML", what);
		goto out;
	}
	*ret_docs = d.n + !have_ns;
	*ret_added = added;
out:
	kinds_free(&crd);
	docs_free(&d);
	return r;
}

/* --- credentials --- */

typedef struct creds {
	char *username, *password, *bearer_token;
	char *identity, *identity_pub, *known_hosts;
} creds;

static void secret_free(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

static void creds_done(creds *c)
{
	secret_free(&c->username);
	secret_free(&c->password);
	secret_free(&c->bearer_token);
	secret_free(&c->identity);
	secret_free(&c->identity_pub);
	secret_free(&c->known_hosts);
}

/*
 * The credentials file: one YAML mapping of strings, Flux's key names.
 *   https: username + password, or bearerToken (Flux only)
 *   ssh:   identity (the private key, PEM/OpenSSH), optional identity.pub, known_hosts
 * Messages name keys and positions, never values.
 */
static int creds_parse(ctx *x, const char *path, const char *data, size_t len, creds *ret)
{
	static const char *const keys[] = { "username", "password",	"bearerToken",
					    "identity", "identity.pub", "known_hosts" };
	creds c = { 0 };
	char **slots[] = { &c.username, &c.password,	 &c.bearer_token,
			   &c.identity, &c.identity_pub, &c.known_hosts };
	yaml_parser_t p;
	yaml_document_t d;
	yaml_node_t *root;
	int r = 0;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &d)) {
		r = fail(x, -EINVAL, "gitops.credentials_file %s:%zu:%zu: invalid YAML: %s", path,
			 p.problem_mark.line + 1, p.problem_mark.column + 1,
			 p.problem ? p.problem : "syntax error");
		yaml_parser_delete(&p);
		return r;
	}
	yaml_parser_delete(&p);
	root = yaml_document_get_root_node(&d);
	if (!root || root->type != YAML_MAPPING_NODE) {
		r = fail(x, -EINVAL,
			 "gitops.credentials_file %s: expected a mapping (username/password, "
			 "bearerToken, or identity/known_hosts)",
			 path);
		goto out;
	}
	for (yaml_node_pair_t *a = root->data.mapping.pairs.start;
	     a < root->data.mapping.pairs.top && r == 0; a++) {
		yaml_node_t *k = yaml_document_get_node(&d, a->key);
		yaml_node_t *v = yaml_document_get_node(&d, a->value);
		const char *key = scalar(k);
		size_t i;

		for (i = 0; key && i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(key, keys[i]))
				break;
		if (!key || i == sizeof(keys) / sizeof(keys[0]))
			r = fail(x, -EINVAL,
				 "gitops.credentials_file %s:%zu:%zu: unknown key (expected username, "
				 "password, bearerToken, identity, identity.pub, known_hosts)",
				 path, k->start_mark.line + 1, k->start_mark.column + 1);
		else if (*slots[i])
			r = fail(x, -EINVAL, "gitops.credentials_file %s:%zu:%zu: duplicate key %s",
				 path, k->start_mark.line + 1, k->start_mark.column + 1, keys[i]);
		else if (!scalar(v) || !v->data.scalar.length ||
			 strlen(scalar(v)) != v->data.scalar.length)
			r = fail(x, -EINVAL,
				 "gitops.credentials_file %s:%zu:%zu: %s must be a non-empty string",
				 path, v->start_mark.line + 1, v->start_mark.column + 1, keys[i]);
		else if (!(*slots[i] = strdup(scalar(v))))
			r = -ENOMEM;
	}
out:
	/* the parsed copy holds the secrets too */
	for (yaml_node_t *n = d.nodes.start; n && n < d.nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE)
			explicit_bzero(n->data.scalar.value, n->data.scalar.length);
	yaml_document_delete(&d);
	if (r < 0) {
		creds_done(&c);
		return r;
	}
	*ret = c;
	return 0;
}

static int creds_load(ctx *x, const char *path, creds *ret)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	r = read_file_max(path, CREDENTIALS_MAX, false, &data, &len, NULL);
	if (r == -EINVAL)
		return fail(x, r, "gitops.credentials_file %s: not a regular file", path);
	if (r == -EFBIG)
		return fail(x, r, "gitops.credentials_file %s: larger than %u bytes", path,
			    CREDENTIALS_MAX);
	if (r < 0)
		return fail(x, r, "gitops.credentials_file %s: cannot read it: %s", path,
			    strerror(-r));
	r = creds_parse(x, path, data, len, ret);
	explicit_bzero(data, len);
	free(data);
	return r;
}

static int creds_check(ctx *x, const na_gitops *g, const creds *c)
{
	const char *f = g->credentials_file;
	bool argo = !strcmp(g->engine, "argocd");

	if (!strncmp(g->repository, "ssh://", 6)) {
		if (c->username || c->password || c->bearer_token)
			return fail(x, -EINVAL,
				    "gitops.credentials_file %s: an ssh:// repository takes identity "
				    "and known_hosts, not username, password or bearerToken",
				    f);
		if (!c->identity)
			return fail(x, -EINVAL,
				    "gitops.credentials_file %s: an ssh:// repository needs identity "
				    "(the private key)",
				    f);
		if (!argo && !c->known_hosts)
			return fail(x, -EINVAL,
				    "gitops.credentials_file %s: Flux needs known_hosts for an ssh:// "
				    "repository (ssh-keyscan HOST)",
				    f);
		if (argo && (c->known_hosts || c->identity_pub))
			say(x, "warning: %s: known_hosts and identity.pub are not used by Argo CD "
			       "(it checks host keys against the argocd-ssh-known-hosts-cm ConfigMap)",
			    f);
		return 0;
	}
	if (c->identity || c->identity_pub || c->known_hosts)
		return fail(x, -EINVAL,
			    "gitops.credentials_file %s: an https:// repository takes username and "
			    "password (or bearerToken), not identity or known_hosts",
			    f);
	if (c->bearer_token && argo)
		return fail(x, -EINVAL,
			    "gitops.credentials_file %s: bearerToken is for Flux; Argo CD takes "
			    "username and password (a token as the password)",
			    f);
	if (c->bearer_token && (c->username || c->password))
		return fail(x, -EINVAL,
			    "gitops.credentials_file %s: give bearerToken or username and password, "
			    "not both",
			    f);
	if (!c->bearer_token && (!c->username || !c->password))
		return fail(x, -EINVAL,
			    "gitops.credentials_file %s: an https:// repository needs username and "
			    "password%s",
			    f, argo ? "" : " (or bearerToken)");
	return 0;
}

static char *base64(const char *s)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	const unsigned char *u = (const unsigned char *)s;
	char *r = malloc((n + 2) / 3 * 4 + 1);

	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)u[i] << 16 | (i + 1 < n ? (unsigned)u[i + 1] << 8 : 0) |
			     (i + 2 < n ? u[i + 2] : 0);
		r[o++] = tab[v >> 18 & 63];
		r[o++] = tab[v >> 12 & 63];
		r[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		r[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	r[o] = '\0';
	return r;
}

static void em_secret_kv(yaml_emit *m, const char *k, const char *v)
{
	char *b;

	if (!v)
		return;
	b = base64(v);
	if (!b) {
		yaml_emit_fail(m, -ENOMEM);
		return;
	}
	yaml_emit_pair(m, k, b);
	secret_free(&b);
}

/* Flux: Secret flux-system (the name `flux bootstrap` uses); Argo CD: a repository Secret. */
static int render_secret(const na_gitops *g, const creds *c, char **ret)
{
	bool argo = !strcmp(g->engine, "argocd");
	yaml_emit m;
	int r = em_init(&m);

	if (r < 0)
		return r;
	yaml_emit_document_start(&m);
	yaml_emit_mapping_start(&m, false);
	yaml_emit_pair(&m, "apiVersion", "v1");
	yaml_emit_pair(&m, "kind", "Secret");
	if (argo)
		em_metadata(&m, "node-agent-gitops-repo", "argocd", "argocd.argoproj.io/secret-type",
			    "repository");
	else
		em_metadata(&m, "flux-system", "flux-system", NULL, NULL);
	yaml_emit_pair(&m, "type", "Opaque");
	yaml_emit_string(&m, "data");
	yaml_emit_mapping_start(&m, false);
	if (argo) {
		em_secret_kv(&m, "type", "git");
		em_secret_kv(&m, "url", g->repository);
		em_secret_kv(&m, "username", c->username);
		em_secret_kv(&m, "password", c->password);
		em_secret_kv(&m, "sshPrivateKey", c->identity);
	} else {
		em_secret_kv(&m, "username", c->username);
		em_secret_kv(&m, "password", c->password);
		em_secret_kv(&m, "bearerToken", c->bearer_token);
		em_secret_kv(&m, "identity", c->identity);
		em_secret_kv(&m, "identity.pub", c->identity_pub);
		em_secret_kv(&m, "known_hosts", c->known_hosts);
	}
	yaml_emit_mapping_end(&m);
	yaml_emit_mapping_end(&m);
	yaml_emit_document_end(&m);
	return yaml_emit_close_string(&m, ret);
}

/* --- source objects --- */

static const char *branch_or_default(const na_gitops *g)
{
	return g->branch ? g->branch : "main";
}

static int render_source(const na_gitops *g, bool secret, char **ret)
{
	yaml_emit m;
	int r = em_init(&m);

	if (r < 0)
		return r;
	if (!strcmp(g->engine, "flux")) {
		char *path = NULL;
		const char *p = g->path ? g->path : "";

		while (!strncmp(p, "./", 2))
			p += 2;
		if (!strcmp(p, "."))
			p = "";
		if (asprintf(&path, "./%s", p) < 0) {
			yaml_emit_done(&m);
			return -ENOMEM;
		}
		yaml_emit_document_start(&m);
		yaml_emit_mapping_start(&m, false);
		yaml_emit_pair(&m, "apiVersion", "source.toolkit.fluxcd.io/v1");
		yaml_emit_pair(&m, "kind", "GitRepository");
		em_metadata(&m, "flux-system", "flux-system", NULL, NULL);
		yaml_emit_string(&m, "spec");
		yaml_emit_mapping_start(&m, false);
		yaml_emit_pair(&m, "interval", g->interval ? g->interval : "1m");
		yaml_emit_pair(&m, "url", g->repository);
		yaml_emit_string(&m, "ref");
		yaml_emit_mapping_start(&m, false);
		if (g->tag)
			yaml_emit_pair(&m, "tag", g->tag);
		else
			yaml_emit_pair(&m, "branch", branch_or_default(g));
		yaml_emit_mapping_end(&m);
		if (secret) {
			yaml_emit_string(&m, "secretRef");
			yaml_emit_mapping_start(&m, false);
			yaml_emit_pair(&m, "name", "flux-system");
			yaml_emit_mapping_end(&m);
		}
		yaml_emit_mapping_end(&m);
		yaml_emit_mapping_end(&m);
		yaml_emit_document_end(&m);

		yaml_emit_document_start(&m);
		yaml_emit_mapping_start(&m, false);
		yaml_emit_pair(&m, "apiVersion", "kustomize.toolkit.fluxcd.io/v1");
		yaml_emit_pair(&m, "kind", "Kustomization");
		em_metadata(&m, "flux-system", "flux-system", NULL, NULL);
		yaml_emit_string(&m, "spec");
		yaml_emit_mapping_start(&m, false);
		yaml_emit_pair(&m, "interval", g->interval ? g->interval : "10m");
		yaml_emit_pair(&m, "path", path);
		yaml_emit_string(&m, "prune");
		yaml_emit_plain(&m, "true");
		yaml_emit_string(&m, "sourceRef");
		yaml_emit_mapping_start(&m, false);
		yaml_emit_pair(&m, "kind", "GitRepository");
		yaml_emit_pair(&m, "name", "flux-system");
		yaml_emit_mapping_end(&m);
		yaml_emit_mapping_end(&m);
		yaml_emit_mapping_end(&m);
		yaml_emit_document_end(&m);
		free(path);
	} else {
		yaml_emit_document_start(&m);
		yaml_emit_mapping_start(&m, false);
		yaml_emit_pair(&m, "apiVersion", "argoproj.io/v1alpha1");
		yaml_emit_pair(&m, "kind", "Application");
		em_metadata(&m, "root", "argocd", NULL, NULL);
		yaml_emit_string(&m, "spec");
		yaml_emit_mapping_start(&m, false);
		yaml_emit_pair(&m, "project", "default");
		yaml_emit_string(&m, "source");
		yaml_emit_mapping_start(&m, false);
		yaml_emit_pair(&m, "repoURL", g->repository);
		yaml_emit_pair(&m, "targetRevision", g->tag ? g->tag : branch_or_default(g));
		yaml_emit_pair(&m, "path", g->path ? g->path : ".");
		yaml_emit_mapping_end(&m);
		yaml_emit_string(&m, "destination");
		yaml_emit_mapping_start(&m, false);
		yaml_emit_pair(&m, "server", "https://kubernetes.default.svc");
		yaml_emit_pair(&m, "namespace", "argocd");
		yaml_emit_mapping_end(&m);
		yaml_emit_string(&m, "syncPolicy");
		yaml_emit_mapping_start(&m, false);
		yaml_emit_string(&m, "automated");
		yaml_emit_mapping_start(&m, false);
		yaml_emit_string(&m, "prune");
		yaml_emit_plain(&m, "true");
		yaml_emit_string(&m, "selfHeal");
		yaml_emit_plain(&m, "true");
		yaml_emit_mapping_end(&m);
		yaml_emit_mapping_end(&m);
		yaml_emit_mapping_end(&m);
		yaml_emit_mapping_end(&m);
		yaml_emit_document_end(&m);
	}
	return yaml_emit_close_string(&m, ret);
}

/* --- checking what is about to be written --- */

/* Parse CONTENT back: N_EXPECT objects, whose "apiVersion kind" are EXPECT's (not
 * compared when EXPECT is NULL). */
static int check_written(ctx *x, const char *name, const char *content, size_t n_expect,
			 const char *const *expect)
{
	docs d = { 0 };
	int r = docs_load(x, name, content, strlen(content), &d);

	if (r < 0)
		return fail(x, r, "%s: the rendered file does not parse back", name);
	if (d.n != n_expect)
		r = fail(x, -EPROTO, "%s: %zu objects rendered, %zu expected", name, d.n, n_expect);
	for (size_t i = 0; r == 0 && expect && i < d.n; i++) {
		char *got = NULL;
		if (asprintf(&got, "%s %s", doc_str(&d.v[i], "apiVersion"), doc_str(&d.v[i], "kind")) <
		    0) {
			r = -ENOMEM;
			break;
		}
		if (strcmp(got, expect[i]))
			r = fail(x, -EPROTO, "%s: object %zu is %s, expected %s", name, i + 1, got,
				 expect[i]);
		free(got);
	}
	docs_free(&d);
	return r;
}

/* --- writing --- */

typedef struct out_file {
	const char *name;
	char *content;
	unsigned mode;
} out_file;

typedef struct tally {
	unsigned written, unchanged;
} tally;

static int put_file(ctx *x, const char *path, const char *content, unsigned mode, bool dry_run,
		    tally *t)
{
	char *old = NULL;
	unsigned old_mode = 0;
	int r = read_file_max(path, RENDERED_MAX, true, &old, NULL, &old_mode);
	bool same = r == 0 && old_mode == mode && !strcmp(old, content);

	free(old);
	if (same) {
		t->unchanged++;
		say(x, "unchanged %s", path);
		return 0;
	}
	if (dry_run) {
		t->written++;
		say(x, "would write %s (%zu bytes, mode %04o)", path, strlen(content), mode);
		return 0;
	}
	r = write_atomic(path, content, mode);
	if (r < 0)
		return fail(x, r, "cannot write %s: %s", path, strerror(-r));
	t->written++;
	say(x, "wrote %s (%zu bytes)", path, strlen(content));
	return 0;
}

/* Only the pinned manifest stays in the cache. */
static void prune_cache(const char *dir, const char *keep)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n != 64 + 5 || strcmp(e->d_name + 64, ".yaml") || !strncmp(e->d_name, keep, 64) ||
		    strspn(e->d_name, "0123456789abcdef") != 64)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* --- the stage --- */

static int get_manifest(ctx *x, const na_gitops *g, const char *cache_path, char **ret,
			size_t *ret_len, bool *ret_cached)
{
	char hash[65];
	char *data = NULL;
	size_t len = 0;
	fetch_opts fo = { .max_bytes = MANIFEST_MAX, .timeout_s = FETCH_TIMEOUT_S,
			  .ca_file = g->install_ca_file };
	fetch_result res;
	int r;

	r = read_file_max(cache_path, MANIFEST_MAX, true, &data, &len, NULL);
	if (r == 0) {
		r = sha256_hex(data, len, hash);
		if (r < 0) {
			free(data);
			return fail(x, r, "cannot compute SHA-256 (libcrypto.so.3): %s",
				    strerror(-r));
		}
		if (!strcmp(hash, g->install_sha256)) {
			*ret = data;
			*ret_len = len;
			*ret_cached = true;
			say(x, "install manifest from the cache %s (sha256 %s)", cache_path, hash);
			return 0;
		}
		say(x, "warning: cached %s has sha256 %s, not its name: downloading again",
		    cache_path, hash);
		free(data);
	} else if (r != -ENOENT) {
		say(x, "warning: cannot read the cached %s: %s; downloading", cache_path,
		    strerror(-r));
	}

	say(x, "downloading %s", g->install_url);
	r = fetch_url(g->install_url, NULL, 0, &fo, &res);
	if (r < 0) {
		r = fail(x, r, "install manifest: %s; nothing written",
			 res.error[0] ? res.error : strerror(-r));
		fetch_result_done(&res);
		return r;
	}
	r = sha256_hex(res.body, res.len, hash);
	if (r < 0) {
		fetch_result_done(&res);
		return fail(x, r, "cannot compute SHA-256 (libcrypto.so.3): %s", strerror(-r));
	}
	if (strcmp(hash, g->install_sha256)) {
		fetch_result_done(&res);
		return fail(x, -EBADMSG,
			    "install manifest %s: sha256 mismatch: expected %s, got %s; nothing "
			    "written",
			    g->install_url, g->install_sha256, hash);
	}
	*ret = res.body;
	*ret_len = res.len;
	*ret_cached = false;
	return 0;
}

int gitops_run(const na_config *cfg, const char *target, const gitops_opts *opts, FILE *log,
	       char **ret_summary)
{
	static const char *const flux_kinds[] = { "source.toolkit.fluxcd.io/v1 GitRepository",
						  "kustomize.toolkit.fluxcd.io/v1 Kustomization" };
	static const char *const argo_kinds[] = { "argoproj.io/v1alpha1 Application" };
	static const char *const secret_kinds[] = { "v1 Secret" };
	const na_gitops *g = &cfg->gitops;
	gitops_opts dflt = { 0 };
	ctx x = { .log = log };
	char *cache_dir = NULL, *cache_path = NULL, *manifest = NULL, *rewritten = NULL;
	char *dir = NULL, *summary = NULL, *what = NULL;
	out_file files[3] = { { 0 } };
	size_t len = 0, n_docs = 0, n_files = 0;
	unsigned added = 0;
	bool cached = false, argo;
	creds c = { 0 };
	tally t = { 0 };
	int r;

	if (!opts)
		opts = &dflt;
	if (!g->present) {
		if (ret_summary)
			*ret_summary = strdup("no gitops section in the config");
		return 1;
	}
	if (!g->engine || !g->install_url || !g->install_sha256 || !g->repository) {
		r = fail(&x, -EINVAL, "gitops: engine, install_url, install_sha256 and repository "
				      "are required");
		goto out;
	}
	argo = !strcmp(g->engine, "argocd");
	if (!(cache_dir = path_join(target, GITOPS_CACHE_DIR)) ||
	    asprintf(&cache_path, "%s/%s.yaml", cache_dir, g->install_sha256) < 0 ||
	    !(dir = path_join(target, GITOPS_MANIFESTS_DIR))) {
		cache_path = NULL;
		r = -ENOMEM;
		goto out;
	}

	/* 1. the pinned manifest, checked */
	r = get_manifest(&x, g, cache_path, &manifest, &len, &cached);
	if (r < 0)
		goto out;
	if (asprintf(&what, "install manifest %s", g->install_url) < 0) {
		what = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = install_prepare(&x, what, manifest, len, argo ? "argocd" : NULL, &rewritten, &n_docs,
			    &added);
	if (r < 0) {
		char *e = NULL;
		if (x.error && asprintf(&e, "%s; nothing written", x.error) >= 0) {
			free(x.error);
			x.error = e;
		}
		goto out;
	}
	if (rewritten)
		say(&x, "install manifest: metadata.namespace argocd added to %u objects", added);

	/* 2. everything rendered and parsed back before anything is written */
	files[n_files].name = FILE_INSTALL;
	files[n_files].mode = 0644;
	files[n_files].content = rewritten ? rewritten : strdup(manifest);
	rewritten = NULL;
	if (!files[n_files++].content) {
		r = -ENOMEM;
		goto out;
	}
	r = check_written(&x, FILE_INSTALL, files[0].content, n_docs, NULL);
	if (r < 0)
		goto out;
	if (g->credentials_file) {
		r = creds_load(&x, g->credentials_file, &c);
		if (r < 0)
			goto out;
		r = creds_check(&x, g, &c);
		if (r < 0)
			goto out;
		files[n_files].name = FILE_SECRET;
		files[n_files].mode = 0600;
		r = render_secret(g, &c, &files[n_files].content);
		if (r < 0)
			goto out;
		r = check_written(&x, FILE_SECRET, files[n_files++].content, 1, secret_kinds);
		if (r < 0)
			goto out;
	}
	if (argo && g->interval)
		say(&x, "note: gitops.interval is not used by Argo CD (timeout.reconciliation in "
			"argocd-cm sets how often it looks)");
	files[n_files].name = FILE_SOURCE;
	files[n_files].mode = 0644;
	r = render_source(g, g->credentials_file != NULL, &files[n_files].content);
	if (r < 0)
		goto out;
	r = check_written(&x, FILE_SOURCE, files[n_files++].content, argo ? 1 : 2,
			  argo ? argo_kinds : flux_kinds);
	if (r < 0)
		goto out;

	/* 3. written: the cache first, so that the next boot needs no network */
	if (!cached && !opts->dry_run) {
		r = write_atomic(cache_path, manifest, 0644);
		if (r < 0) {
			fail(&x, r, "cannot write %s: %s", cache_path, strerror(-r));
			goto out;
		}
		say(&x, "cached as %s", cache_path);
		prune_cache(cache_dir, g->install_sha256);
	}
	for (size_t i = 0; i < n_files; i++) {
		char *path = NULL;
		if (asprintf(&path, "%s/%s", dir, files[i].name) < 0) {
			r = -ENOMEM;
			goto out;
		}
		r = put_file(&x, path, files[i].content, files[i].mode, opts->dry_run, &t);
		free(path);
		if (r < 0)
			goto out;
	}
	if (!g->credentials_file) {
		/* credentials taken out of the config: the file goes (the Secret stays in
		 * the cluster; K3s does not delete what a removed file created) */
		char *path = NULL;
		if (asprintf(&path, "%s/%s", dir, FILE_SECRET) < 0) {
			r = -ENOMEM;
			goto out;
		}
		if (access(path, F_OK) == 0) {
			if (opts->dry_run)
				say(&x, "would remove %s", path);
			else if (unlink(path) < 0)
				say(&x, "warning: cannot remove %s: %m", path);
			else
				say(&x, "removed %s (no gitops.credentials_file)", path);
		}
		free(path);
	}
	r = 0;
out:
	creds_done(&c);
	if (r == 0) {
		if (asprintf(&summary,
			     "%s: install manifest sha256 %.12s (%s, %zu objects), %zu files in %s: "
			     "%u %s, %u unchanged",
			     g->engine, g->install_sha256, cached ? "cached" : "downloaded", n_docs,
			     n_files, GITOPS_MANIFESTS_DIR, t.written,
			     opts->dry_run ? "to write" : "written", t.unchanged) < 0)
			summary = NULL;
	} else {
		summary = x.error ? x.error : strdup(strerror(-r));
		x.error = NULL;
	}
	if (ret_summary)
		*ret_summary = summary;
	else
		free(summary);
	free(x.error);
	for (size_t i = 0; i < n_files; i++) {
		if (files[i].mode == 0600 && files[i].content)
			explicit_bzero(files[i].content, strlen(files[i].content));
		free(files[i].content);
	}
	free(rewritten);
	free(manifest);
	free(cache_dir);
	free(cache_path);
	free(dir);
	free(what);
	return r;
}

int gitops_stage(const na_config *cfg, const char *target, FILE *log, char **ret_summary)
{
	return gitops_run(cfg, target, NULL, log, ret_summary);
}
