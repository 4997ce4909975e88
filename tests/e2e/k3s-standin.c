/* SPDX-License-Identifier: MIT */
/*
 * TEST STAND-IN for the k3s binary, used only by the QEMU end-to-end test (never part of
 * a real image): K3s cannot be downloaded here. Installed as /usr/local/bin/k3s by the
 * test's extra initrd, and started by node-agent as k3s-agent.service over D-Bus, it does
 * what a K3s agent does on the wire before its kubelet is Ready, against the K3s double
 * (tests/tools/k3s-double.py) on the host:
 *
 *   1. reads /etc/rancher/k3s/config.yaml (server, token-file, node-name, node-label);
 *   2. GET /cacerts without verification and checks its sha256 against the K10 token;
 *   3. GET /v1-k3s/client-kubelet.crt with the token's credentials (basic auth) and the
 *      K3s-Node-Name header: the kubelet's client certificate and key;
 *   4. writes server-ca.crt, client-kubelet.crt/.key and kubelet.kubeconfig under
 *      /var/lib/rancher/k3s/agent/ (the kubeconfig points at the server directly: there is
 *      no local load balancer on 127.0.0.1:6444 here);
 *   5. registers the Node as system:node:<name> (POST /api/v1/nodes, labels from
 *      node-label) and reports it Ready (PATCH /api/v1/nodes/<name>/status);
 *   6. READY=1 to systemd (Type=notify, like K3s), then waits to be stopped.
 *
 * usage: k3s agent [--config FILE]
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
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

#define AGENT_DIR "/var/lib/rancher/k3s/agent"

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

/* One HTTPS request; returns the HTTP status (0 on transport failure), body in *out. */
static long request(const char *method, const char *url, const char *ca, const char *cert,
		    const char *key, const char *userpwd, const char *node, const char *ctype,
		    const char *body, buf *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *hdr = NULL;
	long code = 0;

	out->p = NULL;
	out->n = 0;
	if (!c)
		return 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	else {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, key);
	}
	if (userpwd) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	if (node && asprintf(&hdr, "K3s-Node-Name: %s", node) >= 0)
		h = curl_slist_append(h, hdr);
	if (ctype) {
		char *ct = NULL;
		if (asprintf(&ct, "Content-Type: %s", ctype) >= 0)
			h = curl_slist_append(h, ct);
		free(ct);
	}
	h = curl_slist_append(h, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(hdr);
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
	buf b = { 0 };
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
	char *server, *token_file, *node_name;
	char *labels_json; /* {"k":"v",...} */
} k3s_config;

static int read_config(const char *path, k3s_config *c)
{
	char *text = read_all(path);
	yaml_parser_t p;
	yaml_document_t d;
	yaml_node_t *root;
	buf lj = { 0 };

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
	for (yaml_node_pair_t *a = root && root->type == YAML_MAPPING_NODE
					   ? root->data.mapping.pairs.start
					   : NULL;
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
			else
				free(s);
		} else if (v->type == YAML_SEQUENCE_NODE && !strcmp(key, "node-label")) {
			for (yaml_node_item_t *i = v->data.sequence.items.start;
			     i < v->data.sequence.items.top; i++) {
				const char *kv = (const char *)yaml_document_get_node(&d, *i)
							 ->data.scalar.value;
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
	return c->server && c->token_file && c->node_name ? 0 : -EINVAL;
}

static void sha256_hex(const char *data, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	const char *cfgpath = "/etc/rancher/k3s/config.yaml";
	k3s_config c = { 0 };
	char *token, *sep, *url = NULL, hash[65], *userpwd = NULL, *body = NULL, *kc = NULL;
	buf r;
	long code;

	if (argc < 2 || strcmp(argv[1], "agent")) {
		fprintf(stderr, "k3s (test stand-in): only \"agent\" is implemented\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c"))
			cfgpath = argv[i + 1];
	if (read_config(cfgpath, &c) < 0) {
		fprintf(stderr, "k3s (test stand-in): %s: need server, token-file, node-name\n", cfgpath);
		return 1;
	}
	token = read_all(c.token_file);
	if (!token) {
		fprintf(stderr, "k3s (test stand-in): token file %s: %m\n", c.token_file);
		return 1;
	}
	token[strcspn(token, "\r\n")] = '\0';
	sep = strstr(token, "::");
	if (strncmp(token, "K10", 3) || !sep || sep - token != 67) {
		fprintf(stderr, "k3s (test stand-in): only K10 secure tokens are supported\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	mkdir("/var/lib/rancher", 0755);
	mkdir("/var/lib/rancher/k3s", 0755);
	mkdir(AGENT_DIR, 0755);

	/* 2. the CA, checked against the token like pkg/clientaccess does */
	asprintf(&url, "%s/cacerts", c.server);
	code = request("GET", url, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &r);
	free(url);
	if (code != 200 || !r.p) {
		fprintf(stderr, "k3s (test stand-in): GET /cacerts: HTTP %ld\n", code);
		return 1;
	}
	sha256_hex(r.p, r.n, hash);
	if (strncmp(token + 3, hash, 64)) {
		fprintf(stderr, "k3s (test stand-in): CA hash %s does not match the token\n", hash);
		return 1;
	}
	write_file(AGENT_DIR "/server-ca.crt", r.p, r.n, 0644);
	free(r.p);

	/* 3. the kubelet's client certificate, authenticated by the token's credentials */
	asprintf(&userpwd, "%s", sep + 2);
	if (!strchr(userpwd, ':')) { /* a bare password: K3s uses user "node" */
		free(userpwd);
		asprintf(&userpwd, "node:%s", sep + 2);
	}
	asprintf(&url, "%s/v1-k3s/client-kubelet.crt", c.server);
	code = request("GET", url, AGENT_DIR "/server-ca.crt", NULL, NULL, userpwd, c.node_name, NULL,
		       NULL, &r);
	free(url);
	if (code != 200 || !r.p || !strstr(r.p, "PRIVATE KEY-----")) {
		fprintf(stderr, "k3s (test stand-in): GET /v1-k3s/client-kubelet.crt: HTTP %ld\n", code);
		return 1;
	}
	{
		char *k = strstr(r.p, "-----BEGIN EC PRIVATE KEY-----");
		if (!k)
			k = strstr(r.p, "-----BEGIN PRIVATE KEY-----");
		if (!k)
			return 1;
		write_file(AGENT_DIR "/client-kubelet.crt", r.p, (size_t)(k - r.p), 0644);
		write_file(AGENT_DIR "/client-kubelet.key", k, strlen(k), 0600);
	}
	free(r.p);

	/* 4. the kubelet's kubeconfig, as K3s writes it (file references) */
	asprintf(&kc,
		 "apiVersion: v1\nclusters:\n- cluster:\n    server: %s\n"
		 "    certificate-authority: " AGENT_DIR "/server-ca.crt\n  name: local\n"
		 "contexts:\n- context:\n    cluster: local\n    namespace: default\n"
		 "    user: user\n  name: Default\ncurrent-context: Default\nkind: Config\n"
		 "preferences: {}\nusers:\n- name: user\n  user:\n"
		 "    client-certificate: " AGENT_DIR "/client-kubelet.crt\n"
		 "    client-key: " AGENT_DIR "/client-kubelet.key\n",
		 c.server);
	write_file(AGENT_DIR "/kubelet.kubeconfig", kc, strlen(kc), 0600);

	/* 5. register and report Ready, as system:node:<name> */
	asprintf(&body,
		 "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\","
		 "\"labels\":%s}}",
		 c.node_name, c.labels_json);
	asprintf(&url, "%s/api/v1/nodes", c.server);
	code = request("POST", url, AGENT_DIR "/server-ca.crt", AGENT_DIR "/client-kubelet.crt",
		       AGENT_DIR "/client-kubelet.key", NULL, NULL, "application/json", body, &r);
	free(url);
	free(body);
	if (code != 201 && code != 409) {
		fprintf(stderr, "k3s (test stand-in): register node: HTTP %ld %s\n", code,
			r.p ? r.p : "");
		return 1;
	}
	free(r.p);
	{
		/* the kubelet posts this boot's ID with its status (nodestatus MachineInfo) */
		char ts[32], boot_id[64] = "";
		time_t now = time(NULL);
		FILE *bf = fopen("/proc/sys/kernel/random/boot_id", "re");

		if (bf) {
			if (!fgets(boot_id, sizeof(boot_id), bf))
				boot_id[0] = '\0';
			boot_id[strcspn(boot_id, "\n")] = '\0';
			fclose(bf);
		}
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
		asprintf(&body,
			 "{\"status\":{\"nodeInfo\":{\"bootID\":\"%s\"},\"conditions\":[{\"type\":"
			 "\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"message\":"
			 "\"kubelet is posting ready status (test stand-in)\",\"lastHeartbeatTime\":\"%s\","
			 "\"lastTransitionTime\":\"%s\"}]}}",
			 boot_id, ts, ts);
	}
	asprintf(&url, "%s/api/v1/nodes/%s/status", c.server, c.node_name);
	code = request("PATCH", url, AGENT_DIR "/server-ca.crt", AGENT_DIR "/client-kubelet.crt",
		       AGENT_DIR "/client-kubelet.key", NULL, NULL,
		       "application/strategic-merge-patch+json", body, &r);
	free(url);
	free(body);
	if (code != 200) {
		fprintf(stderr, "k3s (test stand-in): node status: HTTP %ld %s\n", code,
			r.p ? r.p : "");
		return 1;
	}
	free(r.p);
	fprintf(stderr, "k3s (test stand-in): node %s registered and Ready at %s\n", c.node_name,
		c.server);

	/* 6. */
	sd_notify(0, "READY=1\nSTATUS=test stand-in: node registered");
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	while (!stop)
		pause();
	return 0;
}
