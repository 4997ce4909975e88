/* SPDX-License-Identifier: MIT */
/*
 * TEST STAND-IN for the k3s binary, used only by the QEMU end-to-end test (never part of
 * a real image): K3s cannot be downloaded here. Installed as /usr/local/bin/k3s by the
 * test's extra initrd, and started by node-agent as k3s-agent.service or k3s.service over
 * D-Bus. tests/e2e/standin-server-check.sh tests the server mode without QEMU.
 *
 * k3s agent does what a K3s agent does on the wire before its kubelet is Ready, against the
 * K3s double (tests/tools/k3s-double.py) on the host:
 *
 *   1. reads /etc/rancher/k3s/config.yaml (server, token-file, node-name, node-ip, node-label);
 *   2. GET /cacerts without verification and checks its sha256 against the K10 token;
 *   3. like K3s's agent (pkg/agent/config/config.go get, getNodeNamedCrt, ensureNodePassword):
 *      creates /etc/rancher/node (0755) and /etc/rancher/node/password if missing (16 random
 *      bytes as 32 hex digits and a newline, mode 0600), then POSTs a DER certificate request
 *      for a key of its own to /v1-k3s/serving-kubelet.crt and /v1-k3s/client-kubelet.crt with
 *      the token's credentials (basic auth) and the headers K3s-Node-Name, K3s-Node-Password
 *      (the file's contents, trimmed) and K3s-Node-IP (when node-ip is configured). An answer
 *      carrying a key (a server without CSR signing) replaces the local key, as K3s does.
 *      On 403 (password rejected) it logs K3s's line
 *        level=info msg="Waiting to retrieve agent configuration; server is not ready:
 *        <cert file>: Node password rejected, duplicate hostname or contents of
 *        '/etc/rancher/node/password' may not match server node-passwd entry, try enabling
 *        a unique node name with the --with-node-id flag"
 *      to stderr and tries again after 5 to 10 s (K3s: wait.JitterUntilWithContext, period
 *      5 s, jitter 1.0) until it is stopped; READY=1 is never sent meanwhile;
 *   4. writes server-ca.crt, client-kubelet.crt/.key, serving-kubelet.crt/.key and
 *      kubelet.kubeconfig under /var/lib/rancher/k3s/agent/ (the kubeconfig points at the
 *      server directly: there is no local load balancer on 127.0.0.1:6444 here);
 *   5. registers the Node as system:node:<name> (POST /api/v1/nodes, labels from
 *      node-label, taints from node-taint as the kubelet's --register-with-taints) and
 *      reports it Ready (PATCH /api/v1/nodes/<name>/status);
 *   6. READY=1 to systemd (Type=notify, like K3s), then waits to be stopped.
 *
 * k3s server (k3s.service) does what a K3s server does for a node that joins it and for its
 * own reboots (pkg/daemons/control/deps/deps.go, pkg/server, pkg/cluster), reading cluster-init,
 * server, token-file, node-name (default: the host name), node-ip and node-label:
 *
 *   1. with server: set and a K10 token (a server joining a cluster) it checks the cluster's
 *      /cacerts against the token as an agent does (it does not take the cluster's CAs, which
 *      the double does not hand out: its own are made as below);
 *   2. the server CA /var/lib/rancher/k3s/server/tls/server-ca.crt/.key is KEPT when both are
 *      there, parse and belong together, else CREATED: self-signed ECDSA P-256,
 *      CN k3s-server-ca@<unix time>, ten years (key 0600). One line on stderr, with the
 *      sha256 of server-ca.crt as on disk (what a joining node's K10 token pins):
 *        k3s (test stand-in): server CA sha256 <64 hex> kept|created in <that directory>
 *      where <that directory> is /var/lib/rancher/k3s/server/tls;
 *   3. server/token K10<that sha256>::server:<password> (0600), the password being the token
 *      file's (K10: after "::server:" or "::"; else the whole line), without a token file the
 *      existing server/token's, else a random one; server/node-token -> token when missing;
 *   4. the supervisor port, 6443 on all IPv4 addresses (K3S_STANDIN_LISTEN_PORT for local
 *      tests), in a child process killed with the server: HTTPS with a serving certificate
 *      made at each start and signed by the server CA (SANs IP 127.0.0.1, the node IPs, DNS
 *      localhost); GET /cacerts (200 text/plain, server-ca.crt as on disk), GET /ping (200
 *      pong), anything else 404; one connection at a time, 5 s and 8 KiB per request;
 *   5. its embedded agent joins the cluster API given by the environment (k3s.service reads
 *      EnvironmentFile=-/etc/default/k3s; in the QEMU test the K3s double on the host):
 *        K3S_STANDIN_API               its URL, e.g. https://10.0.2.100:6443
 *        K3S_STANDIN_API_TOKEN_FILE    the API's K10 token, used as an agent uses its token
 *        K3S_STANDIN_ADMIN_KUBECONFIG  an admin kubeconfig of the API, copied to
 *                                      /etc/rancher/k3s/k3s.yaml (0600) first
 *      i.e. agent steps 2 to 5 against K3S_STANDIN_API; then, as K3s's server labels its
 *      own Node with admin rights (NodeRestriction refuses node-role.kubernetes.io/ labels
 *      from a kubelet), it merge-patches node-role.kubernetes.io/control-plane=true and
 *      node-role.kubernetes.io/master=true with the admin kubeconfig's credentials (a
 *      failure is logged, not fatal). Without K3S_STANDIN_API it registers nothing;
 *   6. READY=1, then waits to be stopped (or exits 1 if the listener dies).
 *
 * usage: k3s agent|server [--config FILE]
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#define K3S_DIR		   "/var/lib/rancher/k3s"
#define AGENT_DIR	   K3S_DIR "/agent"
#define LOG_PREFIX	   "k3s (test stand-in): "
#define NODE_DIR	   "/etc/rancher/node"
#define NODE_PASSWORD_FILE NODE_DIR "/password"

typedef struct buf {
	char *p;
	size_t n;
} buf;

static size_t sink(char *d, size_t s, size_t n, void *u)
{
	buf *b = u;
	char *np;

	if (b->n + s * n > 1 << 20)
		return 0;
	np = realloc(b->p, b->n + s * n + 1);
	if (!np)
		return 0;
	b->p = np;
	memcpy(b->p + b->n, d, s * n);
	b->n += s * n;
	b->p[b->n] = '\0';
	return s * n;
}

/* One HTTPS request. Files or in-memory PEM for the CA (neither: no verification) and the
 * client certificate; the K3s-Node-* headers are sent when node / password / node_ip are set;
 * a body of body_len bytes (0: strlen) when body is set. */
typedef struct http_req {
	const char *method, *url;
	const char *ca, *cert, *key;
	const buf *ca_pem, *cert_pem, *key_pem;
	const char *bearer, *userpwd, *node, *password, *node_ip, *ctype;
	const char *body;
	size_t body_len;
} http_req;

static struct curl_slist *add_header(struct curl_slist *h, const char *name, const char *value)
{
	char *line = NULL;

	if (value && asprintf(&line, "%s: %s", name, value) >= 0)
		h = curl_slist_append(h, line);
	free(line);
	return h;
}

static void set_blob(CURL *c, CURLoption opt, const buf *b)
{
	struct curl_blob blob = {.data = b->p, .len = b->n, .flags = CURL_BLOB_COPY};

	curl_easy_setopt(c, opt, &blob);
}

/* Returns the HTTP status (0 on transport failure), the body in *out. */
static long http(const http_req *q, buf *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *auth = NULL;
	long code = 0;

	out->p = NULL;
	out->n = 0;
	if (!c)
		return 0;
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (q->ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, q->ca);
	else if (q->ca_pem)
		set_blob(c, CURLOPT_CAINFO_BLOB, q->ca_pem);
	else {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (q->cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, q->cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, q->key);
	} else if (q->cert_pem && q->key_pem) {
		set_blob(c, CURLOPT_SSLCERT_BLOB, q->cert_pem);
		set_blob(c, CURLOPT_SSLKEY_BLOB, q->key_pem);
	}
	if (q->userpwd) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, q->userpwd);
	}
	if (q->bearer && asprintf(&auth, "Bearer %s", q->bearer) >= 0)
		h = add_header(h, "Authorization", auth);
	h = add_header(h, "K3s-Node-Name", q->node);
	h = add_header(h, "K3s-Node-Password", q->password);
	h = add_header(h, "K3s-Node-IP", q->node_ip);
	h = add_header(h, "Content-Type", q->ctype);
	h = add_header(h, "Accept", "application/json");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (q->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
				 (long)(q->body_len ? q->body_len : strlen(q->body)));
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(auth);
	return code;
}

static int write_file(const char *path, const char *data, size_t n, mode_t mode)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fchmod(fileno(f), mode);
	if (fwrite(data, 1, n, f) != n) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) == 0 ? 0 : -errno;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	buf b = {0};
	char tmp[4096];
	size_t k;

	if (!f)
		return NULL;
	while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0 && b.n < 1 << 20)
		sink(tmp, 1, k, &b);
	fclose(f);
	return b.p ? b.p : strdup("");
}

typedef struct k3s_config {
	char *server, *token_file, *node_name, *node_ip;
	bool cluster_init; /* read; the stand-in's server behaves the same either way */
	char *labels_json; /* {"k":"v",...} */
	char *taints_json; /* [{"key":"k","value":"v","effect":"E"},...] from node-taint */
} k3s_config;

/* PATH parsed into D (yaml_document_delete it). 0 or -errno. */
static int load_yaml(const char *path, yaml_document_t *d)
{
	char *text = read_all(path);
	yaml_parser_t p;
	int ok;

	if (!text)
		return -errno;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (unsigned char *)text, strlen(text));
	ok = yaml_parser_load(&p, d);
	yaml_parser_delete(&p);
	free(text);
	return ok ? 0 : -EINVAL;
}

static int read_config(const char *path, k3s_config *c)
{
	yaml_document_t d;
	yaml_node_t *root;
	buf lj = {0};
	int r = load_yaml(path, &d);

	if (r < 0)
		return r;
	sink("{", 1, 1, &lj);
	root = yaml_document_get_root_node(&d);
	for (yaml_node_pair_t *a =
		 root && root->type == YAML_MAPPING_NODE ? root->data.mapping.pairs.start : NULL;
	     a && a < root->data.mapping.pairs.top; a++) {
		yaml_node_t *k = yaml_document_get_node(&d, a->key);
		yaml_node_t *v = yaml_document_get_node(&d, a->value);
		const char *key = (const char *)k->data.scalar.value;
		if (v->type == YAML_SCALAR_NODE) {
			char *s = strdup((const char *)v->data.scalar.value);
			if (!strcmp(key, "server"))
				c->server = s;
			else if (!strcmp(key, "token-file"))
				c->token_file = s;
			else if (!strcmp(key, "node-name"))
				c->node_name = s;
			else if (!strcmp(key, "node-ip"))
				c->node_ip = s;
			else {
				if (!strcmp(key, "cluster-init"))
					c->cluster_init = !strcasecmp(s, "true");
				free(s);
			}
		} else if (v->type == YAML_SEQUENCE_NODE && !strcmp(key, "node-taint")) {
			/* key[=value]:Effect, as the kubelet's --register-with-taints takes them */
			buf tj = {0};
			sink("[", 1, 1, &tj);
			for (yaml_node_item_t *i = v->data.sequence.items.start;
			     i < v->data.sequence.items.top; i++) {
				const char *t =
				    (const char *)yaml_document_get_node(&d, *i)->data.scalar.value;
				const char *colon = strrchr(t, ':'), *eq;
				char *item = NULL;
				if (!colon)
					continue;
				eq = memchr(t, '=', (size_t)(colon - t));
				if (asprintf(&item, "%s{\"key\":\"%.*s\",%s%.*s%s\"effect\":\"%s\"}",
					     tj.n > 1 ? "," : "", (int)((eq ? eq : colon) - t), t,
					     eq ? "\"value\":\"" : "", eq ? (int)(colon - eq - 1) : 0,
					     eq ? eq + 1 : "", eq ? "\"," : "", colon + 1) >= 0)
					sink(item, 1, strlen(item), &tj);
				free(item);
			}
			sink("]", 1, 1, &tj);
			free(c->taints_json);
			c->taints_json = tj.p;
		} else if (v->type == YAML_SEQUENCE_NODE && !strcmp(key, "node-label")) {
			for (yaml_node_item_t *i = v->data.sequence.items.start;
			     i < v->data.sequence.items.top; i++) {
				const char *kv =
				    (const char *)yaml_document_get_node(&d, *i)->data.scalar.value;
				const char *eq = strchr(kv, '=');
				char *item = NULL;
				if (!eq)
					continue;
				/* label keys and values have no characters JSON must escape */
				if (asprintf(&item, "%s\"%.*s\":\"%s\"", lj.n > 1 ? "," : "",
					     (int)(eq - kv), kv, eq + 1) >= 0)
					sink(item, 1, strlen(item), &lj);
				free(item);
			}
		}
	}
	sink("}", 1, 1, &lj);
	c->labels_json = lj.p;
	yaml_document_delete(&d);
	return 0;
}

static void sha256_hex(const char *data, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* 16 random bytes as 32 hex digits */
static int random_hex(char hex[33])
{
	unsigned char raw[16];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* KEY as PEM in PATH, mode 0600 */
static int write_key(const char *path, EVP_PKEY *key)
{
	FILE *f = fopen(path, "we");
	int ok;

	if (!f)
		return -1;
	fchmod(fileno(f), 0600);
	ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* K3s pkg/agent/config/config.go ensureNodePassword: the existing file's contents, trimmed;
 * else 16 random bytes as hex, written with a newline, mode 0600 (get() made the 0755
 * directory). NULL on failure. */
static char *ensure_node_password(void)
{
	char *pw = read_all(NODE_PASSWORD_FILE), hex[33];
	size_t n;

	if (pw) {
		n = strlen(pw);
		while (n > 0 && strchr(" \t\r\n", pw[n - 1]))
			pw[--n] = '\0';
		return pw;
	}
	if (random_hex(hex) < 0 || asprintf(&pw, "%s\n", hex) < 0)
		return NULL;
	if (write_file(NODE_PASSWORD_FILE, pw, strlen(pw), 0600) < 0) {
		free(pw);
		return NULL;
	}
	pw[32] = '\0';
	return pw;
}

/* K3s getCSRBytes: load the key file or make an ECDSA P-256 key (written PEM, 0600), and a DER
 * certificate request with an empty subject for it. Returns the DER length, 0 on failure. */
static size_t csr_for_key(const char *keyfile, unsigned char **der)
{
	EVP_PKEY *pk = NULL;
	X509_REQ *req = NULL;
	FILE *f = fopen(keyfile, "re");
	int n = 0;

	*der = NULL;
	if (f) {
		pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!pk) {
		pk = EVP_EC_gen("P-256");
		if (!pk || write_key(keyfile, pk) < 0) {
			EVP_PKEY_free(pk);
			return 0;
		}
	}
	req = X509_REQ_new();
	if (req && X509_REQ_set_version(req, 0) && X509_REQ_set_pubkey(req, pk) &&
	    X509_REQ_sign(req, pk, EVP_sha256()) > 0)
		n = i2d_X509_REQ(req, der);
	X509_REQ_free(req);
	EVP_PKEY_free(pk);
	return n > 0 ? (size_t)n : 0;
}

/* K3s splitCertKeyPEM: certificates to certfile; a key in the answer (a server that did not
 * sign the request) replaces keyfile. */
static int save_cert_answer(const char *certfile, const char *keyfile, const buf *r)
{
	const char *k = strstr(r->p, "-----BEGIN EC PRIVATE KEY-----");

	if (!k)
		k = strstr(r->p, "-----BEGIN PRIVATE KEY-----");
	if (write_file(certfile, r->p, k ? (size_t)(k - r->p) : r->n, 0600) < 0)
		return -1;
	return k ? write_file(keyfile, k, strlen(k), 0600) : 0;
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
	stop = 1;
}

static void log_time(char ts[32])
{
	time_t now = time(NULL);

	strftime(ts, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
}

/* K3s getKubeletServingCert / getKubeletClientCert via getNodeNamedCrt: POST the request with
 * the node name, password and IP. Returns the HTTP status (200 done). */
static long node_named_cert(const char *server, const char *which, const char *userpwd,
			    const char *node, const char *node_ip)
{
	char *url = NULL, *certfile = NULL, *keyfile = NULL, *pw;
	unsigned char *der = NULL;
	size_t der_n;
	long code = 0;
	buf r = {0};

	if (asprintf(&certfile, AGENT_DIR "/%s-kubelet.crt", which) < 0 ||
	    asprintf(&keyfile, AGENT_DIR "/%s-kubelet.key", which) < 0 ||
	    asprintf(&url, "%s/v1-k3s/%s-kubelet.crt", server, which) < 0)
		goto out;
	der_n = csr_for_key(keyfile, &der);
	pw = ensure_node_password();
	if (der_n && pw)
		code = http(&(http_req){.method = "POST",
					.url = url,
					.ca = AGENT_DIR "/server-ca.crt",
					.userpwd = userpwd,
					.node = node,
					.password = pw,
					.node_ip = node_ip,
					.body = (const char *)der,
					.body_len = der_n},
			    &r);
	free(pw);
	if (code == 200 && (!r.p || !strstr(r.p, "-----BEGIN CERTIFICATE-----") ||
			    save_cert_answer(certfile, keyfile, &r) < 0))
		code = 0;
	if (code == 403) {
		char ts[32];

		log_time(ts);
		fprintf(
		    stderr,
		    "time=\"%s\" level=info msg=\"Waiting to retrieve agent configuration; server "
		    "is "
		    "not ready: %s: Node password rejected, duplicate hostname or contents of '%s' "
		    "may not match server node-passwd entry, try enabling a unique node name with "
		    "the --with-node-id flag\"\n",
		    ts, certfile, NODE_PASSWORD_FILE);
	} else if (code != 200)
		fprintf(stderr, LOG_PREFIX "POST /v1-k3s/%s-kubelet.crt: HTTP %ld %s\n", which,
			code, r.p ? r.p : "");
out:
	OPENSSL_free(der);
	free(r.p);
	free(url);
	free(certfile);
	free(keyfile);
	return code;
}

/* A K10 token from PATH (first line): *ret_creds points after its "::". NULL on failure. */
static char *read_k10_token(const char *path, const char **ret_creds)
{
	char *token = read_all(path), *sep;

	if (!token) {
		fprintf(stderr, LOG_PREFIX "token file %s: %m\n", path);
		return NULL;
	}
	token[strcspn(token, "\r\n")] = '\0';
	sep = strstr(token, "::");
	if (strncmp(token, "K10", 3) || !sep || sep - token != 67) {
		fprintf(stderr, LOG_PREFIX "only K10 secure tokens are supported\n");
		free(token);
		return NULL;
	}
	*ret_creds = sep + 2;
	return token;
}

/* pkg/clientaccess: GET /cacerts without verification, its sha256 must be the token's. The
 * bundle is saved to SAVE_TO when set. 0 or -1. */
static int check_cacerts(const char *server, const char *token, const char *save_to)
{
	char *url = NULL, hash[65];
	buf r;
	long code;
	int ret = -1;

	if (asprintf(&url, "%s/cacerts", server) < 0)
		return -1;
	code = http(&(http_req){.method = "GET", .url = url}, &r);
	if (code != 200 || !r.p)
		fprintf(stderr, LOG_PREFIX "GET %s: HTTP %ld\n", url, code);
	else {
		sha256_hex(r.p, r.n, hash);
		if (strncmp(token + 3, hash, 64))
			fprintf(stderr, LOG_PREFIX "CA hash %s of %s does not match the token\n",
				hash, url);
		else
			ret = save_to ? write_file(save_to, r.p, r.n, 0644) : 0;
	}
	free(r.p);
	free(url);
	return ret < 0 ? -1 : 0;
}

/* 3. the kubelet's certificates: node password, CSR, retried while the password is refused.
 * 0 done, 1 stopped, -1 failed. */
static int kubelet_certs(const char *server, const char *creds, const k3s_config *c)
{
	char *userpwd = NULL;
	long code = 0;

	if (strchr(creds, ':') ? asprintf(&userpwd, "%s", creds) < 0
			       : asprintf(&userpwd, "node:%s", creds) < 0) /* K3s's user "node" */
		return -1;
	mkdir("/etc/rancher", 0755);
	if (mkdir(NODE_DIR, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, LOG_PREFIX "%s: %m\n", NODE_DIR);
		free(userpwd);
		return -1;
	}
	while (!stop) {
		code = node_named_cert(server, "serving", userpwd, c->node_name, c->node_ip);
		if (code == 200)
			code = node_named_cert(server, "client", userpwd, c->node_name, c->node_ip);
		if (code != 403)
			break;
		/* wait.JitterUntilWithContext(5 s, jitter 1.0): 5 to 10 s; a signal cuts it short
		 */
		for (int ms = 5000 + (int)(random() % 5000); ms > 0 && !stop; ms -= 100)
			usleep(100 * 1000);
	}
	free(userpwd);
	return stop ? 1 : code == 200 ? 0 : -1;
}

/* 4. the kubelet's kubeconfig, as K3s writes it (file references) */
static void write_kubelet_kubeconfig(const char *server)
{
	char *kc = NULL;

	if (asprintf(&kc,
		     "apiVersion: v1\nclusters:\n- cluster:\n    server: %s\n"
		     "    certificate-authority: " AGENT_DIR "/server-ca.crt\n  name: local\n"
		     "contexts:\n- context:\n    cluster: local\n    namespace: default\n"
		     "    user: user\n  name: Default\ncurrent-context: Default\nkind: Config\n"
		     "preferences: {}\nusers:\n- name: user\n  user:\n"
		     "    client-certificate: " AGENT_DIR "/client-kubelet.crt\n"
		     "    client-key: " AGENT_DIR "/client-kubelet.key\n",
		     server) >= 0)
		write_file(AGENT_DIR "/kubelet.kubeconfig", kc, strlen(kc), 0600);
	free(kc);
}

/* A request to the API as the kubelet (system:node:<name>); 0 when the status is OK or OK2. */
static int kubelet_call(const char *method, const char *url, const char *ctype, const char *body,
			long ok, long ok2, const char *what)
{
	buf r;
	long code = http(&(http_req){.method = method,
				     .url = url,
				     .ca = AGENT_DIR "/server-ca.crt",
				     .cert = AGENT_DIR "/client-kubelet.crt",
				     .key = AGENT_DIR "/client-kubelet.key",
				     .ctype = ctype,
				     .body = body},
			 &r);

	if (code != ok && code != ok2)
		fprintf(stderr, LOG_PREFIX "%s: HTTP %ld %s\n", what, code, r.p ? r.p : "");
	free(r.p);
	return code == ok || code == ok2 ? 0 : -1;
}

/* The first line of PATH in BUF ("" when it cannot be read). */
static void first_line(const char *path, char *line, size_t size)
{
	FILE *f = fopen(path, "re");

	line[0] = '\0';
	if (!f)
		return;
	if (!fgets(line, (int)size, f))
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	fclose(f);
}

/* 5. register and report Ready, as system:node:<name>. 0 or -1. */
static int register_node(const char *server, const k3s_config *c)
{
	/* the kubelet posts this boot's ID and the machine's SMBIOS UUID with its status
	 * (nodestatus MachineInfo: cadvisor's BootID and SystemUUID, the latter read from
	 * /sys/class/dmi/id/product_uuid) */
	char ts[32], boot_id[64], system_uuid[64], *body = NULL, *url = NULL;
	int r = -1;

	first_line("/proc/sys/kernel/random/boot_id", boot_id, sizeof(boot_id));
	first_line("/sys/class/dmi/id/product_uuid", system_uuid, sizeof(system_uuid));
	if (strspn(system_uuid, "0123456789abcdefABCDEF-") != strlen(system_uuid))
		system_uuid[0] = '\0';
	if (asprintf(&body,
		     "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\","
		     "\"labels\":%s},\"spec\":{\"taints\":%s}}",
		     c->node_name, c->labels_json, c->taints_json ? c->taints_json : "[]") < 0 ||
	    asprintf(&url, "%s/api/v1/nodes", server) < 0)
		goto out;
	if (kubelet_call("POST", url, "application/json", body, 201, 409, "register node") < 0)
		goto out;
	free(url);
	free(body);
	url = body = NULL;
	log_time(ts);
	if (asprintf(&body,
		     "{\"status\":{\"nodeInfo\":{\"bootID\":\"%s\",\"systemUUID\":\"%s\"},"
		     "\"conditions\":[{\"type\":"
		     "\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"message\":"
		     "\"kubelet is posting ready status (test stand-in)\",\"lastHeartbeatTime\":"
		     "\"%s\",\"lastTransitionTime\":\"%s\"}]}}",
		     boot_id, system_uuid, ts, ts) < 0 ||
	    asprintf(&url, "%s/api/v1/nodes/%s/status", server, c->node_name) < 0)
		goto out;
	r = kubelet_call("PATCH", url, "application/strategic-merge-patch+json", body, 200, 200,
			 "node status");
	if (r == 0)
		fprintf(stderr, LOG_PREFIX "node %s registered and Ready at %s\n", c->node_name,
			server);
out:
	free(url);
	free(body);
	return r;
}

/* Steps 2 to 5 against the cluster's API at SERVER with the token in TOKEN_FILE: what a K3s
 * agent does, and a K3s server's embedded agent. 0 registered, 1 stopped, -1 failed. */
static int join_as_kubelet(const char *server, const char *token_file, const k3s_config *c)
{
	const char *creds;
	char *token = read_k10_token(token_file, &creds);
	int r = -1;

	if (!token)
		return -1;
	mkdir("/var/lib/rancher", 0755);
	mkdir(K3S_DIR, 0755);
	mkdir(AGENT_DIR, 0755);
	if (check_cacerts(server, token, AGENT_DIR "/server-ca.crt") == 0)
		r = kubelet_certs(server, creds, c);
	free(token);
	if (r != 0)
		return r;
	write_kubelet_kubeconfig(server);
	return register_node(server, c);
}

/* 6. READY=1 to systemd (Type=notify, like K3s), then wait to be stopped; a CHILD that
 * exits (the server's listener) ends the wait too. 0 stopped, -1 child gone. */
static int notify_and_wait(const char *status, pid_t child)
{
	char *msg = NULL;

	if (asprintf(&msg, "READY=1\nSTATUS=test stand-in: %s", status) >= 0)
		sd_notify(0, msg);
	free(msg);
	while (!stop) {
		if (child > 0 && waitpid(child, NULL, WNOHANG) == child) {
			fprintf(stderr, LOG_PREFIX "the HTTPS listener exited\n");
			return -1;
		}
		sleep(1);
	}
	return 0;
}

static int cmd_agent(const k3s_config *c, const char *cfgpath)
{
	int r;

	if (!c->server || !c->token_file || !c->node_name) {
		fprintf(stderr, LOG_PREFIX "%s: need server, token-file, node-name\n", cfgpath);
		return 1;
	}
	r = join_as_kubelet(c->server, c->token_file, c);
	if (r != 0)
		return r < 0 ? 1 : 0;
	return notify_and_wait("node registered", 0) < 0 ? 1 : 0;
}

/* --- k3s server --- */

#define SERVER_DIR	 K3S_DIR "/server"
#define TLS_DIR		 SERVER_DIR "/tls"
#define ADMIN_KUBECONFIG "/etc/rancher/k3s/k3s.yaml"

typedef struct cert_ext {
	int nid;
	const char *value; /* OpenSSL's config syntax, e.g. "critical,CA:TRUE" */
} cert_ext;

/* A certificate for KEY with subject [O=o,] CN=cn, issued by ISSUER (NULL: self-signed) and
 * signed with SIGNER, valid from an hour ago for DAYS days, with EXTS (ending in nid 0). */
static X509 *make_cert(EVP_PKEY *key, const char *o, const char *cn, X509 *issuer, EVP_PKEY *signer,
		       long days, const cert_ext *exts)
{
	X509 *crt = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *serial = BN_new();
	X509V3_CTX ctx;
	bool ok = crt && name && serial && X509_set_version(crt, 2) &&
		  BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
		  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(crt)) &&
		  (!o || X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
						    (const unsigned char *)o, -1, -1, 0)) &&
		  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
					     -1, -1, 0) &&
		  X509_set_subject_name(crt, name) &&
		  X509_set_issuer_name(crt, issuer ? X509_get_subject_name(issuer) : name) &&
		  X509_gmtime_adj(X509_getm_notBefore(crt), -3600) &&
		  X509_gmtime_adj(X509_getm_notAfter(crt), days * 86400) &&
		  X509_set_pubkey(crt, key);

	X509V3_set_ctx(&ctx, issuer ? issuer : crt, crt, NULL, NULL, 0);
	for (const cert_ext *e = exts; ok && e->nid; e++) {
		X509_EXTENSION *x = X509V3_EXT_conf_nid(NULL, &ctx, e->nid, e->value);

		ok = x && X509_add_ext(crt, x, -1);
		X509_EXTENSION_free(x);
	}
	ok = ok && X509_sign(crt, signer, EVP_sha256()) > 0;
	BN_free(serial);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(crt);
		return NULL;
	}
	return crt;
}

typedef struct server_ca {
	X509 *crt;
	EVP_PKEY *key;
	char *pem; /* server-ca.crt as on disk: what /cacerts serves and the token hashes */
} server_ca;

static void server_ca_done(server_ca *ca)
{
	X509_free(ca->crt);
	EVP_PKEY_free(ca->key);
	free(ca->pem);
	*ca = (server_ca){0};
}

/* server/tls/server-ca.crt and .key as K3s left them: 0 when both parse and belong together */
static int load_server_ca(server_ca *ca)
{
	FILE *f = fopen(TLS_DIR "/server-ca.key", "re");
	BIO *b;

	ca->pem = read_all(TLS_DIR "/server-ca.crt");
	if (f) {
		ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	b = ca->pem ? BIO_new_mem_buf(ca->pem, -1) : NULL;
	ca->crt = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (ca->crt && ca->key && X509_check_private_key(ca->crt, ca->key) == 1)
		return 0;
	server_ca_done(ca);
	return -1;
}

/* K3s deps.go genServerCA on first start: a self-signed ECDSA P-256 CA
 * "k3s-server-ca@<unix time>", ten years, key written before the certificate. */
static int create_server_ca(server_ca *ca)
{
	static const cert_ext exts[] = {
	    {NID_basic_constraints, "critical,CA:TRUE"},
	    {NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign"},
	    {NID_subject_key_identifier, "hash"},
	    {0, NULL}};
	char cn[64];
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m = NULL;
	int r = -1;

	snprintf(cn, sizeof(cn), "k3s-server-ca@%lld", (long long)time(NULL));
	ca->key = EVP_EC_gen("P-256");
	ca->crt = ca->key ? make_cert(ca->key, NULL, cn, NULL, ca->key, 3650, exts) : NULL;
	if (b && ca->crt && PEM_write_bio_X509(b, ca->crt) && BIO_get_mem_ptr(b, &m) > 0)
		ca->pem = strndup(m->data, m->length);
	if (ca->pem && write_key(TLS_DIR "/server-ca.key", ca->key) == 0)
		r = write_file(TLS_DIR "/server-ca.crt", ca->pem, strlen(ca->pem), 0644);
	BIO_free(b);
	if (r < 0)
		server_ca_done(ca);
	return r < 0 ? -1 : 0;
}

/* The password part of server/token: the token file's (K10: after "::server:" or "::", else
 * the whole line); without one, the existing server/token's, else a new random one. */
static char *server_password(const char *token_file)
{
	char *line = read_all(token_file ? token_file : SERVER_DIR "/token"), *p, *sep, *pw;
	char hex[33];

	if (!line && token_file) {
		fprintf(stderr, LOG_PREFIX "token file %s: %m\n", token_file);
		return NULL;
	}
	if (line) {
		line[strcspn(line, "\r\n")] = '\0';
		p = line;
		sep = strncmp(line, "K10", 3) ? NULL : strstr(line, "::");
		if (sep)
			p = strncmp(sep, "::server:", 9) ? sep + 2 : sep + 9;
		pw = *p ? strdup(p) : NULL;
		free(line);
		if (pw || token_file)
			return pw;
	}
	return random_hex(hex) == 0 ? strdup(hex) : NULL;
}

/* server/token K10<sha256 of server-ca.crt>::server:<password> (0600) and node-token, a
 * symlink to it, when missing */
static int write_server_token(const char *hash, const char *password)
{
	char *tok = NULL;
	int r;

	if (asprintf(&tok, "K10%s::server:%s\n", hash, password) < 0)
		return -1;
	r = write_file(SERVER_DIR "/token", tok, strlen(tok), 0600);
	free(tok);
	if (r == 0 && symlink("token", SERVER_DIR "/node-token") < 0 && errno != EEXIST)
		r = -errno;
	return r;
}

/* The supervisor's TLS: a fresh serving certificate signed by the server CA, SANs IP
 * 127.0.0.1, the node IPs and DNS localhost. */
static SSL_CTX *serving_ctx(const server_ca *ca, const char *node_ip)
{
	char *san = strdup("IP:127.0.0.1,DNS:localhost"), *ips = node_ip ? strdup(node_ip) : NULL;
	char *save = NULL, *more = NULL;
	unsigned char addr[16];
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *leaf = NULL;
	SSL_CTX *ctx = NULL;

	for (char *ip = ips ? strtok_r(ips, ", ", &save) : NULL; ip && san;
	     ip = strtok_r(NULL, ", ", &save)) {
		if (inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1)
			continue;
		if (asprintf(&more, "%s,IP:%s", san, ip) < 0)
			more = NULL;
		free(san);
		san = more;
	}
	if (san && key) {
		const cert_ext exts[] = {
		    {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
		    {NID_ext_key_usage, "serverAuth"},
		    {NID_authority_key_identifier, "keyid"},
		    {NID_subject_alt_name, san},
		    {0, NULL}};

		leaf = make_cert(key, "k3s", "k3s", ca->crt, ca->key, 365, exts);
	}
	ctx = leaf ? SSL_CTX_new(TLS_server_method()) : NULL;
	if (ctx &&
	    (SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	     SSL_CTX_add1_chain_cert(ctx, ca->crt) != 1)) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	X509_free(leaf);
	EVP_PKEY_free(key);
	free(ips);
	free(san);
	return ctx;
}

static void reply(SSL *s, const char *status, const char *ctype, const char *body)
{
	char *msg = NULL;
	int n = asprintf(&msg,
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 status, ctype, strlen(body), body);

	if (n > 0)
		SSL_write(s, msg, n);
	free(msg);
}

/* One connection: TLS, one request (headers up to 8 KiB within 5 s), one answer, close.
 * K3s's supervisor routes without authentication: /cacerts and /ping. */
static void serve_conn(SSL_CTX *ctx, int fd, const char *ca_pem)
{
	struct timeval tv = {.tv_sec = 5};
	char rq[8192], path[256] = "";
	time_t t0 = time(NULL);
	size_t n = 0;
	int k;
	SSL *s = SSL_new(ctx);

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!s || SSL_set_fd(s, fd) != 1 || SSL_accept(s) != 1)
		goto out;
	rq[0] = '\0';
	while (n < sizeof(rq) - 1 && !strstr(rq, "\r\n\r\n") && time(NULL) - t0 < 5 &&
	       (k = SSL_read(s, rq + n, (int)(sizeof(rq) - 1 - n))) > 0) {
		n += (size_t)k;
		rq[n] = '\0';
	}
	if (sscanf(rq, "GET %255s HTTP/1.", path) == 1)
		path[strcspn(path, "?")] = '\0';
	if (!strstr(rq, "\r\n\r\n"))
		reply(s, "400 Bad Request", "text/plain; charset=utf-8", "400 Bad Request");
	else if (!strcmp(path, "/cacerts"))
		reply(s, "200 OK", "text/plain", ca_pem);
	else if (!strcmp(path, "/ping"))
		reply(s, "200 OK", "text/plain; charset=utf-8", "pong");
	else
		reply(s, "404 Not Found", "text/plain; charset=utf-8", "404 page not found\n");
	SSL_shutdown(s);
out:
	SSL_free(s);
	close(fd);
}

/* K3s's supervisor port (6443 on all IPv4 addresses; K3S_STANDIN_LISTEN_PORT for local
 * tests) in a child process, one connection at a time. Its pid, or -1. */
static pid_t start_supervisor(const server_ca *ca, const char *node_ip)
{
	const char *ps = getenv("K3S_STANDIN_LISTEN_PORT");
	long port = ps ? strtol(ps, NULL, 10) : 6443;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
	SSL_CTX *ctx = serving_ctx(ca, node_ip);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t parent = getpid(), pid = -1;

	a.sin_port = htons((uint16_t)port);
	if (!ctx || fd < 0 || port <= 0 || port > 65535 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0)
		fprintf(stderr, LOG_PREFIX "listen on port %ld: %s\n", port,
			ctx ? strerror(errno) : "no serving certificate");
	else
		pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		while (getppid() == parent) {
			int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0)
				serve_conn(ctx, c, ca->pem);
			else if (errno != EINTR && errno != ECONNABORTED)
				usleep(100 * 1000);
		}
		_exit(0);
	}
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	return pid;
}

/* K3s writes /etc/rancher/k3s/k3s.yaml (0600); here: the cluster API's admin kubeconfig */
static int install_admin_kubeconfig(const char *src)
{
	char *kc = read_all(src);
	int r;

	if (!kc) {
		fprintf(stderr, LOG_PREFIX "admin kubeconfig %s: %m\n", src);
		return -1;
	}
	mkdir("/etc/rancher", 0755);
	mkdir("/etc/rancher/k3s", 0755);
	r = write_file(ADMIN_KUBECONFIG, kc, strlen(kc), 0600);
	if (r < 0)
		fprintf(stderr, LOG_PREFIX "%s: %s\n", ADMIN_KUBECONFIG, strerror(-r));
	free(kc);
	return r;
}

/* A kubeconfig's credentials: the first of each key anywhere in it (one cluster, one user) */
typedef struct kube_creds {
	char *ca_file, *cert_file, *key_file, *token;
	buf ca, cert, key;
} kube_creds;

static void b64_decode(const char *s, buf *out)
{
	size_t n = strlen(s);
	int k;

	out->p = malloc(n / 4 * 3 + 4);
	k = out->p ? EVP_DecodeBlock((unsigned char *)out->p, (const unsigned char *)s, (int)n)
		   : -1;
	if (k < 0) {
		free(out->p);
		out->p = NULL;
		return;
	}
	while (n > 0 && s[n - 1] == '=' && k > 0)
		n--, k--;
	out->n = (size_t)k;
	out->p[k] = '\0';
}

static void kube_cred(kube_creds *k, const char *key, const char *v)
{
	if (!strcmp(key, "certificate-authority-data") && !k->ca.p)
		b64_decode(v, &k->ca);
	else if (!strcmp(key, "client-certificate-data") && !k->cert.p)
		b64_decode(v, &k->cert);
	else if (!strcmp(key, "client-key-data") && !k->key.p)
		b64_decode(v, &k->key);
	else if (!strcmp(key, "certificate-authority") && !k->ca_file)
		k->ca_file = strdup(v);
	else if (!strcmp(key, "client-certificate") && !k->cert_file)
		k->cert_file = strdup(v);
	else if (!strcmp(key, "client-key") && !k->key_file)
		k->key_file = strdup(v);
	else if (!strcmp(key, "token") && !k->token)
		k->token = strdup(v);
}

static int read_kube_creds(const char *path, kube_creds *k)
{
	yaml_document_t d;
	int r = load_yaml(path, &d);

	if (r < 0)
		return r;
	for (yaml_node_t *n = d.nodes.start; n < d.nodes.top; n++)
		for (yaml_node_pair_t *a =
			 n->type == YAML_MAPPING_NODE ? n->data.mapping.pairs.start : NULL;
		     a && a < n->data.mapping.pairs.top; a++) {
			yaml_node_t *key = yaml_document_get_node(&d, a->key);
			yaml_node_t *v = yaml_document_get_node(&d, a->value);

			if (key->type == YAML_SCALAR_NODE && v->type == YAML_SCALAR_NODE)
				kube_cred(k, (const char *)key->data.scalar.value,
					  (const char *)v->data.scalar.value);
		}
	yaml_document_delete(&d);
	return 0;
}

/* K3s's server labels its own Node with its controller's admin rights (a kubelet may not
 * set node-role.kubernetes.io/ labels: NodeRestriction); here with the admin kubeconfig's. */
static int label_server_roles(const char *api, const char *node)
{
	kube_creds k = {0};
	char *url = NULL;
	buf r = {0};
	long code = 0;

	if (read_kube_creds(ADMIN_KUBECONFIG, &k) == 0 &&
	    asprintf(&url, "%s/api/v1/nodes/%s", api, node) >= 0)
		code =
		    http(&(http_req){.method = "PATCH",
				     .url = url,
				     .ca = k.ca_file,
				     .ca_pem = k.ca.p ? &k.ca : NULL,
				     .cert = k.cert_file,
				     .key = k.key_file,
				     .cert_pem = k.cert.p ? &k.cert : NULL,
				     .key_pem = k.key.p ? &k.key : NULL,
				     .bearer = k.token,
				     .ctype = "application/merge-patch+json",
				     .body = "{\"metadata\":{\"labels\":{"
					     "\"node-role.kubernetes.io/control-plane\":\"true\","
					     "\"node-role.kubernetes.io/master\":\"true\"}}}"},
			 &r);
	if (code == 200)
		fprintf(stderr,
			LOG_PREFIX "node %s labelled node-role.kubernetes.io/control-plane and "
				   "master (admin kubeconfig)\n",
			node);
	else
		fprintf(stderr, LOG_PREFIX "server role labels: HTTP %ld %s\n", code,
			r.p ? r.p : "");
	free(r.p);
	free(url);
	free(k.ca_file);
	free(k.cert_file);
	free(k.key_file);
	free(k.token);
	free(k.ca.p);
	free(k.cert.p);
	free(k.key.p);
	return code == 200 ? 0 : -1;
}

/* A server joining a cluster (server: set) checks the cluster's CA against a K10 token, as an
 * agent does; K3s would then take the cluster's CAs, which the double does not hand out. */
static int check_join_server(const k3s_config *c)
{
	const char *creds;
	char *head = c->server && c->token_file ? read_all(c->token_file) : NULL, *token = NULL;
	int r = 0;

	if (head && !strncmp(head, "K10", 3)) {
		token = read_k10_token(c->token_file, &creds);
		r = token ? check_cacerts(c->server, token, NULL) : -1;
	}
	free(head);
	free(token);
	return r;
}

/* The CA (kept or created), the token, the supervisor port; then the embedded agent against
 * the cluster API of K3S_STANDIN_API. 0 ready, 1 stopped, -1 failed; *ret_pid the listener. */
static int server_start(const k3s_config *c, pid_t *ret_pid)
{
	const char *api = getenv("K3S_STANDIN_API");
	const char *api_token = getenv("K3S_STANDIN_API_TOKEN_FILE");
	const char *admin = getenv("K3S_STANDIN_ADMIN_KUBECONFIG");
	server_ca ca = {0};
	bool kept;
	char hash[65], *pw = NULL;
	int r = -1;

	if (api && !api_token) {
		fprintf(stderr, LOG_PREFIX "K3S_STANDIN_API needs K3S_STANDIN_API_TOKEN_FILE\n");
		return -1;
	}
	if (check_join_server(c) < 0)
		return -1;
	mkdir("/var/lib/rancher", 0755);
	mkdir(K3S_DIR, 0755);
	mkdir(SERVER_DIR, 0700);
	mkdir(TLS_DIR, 0700);
	kept = load_server_ca(&ca) == 0;
	if (!kept && create_server_ca(&ca) < 0) {
		fprintf(stderr, LOG_PREFIX "cannot create the server CA in " TLS_DIR "\n");
		return -1;
	}
	sha256_hex(ca.pem, strlen(ca.pem), hash);
	pw = server_password(c->token_file);
	if (!pw || write_server_token(hash, pw) < 0)
		fprintf(stderr, LOG_PREFIX "cannot write " SERVER_DIR "/token\n");
	else {
		fprintf(stderr, LOG_PREFIX "server CA sha256 %s %s in " TLS_DIR "\n", hash,
			kept ? "kept" : "created");
		*ret_pid = start_supervisor(&ca, c->node_ip);
		r = *ret_pid > 0 ? 0 : -1;
	}
	free(pw);
	server_ca_done(&ca);
	if (r < 0 || !api)
		return r;
	if (admin && install_admin_kubeconfig(admin) < 0)
		return -1;
	r = join_as_kubelet(api, api_token, c);
	if (r == 0 && admin)
		label_server_roles(api, c->node_name);
	return r;
}

static int cmd_server(k3s_config *c)
{
	char host[256];
	pid_t pid = -1;
	int r;

	if (!c->node_name && gethostname(host, sizeof(host) - 1) == 0) {
		host[sizeof(host) - 1] = '\0';
		c->node_name = strdup(host);
	}
	r = server_start(c, &pid);
	if (r == 0)
		r = notify_and_wait(getenv("K3S_STANDIN_API") ? "server, node registered"
							      : "server (no cluster API to join)",
				    pid);
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cfgpath = "/etc/rancher/k3s/config.yaml";
	k3s_config c = {0};
	int r;

	if (argc < 2 || (strcmp(argv[1], "agent") && strcmp(argv[1], "server"))) {
		fprintf(stderr, LOG_PREFIX "only \"agent\" and \"server\" are implemented\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c"))
			cfgpath = argv[i + 1];
	r = read_config(cfgpath, &c);
	/* a K3s server runs without a config file */
	if (r < 0 && !(r == -ENOENT && !strcmp(argv[1], "server"))) {
		fprintf(stderr, LOG_PREFIX "%s: %s\n", cfgpath, strerror(-r));
		return 1;
	}
	if (!c.labels_json)
		c.labels_json = strdup("{}");
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = strcmp(argv[1], "server") ? cmd_agent(&c, cfgpath) : cmd_server(&c);
	free(c.server);
	free(c.token_file);
	free(c.node_name);
	free(c.node_ip);
	free(c.labels_json);
	free(c.taints_json);
	curl_global_cleanup();
	return r;
}
