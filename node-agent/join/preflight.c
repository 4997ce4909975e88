/* SPDX-License-Identifier: MIT */
/* Verify the K3s server against the token's CA hash before joining. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/dl.h"
#include "basic/fetch.h"
#include "kube/kubeconfig.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "join/preflight.h"

#define TOKEN_MAX 4096

__attribute__((format(printf, 2, 3))) static int fail(char **ret_err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(ret_err, fmt, ap) < 0)
		*ret_err = NULL;
	va_end(ap);
	return -EINVAL;
}

/* one message per result: the last one says it */
#define set_msg(ret, ...) (free((ret)->message), fail(&(ret)->message, __VA_ARGS__))

int token_read(const char *path, token_info *ret, char **ret_err)
{
	_cleanup_close_ int fd = -1;
	int r;
	struct stat st;
	char *buf = NULL, *hash;
	size_t len = 0;

	memset(ret, 0, sizeof(*ret));
	if (!path)
		return fail(ret_err, "no cluster.token_file in the config");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		fail(ret_err, "token file %s cannot be read: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return fail(ret_err, "token file %s is not a regular file", path);
	/* like ssh with a private key: a secret others can read is no longer a secret */
	if (st.st_mode & 0077) {
		fail(ret_err,
		     "token file %s has mode %04o: group or others may read it; it must be 0600 "
		     "or stricter (systemd credentials are 0400)",
		     path, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		fail(ret_err, "token file %s belongs to uid %u, not to root or to us", path,
		     (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_size > TOKEN_MAX)
		return fail(ret_err, "token file %s is larger than %d bytes", path, TOKEN_MAX);
	r = read_full_fd(fd, TOKEN_MAX, &buf, &len);
	if (r < 0)
		return r;
	size_t size = len; /* what was read, all of it erased on refusal */
	/* one line; surrounding white space is not part of the token */
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
			   buf[len - 1] == '\t'))
		buf[--len] = '\0';
	if (len == 0 || strpbrk(buf, "\n\r \t") || strlen(buf) != len) {
		explicit_bzero(buf, size);
		free(buf);
		return fail(ret_err, "token file %s is empty or holds more than one line", path);
	}
	ret->token = buf;
	/* K10<hash>::<credentials>; the hash is what the server's /cacerts must hash to */
	if (!strncmp(buf, "K10", 3) && (hash = strstr(buf, "::"))) {
		size_t hl = (size_t)(hash - (buf + 3));
		if (hl != 64 || strspn(buf + 3, "0123456789abcdefABCDEF") < 64) {
			token_info_done(ret);
			return fail(
			    ret_err,
			    "token file %s: a K10 token must carry a 64-digit sha256 hex hash "
			    "before \"::\"",
			    path);
		}
		for (size_t i = 0; i < 64; i++) {
			char c = buf[3 + i];
			ret->ca_hash[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
		}
		ret->ca_hash[64] = '\0';
		ret->server_user = !strncmp(hash + 2, "server:", 7);
	}
	return 0;
}

void token_info_done(token_info *t)
{
	if (t->token) {
		explicit_bzero(t->token, strlen(t->token));
		free(t->token);
	}
	t->token = NULL;
}

static char *url_of(const char *server, const char *path)
{
	char *u = NULL;
	size_t n = strlen(server);

	while (n > 0 && server[n - 1] == '/')
		n--;
	if (asprintf(&u, "%.*s%s", (int)n, server, path) < 0)
		return NULL;
	return u;
}

int preflight_check(const na_config *cfg, na_role role, long timeout_s, preflight_result *ret)
{
	token_info tok;
	fetch_opts fo = {.connect_timeout_s = timeout_s < 5 ? timeout_s : 5,
			 .timeout_s = timeout_s,
			 .max_bytes = 256 * 1024,
			 .no_redirects = true};
	_cleanup_(fetch_result_done) fetch_result fr = {0};
	_cleanup_free_ char *pinned = NULL, *cacerts = NULL, *ping = NULL, *ca_pem = NULL;
	char hash[65];
	bool rooted = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!cfg->server) {
		set_msg(ret,
			"no cluster.server: nothing to verify (this node creates the cluster)");
		return 0;
	}
	ret->token_file = na_config_token_file(cfg, role);
	r = token_read(ret->token_file, &tok, &ret->message);
	if (r < 0)
		return r;
	ret->server_token = tok.server_user;
	token_info_done(&tok); /* only its hash is needed here: the token is never sent */
	cacerts = url_of(cfg->server, "/cacerts");
	ping = url_of(cfg->server, "/ping");
	if (!cacerts || !ping)
		return -ENOMEM;

	if (tok.ca_hash[0]) {
		/* like K3s's agent: fetch without verification, then the hash decides */
		fo.insecure = true;
	} else if (cfg->server_ca_file) {
		r = read_full_file(cfg->server_ca_file, 256 * 1024, &pinned, NULL);
		if (r < 0) {
			set_msg(ret, "cluster.ca_file %s: %s", cfg->server_ca_file, strerror(-r));
			return r;
		}
		fo.ca_pem = pinned;
	} /* else: the system's trust store, which a self-signed K3s CA is not in */

	r = fetch_url(cacerts, NULL, 0, &fo, &fr);
	if (r < 0) {
		if (r == -EPERM && !tok.ca_hash[0] && !cfg->server_ca_file)
			set_msg(ret,
				"%s: the server's certificate is not trusted, and the token in %s "
				"is not a secure K10 token carrying the CA hash; refusing to join. "
				"Use the server's secure token (K10...), or pin the CA with "
				"cluster.ca_file",
				cfg->server, ret->token_file);
		else
			set_msg(ret, "%s", fr.error);
		return r;
	}
	if (fr.len == 0 || !strstr(fr.body, "-----BEGIN CERTIFICATE-----")) {
		set_msg(ret, "%s did not answer with a PEM CA bundle: not a K3s server?", cacerts);
		return -EBADMSG;
	}
	/* as K3s hashes it: the bytes of a single CA, the chain root of a custom CA bundle */
	r = k3s_ca_hash(fr.body, fr.len, hash, &rooted);
	if (r == -EBADMSG || r == -E2BIG) {
		set_msg(ret,
			"%s serves a CA bundle with a certificate that does not parse (or more "
			"than 64): K3s would match no token against it; refusing to join",
			cacerts);
		return r;
	}
	if (r < 0) {
		set_msg(ret, "cannot compute the CA hash: libcrypto: %s", strerror(-r));
		return r;
	}
	if (tok.ca_hash[0] && strcmp(tok.ca_hash, hash)) {
		set_msg(ret,
			"CA hash mismatch: the token in %s expects a cluster CA with sha256 %s, "
			"but %s serves one with sha256 %s%s; refusing to send the token to this "
			"server",
			ret->token_file, tok.ca_hash, cacerts, hash,
			rooted ? " (its root certificate's DER, as K3s hashes a bundle of several)"
			       : "");
		return -EPERM;
	}
	/* from here on the cluster's CA is what the token named, or what the config pinned */
	ca_pem = pinned ? TAKE_PTR(pinned) : TAKE_PTR(fr.body);
	fetch_result_done(&fr);

	/* the server must hold a certificate of that CA for the name we use */
	fo.insecure = false;
	fo.ca_pem = ca_pem;
	r = fetch_url(ping, NULL, 0, &fo, &fr);
	if (r < 0) {
		if (r == -EPERM)
			set_msg(ret,
				"%s: the server's certificate is not issued by the CA it serves at "
				"/cacerts for this name (%s); refusing to join",
				cfg->server, fr.error);
		else
			set_msg(ret, "%s", fr.error);
		return r;
	}
	if (strncmp(fr.body, "pong", 4)) {
		set_msg(ret, "%s answered \"%.40s\", not pong", ping, fr.body);
		return -EBADMSG;
	}
	ret->ca_pem = TAKE_PTR(ca_pem);
	ret->ca_sha256 = strdup(hash);
	set_msg(ret, "%s: CA sha256 %s%s %s; server certificate verified", cfg->server, hash,
		rooted ? " (the bundle's root)" : "",
		tok.ca_hash[0]	      ? "matches the token"
		: cfg->server_ca_file ? "is the pinned cluster.ca_file"
				      : "is trusted by the system");
	return 0;
}

void preflight_result_done(preflight_result *r)
{
	free(r->ca_pem);
	free(r->ca_sha256);
	free(r->message);
	r->ca_pem = r->ca_sha256 = r->message = NULL;
}
