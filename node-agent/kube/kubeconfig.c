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
	char *out = malloc(n / 4 * 3 + 4);
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
		if (v < 0 || pad) { /* junk, or data after padding */
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* padding only completes the last group: "Zg==", "Zm8=" (or is left out) */
	if (bits >= 6 || (pad && !(pad == 1 && bits == 2) && !(pad == 2 && bits == 4))) {
		free(out);
		return NULL;
	}
	out[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return out;
}

typedef struct kparser {
	yaml_document_t doc;
	const char *path;
	const char *prefix;
	char *dir; /* the kubeconfig's directory, for relative paths */
	char *err;
} kparser;

__attribute__((format(printf, 2, 3))) static int kerr(kparser *p, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	if (p->err)
		return -EINVAL;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (m && asprintf(&p->err, "%s: %s", p->path, m) < 0)
		p->err = NULL;
	free(m);
	return -EINVAL;
}

static yaml_node_t *get(kparser *p, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
	     a++) {
		yaml_node_t *k = yaml_document_get_node(&p->doc, a->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(&p->doc, a->value);
	}
	return NULL;
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
	char *dk = NULL, *full = NULL;
	const char *data, *file;
	int r;

	*ret = NULL;
	if (asprintf(&dk, "%s-data", key) < 0)
		return -ENOMEM;
	data = scalar(get(p, map, dk));
	free(dk);
	file = scalar(get(p, map, key));
	if (data) {
		size_t len;
		char *pem = base64_decode(data, &len);
		if (!pem)
			return kerr(p, "%s-data of %s is not valid base64", key, what);
		if (len == 0 || strlen(pem) != len || !strstr(pem, "-----BEGIN ")) {
			free(pem);
			return kerr(p, "%s-data of %s is not PEM", key, what);
		}
		*ret = pem;
		return 0;
	}
	if (!file)
		return 0;
	/* the kubeconfig's own path already carries the prefix */
	if (file[0] == '/' ? asprintf(&full, "%s%s", p->prefix ? p->prefix : "", file) < 0
			   : asprintf(&full, "%s/%s", p->dir, file) < 0)
		return -ENOMEM;
	r = read_full_file(full, PEM_MAX, ret, NULL);
	if (r < 0) {
		kerr(p, "%s %s of %s: %s", key, full, what, strerror(-r));
		free(full);
		return r;
	}
	free(full);
	if (!strstr(*ret, "-----BEGIN ")) {
		free(*ret);
		*ret = NULL;
		return kerr(p, "%s %s of %s is not PEM", key, file, what);
	}
	return 0;
}

int kubeconfig_parse(const char *prefix, const char *path, const char *data, size_t len,
		     kubeconfig **ret, char **ret_err)
{
	yaml_parser_t yp;
	kparser p = {.path = path, .prefix = prefix && strcmp(prefix, "/") ? prefix : NULL};
	yaml_node_t *root, *ctx, *cluster, *user;
	const char *cur, *cname, *uname, *server, *v;
	kubeconfig *k = calloc(1, sizeof(*k));
	char *pathcopy = strdup(path);
	int r = -EINVAL;

	*ret_err = NULL;
	if (!k || !pathcopy) {
		free(k);
		free(pathcopy);
		return -ENOMEM;
	}
	p.dir = strdup(dirname(pathcopy));
	free(pathcopy);
	if (!yaml_parser_initialize(&yp)) {
		free(k);
		free(p.dir);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)data, len);
	if (len > KUBECONFIG_MAX || memchr(data, '\0', len)) {
		yaml_parser_delete(&yp);
		kerr(&p, "not a kubeconfig (binary or larger than %d bytes)", KUBECONFIG_MAX);
		goto out_nodoc;
	}
	if (!yaml_parser_load(&yp, &p.doc)) {
		kerr(&p, "%zu:%zu: %s", yp.problem_mark.line + 1, yp.problem_mark.column + 1,
		     yp.problem ? yp.problem : "invalid YAML");
		yaml_parser_delete(&yp);
		goto out_nodoc;
	}
	yaml_parser_delete(&yp);

	root = yaml_document_get_root_node(&p.doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		kerr(&p, "not a kubeconfig (no mapping at the top)");
		goto out;
	}
	v = scalar(get(&p, root, "kind"));
	if (v && strcmp(v, "Config")) {
		kerr(&p, "kind is %s, not Config", v);
		goto out;
	}
	cur = scalar(get(&p, root, "current-context"));
	if (!cur || !*cur) {
		kerr(&p, "no current-context");
		goto out;
	}
	ctx = named(&p, "contexts", "context", cur);
	if (!ctx) {
		kerr(&p, "current-context %s is not in contexts", cur);
		goto out;
	}
	cname = scalar(get(&p, ctx, "cluster"));
	uname = scalar(get(&p, ctx, "user"));
	cluster = cname ? named(&p, "clusters", "cluster", cname) : NULL;
	user = uname ? named(&p, "users", "user", uname) : NULL;
	if (!cluster) {
		kerr(&p, "context %s names no cluster that exists", cur);
		goto out;
	}
	if (!user) {
		kerr(&p, "context %s names no user that exists", cur);
		goto out;
	}
	server = scalar(get(&p, cluster, "server"));
	if (!server || strncmp(server, "https://", 8)) {
		kerr(&p, "cluster %s: server %s is not an https:// URL", cname,
		     server ? server : "(none)");
		goto out;
	}
	k->server = strdup(server);
	k->user = strdup(uname);
	v = scalar(get(&p, cluster, "insecure-skip-tls-verify"));
	k->insecure = v && !strcmp(v, "true");
	r = pem_of(&p, cluster, "certificate-authority", "the cluster", &k->ca_pem);
	if (r >= 0)
		r = pem_of(&p, user, "client-certificate", "the user", &k->cert_pem);
	if (r >= 0)
		r = pem_of(&p, user, "client-key", "the user", &k->key_pem);
	if (r < 0)
		goto out;
	v = scalar(get(&p, user, "token"));
	if (v && *v)
		k->token = strdup(v);
	else if ((v = scalar(get(&p, user, "tokenFile")))) {
		char *full = NULL, *tok = NULL;
		/* like the other file references (client-go resolves tokenFile the same way) */
		if (v[0] == '/' ? asprintf(&full, "%s%s", p.prefix ? p.prefix : "", v) >= 0
				: asprintf(&full, "%s/%s", p.dir, v) >= 0)
			r = read_full_file(full, 64 * 1024, &tok, NULL);
		else
			r = -ENOMEM;
		if (r < 0) {
			kerr(&p, "tokenFile %s: %s", v, strerror(-r));
			free(full);
			goto out;
		}
		tok[strcspn(tok, "\r\n")] = '\0';
		k->token = tok;
		free(full);
	}
	if (k->token) {
		/* it becomes an HTTP header: a line break would smuggle in other headers */
		bool bad = !*k->token;
		for (const char *c = k->token; *c && !bad; c++)
			bad = (unsigned char)*c < 0x20 || *c == 0x7f;
		if (bad) {
			r = kerr(&p, "user %s: the token is empty or holds control characters",
				 uname);
			goto out;
		}
	}
	if (!!k->cert_pem != !!k->key_pem) {
		r = kerr(&p,
			 "user %s has a client certificate without its key (or a key without "
			 "its certificate)",
			 uname);
		goto out;
	}
	if (!k->cert_pem && !k->token) {
		r = kerr(&p, "user %s has no client certificate and no token", uname);
		goto out;
	}
	k->path = strdup(path);
	if (!k->server || !k->user || !k->path) {
		r = -ENOMEM;
		goto out;
	}
	r = 0;
out:
	yaml_document_delete(&p.doc);
out_nodoc:
	free(p.dir);
	if (r < 0) {
		kubeconfig_free(k);
		*ret_err = p.err ? p.err : strdup(strerror(-r));
		return r;
	}
	free(p.err);
	*ret = k;
	return 0;
}

int kubeconfig_load(const char *prefix, const char *path, kubeconfig **ret, char **ret_err)
{
	char *full = NULL, *data = NULL;
	size_t len = 0;
	int r;

	*ret_err = NULL;
	if (asprintf(&full, "%s%s", prefix && strcmp(prefix, "/") ? prefix : "", path) < 0)
		return -ENOMEM;
	r = read_full_file(full, KUBECONFIG_MAX, &data, &len);
	if (r < 0) {
		if (asprintf(ret_err, "%s: %s", full, strerror(-r)) < 0)
			*ret_err = NULL;
		free(full);
		return r;
	}
	r = kubeconfig_parse(prefix, full, data, len, ret, ret_err);
	free(full);
	free(data);
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
