/* SPDX-License-Identifier: MIT */
/*
 * The credentials stage of the boot job, for a config of node-agent serve's
 * (cluster.credentials): the ticket is redeemed over HTTPS for the K3s server, the token
 * (and the server-init's agent token), the node password and a machine key. The secrets
 * stay in memory until the plan agrees with serve's role, then go to 0600 files under
 * /run/node-agent/credentials (a tmpfs) and /etc/rancher/node/password; they never reach
 * a log line, state.json or the config copy. After the server-init's join, its server URL,
 * CA hash and a ServiceAccount token go back to serve (POST /api/v1/cluster).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "basic/fetch.h"
#include "basic/fileio.h"
#include "basic/json-util.h"
#include "basic/parse-util.h"
#include "join/join.h"
#include "join/preflight.h"
#include "kube/kube.h"
#include "run/run-internal.h"
#include "tpm/tpm2.h"

#include "kube/retire.h"

#define JOIN_REQUEST_SCHEMA	"node-agent/join-request/v1"
#define JOIN_CREDENTIALS_SCHEMA "node-agent/join-credentials/v1"
#define CLUSTER_SCHEMA		"node-agent/cluster/v1"
#define JOIN_REQUEST_MAX	(4 * 1024 * 1024)
#define ANSWER_MAX		(64 * 1024)
#define TOKEN_MAX		4096
#define WAIT_DEFAULT_S		900
#define SA_TOKEN_SECONDS	31536000L
#define ANNOUNCE_ATTEMPTS	6

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* N lower-case hex digits */
static bool is_hex(const char *s, size_t n)
{
	return s && strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/* One line of printable ASCII, as a token file holds it. */
static bool is_token(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* What serve says, fit for a log line: printable ASCII, bounded. */
static char *tame(const char *s)
{
	char *t = strndup(s ? s : "", 200);

	for (char *c = t; c && *c; c++)
		if ((unsigned char)*c < ' ' || (unsigned char)*c >= 0x7f)
			*c = '?';
	return t;
}

static int dup_secret(const char *s, char **ret)
{
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

/* json-c's copies of the secrets, erased before they are freed */
static void json_secrets_putp(json_object **o)
{
	static const char *const keys[] = {"token", "agent_token", "node_password", "machine_key"};
	json_object *v;

	for (size_t i = 0; *o && i < ELEMENTSOF(keys); i++)
		if (json_object_object_get_ex(*o, keys[i], &v) &&
		    json_object_is_type(v, json_type_string))
			explicit_bzero((char *)json_object_get_string(v),
				       (size_t)json_object_get_string_len(v));
	json_object_put(*o);
}

int run_credentials_parse(const char *body, size_t len, run_credentials *ret, char **ret_err)
{
	_cleanup_(json_secrets_putp) json_object *o = NULL;
	const char *schema, *role, *token, *agent_token, *pw, *key, *machine, *code;
	json_object *server;
	int r;

	memset(ret, 0, sizeof(*ret));
	*ret_err = NULL;
	if (!body || len > ANSWER_MAX || strlen(body) != len || !(o = json_tokener_parse(body)) ||
	    !json_object_is_type(o, json_type_object))
		return asprintf(ret_err, "the answer is not a JSON object") < 0 ? -ENOMEM
										: -EBADMSG;
	schema = json_str(o, "schema");
	role = json_str(o, "role");
	token = json_str(o, "token");
	agent_token = json_str(o, "agent_token");
	pw = json_str(o, "node_password");
	key = json_str(o, "machine_key");
	machine = json_str(o, "machine");
	code = json_str(o, "code");
#define BAD(...) (asprintf(ret_err, __VA_ARGS__) < 0 ? -ENOMEM : -EBADMSG)
	if (!schema || strcmp(schema, JOIN_CREDENTIALS_SCHEMA))
		return BAD("the answer's schema is not %s", JOIN_CREDENTIALS_SCHEMA);
	for (na_role x = ROLE_AGENT; role && x <= ROLE_SERVER_INIT; x++)
		if (!strcmp(role, na_role_name(x)))
			ret->role = x;
	if (ret->role == ROLE_UNSET)
		return BAD("the answer's role is not server-init, server or agent");
	if (!json_object_object_get_ex(o, "server", &server))
		server = NULL;
	if (ret->role != ROLE_SERVER_INIT &&
	    (!json_object_is_type(server, json_type_string) ||
	     strncmp(json_object_get_string(server), "https://", 8) ||
	     !is_token(json_object_get_string(server))))
		return BAD("the answer gives role %s no https:// server", role);
	if (!is_token(token))
		return BAD("the answer's token is missing or not one line of printable text");
	if (ret->role == ROLE_SERVER_INIT && !is_token(agent_token))
		return BAD("the answer gives the server-init no agent_token");
	if (!is_hex(pw, 32))
		return BAD("the answer's node_password is not 32 lower-case hex digits");
	if (!is_hex(key, 64))
		return BAD("the answer's machine_key is not 64 lower-case hex digits");
#undef BAD
	ret->machine = tame(machine);
	ret->code = tame(code);
	if (!ret->machine || !ret->code ||
	    (ret->role != ROLE_SERVER_INIT &&
	     !(ret->server = strdup(json_object_get_string(server)))))
		r = -ENOMEM;
	else
		r = dup_secret(token, &ret->token);
	if (r >= 0 && ret->role == ROLE_SERVER_INIT)
		r = dup_secret(agent_token, &ret->agent_token);
	if (r >= 0)
		r = dup_secret(pw, &ret->node_password);
	if (r >= 0)
		r = dup_secret(key, &ret->machine_key);
	if (r < 0)
		run_credentials_done(ret);
	return r;
}

void run_credentials_done(run_credentials *c)
{
	free(c->machine);
	free(c->code);
	free(c->server);
	erase_and_free(c->token);
	erase_and_free(c->agent_token);
	erase_and_free(c->node_password);
	erase_and_free(c->machine_key);
	memset(c, 0, sizeof(*c));
}

static uint64_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* The 403 or other refusal, from the answer's reason and error. */
static int refusal(const fetch_result *fr, char **ret_msg)
{
	_cleanup_json_ json_object *o = fr->body ? json_tokener_parse(fr->body) : NULL;
	_cleanup_free_ char *reason = NULL, *error = NULL;

	if (o && json_object_is_type(o, json_type_object)) {
		reason = json_str(o, "reason") ? tame(json_str(o, "reason")) : NULL;
		error = json_str(o, "error") ? tame(json_str(o, "error")) : NULL;
	}
	if (fr->status == 403)
		return asprintf(ret_msg, "refused by serve: %s (%s); nothing joined",
				reason ? reason : "no reason given", error ? error : "HTTP 403") < 0
			   ? -ENOMEM
			   : -EACCES;
	return asprintf(ret_msg, "%s%s%s; nothing joined", fr->error, error ? ": " : "",
			error ? error : "") < 0
		   ? -ENOMEM
		   : -EPROTO;
}

/* The join request's "tpm" member, `,"tpm":{...}`, when the machine has a TPM 2.0: the key
 * it derives from its owner seed and its signature of the ticket. serve pins the key at the
 * first signed request and wants it from then on. "" without a TPM (serve knows the machine
 * by its hardware identity only); a TPM that fails is said and the request goes without. */
static int tpm_member(const char *ticket, char **ret)
{
	_cleanup_free_ char *pem = NULL, *sig = NULL, *err = NULL;
	_cleanup_(json_object_putp) json_object *o = NULL;
	int r = tpm2_identity_sign(ticket, &pem, &sig, &err);

	if (r == -ENOENT) {
		run_log(LOG_INFO, "credentials",
			"no TPM 2.0 (%s): serve knows this machine by its hardware identity",
			err ? err : "none found");
		return (*ret = strdup("")) ? 0 : -ENOMEM;
	}
	if (r < 0) {
		run_log(LOG_WARNING, "credentials",
			"TPM: %s; asking without a TPM signature (serve refuses it once it has "
			"pinned this machine's TPM key)",
			err ? err : strerror(-r));
		return (*ret = strdup("")) ? 0 : -ENOMEM;
	}
	o = json_object_new_object();
	if (!o || json_object_object_add(o, "public_key", json_object_new_string(pem)) < 0 ||
	    json_object_object_add(o, "signature", json_object_new_string(sig)) < 0)
		return -ENOMEM;
	run_log(LOG_INFO, "credentials", "the ticket is signed by this machine's TPM key");
	return asprintf(ret, ",\"tpm\":%s",
			json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0
		   ? -ENOMEM
		   : 0;
}

int run_credentials_redeem(const na_config *cfg, const char *inventory_json, run_credentials *ret,
			   char **ret_msg)
{
	_cleanup_(erase_and_freep) char *body = NULL;
	_cleanup_free_ char *tpm = NULL;
	const char *env = getenv("NODE_AGENT_CREDENTIALS_WAIT_S");
	uint64_t wait_s = WAIT_DEFAULT_S, deadline;
	bool said_waiting = false;
	int len, r;

	*ret_msg = NULL;
	if (env && parse_uint64(env, 0, 86400, &wait_s) < 0) {
		run_log(
		    LOG_WARNING, "credentials",
		    "ignoring NODE_AGENT_CREDENTIALS_WAIT_S: not a number of seconds up to 86400");
		wait_s = WAIT_DEFAULT_S;
	}
	deadline = now_s() + wait_s;
	r = tpm_member(cfg->credentials.ticket, &tpm);
	if (r < 0)
		return r;
	/* the ticket is [A-Za-z0-9.] (config/sections.c): nothing to escape */
	len = asprintf(&body, "{\"schema\":\"%s\",\"ticket\":\"%s\"%s,\"inventory\":%s}",
		       JOIN_REQUEST_SCHEMA, cfg->credentials.ticket, tpm, inventory_json);
	if (len < 0) {
		body = NULL;
		return -ENOMEM;
	}
	if ((size_t)len > JOIN_REQUEST_MAX)
		return asprintf(ret_msg, "the join request would be %d bytes, over 4 MiB", len) < 0
			   ? -ENOMEM
			   : -E2BIG;
	for (unsigned attempt = 1;; attempt++) {
		fetch_opts fo = {.ca_file = cfg->report_ca_file,
				 .ca_pem = cfg->report_ca_pem,
				 .max_bytes = ANSWER_MAX,
				 .no_redirects = true,
				 .timeout_s = 30};
		_cleanup_(fetch_result_done) fetch_result fr = {0};
		_cleanup_free_ char *err = NULL;
		uint64_t pause;
		r = fetch_url(cfg->credentials.url, body, (size_t)len, &fo, &fr);

		if (r == 0) {
			r = run_credentials_parse(fr.body, fr.len, ret, &err);
			if (fr.body)
				explicit_bzero(fr.body, fr.len);
			if (r < 0)
				return asprintf(ret_msg, "%s: %s; nothing joined",
						cfg->credentials.url, err ? err : strerror(-r)) < 0
					   ? -ENOMEM
					   : r;
			return asprintf(ret_msg, "machine %s (code %s): role %s, server %s",
					ret->machine, ret->code, na_role_name(ret->role),
					ret->server ? ret->server
						    : "none (it creates the cluster)") < 0
				   ? -ENOMEM
				   : 0;
		}
		/* 503: waiting for the first server; other 5xx and no answer: serve restarting */
		if (fr.status < 500 && !(fr.status == 0 && fetch_retryable(r, &fr)))
			return refusal(&fr, ret_msg);
		pause = fr.retry_after_s > 0 ? (uint64_t)fr.retry_after_s : 5;
		if (pause > 60)
			pause = 60;
		if (now_s() + pause > deadline)
			return asprintf(ret_msg,
					"%s; still no credentials after %u attempts (%" PRIu64
					" s, NODE_AGENT_CREDENTIALS_WAIT_S); nothing joined",
					fr.error, attempt, wait_s) < 0
				   ? -ENOMEM
				   : -ETIMEDOUT;
		if (fr.status == 503) {
			if (!said_waiting)
				run_log(LOG_NOTICE, "credentials",
					"serve waits for the first server to join; asking again "
					"every %" PRIu64 " s for up to %" PRIu64 " s",
					pause, wait_s);
			said_waiting = true;
			run_notify("credentials: waiting for the first server");
		} else {
			run_log(LOG_WARNING, "credentials",
				"%s; attempt %u, retrying in %" PRIu64 " s", fr.error, attempt,
				pause);
			run_notify("credentials: %s; retrying", fr.error);
		}
		sleep((unsigned)pause);
	}
}

int run_credentials_apply(na_config *cfg, const run_credentials *c, const char *target)
{
	_cleanup_free_ char *tf = NULL, *atf = NULL;

	if (asprintf(&tf, "%s%s/k3s-token", strcmp(target, "/") ? target : "",
		     RUN_CREDENTIALS_DIR) < 0)
		return -ENOMEM;
	if (c->agent_token && asprintf(&atf, "%s%s/k3s-agent-token",
				       strcmp(target, "/") ? target : "", RUN_CREDENTIALS_DIR) < 0)
		return -ENOMEM;
	if (c->server) {
		free(cfg->server);
		cfg->server = strdup(c->server);
		if (!cfg->server)
			return -ENOMEM;
	}
	free(cfg->token_file);
	cfg->token_file = TAKE_PTR(tf);
	free(cfg->agent_token_file);
	cfg->agent_token_file = TAKE_PTR(atf);
	return 0;
}

/* A secret file: 0600, written atomically, "SECRET\n". */
static int write_secret(const char *path, const char *secret)
{
	_cleanup_(erase_and_freep) char *text = NULL;

	if (asprintf(&text, "%s\n", secret) < 0) {
		text = NULL;
		return -ENOMEM;
	}
	return write_atomic(path, text, 0600);
}

int run_credentials_write(const na_config *cfg, const run_credentials *c, const char *target,
			  char **ret_err)
{
	_cleanup_free_ char *dir = NULL;
	int r;

	*ret_err = NULL;
	if (asprintf(&dir, "%s%s/", strcmp(target, "/") ? target : "", RUN_CREDENTIALS_DIR) < 0)
		return -ENOMEM;
	r = mkdir_parents(dir);
	/* only root reads the directory: 0700 even if it was there with another mode */
	if (r >= 0 && chmod(dir, 0700) < 0)
		r = -errno;
	if (r < 0)
		return asprintf(ret_err, "%s: %s", dir, strerror(-r)) < 0 ? -ENOMEM : r;
	r = write_secret(cfg->token_file, c->token);
	if (r < 0)
		return asprintf(ret_err, "%s: %s", cfg->token_file, strerror(-r)) < 0 ? -ENOMEM : r;
	if (c->agent_token && cfg->agent_token_file) {
		r = write_secret(cfg->agent_token_file, c->agent_token);
		if (r < 0)
			return asprintf(ret_err, "%s: %s", cfg->agent_token_file, strerror(-r)) < 0
				   ? -ENOMEM
				   : r;
	}
	return 0;
}

int run_node_password_write(const run_credentials *c, const char *target, char **ret_msg)
{
	_cleanup_free_ char *path = NULL;
	struct stat st;
	int r;

	*ret_msg = NULL;
	if (asprintf(&path, "%s/etc/rancher/node/password", strcmp(target, "/") ? target : "") < 0)
		return -ENOMEM;
	/* K3s's own, or one kept on the data disk: the cluster knows that one */
	if (lstat(path, &st) == 0)
		return asprintf(ret_msg, "%s exists: kept", path) < 0 ? -ENOMEM : 0;
	/* /etc/rancher/node 0755, as K3s creates it */
	r = mkdir_parents(path);
	if (r >= 0)
		r = write_secret(path, c->node_password);
	if (r < 0)
		return asprintf(ret_msg, "%s: %s", path, strerror(-r)) < 0 ? -ENOMEM : r;
	return asprintf(ret_msg, "%s written (from node-agent serve)", path) < 0 ? -ENOMEM : 1;
}

/* --- the server-init tells serve about the cluster (contract section 3) --- */

static bool host_is_loopback(const char *host, size_t n)
{
	return (n >= 4 && !strncmp(host, "127.", 4)) ||
	       (n == 9 && !strncmp(host, "localhost", 9)) || (n == 5 && !strncmp(host, "[::1]", 5));
}

int run_cluster_server_url(const char *kube_server, const char *node_ipv4, char **ret,
			   char **ret_err)
{
	const char *host, *end;

	*ret = *ret_err = NULL;
	if (!kube_server || strncmp(kube_server, "https://", 8))
		return asprintf(ret_err, "the admin kubeconfig's server is not an https:// URL") < 0
			   ? -ENOMEM
			   : -EINVAL;
	host = kube_server + 8;
	end = host[0] == '[' ? strchr(host, ']') : host + strcspn(host, ":/");
	if (!end)
		return asprintf(ret_err, "the admin kubeconfig's server has no host") < 0 ? -ENOMEM
											  : -EINVAL;
	if (host[0] == '[')
		end++;
	if (!host_is_loopback(host, (size_t)(end - host))) {
		size_t n = strlen(kube_server);
		while (n > 8 && kube_server[n - 1] == '/')
			n--;
		*ret = strndup(kube_server, n);
		return *ret ? 0 : -ENOMEM;
	}
	if (!node_ipv4)
		return asprintf(ret_err,
				"the admin kubeconfig's server is a loopback address and this "
				"node's own IPv4 address is unknown") < 0
			   ? -ENOMEM
			   : -EADDRNOTAVAIL;
	return asprintf(ret, "https://%s:6443", node_ipv4) < 0 ? -ENOMEM : 0;
}

/* The node's own IPv4 address: the plan's node-ip, else that of the NIC with the default
 * route, else of any physical NIC; NULL when unknown. */
static char *node_ipv4(const na_plan *plan, const hw_inventory *inv)
{
	if (plan->node_ip && strchr(plan->node_ip, '.'))
		return strdup(plan->node_ip);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < inv->n_nics; i++) {
			const hw_nic *n = &inv->nics[i];

			if (n->is_virtual || (pass == 0 && n->default_route != HW_TRI_TRUE))
				continue;
			for (char **a = n->addresses; a && *a; a++)
				if (strchr(*a, '.') && strncmp(*a, "127.", 4) &&
				    strncmp(*a, "169.254.", 8))
					return strndup(*a, strcspn(*a, "/"));
		}
	return NULL;
}

/* https://host:port of URL, and PATH */
static char *origin_path(const char *url, const char *path)
{
	const char *p = strchr(url + 8, '/');
	char *s = NULL;

	if (asprintf(&s, "%.*s%s", p ? (int)(p - url) : (int)strlen(url), url, path) < 0)
		return NULL;
	return s;
}

/* The body of POST /api/v1/cluster into *ret (it holds the API token: erased by the
 * caller); a failure is said in *ret_err. */
static int cluster_body(const na_plan *plan, const hw_inventory *inv, const char *target,
			char **ret, char **ret_err)
{
	_cleanup_(kubeconfig_freep) kubeconfig *kc = NULL;
	_cleanup_(kube_client_freep) kube_client *admin = NULL;
	_cleanup_(fetch_result_done) fetch_result fr = {0};
	_cleanup_free_ char *server = NULL, *ip = NULL, *cacerts = NULL;
	_cleanup_(erase_and_freep) char *api_token = NULL;
	_cleanup_json_ json_object *o = NULL;
	fetch_opts fo = {.max_bytes = 256 * 1024, .no_redirects = true, .timeout_s = 15};
	char hash[65];
	int r;

	r = kubeconfig_load(target, K3S_ADMIN_KUBECONFIG, &kc, ret_err);
	if (r < 0)
		return r;
	ip = node_ipv4(plan, inv);
	r = run_cluster_server_url(kc->server, ip, &server, ret_err);
	if (r < 0)
		return r;
	/* the CA the admin kubeconfig trusts is the cluster's: its hash is what tokens carry */
	cacerts = origin_path(kc->server, "/cacerts");
	if (!cacerts)
		return -ENOMEM;
	fo.ca_pem = kc->ca_pem;
	r = fetch_url(cacerts, NULL, 0, &fo, &fr);
	if (r < 0)
		return (*ret_err = strdup(fr.error)) ? r : -ENOMEM;
	r = k3s_ca_hash(fr.body ? fr.body : "", fr.len, hash, NULL);
	if (r < 0)
		return asprintf(ret_err, "%s: no CA hash: %s", cacerts, strerror(-r)) < 0 ? -ENOMEM
											  : r;
	r = kube_client_new(kc, 15, &admin, ret_err);
	if (r < 0)
		return r;
	r = kube_serve_account_token(admin, SA_TOKEN_SECONDS, &api_token, ret_err);
	if (r < 0)
		return r;
	o = json_object_new_object();
	if (!o || json_object_object_add(o, "schema", json_object_new_string(CLUSTER_SCHEMA)) < 0 ||
	    json_object_object_add(o, "server", json_object_new_string(server)) < 0 ||
	    json_object_object_add(o, "ca_hash", json_object_new_string(hash)) < 0 ||
	    json_object_object_add(o, "api_token", json_object_new_string(api_token)) < 0)
		return -ENOMEM;
	*ret = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	/* json-c's copy of the token: erased before it is freed */
	{
		json_object *t;
		if (json_object_object_get_ex(o, "api_token", &t))
			explicit_bzero((char *)json_object_get_string(t),
				       (size_t)json_object_get_string_len(t));
	}
	if (!*ret)
		return -ENOMEM;
	return asprintf(ret_err, "server %s, CA sha256 %s", server, hash) < 0 ? -ENOMEM : 0;
}

int run_cluster_announce(const na_config *cfg, const run_credentials *c, const na_plan *plan,
			 const hw_inventory *inv, const char *target, char **ret_msg)
{
	_cleanup_(erase_and_freep) char *body = NULL;
	_cleanup_free_ char *url = origin_path(cfg->credentials.url, "/api/v1/cluster"),
			    *what = NULL;
	_cleanup_(fetch_result_done) fetch_result fr = {0};
	fetch_opts fo = {.ca_file = cfg->report_ca_file,
			 .ca_pem = cfg->report_ca_pem,
			 .bearer_token = c->machine_key,
			 .max_bytes = ANSWER_MAX,
			 .no_redirects = true,
			 .timeout_s = 30};
	int r;

	*ret_msg = NULL;
	if (!url)
		return -ENOMEM;
	r = cluster_body(plan, inv, target, &body, &what);
	if (r >= 0 && !body)
		r = -ENOMEM;
	if (r < 0)
		return asprintf(ret_msg, "the cluster not announced to serve: %s",
				what ? what : strerror(-r)) < 0
			   ? -ENOMEM
			   : r;
	/* serve restarting, or the network not quite there: a few more tries, a minute at most */
	for (unsigned attempt = 1;; attempt++) {
		r = fetch_url(url, body, strlen(body), &fo, &fr);
		if (r == 0 || attempt >= ANNOUNCE_ATTEMPTS ||
		    !(fr.status >= 500 || (fr.status == 0 && fetch_retryable(r, &fr))))
			break;
		run_log(LOG_WARNING, "credentials", "%s; attempt %u, retrying in 10 s", fr.error,
			attempt);
		fetch_result_done(&fr);
		sleep(10);
	}
	if (r < 0) {
		_cleanup_free_ char *answer = tame(fr.body);
		return asprintf(ret_msg, "the cluster not announced to serve: %s%s%s", fr.error,
				answer && *answer ? ": " : "", answer ? answer : "") < 0
			   ? -ENOMEM
			   : r;
	}
	return asprintf(ret_msg, "the cluster announced to %s: %s", url, what) < 0 ? -ENOMEM : 0;
}
