/* SPDX-License-Identifier: MIT */
/*
 * The cluster serve makes, and the join credentials it hands out (README, "Join secrets").
 *
 * When the operator's node config names no cluster (no cluster.server, no token files) and a
 * rule makes a machine server-init, serve manages the cluster: it generates the K3s server
 * and agent tokens, hands them to accepted machines only, over HTTPS only, and learns the
 * cluster's CA hash and address from the server-init machine once it is up.
 *
 * A machine asks with a boot ticket: each node config serve hands an accepted machine
 * carries a new one, "v1.<machine>.<issued>.<nonce>.<HMAC-SHA256 of the rest>", under a key
 * only serve has. It is bound to that machine, used once, superseded by the next config
 * fetch of the machine and void after SERVE_TICKET_TTL_S. It travels in clear text (iPXE has
 * no TLS here), so it is no secret against someone on the LAN: it is what makes a request
 * tied to one boot, which a replay or an edit cannot be. The answer carries:
 *   server-init: the raw server token (K3s `token`) and agent token (`agent-token`);
 *   server:      K10<CA hash>::server:<server token>;
 *   agent:       K10<CA hash>::node:<agent token> (K3s's agent token user is "node");
 * the machine's node password (kept here, so a RAM-only node rejoins under its name) and a
 * machine key, valid until the next redemption, with which the server-init node reports the
 * cluster (POST /api/v1/cluster).
 *
 * The role is serve's decision, from the operator's rules and the request's inventory, as
 * the node's own plan does: a machine cannot ask for the server token by claiming a role.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <time.h>

#include "basic/dl.h"
#include "basic/fetch.h"
#include "basic/json-util.h"
#include "basic/parse-util.h"
#include "inventory/inventory-json.h"
#include "join/preflight.h"
#include "kube/kube.h"
#include "kube/retire.h"
#include "plan/plan.h"
#include "report/report-internal.h"
#include "serve/serve.h"
#include "tpm/tpm2.h"

#define TICKET_MAX 200

/* n random bytes as 2n lower-case hex digits */
static int random_hex(size_t n, char *ret)
{
	unsigned char b[64];

	if (n > sizeof(b) || getrandom(b, n, 0) != (ssize_t)n)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		snprintf(ret + 2 * i, 3, "%02x", b[i]);
	explicit_bzero(b, sizeof(b));
	return 0;
}

/* The value of KEY in the cluster table, made of N random bytes the first time. */
static int cluster_secret(serve_db *db, const char *key, size_t n, char **ret)
{
	char fresh[129];
	int r = random_hex(n, fresh);

	/* set once: two threads asking at once keep the first one's */
	if (r >= 0)
		r = serve_db_kv_set(db, key, fresh, true);
	explicit_bzero(fresh, sizeof(fresh));
	return r < 0 ? r : serve_db_kv_get(db, key, ret);
}

bool serve_cluster_managed(const na_config *nc)
{
	return nc && !nc->server && !nc->token_file && !nc->agent_token_file &&
	       !na_config_inventory_only(nc);
}

static int ticket_mac(serve_db *db, const char *text, size_t len, char ret[65])
{
	_cleanup_free_ char *key = NULL;
	int r = cluster_secret(db, "ticket_key", 32, &key);

	if (r < 0)
		return r;
	r = hmac_sha256_hex(key, strlen(key), text, len, ret);
	explicit_bzero(key, strlen(key));
	return r;
}

int serve_ticket_new(serve_db *db, int64_t machine, int64_t now, char **ret)
{
	_cleanup_free_ char *t = NULL;
	char nonce[33], mac[65];
	int r = random_hex(16, nonce);

	if (r < 0)
		return r;
	if (asprintf(&t, "v1.%" PRId64 ".%" PRId64 ".%s", machine, now, nonce) < 0) {
		t = NULL;
		return -ENOMEM;
	}
	r = ticket_mac(db, t, strlen(t), mac);
	if (r < 0)
		return r;
	if (asprintf(ret, "%s.%s", t, mac) < 0)
		return -ENOMEM;
	/* the machine's only valid ticket from now on */
	r = serve_db_credential_set(db, machine, "ticket", *ret);
	if (r < 0) {
		free(*ret);
		*ret = NULL;
	}
	return r;
}

int serve_ticket_check(serve_db *db, const char *ticket, int64_t now, int64_t *ret_machine,
		       const char **ret_reason)
{
	const char *dot = ticket ? strrchr(ticket, '.') : NULL;
	int64_t machine, issued;
	unsigned diff = 0;
	char mac[65], *end;
	int r;

	*ret_reason = "tampered";
	if (!dot || strlen(ticket) > TICKET_MAX || strncmp(ticket, "v1.", 3) ||
	    strlen(dot + 1) != 64)
		return -EBADMSG;
	r = ticket_mac(db, ticket, (size_t)(dot - ticket), mac);
	if (r < 0) {
		*ret_reason = NULL;
		return r;
	}
	for (size_t i = 0; i < 64; i++)
		diff |= (unsigned char)(mac[i] ^ dot[1 + i]);
	if (diff)
		return -EBADMSG;
	/* signed by us: the fields are ours */
	errno = 0;
	machine = strtoll(ticket + 3, &end, 10);
	if (errno || *end != '.')
		return -EBADMSG;
	issued = strtoll(end + 1, &end, 10);
	if (errno || *end != '.')
		return -EBADMSG;
	if (now - issued > SERVE_TICKET_TTL_S || issued - now > 60) {
		*ret_reason = "expired";
		return -ETIME;
	}
	*ret_machine = machine;
	*ret_reason = NULL;
	return 0;
}

/* The role the operator's rules give INV: the node's own plan decides the same way
 * (plan.c plan_rules: every matching rule in order, a later role wins, agent without). */
static na_role rules_role(const na_config *nc, const hw_inventory *inv)
{
	na_role role = ROLE_AGENT;

	for (size_t i = 0; i < nc->n_rules; i++) {
		const na_rule *rule = &nc->rules[i];

		if ((!rule->has_match || plan_match(&rule->match, inv)) && rule->role != ROLE_UNSET)
			role = rule->role;
	}
	return role;
}

static int refuse(unsigned status, const char *reason, const char *text, unsigned *ret_status,
		  json_object **ret)
{
	json_object *o = json_object_new_object();

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "error", json_object_new_string(text));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	*ret_status = status;
	*ret = o;
	return 0;
}

/* The string member KEY of the object O, NULL when O is no object or has none. */
static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * The request's TPM proof, tpm {public_key (SPKI PEM), signature (base64 DER ECDSA-SHA256 of
 * the ticket)}, against the key pinned for MACHINE: NULL when it passes (*ret_pin: the key to
 * pin, at a machine's first request with one) or the reason of the refusal. A machine that
 * never sent a key may send none; once one is pinned, only that TPM gets the credentials.
 */
static const char *tpm_check(serve_db *db, int64_t machine, json_object *req, const char *ticket,
			     char **ret_pin)
{
	_cleanup_free_ char *pinned = NULL;
	_cleanup_free_ unsigned char *sig = NULL;
	json_object *tpm = NULL;
	const char *pub = NULL, *sig64 = NULL;
	size_t n = 0;
	int r;

	*ret_pin = NULL;
	if (json_object_object_get_ex(req, "tpm", &tpm)) {
		pub = json_str(tpm, "public_key");
		sig64 = json_str(tpm, "signature");
	}
	r = serve_db_credential_get(db, machine, "tpm_key", &pinned);
	if (r < 0 && r != -ENOENT)
		return "tpm-unknown"; /* the database failed: never taken as "nothing pinned" */
	if (!tpm)
		return pinned ? "tpm-required" : NULL;
	if (!pub || !sig64 || strlen(pub) > 1024 || strlen(sig64) > 512)
		return "tpm-signature";
	if (pinned && strcmp(pinned, pub))
		return "tpm-mismatch";
	sig = (unsigned char *)base64_decode(sig64, &n);
	if (!sig || tpm2_verify(pub, ticket, strlen(ticket), sig, n) < 0)
		return "tpm-signature";
	if (!pinned && !(*ret_pin = strdup(pub)))
		return "tpm-signature";
	return NULL;
}

static void machine_event(serve_db *db, int64_t machine, const char *kind, const char *detail)
{
	char key[32];

	snprintf(key, sizeof(key), "#%" PRId64, machine);
	(void)serve_event_add(db, key, kind, detail);
}

/* The K3s token of ROLE: the raw server token for server-init, else a K10 token with the
 * pinned CA hash. */
static int role_token(serve_db *db, na_role role, const char *ca_hash, char **ret)
{
	_cleanup_free_ char *secret = NULL;
	bool server = role != ROLE_AGENT;
	int r = cluster_secret(db, server ? "server_token" : "agent_token", 32, &secret);

	if (r < 0)
		return r;
	if (role == ROLE_SERVER_INIT) {
		*ret = TAKE_PTR(secret);
		return 0;
	}
	r = asprintf(ret, "K10%s::%s:%s", ca_hash, server ? "server" : "node", secret) < 0 ? -ENOMEM
											   : 0;
	explicit_bzero(secret, strlen(secret));
	return r;
}

static void json_add_secret(json_object *o, const char *key, char *value)
{
	json_object_object_add(o, key, json_object_new_string(value));
	explicit_bzero(value, strlen(value));
}

int serve_cluster_join(serve_db *db, const na_config *nc, const char *body, size_t len, int64_t now,
		       unsigned *ret_status, json_object **ret)
{
	_cleanup_json_ json_object *req = NULL, *answer = NULL;
	_cleanup_(serve_machine_freep) serve_machine *m = NULL;
	_cleanup_(serve_identity_done) serve_identity id = {0};
	_cleanup_free_ char *ca_hash = NULL, *server = NULL, *init = NULL, *token = NULL,
			    *agent_token = NULL, *password = NULL, *tpm_pin = NULL,
			    *kept_role = NULL;
	json_object *v, *inv_json = NULL;
	hw_inventory *inv = NULL;
	const char *ticket = NULL, *reason;
	char key[65], key_hash[65], idbuf[32];
	int64_t machine = 0, found = 0;
	na_role role;
	int r;

	req = report_parse_json(body ? body : "", body ? len : 0);
	if (!req || !json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "schema", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), SERVE_JOIN_REQUEST_SCHEMA) ||
	    !json_object_object_get_ex(req, "ticket", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !json_object_object_get_ex(req, "inventory", &inv_json) ||
	    !json_object_is_type(inv_json, json_type_object))
		return refuse(400, "bad-request",
			      "not a " SERVE_JOIN_REQUEST_SCHEMA
			      " request (schema, ticket, inventory)",
			      ret_status, ret);
	ticket = json_object_get_string(v);
	r = serve_ticket_check(db, ticket, now, &machine, &reason);
	if (r == -EBADMSG)
		return refuse(403, reason,
			      "the boot ticket is not one serve signed: it was altered or made up",
			      ret_status, ret);
	if (r == -ETIME)
		return refuse(403, reason,
			      "the boot ticket has expired: boot the machine again for a new one",
			      ret_status, ret);
	if (r < 0)
		return r;
	if (serve_identity_from_json(inv_json, &id) < 0 ||
	    inventory_from_json(inv_json, "join request", NULL, &inv) < 0)
		return refuse(400, "bad-request", "the inventory is not a usable inventory/v1 one",
			      ret_status, ret);
	r = serve_db_find_machine(db, &id, &found);
	if (r < 0 && r != -ENOENT) {
		hw_inventory_free(inv);
		return r;
	}
	if (r == -ENOENT || found != machine) {
		hw_inventory_free(inv);
		machine_event(db, machine, "credentials refused",
			      "identity-mismatch: another machine presented its ticket");
		return refuse(403, "identity-mismatch",
			      "this boot ticket belongs to another machine than the one asking",
			      ret_status, ret);
	}
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, machine);
	r = serve_machine_get(db, idbuf, &m);
	if (r < 0) {
		hw_inventory_free(inv);
		return r;
	}
	role = rules_role(nc, inv);
	hw_inventory_free(inv);
	if (!strcmp(m->state, "retired") || !strcmp(m->state, "discovered")) {
		bool retired = !strcmp(m->state, "retired");

		machine_event(db, machine, "credentials refused",
			      retired ? "retired" : "not accepted");
		return refuse(403, retired ? "retired" : "not-accepted",
			      retired ? "this machine is retired: an operator must accept it again"
				      : "this machine is not accepted: an operator must accept it",
			      ret_status, ret);
	}
	r = serve_db_kv_get(db, "ca_hash", &ca_hash);
	if (r >= 0)
		r = serve_db_kv_get(db, "server", &server);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r < 0) {
		free(ca_hash);
		free(server);
		ca_hash = server = NULL;
	}
	/* 5: a failed read is an error, never "no server-init yet" */
	r = serve_db_kv_get(db, "init_machine", &init);
	if (r < 0 && r != -ENOENT)
		return r;
	/* the role is the one of the machine's first join (its own inventory then, under the
	 * operator's rules), kept until it is retired and accepted again: an inventory sent
	 * later (more memory, a GPU, another NIC) cannot move an agent to the server token */
	r = serve_db_credential_get(db, machine, "role", &kept_role);
	if (r < 0 && r != -ENOENT)
		return r;
	if (kept_role && strcmp(kept_role, na_role_name(role))) {
		machine_event(db, machine, "credentials refused", "role-changed");
		return refuse(403, "role-changed",
			      "the rules give this machine another role than at its first join: "
			      "retire it and accept it again to change its role",
			      ret_status, ret);
	}
	if (role == ROLE_SERVER_INIT && init && strcmp(init, idbuf)) {
		machine_event(db, machine, "credentials refused", "role-taken");
		return refuse(403, "role-taken",
			      "another machine created the cluster: the rules make this one "
			      "server-init too; make it a server",
			      ret_status, ret);
	}
	if (role != ROLE_SERVER_INIT && !ca_hash) {
		return refuse(503, "waiting-for-first-server",
			      "the cluster does not exist yet: the server-init machine has not "
			      "reported it; ask again",
			      ret_status, ret);
	}
	reason = tpm_check(db, machine, req, ticket, &tpm_pin);
	if (reason && !strcmp(reason, "tpm-unknown"))
		return -EIO;
	if (reason) {
		machine_event(db, machine, "credentials refused", reason);
		return refuse(403, reason,
			      !strcmp(reason, "tpm-required")
				  ? "this machine's TPM key is pinned: the request must be signed "
				    "by it"
			      : !strcmp(reason, "tpm-mismatch")
				  ? "the request is signed by another TPM than the one pinned for "
				    "this machine"
				  : "the TPM signature of the boot ticket does not verify",
			      ret_status, ret);
	}
	/* Everything that can fail is made before the ticket is spent, so that a failure (a
	 * full disk) leaves the ticket good for the node's next try instead of "replayed".
	 * The tokens and the node password are the cluster's and the machine's, made once. */
	r = role_token(db, role, ca_hash, &token);
	if (r >= 0 && role == ROLE_SERVER_INIT)
		r = cluster_secret(db, "agent_token", 32, &agent_token);
	if (r >= 0) {
		r = serve_db_credential_get(db, machine, "node_password", &password);
		if (r == -ENOENT) {
			char fresh[33];

			/* as K3s makes one (16 random bytes, hex), kept for the next boots */
			r = random_hex(16, fresh);
			if (r >= 0)
				r = serve_db_credential_set(db, machine, "node_password", fresh);
			if (r >= 0 && !(password = strdup(fresh)))
				r = -ENOMEM;
			explicit_bzero(fresh, sizeof(fresh));
		}
	}
	if (r >= 0 && role == ROLE_SERVER_INIT) {
		/* only once: a second server-init that got past the check above loses here */
		r = serve_db_kv_set(db, "init_machine", idbuf, true);
		if (r == 0) {
			free(init);
			init = NULL;
			r = serve_db_kv_get(db, "init_machine", &init);
			if (r >= 0 && strcmp(init, idbuf))
				return refuse(403, "role-taken",
					      "another machine created the cluster", ret_status,
					      ret);
		}
	}
	if (r >= 0)
		r = random_hex(32, key);
	if (r >= 0)
		r = sha256_hex(key, 64, key_hash);
	if (r < 0)
		return r;
	r = serve_db_ticket_redeem(db, machine, ticket, key_hash);
	if (r == -ESTALE || r == -EALREADY) {
		explicit_bzero(key, sizeof(key));
		machine_event(db, machine, "credentials refused",
			      r == -EALREADY ? "replayed" : "superseded");
		return refuse(403, r == -EALREADY ? "replayed" : "superseded",
			      r == -EALREADY
				  ? "this boot ticket was used already: a ticket is good for one "
				    "request"
				  : "this boot ticket is no longer the machine's: a newer config "
				    "was fetched for it since",
			      ret_status, ret);
	}
	if (r >= 0 && tpm_pin) {
		r = serve_db_credential_set(db, machine, "tpm_key", tpm_pin);
		if (r >= 0)
			machine_event(db, machine, "tpm key pinned", NULL);
	}
	if (r >= 0 && !kept_role)
		r = serve_db_credential_set(db, machine, "role", na_role_name(role));
	answer = json_object_new_object();
	if (r < 0 || !answer) {
		explicit_bzero(key, sizeof(key));
		return r < 0 ? r : -ENOMEM;
	}
	json_object_object_add(answer, "schema", json_object_new_string(SERVE_JOIN_SCHEMA));
	json_object_object_add(answer, "machine", json_object_new_string(idbuf));
	json_object_object_add(answer, "code", json_object_new_string(m->code));
	json_object_object_add(answer, "role", json_object_new_string(na_role_name(role)));
	json_object_object_add(answer, "server",
			       role == ROLE_SERVER_INIT ? NULL : json_object_new_string(server));
	json_add_secret(answer, "token", token);
	if (agent_token)
		json_add_secret(answer, "agent_token", agent_token);
	json_add_secret(answer, "node_password", password);
	json_add_secret(answer, "machine_key", key);
	machine_event(db, machine, "credentials handed", na_role_name(role));
	*ret_status = 200;
	*ret = TAKE_PTR(answer);
	return 0;
}

/* Whether S is 64 lower-case hex digits. */
static bool hex64(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

int serve_cluster_post(serve_db *db, const char *bearer, const char *body, size_t len,
		       unsigned *ret_status, json_object **ret)
{
	_cleanup_json_ json_object *req = NULL, *answer = NULL;
	_cleanup_free_ char *init = NULL, *pinned = NULL;
	const char *server, *ca_hash, *api_token, *schema;
	char hash[65], idbuf[32];
	int64_t machine;
	int r;

	if (!bearer || !*bearer || sha256_hex(bearer, strlen(bearer), hash) < 0 ||
	    serve_db_machine_by_key(db, hash, &machine) < 0)
		return refuse(403, "unknown-key", "no machine holds this key", ret_status, ret);
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, machine);
	if (serve_db_kv_get(db, "init_machine", &init) < 0 || strcmp(init, idbuf))
		return refuse(403, "not-server-init",
			      "only the machine that created the cluster reports it", ret_status,
			      ret);
	req = report_parse_json(body ? body : "", body ? len : 0);
	server = json_str(req, "server");
	ca_hash = json_str(req, "ca_hash");
	api_token = json_str(req, "api_token");
	schema = json_str(req, "schema");
	if (!schema || strcmp(schema, SERVE_CLUSTER_SCHEMA) || !server ||
	    strncmp(server, "https://", 8) || strlen(server) > 256 || !hex64(ca_hash) ||
	    (api_token && strlen(api_token) > 8192))
		return refuse(400, "bad-request",
			      "not a " SERVE_CLUSTER_SCHEMA
			      " document (schema, server https://..., ca_hash, api_token)",
			      ret_status, ret);
	r = serve_db_kv_set(db, "ca_hash", ca_hash, true);
	if (r < 0)
		return r;
	r = serve_db_kv_get(db, "ca_hash", &pinned);
	if (r < 0)
		return r;
	if (strcmp(pinned, ca_hash)) {
		machine_event(db, machine, "cluster refused", "ca-hash-conflict");
		return refuse(409, "ca-hash-conflict",
			      "serve pinned another CA hash for this cluster: a new cluster CA "
			      "(the server-init machine lost its data disk?) is not taken silently",
			      ret_status, ret);
	}
	r = serve_db_kv_set(db, "server", server, false);
	if (r >= 0 && api_token)
		r = serve_db_kv_set(db, "api_token", api_token, false);
	if (r < 0)
		return r;
	machine_event(db, machine, "cluster reported", server);
	answer = json_object_new_object();
	if (!answer)
		return -ENOMEM;
	json_object_object_add(answer, "ca_hash", json_object_new_string(pinned));
	json_object_object_add(answer, "server", json_object_new_string(server));
	json_object_object_add(answer, "pinned", json_object_new_boolean(true));
	*ret_status = 200;
	*ret = TAKE_PTR(answer);
	return 0;
}

json_object *serve_cluster_json(serve_db *db)
{
	json_object *o = json_object_new_object();
	static const char *const keys[] = {"server", "ca_hash", "init_machine"};

	if (!o)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		_cleanup_free_ char *v = NULL;

		json_object_object_add(
		    o, keys[i],
		    serve_db_kv_get(db, keys[i], &v) >= 0 ? json_object_new_string(v) : NULL);
	}
	return o;
}

/* --- retire: the Node goes, through the cluster's API --- */

typedef struct retire_job {
	serve_server *s;
	serve_db *db;
	na_log log;
	int64_t machine;
	char *node, *server, *ca_hash, *api_token;
	char *uuid; /* the machine's SMBIOS UUID, NULL when serve knows none */
} retire_job;

static void retire_job_free(retire_job *j)
{
	if (j->api_token)
		explicit_bzero(j->api_token, strlen(j->api_token));
	free(j->node);
	free(j->uuid);
	free(j->server);
	free(j->ca_hash);
	free(j->api_token);
	free(j);
}

/* The cluster's CA as /cacerts serves it, when it hashes to the pinned CA_HASH. */
static int cluster_ca(const char *server, const char *ca_hash, char **ret, char **ret_err)
{
	fetch_opts fo = {.connect_timeout_s = 5,
			 .timeout_s = 10,
			 .max_bytes = 256 * 1024,
			 .no_redirects = true,
			 .insecure = true}; /* the hash decides, as a K3s agent does */
	_cleanup_(fetch_result_done) fetch_result fr = {0};
	_cleanup_free_ char *url = NULL;
	char hash[65];
	int r;

	if (asprintf(&url, "%s/cacerts", server) < 0) {
		url = NULL;
		return -ENOMEM;
	}
	r = fetch_url(url, NULL, 0, &fo, &fr);
	if (r < 0) {
		*ret_err = strdup(fr.error[0] ? fr.error : strerror(-r));
		return r;
	}
	if (!fr.body || k3s_ca_hash(fr.body, fr.len, hash, NULL) < 0 || strcmp(hash, ca_hash)) {
		if (asprintf(ret_err, "%s does not hash to the pinned CA hash %s", url, ca_hash) <
		    0)
			*ret_err = NULL;
		return -EPERM;
	}
	*ret = TAKE_PTR(fr.body);
	return 0;
}

/*
 * The node name comes from the machine's report, which is not authenticated: before serve
 * cordons and deletes a Node, the Node must be this machine. The kubelet posts the SMBIOS
 * UUID as status.nodeInfo.systemUUID (cadvisor reads /sys/class/dmi/id/product_uuid); a Node
 * of another UUID is left alone. 0 when it matches, the Node is gone, or serve knows no UUID
 * for the machine (then the name is all it has).
 */
static int node_is_machine(kube_client *c, const retire_job *j, char **ret_err)
{
	_cleanup_json_ json_object *node = NULL;
	json_object *st, *info, *v;
	const char *uuid = NULL;
	int r;

	if (!j->uuid)
		return 0;
	r = kube_get_node(c, j->node, &node, ret_err);
	if (r == -ENOENT) {
		free(*ret_err);
		*ret_err = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	if (json_object_object_get_ex(node, "status", &st) &&
	    json_object_object_get_ex(st, "nodeInfo", &info) &&
	    json_object_object_get_ex(info, "systemUUID", &v) &&
	    json_object_is_type(v, json_type_string))
		uuid = json_object_get_string(v);
	if (uuid && !strcasecmp(uuid, j->uuid))
		return 0;
	if (asprintf(ret_err,
		     "Node %s reports system UUID %s, not this machine's %s: it is another "
		     "machine's (a report named the wrong node), left alone",
		     j->node, uuid && *uuid ? uuid : "(none)", j->uuid) < 0)
		*ret_err = NULL;
	return -EPERM;
}

static void *retire_thread(void *arg)
{
	retire_job *j = arg;
	_cleanup_free_ char *ca = NULL, *err = NULL, *summary = NULL, *detail = NULL;
	_cleanup_(kube_client_freep) kube_client *c = NULL;
	int r;

	r = cluster_ca(j->server, j->ca_hash, &ca, &err);
	if (r >= 0)
		r = kube_client_new_bearer(j->server, ca, j->api_token, 20, &c, &err);
	if (r >= 0)
		r = node_is_machine(c, j, &err);
	if (r >= 0)
		r = kube_node_retire(c, j->node, &j->log, &summary, &err);
	if (r < 0) {
		na_logf(&j->log, LOG_ERR, "machine %" PRId64 ": Node %s not removed: %s",
			j->machine, j->node, err ? err : strerror(-r));
		if (asprintf(&detail, "%s: %s", j->node, err ? err : strerror(-r)) < 0)
			detail = NULL;
		machine_event(j->db, j->machine, "node not removed", detail);
	} else {
		na_logf(&j->log, LOG_INFO, "machine %" PRId64 ": Node %s removed: %s", j->machine,
			j->node, summary ? summary : "");
		if (asprintf(&detail, "%s: %s", j->node, summary ? summary : "") < 0)
			detail = NULL;
		machine_event(j->db, j->machine, "node removed", detail);
	}
	pthread_mutex_lock(&j->s->retire_lock);
	j->s->retire_running--;
	pthread_cond_broadcast(&j->s->retire_done);
	pthread_mutex_unlock(&j->s->retire_lock);
	retire_job_free(j);
	return NULL;
}

int serve_cluster_retire(serve_server *s, int64_t machine, char **ret_msg)
{
	_cleanup_(serve_machine_freep) serve_machine *m = NULL;
	char idbuf[32];
	retire_job *j;
	pthread_t thread;
	int r = serve_db_credentials_revoke(s->db, machine);

	*ret_msg = NULL;
	if (r < 0)
		return r;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->s = s;
	j->db = s->db;
	j->log = s->log;
	j->machine = machine;
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, machine);
	r = serve_machine_get(s->db, idbuf, &m);
	if (r >= 0 && m->uuid && !(j->uuid = strdup(m->uuid)))
		r = -ENOMEM;
	if (r < 0) {
		retire_job_free(j);
		return r;
	}
	if (serve_db_credential_get(s->db, machine, "node_name", &j->node) < 0 ||
	    serve_db_kv_get(s->db, "server", &j->server) < 0 ||
	    serve_db_kv_get(s->db, "ca_hash", &j->ca_hash) < 0 ||
	    serve_db_kv_get(s->db, "api_token", &j->api_token) < 0) {
		*ret_msg = strdup(
		    j->node ? "credentials revoked; the cluster's API is not known to serve "
			      "(no server-init report): remove the Node by hand"
			    : "credentials revoked; no Node to remove (the machine never joined)");
		retire_job_free(j);
		return 0;
	}
	if (asprintf(ret_msg, "credentials revoked; draining and deleting Node %s", j->node) < 0)
		*ret_msg = NULL;
	/* detached: the HTTP thread never waits for the cluster's API; serve's stop does */
	pthread_mutex_lock(&s->retire_lock);
	r = -pthread_create(&thread, &s->retire_attr, retire_thread, j);
	if (r == 0)
		s->retire_running++;
	pthread_mutex_unlock(&s->retire_lock);
	if (r < 0)
		retire_job_free(j);
	return r;
}

void serve_cluster_stop(serve_server *s)
{
	/* each job is bounded by its client's timeouts */
	pthread_mutex_lock(&s->retire_lock);
	while (s->retire_running > 0)
		pthread_cond_wait(&s->retire_done, &s->retire_lock);
	pthread_mutex_unlock(&s->retire_lock);
}
