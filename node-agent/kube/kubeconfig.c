/* SPDX-License-Identifier: MIT */
/* kubeconfig files (client-go's clientcmd v1 format), read with libyaml. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "basic/fileio.h"
#include "basic/yaml-load.h"
#include "basic/macro.h"
#include "kube/kubeconfig.h"

#define KUBECONFIG_MAX (1024 * 1024)
#define PEM_MAX	       (256 * 1024)

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *base64_decode(const char *s, size_t *ret_len)
{
	size_t n = strlen(s), len = 0;
	_cleanup_free_ char *out = malloc(n / 4 * 3 + 4);
	unsigned acc = 0;
	int bits = 0, pad = 0;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int v;
		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		v = b64_value(*p);
		if (v < 0 || pad) /* junk, or data after padding */
			return NULL;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* padding only completes the last group: "Zg==", "Zm8=" (or is left out) */
	if (bits >= 6 || (pad && !(pad == 1 && bits == 2) && !(pad == 2 && bits == 4)))
		return NULL;
	out[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return TAKE_PTR(out);
}

typedef struct kparser {
	yaml_document_t doc;
	const char *path;
	const char *prefix;
	char *dir; /* the kubeconfig's directory, for relative paths */
	char *err;
} kparser;

static void kparser_done(kparser *p)
{
	/* a document that was never loaded (or failed to load) is all zeroes: nothing to free;
	 * a loaded one may hold client-key-data or a token */
	yaml_document_erase(&p->doc);
	free(p->dir);
	free(p->err);
}

__attribute__((format(printf, 2, 3))) static int kerr(kparser *p, const char *fmt, ...)
{
	va_list ap;
	_cleanup_free_ char *m = NULL;

	if (p->err)
		return -EINVAL;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (m && asprintf(&p->err, "%s: %s", p->path, m) < 0)
		p->err = NULL;
	return -EINVAL;
}

static yaml_node_t *get(kparser *p, yaml_node_t *map, const char *key)
{
	return yaml_map_get(&p->doc, map, key);
}

static const char *scalar(yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	/* a NUL inside the value would cut it short silently */
	if (strlen((char *)n->data.scalar.value) != n->data.scalar.length)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* The `field` mapping of the entry named `name` in the list `list` (clusters, users, ...). */
static yaml_node_t *named(kparser *p, const char *list, const char *field, const char *name)
{
	yaml_node_t *root = yaml_document_get_root_node(&p->doc), *seq = get(p, root, list);

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
	     i++) {
		yaml_node_t *e = yaml_document_get_node(&p->doc, *i);
		const char *n = scalar(get(p, e, "name"));
		if (n && !strcmp(n, name))
			return get(p, e, field);
	}
	return NULL;
}

/* `key-data` (base64) or `key` (a file): the PEM text, or NULL when neither is given. */
static int pem_of(kparser *p, yaml_node_t *map, const char *key, const char *what, char **ret)
{
	_cleanup_free_ char *dk = NULL, *full = NULL;
	_cleanup_(erase_and_freep) char *pem = NULL; /* may be a private key */
	const char *data, *file;
	int r;

	*ret = NULL;
	if (asprintf(&dk, "%s-data", key) < 0)
		return -ENOMEM;
	data = scalar(get(p, map, dk));
	file = scalar(get(p, map, key));
	if (data) {
		size_t len;
		pem = base64_decode(data, &len);
		if (!pem)
			return kerr(p, "%s-data of %s is not valid base64", key, what);
		if (len == 0 || strlen(pem) != len || !strstr(pem, "-----BEGIN ")) {
			explicit_bzero(pem, len); /* all of it, past a NUL too */
			return kerr(p, "%s-data of %s is not PEM", key, what);
		}
		*ret = TAKE_PTR(pem);
		return 0;
	}
	if (!file)
		return 0;
	/* the kubeconfig's own path already carries the prefix */
	if (file[0] == '/' ? asprintf(&full, "%s%s", p->prefix ? p->prefix : "", file) < 0
			   : asprintf(&full, "%s/%s", p->dir, file) < 0)
		return -ENOMEM;
	r = read_full_file(full, PEM_MAX, &pem, NULL);
	if (r < 0) {
		kerr(p, "%s %s of %s: %s", key, full, what, strerror(-r));
		return r;
	}
	if (!strstr(pem, "-----BEGIN "))
		return kerr(p, "%s %s of %s is not PEM", key, file, what);
	*ret = TAKE_PTR(pem);
	return 0;
}

/* The YAML document of data into p->doc; -EINVAL with a message when there is none. */
static int load_document(kparser *p, const char *data, size_t len)
{
	_cleanup_yaml_loader_ yaml_loader l = {0};
	yaml_problem at;
	int r;

	if (len > KUBECONFIG_MAX || memchr(data, '\0', len))
		return kerr(p, "not a kubeconfig (binary or larger than %d bytes)", KUBECONFIG_MAX);
	if (yaml_loader_open(&l, data, len) < 0)
		return -ENOMEM;
	r = yaml_loader_next(&l, &p->doc, &at);
	if (r == -EBADMSG)
		return kerr(p, "%zu:%zu: %s", at.line, at.column, at.problem);
	return r < 0 ? r : 0;
}

/* The current context's server and credentials from the loaded document into k. */
static int fill_kubeconfig(kparser *p, const char *path, kubeconfig *k)
{
	yaml_node_t *root, *ctx, *cluster, *user;
	const char *cur, *cname, *uname, *server, *v;
	int r;

	root = yaml_document_get_root_node(&p->doc);
	if (!root || root->type != YAML_MAPPING_NODE)
		return kerr(p, "not a kubeconfig (no mapping at the top)");
	v = scalar(get(p, root, "kind"));
	if (v && strcmp(v, "Config"))
		return kerr(p, "kind is %s, not Config", v);
	cur = scalar(get(p, root, "current-context"));
	if (!cur || !*cur)
		return kerr(p, "no current-context");
	ctx = named(p, "contexts", "context", cur);
	if (!ctx)
		return kerr(p, "current-context %s is not in contexts", cur);
	cname = scalar(get(p, ctx, "cluster"));
	uname = scalar(get(p, ctx, "user"));
	cluster = cname ? named(p, "clusters", "cluster", cname) : NULL;
	user = uname ? named(p, "users", "user", uname) : NULL;
	if (!cluster)
		return kerr(p, "context %s names no cluster that exists", cur);
	if (!user)
		return kerr(p, "context %s names no user that exists", cur);
	server = scalar(get(p, cluster, "server"));
	if (!server || strncmp(server, "https://", 8))
		return kerr(p, "cluster %s: server %s is not an https:// URL", cname,
			    server ? server : "(none)");
	k->server = strdup(server);
	k->user = strdup(uname);
	v = scalar(get(p, cluster, "insecure-skip-tls-verify"));
	k->insecure = v && !strcmp(v, "true");
	r = pem_of(p, cluster, "certificate-authority", "the cluster", &k->ca_pem);
	if (r < 0)
		return r;
	r = pem_of(p, user, "client-certificate", "the user", &k->cert_pem);
	if (r < 0)
		return r;
	r = pem_of(p, user, "client-key", "the user", &k->key_pem);
	if (r < 0)
		return r;
	v = scalar(get(p, user, "token"));
	if (v && *v)
		k->token = strdup(v);
	else if ((v = scalar(get(p, user, "tokenFile")))) {
		_cleanup_free_ char *full = NULL;
		char *tok = NULL;
		/* like the other file references (client-go resolves tokenFile the same way) */
		if (v[0] == '/' ? asprintf(&full, "%s%s", p->prefix ? p->prefix : "", v) >= 0
				: asprintf(&full, "%s/%s", p->dir, v) >= 0)
			r = read_full_file(full, 64 * 1024, &tok, NULL);
		else
			r = -ENOMEM;
		if (r < 0) {
			kerr(p, "tokenFile %s: %s", v, strerror(-r));
			return r;
		}
		tok[strcspn(tok, "\r\n")] = '\0';
		k->token = tok;
	}
	if (k->token) {
		/* it becomes an HTTP header: a line break would smuggle in other headers */
		bool bad = !*k->token;
		for (const char *c = k->token; *c && !bad; c++)
			bad = (unsigned char)*c < 0x20 || *c == 0x7f;
		if (bad)
			return kerr(p, "user %s: the token is empty or holds control characters",
				    uname);
	}
	if (!!k->cert_pem != !!k->key_pem)
		return kerr(p,
			    "user %s has a client certificate without its key (or a key without "
			    "its certificate)",
			    uname);
	if (!k->cert_pem && !k->token)
		return kerr(p, "user %s has no client certificate and no token", uname);
	k->path = strdup(path);
	if (!k->server || !k->user || !k->path)
		return -ENOMEM;
	return 0;
}

int kubeconfig_parse(const char *prefix, const char *path, const char *data, size_t len,
		     kubeconfig **ret, char **ret_err)
{
	_cleanup_(kparser_done) kparser p = {
	    .path = path,
	    .prefix = prefix && strcmp(prefix, "/") ? prefix : NULL,
	};
	_cleanup_(kubeconfig_freep) kubeconfig *k = calloc(1, sizeof(*k));
	_cleanup_free_ char *pathcopy = strdup(path);
	int r;

	*ret_err = NULL;
	if (!k || !pathcopy)
		return -ENOMEM;
	p.dir = strdup(dirname(pathcopy));
	if (!p.dir)
		return -ENOMEM;
	r = load_document(&p, data, len);
	if (r >= 0)
		r = fill_kubeconfig(&p, path, k);
	if (r < 0) {
		*ret_err = p.err ? TAKE_PTR(p.err) : strdup(strerror(-r));
		return r;
	}
	*ret = TAKE_PTR(k);
	return 0;
}

int kubeconfig_load(const char *prefix, const char *path, kubeconfig **ret, char **ret_err)
{
	_cleanup_free_ char *full = NULL, *data = NULL;
	size_t len = 0;
	int r;

	*ret_err = NULL;
	if (asprintf(&full, "%s%s", prefix && strcmp(prefix, "/") ? prefix : "", path) < 0)
		return -ENOMEM;
	r = read_full_file(full, KUBECONFIG_MAX, &data, &len);
	if (r < 0) {
		if (asprintf(ret_err, "%s: %s", full, strerror(-r)) < 0)
			*ret_err = NULL;
		return r;
	}
	r = kubeconfig_parse(prefix, full, data, len, ret, ret_err);
	explicit_bzero(data, len); /* client-key-data, token */
	return r;
}

kubeconfig *kubeconfig_free(kubeconfig *k)
{
	if (!k)
		return NULL;
	free(k->path);
	free(k->server);
	free(k->ca_pem);
	free(k->cert_pem);
	erase_and_free(k->key_pem);
	erase_and_free(k->token);
	free(k->user);
	free(k);
	return NULL;
}
