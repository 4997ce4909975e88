/* SPDX-License-Identifier: MIT */
/*
 * TEST STAND-IN for the k3s binary, used only by the QEMU end-to-end test (never part of
 * a real image): K3s cannot be downloaded here. Installed as /usr/local/bin/k3s by the
 * test's extra initrd, and started by node-agent as k3s-agent.service over D-Bus, it does
 * what a K3s agent does on the wire before its kubelet is Ready, against the K3s double
 * (tests/tools/k3s-double.py) on the host:
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
 *      node-label) and reports it Ready (PATCH /api/v1/nodes/<name>/status);
 *   6. READY=1 to systemd (Type=notify, like K3s), then waits to be stopped.
 *
 * usage: k3s agent [--config FILE]
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	char *labels_json; /* {"k":"v",...} */
} k3s_config;

static int read_config(const char *path, k3s_config *c)
{
	char *text = read_all(path);
	yaml_parser_t p;
	yaml_document_t d;
	yaml_node_t *root;
	buf lj = {0};

	if (!text)
		return -errno;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (unsigned char *)text, strlen(text));
	if (!yaml_parser_load(&p, &d)) {
		yaml_parser_delete(&p);
		free(text);
		return -EINVAL;
	}
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
			else
				free(s);
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
	yaml_parser_delete(&p);
	free(text);
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

/* K3s pkg/agent/config/config.go ensureNodePassword: the existing file's contents, trimmed;
 * else 16 random bytes as hex, written with a newline, mode 0600 (get() made the 0755
 * directory). NULL on failure. */
static char *ensure_node_password(void)
{
	unsigned char raw[16];
	char *pw = read_all(NODE_PASSWORD_FILE), hex[33];
	size_t n;

	if (pw) {
		n = strlen(pw);
		while (n > 0 && strchr(" \t\r\n", pw[n - 1]))
			pw[--n] = '\0';
		return pw;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return NULL;
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	if (asprintf(&pw, "%s\n", hex) < 0)
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
		f = pk ? fopen(keyfile, "we") : NULL;
		if (!f || (fchmod(fileno(f), 0600),
			   !PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL))) {
			if (f)
				fclose(f);
			EVP_PKEY_free(pk);
			return 0;
		}
		fclose(f);
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

/* 5. register and report Ready, as system:node:<name>. 0 or -1. */
static int register_node(const char *server, const k3s_config *c)
{
	/* the kubelet posts this boot's ID with its status (nodestatus MachineInfo) */
	char ts[32], boot_id[64] = "", *body = NULL, *url = NULL;
	FILE *bf = fopen("/proc/sys/kernel/random/boot_id", "re");
	int r = -1;

	if (bf) {
		if (!fgets(boot_id, sizeof(boot_id), bf))
			boot_id[0] = '\0';
		boot_id[strcspn(boot_id, "\n")] = '\0';
		fclose(bf);
	}
	if (asprintf(&body,
		     "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\","
		     "\"labels\":%s}}",
		     c->node_name, c->labels_json) < 0 ||
	    asprintf(&url, "%s/api/v1/nodes", server) < 0)
		goto out;
	if (kubelet_call("POST", url, "application/json", body, 201, 409, "register node") < 0)
		goto out;
	free(url);
	free(body);
	url = body = NULL;
	log_time(ts);
	if (asprintf(&body,
		     "{\"status\":{\"nodeInfo\":{\"bootID\":\"%s\"},\"conditions\":[{\"type\":"
		     "\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"message\":"
		     "\"kubelet is posting ready status (test stand-in)\",\"lastHeartbeatTime\":"
		     "\"%s\",\"lastTransitionTime\":\"%s\"}]}}",
		     boot_id, ts, ts) < 0 ||
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

/* 6. READY=1 to systemd (Type=notify, like K3s), then wait to be stopped. */
static void notify_and_wait(const char *status)
{
	char *msg = NULL;

	if (asprintf(&msg, "READY=1\nSTATUS=test stand-in: %s", status) >= 0)
		sd_notify(0, msg);
	free(msg);
	while (!stop)
		sleep(1);
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
	notify_and_wait("node registered");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cfgpath = "/etc/rancher/k3s/config.yaml";
	k3s_config c = {0};
	int r;

	if (argc < 2 || strcmp(argv[1], "agent")) {
		fprintf(stderr, LOG_PREFIX "only \"agent\" is implemented\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c"))
			cfgpath = argv[i + 1];
	r = read_config(cfgpath, &c);
	if (r < 0) {
		fprintf(stderr, LOG_PREFIX "%s: %s\n", cfgpath, strerror(-r));
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmd_agent(&c, cfgpath);
}
