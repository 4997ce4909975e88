/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the join stage's parsers of outside input (`make fuzz-kubeconfig`).
 * The first byte picks what the rest goes to:
 *   0  kubeconfig_parse(): a kubeconfig whose file references resolve inside a scratch
 *      directory (the prefix), then kube_client_new() on what was accepted;
 *   1  base64_decode() on the bytes, and a round trip of the bytes through an encoder;
 *   2  a node list as the API server would answer GET /api/v1/nodes: roles_reconcile()
 *      (which parses every node's node-agent.io/api-labels and api-taints annotations,
 *      and patches taints then labels), and for every item
 *      join_label_patch(), kube_node_ready(); bits 2-3 of the first byte pick the status;
 *   3  token_read() on a 0600 file holding the bytes; with bit 2 of the first byte set,
 *      k3s_ca_hash() on the bytes as a /cacerts answer instead (one certificate: the hash
 *      of the bytes; several: the chain root's or the bytes'; junk: -EBADMSG).
 * Besides what ASan/UBSan/LeakSanitizer catch, it checks the contracts the join relies on:
 * an accepted kubeconfig has an https server and usable credentials, a rejected one says
 * why, naming the file, and no message carries the key or token it read from a file; a
 * label patch applied to the node gives a node that needs no further patch (the same for
 * what a server applies); a server never applies a label or taint the config does not
 * give, and never removes one it could not have applied (the canned server answers a
 * patch with the node patched, as the API does).
 *
 * No request leaves the process: the client's transport (api_server()) answers.
 *
 * File reads: kubeconfig_parse() reads the files a kubeconfig names (an absolute path
 * under the prefix, a relative one beside the kubeconfig). Inputs holding ".." are
 * skipped, so every read stays inside the scratch directory, which holds only regular
 * files made here (no symlinks, no FIFOs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "basic/fetch.h"
#include "join/join.h"
#include "kube/kube.h"
#include "kube/kubeconfig.h"
#include "plan/plan.h"
#include "basic/dl.h"
#include "join/preflight.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY_SECRET   "FUZZKEYSECRET"
#define TOKEN_SECRET "FUZZTOKENSECRET"

static char scratch[256];
static char kc_path[320];
static char tok_path[320];
static na_config *cfg;
static kube_client *client;
static na_plan plan;

/* --- the API server, canned --- */

static const char *list_body;
static size_t list_len;
static long list_status;
static json_object *patches; /* node name -> the Node once the server's patches applied */
static unsigned n_patches;

static const char *const role_key = "node-role.kubernetes.io/gpu-worker";

/* What the config below lets a server apply: exactly these. */
static int allowed(const char *k, const char *v)
{
	return (!strcmp(k, role_key) && !strcmp(v, "true")) ||
	       (!strcmp(k, "workload") && !strcmp(v, "gpu")) ||
	       (!strcmp(k, "site") && !strcmp(v, "home"));
}

static int allowed_key(const char *k)
{
	return !strcmp(k, role_key) || !strcmp(k, "workload") || !strcmp(k, "site");
}

static json_object *cur_list;	/* the node list being served, parsed; NULL if it is not one */
static bool cur_names_unique; /* its node names are unique: a patch names one node */

static const char *str_at(json_object *o, const char *k)
{
	json_object *v;
	return json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v) &&
		       json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}

static json_object *find_node(const char *name)
{
	json_object *items, *m;

	if (!cur_list || !json_object_object_get_ex(cur_list, "items", &items) ||
	    !json_object_is_type(items, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *n = json_object_array_get_idx(items, i);
		const char *nm;
		if (json_object_is_type(n, json_type_object) &&
		    json_object_object_get_ex(n, "metadata", &m) && (nm = str_at(m, "name")) &&
		    !strcmp(nm, name))
			return n;
	}
	return NULL;
}

/* The one taint the config below gives (rule gpu); with ANY_VALUE, a taint that is the
 * same taint to Kubernetes (key and effect), which the server may replace by it. */
static bool taint_allowed(json_object *t, bool any_value)
{
	const char *k = str_at(t, "key"), *v = str_at(t, "value"), *e = str_at(t, "effect");
	return k && e && !strcmp(k, "nvidia.com/gpu") && !strcmp(e, "NoSchedule") &&
	       (any_value || (v && !strcmp(v, "present")));
}

/* T (same key, value and effect) in the taint array LIST */
static bool taint_in(json_object *list, json_object *t)
{
	if (!json_object_is_type(list, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *u = json_object_array_get_idx(list, i);
		const char *a, *b;
		if (!json_object_equal(u, t) &&
		    !((a = str_at(u, "key")) && (b = str_at(t, "key")) && !strcmp(a, b) &&
		      (a = str_at(u, "effect")) && (b = str_at(t, "effect")) && !strcmp(a, b) &&
		      json_object_equal(json_object_object_get(u, "value"),
					json_object_object_get(t, "value"))))
			continue;
		return true;
	}
	return false;
}

/* A taint patch: it adds only the taint the config gives and removes only that one. */
static void check_taints(const char *name, json_object *spec)
{
	json_object *want, *node, *nspec = NULL, *have = NULL;

	if (!json_object_is_type(spec, json_type_object) || json_object_object_length(spec) != 1 ||
	    !json_object_object_get_ex(spec, "taints", &want))
		abort();
	if (want && !json_object_is_type(want, json_type_array))
		abort();
	node = find_node(name);
	if (!node || !cur_names_unique)
		return; /* nothing to compare with */
	if (json_object_object_get_ex(node, "spec", &nspec))
		json_object_object_get_ex(nspec, "taints", &have);
	for (size_t i = 0; want && i < json_object_array_length(want); i++) {
		json_object *t = json_object_array_get_idx(want, i);
		if (!taint_allowed(t, false) && !taint_in(have, t)) {
			fprintf(stderr, "server applied taint %s\n", json_object_to_json_string(t));
			abort();
		}
	}
	for (size_t i = 0; json_object_is_type(have, json_type_array) &&
			   i < json_object_array_length(have);
	     i++) {
		json_object *t = json_object_array_get_idx(have, i);
		if (!taint_allowed(t, true) && !taint_in(want, t)) {
			fprintf(stderr, "server removed taint %s\n", json_object_to_json_string(t));
			abort();
		}
	}
}

static json_object *merge(json_object *target, json_object *patch);

/* Check a server's patch; return the node as it is once patched (as the API answers). */
static json_object *check_server_patch(const char *url, const char *body)
{
	json_object *p = json_tokener_parse(body), *meta, *labels, *annots, *spec, *node,
		    *prev = NULL, *after = NULL;
	const char *name = strrchr(url, '/') + 1;

	if (!p || !json_object_is_type(p, json_type_object) ||
	    !json_object_object_get_ex(p, "metadata", &meta) ||
	    !json_object_is_type(meta, json_type_object))
		abort();
	json_object_object_foreach (p, pk, pv) {
		(void)pv;
		if (strcmp(pk, "metadata") && strcmp(pk, "spec"))
			abort();
	}
	json_object_object_foreach (meta, mk, mv) {
		(void)mv;
		if (strcmp(mk, "labels") && strcmp(mk, "annotations") &&
		    strcmp(mk, "resourceVersion"))
			abort();
	}
	if (json_object_object_get_ex(meta, "labels", &labels)) {
		json_object_object_foreach (labels, k, v) {
			if (v && !allowed(k, json_object_get_string(v))) {
				fprintf(stderr, "server applied %s=%s\n", k,
					json_object_get_string(v));
				abort();
			}
			if (!v && !allowed_key(k)) {
				fprintf(stderr, "server removed %s\n", k);
				abort();
			}
		}
	}
	if (json_object_object_get_ex(meta, "annotations", &annots)) {
		json_object_object_foreach (annots, k, v) {
			(void)v;
			if (strcmp(k, ANNOT_APPLIED_API_LABELS) && strcmp(k, ANNOT_APPLIED_API_TAINTS))
				abort();
		}
	}
	if (json_object_object_get_ex(p, "spec", &spec))
		check_taints(name, spec);
	/* the node as the server holds it after this patch and the ones before it (patches
	 * are applied one by one: composing them would lose a patch's null, its deletions) */
	if (json_object_object_get_ex(patches, name, &prev)) {
		if (json_object_deep_copy(prev, &after, NULL) != 0)
			after = NULL;
	} else {
		n_patches++;
		node = find_node(name);
		if (!node || json_object_deep_copy(node, &after, NULL) != 0)
			after = NULL;
	}
	after = merge(after ? after : json_object_new_object(), p);
	json_object_put(p);
	json_object_object_add(patches, name, json_object_get(after));
	return after;
}

/* The API server: fetch_url()'s transport for the client (kube_client_set_transport()). */
static int api_server(const char *url, const char *post_body, size_t post_len, const fetch_opts *o,
		      fetch_result *res)
{
	if (o->method && !strcmp(o->method, "PATCH")) {
		if (!post_body || strlen(post_body) != post_len)
			abort();
		json_object *after;

		if (getenv("FUZZ_KUBECONFIG_TRACE")) /* to read a crash: every patch sent */
			fprintf(stderr, "PATCH %s %s\n", url, post_body);
		after = check_server_patch(url, post_body);
		res->status = 200;
		res->body = strdup(after ? json_object_to_json_string_ext(after, JSON_C_TO_STRING_PLAIN)
					 : "{}");
		res->len = res->body ? strlen(res->body) : 0;
		json_object_put(after);
		return 0;
	}
	if (!strstr(url, "/api/v1/nodes") || post_body)
		abort(); /* roles_reconcile() only lists nodes and patches them */
	res->status = list_status;
	res->body = strndup(list_body, list_len);
	res->len = res->body ? strlen(res->body) : 0;
	return 0;
}

/* --- setup --- */

static void put(const char *rel, const char *content)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", scratch, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		abort();
	close(fd);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void cleanup(void)
{
	if (scratch[0])
		nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static na_kv plan_labels[] = {{(char *)"site", (char *)"home"},
			      {(char *)"nvidia.com/gpu.present", (char *)"true"}};
static na_kv plan_api_labels[] = {{(char *)"node-role.kubernetes.io/gpu-worker", (char *)"true"}};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char cfg_yaml[] = "schema: node-agent/config/v1\n"
				       "cluster:\n"
				       "  server: https://10.0.0.10:6443\n"
				       "  token_file: /run/credentials/k3s-token\n"
				       "rules:\n"
				       "  - name: defaults\n"
				       "    labels: {site: home}\n"
				       "  - name: gpu\n"
				       "    match: {gpu_vendor: nvidia}\n"
				       "    node_role: gpu-worker\n"
				       "    labels: {workload: gpu}\n"
				       "    taints: [\"nvidia.com/gpu=present:NoSchedule\"]\n";
	static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
	static const char key[] =
	    "-----BEGIN EC PRIVATE KEY-----\n" KEY_SECRET "\n-----END EC PRIVATE KEY-----\n";
	const char *tmp = getenv("TMPDIR");
	kubeconfig kc = {.path = (char *)"fuzz",
			 .server = (char *)"https://fuzz.invalid:6443/",
			 .token = (char *)"fuzz-token"};
	char *err = NULL;
	na_log to_stderr = na_log_stream(stderr);

	snprintf(scratch, sizeof(scratch), "%s/fuzz-kubeconfig.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch))
		abort();
	atexit(cleanup);
	snprintf(kc_path, sizeof(kc_path), "%s/etc/rancher/k3s/k3s.yaml", scratch);
	snprintf(tok_path, sizeof(tok_path), "%s/token-file", scratch);
	put("ca.crt", pem);
	put("client.crt", pem);
	put("client.key", key);
	put("token", TOKEN_SECRET "\n");
	/* the names K3s gives them (tests/tools/mk-k3s-pki.sh) */
	put("server-ca.crt", pem);
	put("client-kubelet.crt", pem);
	put("client-kubelet.key", key);
	put("empty", "");
	put("not-pem", "hello\n");
	{
		char d[512];
		snprintf(d, sizeof(d), "%s/etc", scratch);
		mkdir(d, 0700);
		snprintf(d, sizeof(d), "%s/etc/rancher", scratch);
		mkdir(d, 0700);
		snprintf(d, sizeof(d), "%s/etc/rancher/k3s", scratch);
		mkdir(d, 0700);
	}
	put("etc/rancher/k3s/ca.crt", pem);
	put("etc/rancher/k3s/client.crt", pem);
	put("etc/rancher/k3s/client.key", key);
	put("etc/rancher/k3s/token", TOKEN_SECRET "\n");

	if (na_config_parse("fuzz-config.yaml", cfg_yaml, strlen(cfg_yaml), &to_stderr, &cfg) < 0)
		abort();
	if (kube_client_new(&kc, 5, &client, &err) < 0)
		abort();
	kube_client_set_transport(client, api_server, NULL);
	plan.node_name = (char *)"node1";
	plan.role = ROLE_AGENT;
	plan.labels = (na_kv_list){plan_labels, 2};
	plan.api_labels = (na_kv_list){plan_api_labels, 1};
	return 0;
}

/* --- 0: kubeconfig --- */

static void fuzz_kubeconfig(const char *s, size_t n)
{
	kubeconfig *k = NULL;
	char *err = NULL;
	int r;

	if (memmem(s, n, "..", 2))
		return; /* keep every file reference inside the scratch directory */
	r = kubeconfig_parse(scratch, kc_path, s, n, &k, &err);
	if (r == 0) {
		kube_client *c = NULL;
		char *cerr = NULL;
		if (!k || err || strncmp(k->server, "https://", 8) || !k->user ||
		    strcmp(k->path, kc_path) || !!k->cert_pem != !!k->key_pem ||
		    (!k->cert_pem && !k->token))
			abort();
		r = kube_client_new(k, 5, &c, &cerr);
		if (r < 0 && !(r == -EPERM && k->insecure && cerr) && r != -ENOMEM)
			abort();
		kube_client_free(c);
		free(cerr);
		kubeconfig_free(k);
		return;
	}
	if (k)
		abort();
	if (r != -ENOMEM) {
		if (!err || strncmp(err, kc_path, strlen(kc_path)) ||
		    strncmp(err + strlen(kc_path), ": ", 2))
			abort(); /* rejected without saying why, or without naming the file */
		/* a secret read from a file never ends up in a message */
		if ((strstr(err, KEY_SECRET) && !memmem(s, n, KEY_SECRET, strlen(KEY_SECRET))) ||
		    (strstr(err, TOKEN_SECRET) &&
		     !memmem(s, n, TOKEN_SECRET, strlen(TOKEN_SECRET)))) {
			fprintf(stderr, "secret in message: %s\n", err);
			abort();
		}
	}
	free(err);
}

/* --- 1: base64 --- */

static char *b64_encode(const uint8_t *d, size_t n, int wrap)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 * 2 + 2), *o = out;
	size_t col = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) |
			     (i + 2 < n ? d[i + 2] : 0);
		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? a[v & 63] : '=';
		col += 4;
		if (wrap && col % 64 == 0)
			*o++ = (col / 64) & 1 ? '\n' : ' ';
	}
	*o = '\0';
	return out;
}

static void fuzz_base64(const uint8_t *d, size_t n)
{
	char *s = strndup((const char *)d, n), *enc, *dec;
	size_t len = 0, chars = 0;

	if (!s)
		return;
	dec = base64_decode(s, &len);
	if (dec) {
		for (const char *p = s; *p; p++)
			chars += !strchr(" \t\r\n=", *p);
		if (dec[len] != '\0' || len > chars * 3 / 4)
			abort();
	}
	free(dec);
	free(s);

	/* whatever the bytes, encoded (plain and wrapped) they decode back */
	for (int wrap = 0; wrap < 2; wrap++) {
		enc = b64_encode(d, n, wrap);
		if (!enc)
			return;
		dec = base64_decode(enc, &len);
		if (!dec || len != n || memcmp(dec, d, n)) {
			fprintf(stderr, "round trip failed for %s\n", enc);
			abort();
		}
		free(dec);
		free(enc);
	}
}

/* --- 2: node list --- */

/* RFC 7386 JSON merge patch of `patch` into `*target` (both owned by the caller). */
static json_object *merge(json_object *target, json_object *patch)
{
	if (!json_object_is_type(patch, json_type_object)) {
		json_object_put(target);
		return json_object_get(patch);
	}
	if (!json_object_is_type(target, json_type_object)) {
		json_object_put(target);
		target = json_object_new_object();
	}
	json_object_object_foreach (patch, k, v) {
		json_object *t = NULL;
		if (!v) {
			json_object_object_del(target, k);
			continue;
		}
		if (json_object_object_get_ex(target, k, &t))
			json_object_get(t);
		json_object_object_add(target, k, merge(t, v));
	}
	return target;
}

static json_object *parse_object(const char *s, size_t n)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static int roles(const char *body, size_t len, char **ret_log)
{
	char *log = NULL;
	size_t log_len = 0;
	FILE *f = open_memstream(&log, &log_len);
	int r;

	if (!f)
		return -ENOMEM;
	list_body = body;
	list_len = len;
	na_log l = na_log_stream(f);

	r = roles_reconcile(cfg, client, &l);
	fclose(f);
	*ret_log = log;
	return r;
}

static bool names_unique(json_object *list)
{
	json_object *items, *seen, *m;
	bool unique = true;

	if (!list || !json_object_object_get_ex(list, "items", &items) ||
	    !json_object_is_type(items, json_type_array))
		return true;
	seen = json_object_new_object();
	for (size_t i = 0; unique && i < json_object_array_length(items); i++) {
		json_object *n = json_object_array_get_idx(items, i);
		const char *nm = json_object_object_get_ex(n, "metadata", &m) ? str_at(m, "name")
									    : NULL;
		if (!nm)
			continue;
		unique = !json_object_object_get_ex(seen, nm, NULL);
		json_object_object_add(seen, nm, NULL);
	}
	json_object_put(seen);
	return unique;
}

static void fuzz_nodes(const uint8_t *d, size_t n, unsigned variant)
{
	static const long statuses[] = {200, 200, 403, 500};
	char *s = strndup((const char *)d, n), *log = NULL;
	json_object *list, *items = NULL;
	int r;

	if (!s)
		return;
	list_status = statuses[variant & 3];
	patches = json_object_new_object();
	n_patches = 0;
	list = list_status == 200 ? parse_object(s, strlen(s)) : NULL;
	cur_list = list;
	cur_names_unique = names_unique(list);
	r = roles(s, strlen(s), &log);
	if (r < 0 && r != -EIO && r != -EACCES && r != -EPROTO && r != -EBADMSG && r != -ENOMEM)
		abort();
	/* one change per node patched (two nodes of one name count once in n_patches) */
	if (r > 0 && (cur_names_unique ? (unsigned)r != n_patches : (unsigned)r < n_patches))
		abort();
	/* one line per change or refusal */
	for (char *l = log; l && *l; l = strchr(l, '\n') + 1) {
		if (strncmp(l, "node ", 5) && strncmp(l, "cannot list nodes: ", 19)) {
			fprintf(stderr, "malformed log line: %s\n", l);
			abort();
		}
		if (!strchr(l, '\n'))
			abort();
	}
	free(log);

	if (list && json_object_object_get_ex(list, "items", &items) &&
	    json_object_is_type(items, json_type_array)) {
		json_object *again = json_object_new_array(), *names = json_object_new_object();
		bool unique = true;
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			json_object *node = json_object_array_get_idx(items, i), *m, *nm, *p;
			const char *why = NULL, *name = NULL;

			if (kube_node_ready(node, &why) < 0 || !why)
				abort();
			(void)kube_node_label(node, "site");
			(void)kube_node_annotation(node, ANNOT_API_LABELS);

			/* the node's own patch brings it to the plan in one step */
			p = join_label_patch(node, &plan);
			if (p) {
				json_object *copy = NULL, *p2;
				if (json_object_deep_copy(node, &copy, NULL) == 0) {
					copy = merge(copy, p);
					p2 = join_label_patch(copy, &plan);
					if (p2) {
						fprintf(
						    stderr,
						    "label patch not a fixed point: %s then %s\n",
						    json_object_to_json_string(p),
						    json_object_to_json_string(p2));
						abort();
					}
					json_object_put(copy);
				}
				json_object_put(p);
			}

			/* the node as it is after what the server patched */
			if (json_object_object_get_ex(node, "metadata", &m) &&
			    json_object_object_get_ex(m, "name", &nm))
				name = json_object_get_string(nm);
			if (name) {
				unique = unique && !json_object_object_get_ex(names, name, NULL);
				json_object_object_add(names, name, NULL);
			}
			node = json_object_get(
			    name && json_object_object_get_ex(patches, name, &p) ? p : node);
			json_object_array_add(again, node);
		}
		/* a second pass over the patched nodes changes nothing (unless two nodes share a
		 * name, when the canned server cannot tell their patches apart) */
		if (unique) {
			json_object *l2 = json_object_new_object();
			const char *s2;
			json_object_object_add(l2, "items", again);
			again = NULL;
			s2 = json_object_to_json_string_ext(l2, JSON_C_TO_STRING_PLAIN);
			json_object_put(patches);
			patches = json_object_new_object();
			n_patches = 0;
			cur_list = l2;
			r = roles(s2, strlen(s2), &log);
			free(log);
			if (n_patches) {
				fprintf(stderr, "second reconcile patched again: %s\n", s2);
				abort();
			}
			json_object_put(l2);
		}
		json_object_put(again);
		json_object_put(names);
	}
	cur_list = NULL;
	json_object_put(list);
	json_object_put(patches);
	patches = NULL;
	free(s);
}

/* --- 3: token file --- */

/* token_read() with its message copied into ERR, for checks on the text */
static int token_read_buf(const char *path, token_info *t, char *err, size_t errlen)
{
	char *e = NULL;
	int r = token_read(path, t, &e);

	snprintf(err, errlen, "%s", e ? e : "");
	free(e);
	return r;
}

static void fuzz_token(const uint8_t *d, size_t n)
{
	token_info t;
	char err[512] = "";
	int fd = open(tok_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), r;

	if (fd < 0)
		abort();
	if (n && write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
	r = token_read_buf(tok_path, &t, err, sizeof(err));
	if (r == 0) {
		size_t len = t.token ? strlen(t.token) : 0;
		if (!len || strpbrk(t.token, " \t\r\n"))
			abort();
		if (t.ca_hash[0]) {
			if (strlen(t.ca_hash) != 64 ||
			    strspn(t.ca_hash, "0123456789abcdef") != 64 ||
			    strncmp(t.token, "K10", 3) || strncasecmp(t.token + 3, t.ca_hash, 64) ||
			    strncmp(t.token + 67, "::", 2))
				abort();
		}
	} else {
		if (t.token || !err[0])
			abort();
	}
	token_info_done(&t);
}

static void fuzz_cacerts(const char *d, size_t n)
{
	char hash[65] = "", bytes[65];
	bool rooted = true;
	int r = k3s_ca_hash(d, n, hash, &rooted);

	if (r == -EBADMSG || r == -E2BIG || r == -ENOMEM || r == -EOPNOTSUPP || r == -ELIBBAD)
		return;
	if (r < 0 || strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64)
		abort();
	/* not a chain root: exactly the bytes' hash, as K3s falls back to */
	if (!rooted && (sha256_hex(d, n, bytes) < 0 || strcmp(hash, bytes)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_kubeconfig((const char *)data + 1, size - 1);
		break;
	case 1:
		fuzz_base64(data + 1, size - 1);
		break;
	case 2:
		fuzz_nodes(data + 1, size - 1, data[0] >> 2);
		break;
	case 3:
		if (data[0] & 4)
			fuzz_cacerts((const char *)data + 1, size - 1);
		else
			fuzz_token(data + 1, size - 1);
		break;
	}
	return 0;
}
