/* SPDX-License-Identifier: MIT */
/*
 * The repository credentials: the file gitops.credentials_file names, checked against the
 * repository's scheme and the engine, and the Secret the engine reads them from. Secrets
 * are wiped from memory once used, and no message carries one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fileio.h"
#include "gitops/gitops-internal.h"

void gitops_creds_done(gitops_creds *c)
{
	c->username = erase_and_free(c->username);
	c->password = erase_and_free(c->password);
	c->bearer_token = erase_and_free(c->bearer_token);
	c->identity = erase_and_free(c->identity);
	c->identity_pub = erase_and_free(c->identity_pub);
	c->known_hosts = erase_and_free(c->known_hosts);
}

int gitops_creds_parse(const char *path, const char *data, size_t len, gitops_creds *ret,
		       char **ret_err)
{
	static const char *const keys[] = {"username", "password",     "bearerToken",
					   "identity", "identity.pub", "known_hosts"};
	_cleanup_(gitops_creds_done) gitops_creds c = {0};
	char **slots[] = {&c.username, &c.password,	&c.bearer_token,
			  &c.identity, &c.identity_pub, &c.known_hosts};
	_cleanup_yaml_loader_ yaml_loader l = {0};
	_cleanup_(yaml_document_erase) yaml_document_t d = {0};
	yaml_problem at;
	yaml_node_t *root;
	int r;

	if (yaml_loader_open(&l, data, len) < 0)
		return -ENOMEM;
	r = yaml_loader_next(&l, &d, &at);
	if (r == -EBADMSG)
		return gitops_fail(ret_err, -EINVAL,
				   "gitops.credentials_file %s:%zu:%zu: invalid YAML: %s", path,
				   at.line, at.column, at.problem);
	if (r < 0)
		return r;
	root = yaml_document_get_root_node(&d);
	if (!root || root->type != YAML_MAPPING_NODE)
		return gitops_fail(ret_err, -EINVAL,
				   "gitops.credentials_file %s: expected a mapping (username/"
				   "password, bearerToken, or identity/known_hosts)",
				   path);
	for (yaml_node_pair_t *a = root->data.mapping.pairs.start; a < root->data.mapping.pairs.top;
	     a++) {
		yaml_node_t *k = yaml_document_get_node(&d, a->key);
		yaml_node_t *v = yaml_document_get_node(&d, a->value);
		const char *key = yaml_scalar(k), *value = yaml_scalar(v);
		size_t i;

		for (i = 0; key && i < ELEMENTSOF(keys); i++)
			if (!strcmp(key, keys[i]))
				break;
		if (!key || i == ELEMENTSOF(keys))
			return gitops_fail(ret_err, -EINVAL,
					   "gitops.credentials_file %s:%zu:%zu: unknown key "
					   "(expected username, password, bearerToken, identity, "
					   "identity.pub, known_hosts)",
					   path, k->start_mark.line + 1, k->start_mark.column + 1);
		if (*slots[i])
			return gitops_fail(ret_err, -EINVAL,
					   "gitops.credentials_file %s:%zu:%zu: duplicate key %s",
					   path, k->start_mark.line + 1, k->start_mark.column + 1,
					   keys[i]);
		if (!value || !v->data.scalar.length || strlen(value) != v->data.scalar.length)
			return gitops_fail(ret_err, -EINVAL,
					   "gitops.credentials_file %s:%zu:%zu: %s must be a "
					   "non-empty string",
					   path, v->start_mark.line + 1, v->start_mark.column + 1,
					   keys[i]);
		*slots[i] = strdup(value);
		if (!*slots[i])
			return -ENOMEM;
	}
	*ret = c;
	c = (gitops_creds){0};
	return 0;
}

int gitops_creds_load(const char *path, gitops_creds *ret, char **ret_err)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	r = read_full_file_at(AT_FDCWD, path, O_NONBLOCK, CREDENTIALS_MAX, &data, &len, NULL);
	if (r == -EINVAL || r == -EISDIR)
		return gitops_fail(ret_err, r, "gitops.credentials_file %s: not a regular file",
				   path);
	if (r == -EFBIG)
		return gitops_fail(ret_err, r, "gitops.credentials_file %s: larger than %u bytes",
				   path, CREDENTIALS_MAX);
	if (r < 0)
		return gitops_fail(ret_err, r, "gitops.credentials_file %s: cannot read it: %s",
				   path, strerror(-r));
	r = gitops_creds_parse(path, data, len, ret, ret_err);
	explicit_bzero(data, len);
	free(data);
	return r;
}

int gitops_creds_check(const na_gitops *g, const gitops_creds *c, const char **ret_note,
		       char **ret_err)
{
	const char *f = g->credentials_file;
	bool argo = !strcmp(g->engine, "argocd");

	*ret_note = NULL;
	if (!strncmp(g->repository, "ssh://", 6)) {
		if (c->username || c->password || c->bearer_token)
			return gitops_fail(ret_err, -EINVAL,
					   "gitops.credentials_file %s: an ssh:// repository takes "
					   "identity and known_hosts, not username, password or "
					   "bearerToken",
					   f);
		if (!c->identity)
			return gitops_fail(ret_err, -EINVAL,
					   "gitops.credentials_file %s: an ssh:// repository needs "
					   "identity (the private key)",
					   f);
		if (!argo && !c->known_hosts)
			return gitops_fail(
			    ret_err, -EINVAL,
			    "gitops.credentials_file %s: Flux needs known_hosts for an "
			    "ssh:// repository (ssh-keyscan HOST)",
			    f);
		if (argo && (c->known_hosts || c->identity_pub))
			*ret_note =
			    "known_hosts and identity.pub are not used by Argo CD (it checks "
			    "host keys against the argocd-ssh-known-hosts-cm ConfigMap)";
		return 0;
	}
	if (c->identity || c->identity_pub || c->known_hosts)
		return gitops_fail(ret_err, -EINVAL,
				   "gitops.credentials_file %s: an https:// repository takes "
				   "username and password (or bearerToken), not identity or "
				   "known_hosts",
				   f);
	if (c->bearer_token && argo)
		return gitops_fail(ret_err, -EINVAL,
				   "gitops.credentials_file %s: bearerToken is for Flux; Argo CD "
				   "takes username and password (a token as the password)",
				   f);
	if (c->bearer_token && (c->username || c->password))
		return gitops_fail(ret_err, -EINVAL,
				   "gitops.credentials_file %s: give bearerToken or username and "
				   "password, not both",
				   f);
	if (!c->bearer_token && (!c->username || !c->password))
		return gitops_fail(ret_err, -EINVAL,
				   "gitops.credentials_file %s: an https:// repository needs "
				   "username and password%s",
				   f, argo ? "" : " (or bearerToken)");
	return 0;
}

/* --- the Secret --- */

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

static void emit_secret_pair(yaml_emit *m, const char *key, const char *value)
{
	char *b = base64(value);

	if (!b) {
		yaml_emit_fail(m, -ENOMEM);
		return;
	}
	yaml_emit_pair(m, key, b);
	erase_and_free(b);
}

int gitops_render_secret(const gitops_secret *s, char **ret)
{
	_cleanup_yaml_emit_ yaml_emit m = {0};
	int r = gitops_render_open(&m);

	if (r < 0)
		return r;
	gitops_emit_object_start(&m, "v1", "Secret", s->name, s->ns, s->label_key, s->label_value);
	yaml_emit_pair(&m, "type", "Opaque");
	yaml_emit_string(&m, "data");
	yaml_emit_mapping_start(&m, false);
	for (size_t i = 0; i < ELEMENTSOF(s->data) && s->data[i].key; i++)
		if (s->data[i].value)
			emit_secret_pair(&m, s->data[i].key, s->data[i].value);
	yaml_emit_mapping_end(&m);
	gitops_emit_object_end(&m);
	return yaml_emit_close_string(&m, ret);
}
