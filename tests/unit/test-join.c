/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the join stage's parsers, as TAP: base64_decode() (RFC 4648 section 10
 * vectors, invalid input, white space), token_read() (K10 tokens, file checks) and
 * kubeconfig_parse()/kubeconfig_load() (inline data, file references under a prefix,
 * tokens, what is refused), and the Kubernetes client's checks that need no server (node
 * names, the Ready condition). Linked with node-agent's kubeconfig, kube, preflight, fetch
 * and dl objects (Makefile: $(BUILD)/tests/test-join).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "kube/kube.h"
#include "kube/kubeconfig.h"
#include "join/join-internal.h"
#include "join/preflight.h"

#define CA_PEM	 "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n"
#define CERT_PEM "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n"
#define KEY_PEM	 "-----BEGIN EC PRIVATE KEY-----\nKEYSECRET42\n-----END EC PRIVATE KEY-----\n"
#define HASH	 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int n_tests, n_failed;
static char dir[256];

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	n_tests++;
	if (!cond)
		n_failed++;
	printf("%sok %d - ", cond ? "" : "not ", n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void is_str(const char *got, const char *want, const char *what)
{
	int same = (!got && !want) || (got && want && strcmp(got, want) == 0);

	ok(same, "%s", what);
	if (!same)
		printf("#   got: %s\n#   expected: %s\n", got ? got : "(null)",
		       want ? want : "(null)");
}

static void like(const char *got, const char *needle, const char *what)
{
	int found = got && strstr(got, needle);

	ok(found, "%s", what);
	if (!found)
		printf("#   got: %s\n#   expected to contain: %s\n", got ? got : "(null)", needle);
}

/* a file under the scratch directory, with its parents */
static char *put(const char *rel, const char *content, mode_t mode)
{
	char *p = NULL;
	int fd;

	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		abort();
	for (char *s = strchr(p + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0700);
		*s = '/';
	}
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		abort();
	fchmod(fd, mode);
	close(fd);
	return p;
}

static char *b64(const char *s)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s);
	const unsigned char *d = (const unsigned char *)s;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
			     (i + 2 < n ? d[i + 2] : 0);
		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? a[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* --- base64 --- */

/* the input as C would write it, for a one-line test name */
static const char *shown(const char *in)
{
	static char buf[256];
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p && n < sizeof(buf) - 5; p++)
		n += (size_t)(*p == '\n'	       ? snprintf(buf + n, 3, "\\n")
			      : *p == '\r'	       ? snprintf(buf + n, 3, "\\r")
			      : *p == '\t'	       ? snprintf(buf + n, 3, "\\t")
			      : *p < 0x20 || *p > 0x7e ? snprintf(buf + n, 5, "\\x%02x", *p)
						       : snprintf(buf + n, 2, "%c", *p));
	buf[n] = '\0';
	return buf;
}

static void b64_ok(const char *in, const char *want, size_t want_len)
{
	size_t len = 99;
	char *out = base64_decode(in, &len);

	ok(out && len == want_len && !memcmp(out, want, want_len) && out[len] == '\0',
	   "base64_decode(\"%s\") is %zu bytes", shown(in), want_len);
	free(out);
}

static void b64_bad(const char *in, const char *why)
{
	char *out = base64_decode(in, NULL);

	ok(!out, "base64_decode refuses %s", why);
	free(out);
}

static void test_base64(void)
{
	/* RFC 4648, section 10 */
	b64_ok("", "", 0);
	b64_ok("Zg==", "f", 1);
	b64_ok("Zm8=", "fo", 2);
	b64_ok("Zm9v", "foo", 3);
	b64_ok("Zm9vYg==", "foob", 4);
	b64_ok("Zm9vYmE=", "fooba", 5);
	b64_ok("Zm9vYmFy", "foobar", 6);
	/* white space anywhere (PEM in a kubeconfig is often wrapped) */
	b64_ok("Zm9v\nYmFy\n", "foobar", 6);
	b64_ok(" Zm9v\r\n\tYmE =\n", "fooba", 5);
	b64_ok("Zg=\n=", "f", 1);
	/* unpadded, as some encoders write it */
	b64_ok("Zg", "f", 1);
	b64_ok("Zm8", "fo", 2);
	/* binary, with NULs and the high alphabet */
	b64_ok("AAEC/+8=", "\0\1\2\377\357", 5);
	b64_ok("+/+/", "\373\377\277", 3);

	b64_bad("Zm9v!", "a character outside the alphabet");
	b64_bad("Zm9v-_", "the URL-safe alphabet");
	b64_bad("Z", "a lone character (6 bits)");
	b64_bad("Zm9vY", "5 characters (a dangling 6 bits)");
	b64_bad("Zg=a", "data after padding");
	b64_bad("Zg==Zg==", "two padded groups");
	b64_bad("Zg===", "three '='");
	b64_bad("=", "padding alone");
	b64_bad("Zm9v====", "padding after a full group");
	b64_bad("Zm9vYg=", "one '=' where two are needed");
	b64_bad("Zm8==", "two '=' where one is needed");
	b64_bad("Zm9v\x01", "a control character");
	b64_bad("Zm9v\xc3\xa9", "non-ASCII bytes");
}

/* --- token_read --- */

/* token_read() with its message copied into ERR, for checks on the text */
static int token_read_buf(const char *path, token_info *t, char *err, size_t errlen)
{
	char *e = NULL;
	int r = token_read(path, t, &e);

	snprintf(err, errlen, "%s", e ? e : "");
	free(e);
	return r;
}

static int token(const char *name, const char *content, mode_t mode, token_info *t, char *err,
		 size_t errlen)
{
	char *p = put(name, content, mode);
	int r = token_read_buf(p, t, err, errlen);

	free(p);
	return r;
}

static void test_token(void)
{
	token_info t;
	char err[512], *p, *link = NULL;
	int r;

	r = token("tok/k10", "K10" HASH "::server:s3cretpw\n", 0600, &t, err, sizeof(err));
	ok(r == 0, "token_read: a K10 token with its hash is accepted");
	is_str(t.token, "K10" HASH "::server:s3cretpw", "token: the whole token, newline dropped");
	is_str(t.ca_hash, HASH, "token: the CA hash");
	token_info_done(&t);
	ok(t.token == NULL, "token_info_done clears the token");

	r = token("tok/upper",
		  "K100123456789ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef::node:pw",
		  0400, &t, err, sizeof(err));
	ok(r == 0, "token_read: an upper-case hash (mode 0400, no newline) is accepted");
	is_str(t.ca_hash, HASH, "token: the hash is made lower-case");
	token_info_done(&t);

	r = token("tok/plain", "just-a-password\r\n", 0600, &t, err, sizeof(err));
	ok(r == 0 && !strcmp(t.token, "just-a-password") && t.ca_hash[0] == '\0',
	   "token_read: a token without hash, CRLF dropped, no hash");
	token_info_done(&t);

	r = token("tok/k10-nohash", "K10abc", 0600, &t, err, sizeof(err));
	ok(r == 0 && t.ca_hash[0] == '\0', "token_read: K10... without \"::\" is a plain token");
	token_info_done(&t);

	r = token("tok/short",
		  "K10"
		  "0123456789abcdef"
		  "::server:pw\n",
		  0600, &t, err, sizeof(err));
	ok(r == -EINVAL && !t.token, "token_read: a K10 hash of the wrong length is refused");
	like(err, "64-digit sha256", "... saying what a K10 token must carry");
	ok(!strstr(err, "server:pw"), "... without printing the token");

	r = token("tok/long", "K10" HASH "0::server:pw\n", 0600, &t, err, sizeof(err));
	ok(r == -EINVAL, "token_read: a 65-digit hash is refused");

	r = token("tok/nothex",
		  "K10"
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"
		  "::server:pw\n",
		  0600, &t, err, sizeof(err));
	ok(r == -EINVAL, "token_read: a hash with a non-hex digit is refused");

	r = token("tok/empty", "", 0600, &t, err, sizeof(err));
	ok(r == -EINVAL && !t.token, "token_read: an empty file is refused");
	like(err, "empty or holds more than one line", "... saying so");

	r = token("tok/blank", " \n\n", 0600, &t, err, sizeof(err));
	ok(r == -EINVAL, "token_read: a file of white space is refused");

	r = token("tok/two", "K10" HASH "::server:pw\nsecond-line\n", 0600, &t, err, sizeof(err));
	ok(r == -EINVAL && !t.token, "token_read: two lines are refused");
	ok(!strstr(err, "second-line") && !strstr(err, "server:pw"), "... without printing them");

	r = token("tok/space", "abc def\n", 0600, &t, err, sizeof(err));
	ok(r == -EINVAL, "token_read: a space inside the token is refused");

	r = token("tok/readable", "K10" HASH "::server:pw\n", 0644, &t, err, sizeof(err));
	ok(r == -EPERM && !t.token, "token_read: mode 0644 is refused");
	like(err, "has mode 0644", "... naming the mode");

	r = token("tok/group", "pw\n", 0640, &t, err, sizeof(err));
	ok(r == -EPERM, "token_read: mode 0640 is refused");

	p = put("tok/target", "K10" HASH "::server:pw\n", 0600);
	if (asprintf(&link, "%s/tok/link", dir) < 0)
		abort();
	unlink(link);
	if (symlink(p, link) < 0)
		abort();
	r = token_read_buf(link, &t, err, sizeof(err));
	ok(r == -ELOOP && !t.token, "token_read: a symlink is refused (O_NOFOLLOW)");
	like(err, "cannot be read", "... saying it cannot be read");
	free(p);
	free(link);

	if (asprintf(&p, "%s/tok", dir) < 0)
		abort();
	r = token_read_buf(p, &t, err, sizeof(err));
	ok(r == -EINVAL, "token_read: a directory is refused");
	free(p);

	r = token_read_buf("/nonexistent/token", &t, err, sizeof(err));
	ok(r == -ENOENT, "token_read: a missing file is -ENOENT");
	r = token_read_buf(NULL, &t, err, sizeof(err));
	ok(r == -EINVAL, "token_read: no path");
	like(err, "no cluster.token_file", "... says the config has no token_file");

	{
		char big[5000];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		r = token("tok/big", big, 0600, &t, err, sizeof(err));
		ok(r == -EINVAL, "token_read: more than 4096 bytes is refused");
	}
	{
		char nul[] = "abc\0def\n";
		char *q = NULL;
		int fd;
		if (asprintf(&q, "%s/tok/nul", dir) < 0)
			abort();
		fd = open(q, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, nul, sizeof(nul) - 1) != (ssize_t)sizeof(nul) - 1)
			abort();
		close(fd);
		r = token_read_buf(q, &t, err, sizeof(err));
		ok(r == -EINVAL, "token_read: a NUL byte inside is refused");
		free(q);
	}
}

/* --- kubeconfig --- */

static char *kc_text(const char *cluster_extra, const char *user_yaml)
{
	char *s = NULL;

	if (asprintf(&s,
		     "apiVersion: v1\n"
		     "kind: Config\n"
		     "clusters:\n"
		     "- name: local\n"
		     "  cluster:\n"
		     "    server: https://127.0.0.1:6443\n"
		     "%s"
		     "contexts:\n"
		     "- name: Default\n"
		     "  context: {cluster: local, user: user, namespace: default}\n"
		     "current-context: Default\n"
		     "users:\n"
		     "- name: user\n"
		     "  user:\n"
		     "%s",
		     cluster_extra, user_yaml) < 0)
		abort();
	return s;
}

static int parse(const char *prefix, const char *path, const char *text, kubeconfig **k, char **err)
{
	*k = NULL;
	return kubeconfig_parse(prefix, path, text, strlen(text), k, err);
}

static void refused(const char *text, const char *needle, const char *what)
{
	kubeconfig *k = NULL;
	char *err = NULL;
	int r = parse(NULL, "/x/k.yaml", text, &k, &err);

	ok(r == -EINVAL && !k, "kubeconfig refused: %s", what);
	like(err, needle, "... with a message saying so");
	if (err && strncmp(err, "/x/k.yaml: ", 11))
		ok(0, "... the message names the file: %s", err);
	kubeconfig_free(k);
	free(err);
}

static void test_kubeconfig(void)
{
	kubeconfig *k = NULL;
	char *err = NULL, *text, *ca = b64(CA_PEM), *cert = b64(CERT_PEM), *key = b64(KEY_PEM);
	char *extra = NULL, *user = NULL, *path = NULL, *prefix_path = NULL;
	int r;

	/* inline data, as K3s writes k3s.yaml */
	if (asprintf(&extra, "    certificate-authority-data: %s\n", ca) < 0 ||
	    asprintf(&user, "    client-certificate-data: %s\n    client-key-data: %s\n", cert,
		     key) < 0)
		abort();
	text = kc_text(extra, user);
	r = parse(NULL, "/etc/rancher/k3s/k3s.yaml", text, &k, &err);
	ok(r == 0 && k && !err, "kubeconfig: inline data is accepted");
	if (k) {
		is_str(k->server, "https://127.0.0.1:6443", "inline: server");
		is_str(k->ca_pem, CA_PEM, "inline: CA decoded");
		is_str(k->cert_pem, CERT_PEM, "inline: client certificate decoded");
		is_str(k->key_pem, KEY_PEM, "inline: client key decoded");
		ok(!k->token && !k->insecure, "inline: no token, not insecure");
		is_str(k->user, "user", "inline: the user's name");
		is_str(k->path, "/etc/rancher/k3s/k3s.yaml", "inline: the path");
	}
	k = kubeconfig_free(k);
	free(text);
	free(extra);
	free(user);

	/* file references: relative to the kubeconfig's directory, absolute under the prefix */
	free(put("root/var/lib/rancher/k3s/agent/server-ca.crt", CA_PEM, 0644));
	free(put("root/var/lib/rancher/k3s/agent/client-kubelet.crt", CERT_PEM, 0644));
	free(put("root/var/lib/rancher/k3s/agent/client-kubelet.key", KEY_PEM, 0600));
	free(put("root/etc/ca.crt", CA_PEM, 0644));
	text = kc_text("    certificate-authority: /etc/ca.crt\n",
		       "    client-certificate: client-kubelet.crt\n"
		       "    client-key: ./client-kubelet.key\n");
	path = put("root/var/lib/rancher/k3s/agent/kubelet.kubeconfig", text, 0600);
	free(text);
	if (asprintf(&prefix_path, "%s/root", dir) < 0)
		abort();
	r = kubeconfig_load(prefix_path, "/var/lib/rancher/k3s/agent/kubelet.kubeconfig", &k, &err);
	ok(r == 0 && k, "kubeconfig_load: file references under a prefix are read");
	if (k) {
		is_str(k->ca_pem, CA_PEM, "files: an absolute path is taken under the prefix");
		is_str(k->cert_pem, CERT_PEM, "files: a relative path is beside the kubeconfig");
		is_str(k->key_pem, KEY_PEM, "files: ./key too");
		is_str(k->path, path, "files: the path carries the prefix");
	} else
		printf("# %s\n", err ? err : "?");
	k = kubeconfig_free(k);
	free(err);
	err = NULL;

	/* without a prefix (NULL or "/") an absolute path is itself */
	if (asprintf(&extra, "    certificate-authority: %s/root/etc/ca.crt\n", dir) < 0)
		abort();
	text = kc_text(extra, "    token: abc.def\n");
	free(extra);
	r = parse("/", path, text, &k, &err);
	ok(r == 0 && k && k->ca_pem && !strcmp(k->ca_pem, CA_PEM),
	   "kubeconfig: prefix \"/\" reads an absolute path as it is");
	k = kubeconfig_free(k);
	free(err);
	err = NULL;
	free(text);

	/* a reference that does not exist names the file it looked for */
	text = kc_text("    certificate-authority: /etc/missing.crt\n", "    token: abc\n");
	r = parse(prefix_path, path, text, &k, &err);
	ok(r == -ENOENT && !k, "kubeconfig: a missing certificate file is -ENOENT");
	like(err, "/root/etc/missing.crt", "... and the message names it under the prefix");
	free(err);
	err = NULL;
	free(text);

	/* tokens */
	text = kc_text("", "    token: K10abc::node:pw\n");
	r = parse(NULL, "/x/k.yaml", text, &k, &err);
	ok(r == 0 && k && k->token && !strcmp(k->token, "K10abc::node:pw") && !k->cert_pem,
	   "kubeconfig: an inline bearer token");
	ok(k && !k->ca_pem, "kubeconfig: no CA given: NULL (the system trust store)");
	k = kubeconfig_free(k);
	free(text);

	free(put("root/var/lib/rancher/k3s/agent/token", "tok-from-file\n", 0600));
	free(put("root/etc/token", "abs-token\r\nsecond line\n", 0600));
	free(put("root/etc/empty-token", "\n", 0600));
	text = kc_text("", "    tokenFile: token\n");
	r = parse(prefix_path, path, text, &k, &err);
	ok(r == 0 && k && k->token && !strcmp(k->token, "tok-from-file"),
	   "kubeconfig: a relative tokenFile is beside the kubeconfig, newline dropped");
	k = kubeconfig_free(k);
	free(err);
	err = NULL;
	free(text);
	text = kc_text("", "    tokenFile: /etc/token\n");
	r = parse(prefix_path, path, text, &k, &err);
	ok(r == 0 && k && k->token && !strcmp(k->token, "abs-token"),
	   "kubeconfig: an absolute tokenFile is under the prefix; its first line is the token");
	k = kubeconfig_free(k);
	free(err);
	err = NULL;
	free(text);
	text = kc_text("", "    token: \"\"\n    tokenFile: /etc/token\n");
	r = parse(prefix_path, path, text, &k, &err);
	ok(r == 0 && k && !strcmp(k->token, "abs-token"),
	   "kubeconfig: an empty token: tokenFile is used");
	k = kubeconfig_free(k);
	free(err);
	err = NULL;
	free(text);
	text = kc_text("", "    tokenFile: /etc/empty-token\n");
	r = parse(prefix_path, path, text, &k, &err);
	ok(r == -EINVAL && !k, "kubeconfig: an empty tokenFile is refused");
	like(err, "token is empty", "... saying so");
	free(err);
	err = NULL;
	free(text);
	text = kc_text("", "    tokenFile: /etc/no-such-token\n");
	r = parse(prefix_path, path, text, &k, &err);
	ok(r == -ENOENT && !k, "kubeconfig: a missing tokenFile is -ENOENT");
	like(err, "tokenFile /etc/no-such-token", "... naming it");
	free(err);
	err = NULL;
	free(text);

	text = kc_text("", "    token: |\n      abc\n      X-Injected: 1\n");
	refused(text, "control characters", "a token with a line break (it becomes a header)");
	free(text);

	/* a certificate wins over a token when both are given (client-go does the same in the
	 * client; the parser keeps both) */
	if (asprintf(&user,
		     "    client-certificate-data: %s\n    client-key-data: %s\n"
		     "    token: t\n",
		     cert, key) < 0)
		abort();
	text = kc_text("", user);
	r = parse(NULL, "/x/k.yaml", text, &k, &err);
	ok(r == 0 && k && k->cert_pem && k->key_pem && k->token,
	   "kubeconfig: certificate and token");
	k = kubeconfig_free(k);
	free(text);
	free(user);

	text = kc_text("    insecure-skip-tls-verify: true\n", "    token: t\n");
	r = parse(NULL, "/x/k.yaml", text, &k, &err);
	ok(r == 0 && k && k->insecure, "kubeconfig: insecure-skip-tls-verify is reported");
	k = kubeconfig_free(k);
	free(text);

	/* refusals */
	text = kc_text("", "    token: t\n");
	{
		char *t2 = strdup(text), *at = strstr(t2, "https://");
		memmove(at + 4, at + 5, strlen(at + 5) + 1); /* https -> http */
		refused(t2, "server http://127.0.0.1:6443 is not an https:// URL",
			"an http:// server");
		free(t2);
		t2 = strdup(text);
		at = strstr(t2, "current-context: Default");
		memcpy(at + 17, "Missing", 7);
		refused(t2, "current-context Missing is not in contexts",
			"a current-context not in contexts");
		free(t2);
		t2 = strdup(text);
		at = strstr(t2, "current-context: Default\n");
		memset(at, ' ', strlen("current-context: Default"));
		refused(t2, "no current-context", "no current-context");
		free(t2);
		t2 = strdup(text);
		at = strstr(t2, "cluster: local,");
		memcpy(at + 9, "LOCAL", 5);
		refused(t2, "context Default names no cluster that exists",
			"a context naming no cluster");
		free(t2);
		t2 = strdup(text);
		at = strstr(t2, "user: user,");
		memcpy(at + 6, "nobody", 4);
		refused(t2, "context Default names no user that exists",
			"a context naming no user");
		free(t2);
		t2 = strdup(text);
		at = strstr(t2, "kind: Config");
		memcpy(at + 6, "Pod   ", 6);
		refused(t2, "kind is Pod", "kind is not Config");
		free(t2);
	}
	free(text);
	text = kc_text("", "    client-certificate-data: ");
	{
		char *t2 = NULL;
		if (asprintf(&t2, "%s%s\n", text, cert) < 0)
			abort();
		refused(t2, "client certificate without its key", "a certificate without its key");
		free(t2);
		free(text);
		text = kc_text("", "    client-key-data: ");
		if (asprintf(&t2, "%s%s\n", text, key) < 0)
			abort();
		refused(t2, "without its key (or a key without its certificate)",
			"a key without its certificate");
		{
			kubeconfig *k2 = NULL;
			char *e2 = NULL;
			parse(NULL, "/x/k.yaml", t2, &k2, &e2);
			ok(e2 && !strstr(e2, "KEYSECRET42") && !strstr(e2, key),
			   "the key never appears in a message");
			free(e2);
			kubeconfig_free(k2);
		}
		free(t2);
	}
	free(text);
	text = kc_text("", "    username: admin\n");
	refused(text, "has no client certificate and no token", "a user with no credentials");
	free(text);
	text = kc_text("    certificate-authority-data: bm90IHBlbQ==\n", "    token: t\n");
	refused(text, "certificate-authority-data of the cluster is not PEM",
		"CA data that is not PEM");
	free(text);
	text = kc_text("    certificate-authority-data: \"!!!\"\n", "    token: t\n");
	refused(text, "is not valid base64", "CA data that is not base64");
	free(text);
	free(put("root/etc/not-pem", "hello\n", 0644));
	text = kc_text("    certificate-authority: /etc/not-pem\n", "    token: t\n");
	r = parse(prefix_path, path, text, &k, &err);
	ok(r == -EINVAL && !k, "kubeconfig: a CA file that is not PEM is refused");
	like(err, "certificate-authority /etc/not-pem of the cluster is not PEM", "... naming it");
	free(err);
	err = NULL;
	free(text);

	refused("a: [b\n", "1:", "a YAML syntax error (with its line)");
	refused("- a\n- b\n", "no mapping at the top", "a list at the top");
	refused("", "no mapping at the top", "an empty file");
	{
		static const char bin[] = "kind: Config\0\n";
		kubeconfig *k2 = NULL;
		char *e2 = NULL;
		r = kubeconfig_parse(NULL, "/x/k.yaml", bin, sizeof(bin) - 1, &k2, &e2);
		ok(r == -EINVAL && !k2, "kubeconfig: a NUL byte is refused");
		like(e2, "binary", "... as binary");
		free(e2);
	}

	r = kubeconfig_load(prefix_path, "/no/such/kubeconfig", &k, &err);
	ok(r == -ENOENT && !k, "kubeconfig_load: a missing file is -ENOENT");
	like(err, "/root/no/such/kubeconfig: ", "... naming it under the prefix");
	free(err);

	free(prefix_path);
	free(path);
	free(ca);
	free(cert);
	free(key);
}

/* --- read_full_file --- */

static void test_read_full_file(void)
{
	char *p = put("rt/file", "0123456789", 0644), *buf = NULL, *d = NULL;
	size_t len = 0;

	ok(read_full_file(p, 10, &buf, &len) == 0 && len == 10 && !strcmp(buf, "0123456789"),
	   "read_full_file: a file of exactly the limit");
	free(buf);
	buf = NULL;
	ok(read_full_file(p, 9, &buf, &len) == -EFBIG && !buf,
	   "read_full_file: one byte more: -EFBIG");
	if (asprintf(&d, "%s/rt", dir) < 0)
		abort();
	ok(read_full_file(d, 100, &buf, &len) == -EISDIR, "read_full_file: a directory: -EISDIR");
	ok(read_full_file("/dev/null", 100, &buf, &len) == -EINVAL,
	   "read_full_file: a device: -EINVAL");
	free(d);
	free(p);
	p = put("rt/empty", "", 0644);
	ok(read_full_file(p, 10, &buf, &len) == 0 && len == 0 && buf && buf[0] == '\0',
	   "read_full_file: an empty file: an empty string");
	free(buf);
	buf = NULL;
	/* a stream longer than the bound (no size to stat): -EFBIG, nothing returned */
	int fds[2];
	if (pipe(fds) < 0 || write(fds[1], "0123456789abcdef", 16) != 16)
		abort();
	close(fds[1]);
	ok(read_full_fd(fds[0], 15, &buf, &len) == -EFBIG && !buf,
	   "read_full_fd: a pipe with one byte more than the bound: -EFBIG");
	close(fds[0]);
	free(p);
}

/* --- kube: what needs no server --- */

static void ready(const char *json, int want, const char *want_why, const char *what)
{
	json_object *o = json_tokener_parse(json);
	const char *why = NULL;
	int r = kube_node_ready(o, &why);

	ok(r == want && why && !strcmp(why, want_why), "kube_node_ready: %s", what);
	if (r != want || !why || strcmp(why, want_why))
		printf("#   got %d \"%s\"\n", r, why ? why : "(null)");
	json_object_put(o);
}

static void test_kube(void)
{
	kubeconfig kc = {.path = (char *)"/k.yaml",
			 .server = (char *)"https://127.0.0.1:1/",
			 .token = (char *)"t"};
	kube_client *c = NULL;
	json_object *node = NULL;
	char *err = NULL;
	static const char *const bad[] = {"",	".",	"..", "a/../b", "-a",  "a-",	".a",
					  "a.", "a..b", "A",  "a_b",	"a/b", "a%2fb", "a b"};

	ready("{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}", 1,
	      "Ready", "Ready True");
	ready("{\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"True\"},"
	      "{\"type\":\"Ready\",\"status\":\"False\",\"message\":\"PLEG is not healthy\"}]}}",
	      0, "PLEG is not healthy", "Ready False, with the kubelet's message");
	ready("{\"status\":{\"conditions\":[{\"type\":null,\"status\":null},"
	      "{\"type\":\"Ready\",\"status\":null,\"message\":null}]}}",
	      0, "Ready is not True", "JSON nulls where strings belong");
	ready("{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":true}]}}", 0,
	      "Ready is not True", "a boolean status is not \"True\"");
	ready("{\"status\":{\"conditions\":{}}}", 0, "the Node has no Ready condition yet",
	      "conditions not a list");
	ready("{}", 0, "the Node has no Ready condition yet", "no status");

	kc.insecure = 1;
	ok(kube_client_new(&kc, 5, &c, &err) == -EPERM && !c,
	   "kube_client_new refuses insecure-skip-tls-verify");
	like(err, "/k.yaml: insecure-skip-tls-verify is set", "... naming the kubeconfig");
	free(err);
	err = NULL;
	kc.insecure = 0;
	if (kube_client_new(&kc, 5, &c, &err) < 0)
		abort();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = kube_get_node(c, bad[i], &node, &err);
		ok(r == -EINVAL && !node,
		   "kube_get_node refuses the node name \"%s\" before any request", bad[i]);
		free(err);
		err = NULL;
	}
	/* a good name gets as far as the request (to a closed port on loopback) */
	{
		int r = kube_get_node(c, "gpu-1.lab", &node, &err);
		ok(r != -EINVAL && r < 0 && !node,
		   "kube_get_node takes \"gpu-1.lab\" to the server (%s)", err ? err : "?");
		free(err);
	}
	kube_client_free(c);
}

/* K3s's own lines (k3s-io/k3s pkg/agent/config/config.go, pkg/etcd/etcd.go) as they reach
 * the journal through logrus, and lines that must not be taken for them. */
static void test_k3s_diagnose(void)
{
	static const char pw[] =
	    "time=\"2026-12-02T10:00:00Z\" level=error msg=\"Node password rejected, "
	    "duplicate hostname or contents of '/etc/rancher/node/password' may not match "
	    "server node-passwd entry, try enabling a unique node name with the --with-node-id "
	    "flag\"";
	static const char etcd[] = "time=\"2026-12-02T10:00:00Z\" level=fatal msg=\"ETCD join "
				   "failed: duplicate node name found, please use a unique name "
				   "for this node\"";
	static const char other[] = "time=\"2026-12-02T10:00:00Z\" level=info msg=\"Waiting to "
				    "retrieve agent configuration; server is not ready\"";
	const char *r;

	r = join_k3s_diagnose(pw, strlen(pw));
	ok(r && strstr(r, "data disk") && strstr(r, "kubectl delete node"),
	   "a refused node password is recognised, with both remedies");
	r = join_k3s_diagnose(etcd, strlen(etcd));
	ok(r && strstr(r, "etcd") && strstr(r, "/var/lib/rancher/k3s/server/db"),
	   "etcd's duplicate node name is recognised, naming the lost state");
	ok(!join_k3s_diagnose(other, strlen(other)), "a line of a K3s still waiting is not final");
	ok(!join_k3s_diagnose(pw, 20), "only the bytes given are read (a line cut short)");
}

/* The label patch of a node whose labels and annotations are NODE_JSON, for a plan wanting
 * KEY=VALUE (owned by OWNER unless NULL), as compact JSON ("" for no patch). */
static char *patch_for(const char *node_json, const char *key, const char *value, const char *owner)
{
	na_plan plan = {0};
	json_object *node = json_tokener_parse(node_json), *p;
	char *out;

	kv_set(&plan.labels, key, value);
	if (owner)
		kv_set(&plan.label_owners, key, owner);
	p = join_label_patch(node, &plan);
	out = strdup(p ? json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE)
		       : "");
	json_object_put(p);
	json_object_put(node);
	kv_free(&plan.labels);
	kv_free(&plan.label_owners);
	return out;
}

/* Who manages a label: nfd-master's feature-labels annotation (bare names in NFD's own
 * namespace, full names elsewhere, an instance's prefixed annotation), GFD's timestamp, the
 * GPU Operator's gpu.deploy.* labels, an amd.com/ label the agent did not set. */
static void test_label_owners(void)
{
	static const struct {
		const char *node, *key, *value, *owner;
		bool patched;
		const char *what;
	} t[] = {
	    {"{}", "nvidia.com/gpu.count", "1", "gpu-feature-discovery", true,
	     "no GFD: the agent sets GFD's key"},
	    {"{\"metadata\":{\"labels\":{\"nvidia.com/gfd.timestamp\":\"1\",\"nvidia.com/gpu.count\":"
	     "\"7\"}}}",
	     "nvidia.com/gpu.count", "1", "gpu-feature-discovery", false,
	     "GFD's timestamp: its value stays"},
	    {"{\"metadata\":{\"labels\":{\"feature.node.kubernetes.io/pci-10de.present\":\"x\"},"
	     "\"annotations\":{\"nfd.node.kubernetes.io/feature-labels\":\"cpu-cpuid.AVX,pci-10de."
	     "present\"}}}",
	     "feature.node.kubernetes.io/pci-10de.present", "true", "node-feature-discovery", false,
	     "NFD lists the bare name: left to NFD"},
	    {"{\"metadata\":{\"labels\":{\"gpu.intel.com/device-id.0300-4692.count\":\"1\"},"
	     "\"annotations\":{\"nfd.node.kubernetes.io/feature-labels\":\"gpu.intel.com/"
	     "device-id.0300-4692.count\"}}}",
	     "gpu.intel.com/device-id.0300-4692.count", "2", "node-feature-discovery", false,
	     "NFD lists a full name of another namespace: left to NFD"},
	    {"{\"metadata\":{\"labels\":{\"feature.node.kubernetes.io/pci-10de.present\":\"x\"},"
	     "\"annotations\":{\"lab.nfd.node.kubernetes.io/feature-labels\":\"pci-10de.present\"}}}",
	     "feature.node.kubernetes.io/pci-10de.present", "true", "node-feature-discovery", false,
	     "an NFD instance's annotation counts too"},
	    {"{\"metadata\":{\"labels\":{\"feature.node.kubernetes.io/pci-10de.present\":\"x\"},"
	     "\"annotations\":{\"xnfd.node.kubernetes.io/feature-labels\":\"pci-10de.present\"}}}",
	     "feature.node.kubernetes.io/pci-10de.present", "true", "node-feature-discovery", true,
	     "an annotation that only ends like NFD's does not"},
	    {"{\"metadata\":{\"annotations\":{\"nfd.node.kubernetes.io/feature-labels\":\"cpu-cpuid."
	     "AVX2\"}}}",
	     "feature.node.kubernetes.io/cpu-cpuid.AVX", "true", "node-feature-discovery", true,
	     "a key NFD does not list stays the agent's"},
	    {"{\"metadata\":{\"labels\":{\"nvidia.com/gpu.deploy.driver\":\"true\"}}}",
	     "nvidia.com/gpu.present", "true", "gpu-operator", false,
	     "the GPU Operator's gpu.deploy.* labels: gpu.present is its"},
	    {"{\"metadata\":{\"labels\":{\"nvidia.com/gpu.deploy.driver\":\"true\"}}}",
	     "nvidia.com/gpu.count", "1", "gpu-feature-discovery", true,
	     "... but GFD's keys are GFD's, not the operator's"},
	    {"{\"metadata\":{\"labels\":{\"amd.com/gpu.family\":\"AI\"},\"annotations\":{\"node-"
	     "agent.io/managed-labels\":\"amd.com/gpu.vram\"}}}",
	     "amd.com/gpu.vram", "16G", "amd-node-labeller", false,
	     "an amd.com/ label the agent did not set: the labeller runs"},
	    {"{\"metadata\":{\"labels\":{\"amd.com/gpu.vram\":\"8G\"},\"annotations\":{\"node-agent."
	     "io/managed-labels\":\"amd.com/gpu.vram\"}}}",
	     "amd.com/gpu.vram", "16G", "amd-node-labeller", true,
	     "only the agent's own amd.com/ labels: no labeller"},
	    {"{\"metadata\":{\"labels\":{\"nvidia.com/gfd.timestamp\":\"1\",\"nvidia.com/gpu.product\":"
	     "\"X\"}}}",
	     "nvidia.com/gpu.product", "mine", NULL, true,
	     "a rule's label with GFD's key (no owner in the plan) is the administrator's: set"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *p = patch_for(t[i].node, t[i].key, t[i].value, t[i].owner);
		bool sets = p && strstr(p, "\"labels\"") && strstr(p, t[i].key);

		ok(p && sets == t[i].patched, "label owners: %s (patch: %s)", t[i].what, p ? p : "?");
		free(p);
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test-join.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %m\n");
		return 1;
	}
	test_base64();
	test_token();
	test_kubeconfig();
	test_read_full_file();
	test_kube();
	test_k3s_diagnose();
	test_label_owners();
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
