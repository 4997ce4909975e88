/* SPDX-License-Identifier: MIT */
/*
 * The HTTP side of `node-agent serve` (libmicrohttpd, dlopen'd: basic/dl.h): one internal
 * polling thread, a connection limit, per-IP limit and timeouts; kernel and initrd with
 * sendfile() and single Range requests; boot scripts; node configs; reports; the JSON API.
 *
 * Authentication of the API: a bearer token per request (Authorization: Bearer), whose
 * SHA-256 is in serve.yaml. There are no cookies and no sessions, so a page of another
 * site cannot make a browser act for an operator (no CSRF surface).
 *
 * Two daemons on the same address: plain HTTP for the boot stage only (Debian's iPXE has
 * no HTTPS; scripts, kernel, initrd and node configs carry nothing secret), and HTTPS
 * (MHD_USE_TLS, GnuTLS inside libmicrohttpd; the key and certificate of tls.c) for
 * everything: reports (serials, MACs), the API and its bearer tokens. The node trusts the
 * HTTPS side because its node config, fetched in the boot stage, carries the certificate
 * (report.ca_pem). That config travels in clear text, so someone on the LAN who can rewrite
 * it can point the node at their own collector; they could as well hand it another kernel.
 * Nothing in this chain is secret; what TLS adds is that a passive listener learns nothing
 * and an attacker must be active during that very boot.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "basic/capbuf.h"
#include "basic/dl.h"
#include "basic/parse-util.h"
#include "basic/json-util.h"
#include "basic/strv.h"
#include "inventory/inventory-json.h"
#include "report/deliver.h"
#include "report/report-internal.h"
#include "kube/kube.h"
#include "serve/serve.h"

/* A fleet booting at once (after a power cut: every machine reports within a second or two)
 * must find room: at its connection limit libmicrohttpd stops accepting, the listen queue
 * fills and the kernel drops further SYNs, which the client sends again only after 1, 3,
 * 7 ... s. With 64 of each, 91 of 200 nodes reporting at once waited for that second
 * (tests/bench/serve-load.sh). 256 connections per daemon stay within the default 1024
 * descriptors: a download holds two (socket and file). */
#define HTTP_CONNECTION_LIMIT 256
#define HTTP_LISTEN_BACKLOG   SOMAXCONN
#define HTTP_PER_IP_LIMIT     16
#define HTTP_TIMEOUT_S	      30

typedef struct request {
	capbuf body;
	bool too_big;
} request;

static enum MHD_Result reply(struct MHD_Connection *con, unsigned status, const char *type,
			     const char *body)
{
	struct MHD_Response *r =
	    sym_MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	sym_MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_UNAUTHORIZED)
		sym_MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	ret = sym_MHD_queue_response(con, status, r);
	sym_MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *con, unsigned status, const char *text)
{
	return reply(con, status, "text/plain; charset=utf-8", text);
}

/* {"error": TEXT} */
static enum MHD_Result reply_error(struct MHD_Connection *con, unsigned status, const char *text)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o)
		return MHD_NO;
	json_object_object_add(o, "error", json_object_new_string(text));
	return reply(con, status, "application/json",
		     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
}

static enum MHD_Result reply_json(struct MHD_Connection *con, unsigned status, json_object *o)
{
	const char *t = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE)
			  : NULL;
	_cleanup_free_ char *body = NULL;

	if (!t || asprintf(&body, "%s\n", t) < 0)
		return reply_error(con, 500, "out of memory");
	return reply(con, status, "application/json", body);
}

static const char *arg(struct MHD_Connection *con, const char *name)
{
	return sym_MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, name);
}

static const char *header(struct MHD_Connection *con, const char *name)
{
	return sym_MHD_lookup_connection_value(con, MHD_HEADER_KIND, name);
}

/* The MAC of "/PREFIX<mac>SUFFIX", or of ?mac=: 0, -ENOENT (none), -EINVAL. */
static int request_mac(struct MHD_Connection *con, const char *url, const char *prefix,
		       const char *suffix, char mac[static 18])
{
	int r = serve_mac_from_path(url, prefix, suffix, mac);

	if (r != -ENOENT)
		return r;
	if (!arg(con, "mac"))
		return -ENOENT;
	return serve_mac_normalize(arg(con, "mac"), mac);
}

/* The state of the machine with MAC, NULL when unknown (caller frees). */
static char *machine_state(serve_server *s, const char *mac)
{
	_cleanup_(serve_machine_freep) serve_machine *m = NULL;

	if (serve_machine_by_mac(s->db, mac, &m) < 0)
		return NULL;
	return TAKE_PTR(m->state);
}

static bool state_served(const char *state)
{
	return state && (!strcmp(state, "accepted") || !strcmp(state, "joined"));
}

static void event(serve_server *s, const char *mac, const char *kind, const char *detail)
{
	int r = serve_event_add(s->db, mac, kind, detail);

	if (r < 0)
		na_logf(&s->log, LOG_WARNING, "event \"%s\" of %s not recorded: %s", kind, mac,
			strerror(-r));
}

static enum MHD_Result boot_script(serve_server *s, struct MHD_Connection *con, const char *url)
{
	_cleanup_free_ char *script = NULL;
	const char *why = NULL;
	char mac[18];
	bool boot;

	if (request_mac(con, url, "/boot/", ".ipxe", mac) < 0)
		return reply_text(con, 400,
				  "#!ipxe\necho node-agent serve: give the MAC: "
				  "/boot.ipxe?mac=${net0/mac}\nexit\n");
	boot = serve_mac_boots(s, mac, &why);
	script = serve_boot_script(s->base_url, mac, boot);
	if (!script)
		return reply_text(con, 500, "out of memory\n");
	event(s, mac, "script fetched", boot ? "boot" : why);
	return reply(con, 200, "text/plain; charset=utf-8", script);
}

/* The operator's config with a cluster.credentials section: where to ask for the join
 * credentials, and a new boot ticket of the machine (cluster.c). */
static enum MHD_Result managed_config(serve_server *s, struct MHD_Connection *con, const char *mac)
{
	_cleanup_(serve_machine_freep) serve_machine *m = NULL;
	_cleanup_free_ char *ticket = NULL, *text = NULL;
	int r = serve_machine_by_mac(s->db, mac, &m);

	if (r >= 0)
		r = serve_ticket_new(s->db, m->id, time(NULL), &ticket);
	if (r >= 0)
		r = serve_config_with_credentials(s->accepted_config, s->join_url, ticket, &text);
	if (r < 0) {
		na_logf(&s->log, LOG_ERR, "node config of %s not made: %s", mac, strerror(-r));
		return reply_text(con, 503, "the node config cannot be made now\n");
	}
	event(s, mac, "config fetched", "node config with a boot ticket");
	return reply(con, 200, "application/yaml", text);
}

static enum MHD_Result node_config(serve_server *s, struct MHD_Connection *con, const char *url)
{
	_cleanup_free_ char *state = NULL;
	char mac[18];

	if (request_mac(con, url, "/config/", ".yaml", mac) < 0)
		return reply_text(con, 404, "not found\n");
	state = machine_state(s, mac);
	if (state_served(state) && s->managed)
		return managed_config(s, con, mac);
	if (state_served(state)) {
		event(s, mac, "config fetched", "node config");
		return reply(con, 200, "application/yaml", s->accepted_config);
	}
	if (s->c->unknown != SERVE_UNKNOWN_INVENTORY || (state && strcmp(state, "discovered")))
		return reply_text(con, 404, "this machine is not accepted\n");
	event(s, mac, "config fetched", "inventory only");
	return reply(con, 200, "application/yaml", s->inventory_config);
}

/* The MAC of the connection's peer, from the kernel's neighbour table: 0, -ENOENT */
static int peer_mac(struct MHD_Connection *con, char mac[static 18])
{
	const union MHD_ConnectionInfo *ci =
	    sym_MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	if (!ci || !ci->client_addr || ci->client_addr->sa_family != AF_INET)
		return -ENOENT;
	return serve_neighbour_mac(((const struct sockaddr_in *)ci->client_addr)->sin_addr, mac);
}

static enum MHD_Result image_file(serve_server *s, struct MHD_Connection *con, const char *dir,
				  const char *name, bool head)
{
	_cleanup_free_ char *path = NULL, *range_hdr = NULL;
	_cleanup_close_ int fd = -1;
	struct MHD_Response *r;
	struct stat st;
	uint64_t first = 0, last = 0;
	unsigned status = 200;
	enum MHD_Result ret;
	char mac[18];
	int rr;

	if (asprintf(&path, "%s/%s", dir, name) < 0) {
		path = NULL;
		return reply_text(con, 500, "out of memory\n");
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		na_logf(&s->log, LOG_WARNING, "%s: %s", path,
			fd < 0 ? strerror(errno) : "not a regular file");
		return reply_text(con, 404, "not found\n");
	}
	rr = serve_range_parse(header(con, MHD_HTTP_HEADER_RANGE), (uint64_t)st.st_size, &first,
			       &last);
	if (rr == -ERANGE) {
		r = sym_MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (!r || asprintf(&range_hdr, "bytes */%" PRIu64, (uint64_t)st.st_size) < 0)
			return MHD_NO;
		sym_MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, range_hdr);
		ret = sym_MHD_queue_response(con, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
		sym_MHD_destroy_response(r);
		return ret;
	}
	if (rr == 0) {
		status = 206;
		if (asprintf(&range_hdr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last,
			     (uint64_t)st.st_size) < 0)
			return MHD_NO;
	} else if (st.st_size > 0)
		last = (uint64_t)st.st_size - 1;
	/* MHD owns the descriptor from here, and sends it with sendfile() */
	r = sym_MHD_create_response_from_fd_at_offset64(st.st_size ? last - first + 1 : 0, fd,
							first);
	if (!r)
		return MHD_NO;
	TAKE_FD(fd);
	sym_MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	sym_MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (range_hdr)
		sym_MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, range_hdr);
	ret = sym_MHD_queue_response(con, status, r);
	sym_MHD_destroy_response(r);
	/* one event per download, not per range of it; a client that gave no ?mac= (UEFI HTTP
	 * boot's firmware) is found in the neighbour table */
	if (!head && first == 0 &&
	    (request_mac(con, "", "/", "/", mac) == 0 || peer_mac(con, mac) == 0))
		event(s, mac,
		      !strcmp(name, "vmlinuz")	? "kernel fetched"
		      : !strcmp(name, "initrd") ? "initrd fetched"
						: "http: boot program fetched",
		      name);
	return ret;
}

static const char *error_text(int r, const char *what, char *buf, size_t size)
{
	snprintf(buf, size, "%s: %s", what, strerror(-r));
	return buf;
}

/* The envelope's `node` (the boot job's account, sent once the node joined): an accepted
 * machine whose node joined becomes joined. A retired one stays retired. */
static void report_node(serve_server *s, json_object *env, int64_t machine)
{
	_cleanup_(serve_machine_freep) serve_machine *m = NULL;
	_cleanup_free_ char *by = NULL;
	json_object *node, *joined, *name;
	char id[32];

	if (!json_object_object_get_ex(env, "node", &node) ||
	    !json_object_object_get_ex(node, "joined", &joined) ||
	    !json_object_is_type(joined, json_type_boolean) || !json_object_get_boolean(joined))
		return;
	snprintf(id, sizeof(id), "%" PRId64, machine);
	if (serve_machine_get(s->db, id, &m) < 0 || strcmp(m->state, "accepted"))
		return;
	/* a name that is no Kubernetes node name is not kept (it would reach the log and a
	 * URL path of the retire) */
	if (!json_object_object_get_ex(node, "name", &name) ||
	    !json_object_is_type(name, json_type_string) ||
	    !kube_name_valid(json_object_get_string(name)))
		name = NULL;
	if (asprintf(&by, "node %s", name ? json_object_get_string(name) : "(unnamed)") < 0) {
		by = NULL;
		return;
	}
	/* the Node a retire removes */
	if (name &&
	    serve_db_credential_set(s->db, machine, "node_name", json_object_get_string(name)) < 0)
		na_logf(&s->log, LOG_WARNING, "machine %s: its node's name was not stored",
			m->code);
	if (serve_db_set_state(s->db, machine, "joined", by, time(NULL)) < 0)
		na_logf(&s->log, LOG_WARNING, "machine %s: joined, but the state was not stored",
			m->code);
}

/* 500 for a failed read of the state database, with its errno's text (the text of SQLite's
 * last error belongs to whichever thread used the handle last) */
static enum MHD_Result reply_db_error(struct MHD_Connection *con, int r)
{
	char text[256];

	return reply_error(con, 500, error_text(r, "the state database", text, sizeof(text)));
}

static enum MHD_Result report(serve_server *s, struct MHD_Connection *con, request *req)
{
	_cleanup_(serve_report_done) serve_report rep = {0};
	_cleanup_(serve_machine_freep) serve_machine *m = NULL;
	_cleanup_json_ json_object *answer = NULL;
	const char *key, *text, *why;
	char buf[256];
	int64_t machine = 0;
	int r;

	if (req->too_big)
		return reply_error(con, 413, "report larger than 4 MiB");
	if (serve_report_parse(s->c, req->body.data, req->body.len, header(con, "Idempotency-Key"),
			       &rep, &why) < 0)
		return reply_error(con, 400, why);
	key = rep.key;
	text = json_object_to_json_string_ext(rep.inventory, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	r = text ? serve_db_add_report(s->db, key, &rep.id, text, rep.rule, time(NULL), &machine)
		 : -ENOMEM;
	if (r < 0) {
		na_logf(&s->log, LOG_ERR, "report %s refused, not stored: %s", key, strerror(-r));
		return reply_error(con, 503,
				   error_text(r, "the report cannot be stored", buf, sizeof(buf)));
	}
	if (r == 1)
		report_node(s, rep.env, machine);
	snprintf(buf, sizeof(buf), "#%" PRId64, machine);
	if (serve_machine_get(s->db, buf + 1, &m) < 0)
		return reply_error(con, 500, "the stored machine cannot be read back");
	na_logf(&s->log, LOG_INFO, "report %s from machine %" PRId64 " (%s)%s: %s", key, machine,
		m->code, r ? "" : ", a duplicate", m->state);
	answer = json_object_new_object();
	if (!answer)
		return reply_error(con, 500, "out of memory");
	json_object_object_add(answer, "stored", json_object_new_boolean(r == 1));
	json_object_object_add(answer, "machine", serve_machine_to_json(m));
	return reply_json(con, r == 1 ? 201 : 200, answer);
}

/* The operator the request's bearer token names, NULL for none. */
static const serve_operator *operator(serve_server *s, struct MHD_Connection *con)
{
	const char *h = header(con, MHD_HTTP_HEADER_AUTHORIZATION);

	if (!h || strncmp(h, "Bearer ", 7))
		return NULL;
	return serve_config_operator(s->c, h + 7);
}

static json_object *tri_json(int v)
{
	return v < 0 ? NULL : json_object_new_boolean(v);
}

/* POST /api/machines/ID/wake: the magic packet of each of the machine's MACs worth waking
 * (wake.c), an event on its timeline, and an answer saying which MACs and what the
 * inventory says of their Wake-on-LAN. */
static enum MHD_Result wake(serve_server *s, struct MHD_Connection *con, const serve_machine *m,
			    const serve_operator *op)
{
	_cleanup_json_ json_object *doc = NULL, *answer = NULL;
	_cleanup_free_ char *detail = NULL, *text = NULL;
	serve_wake_target *t = NULL;
	json_object *inv = NULL, *sent, *d;
	char **dest = NULL, key[32];
	size_t n = 0;
	int r;

	if (!s->c->interface)
		return reply_error(con, 409,
				   "serve.yaml names no interface: Wake-on-LAN is a broadcast on "
				   "the LAN's interface");
	r = serve_db_machine_json(s->db, m->id, &doc);
	if (r < 0)
		return reply_db_error(con, r);
	json_object_object_get_ex(doc, "inventory", &inv);
	r = serve_wake_targets(inv, m->macs, &t, &n);
	if (r == -ENOENT)
		return reply_error(con, 409,
				   "no MAC is known for this machine: nothing to wake (it "
				   "reported no physical NIC)");
	if (r < 0)
		return reply_error(con, 500, "out of memory");
	r = serve_wol_send(s->c->interface, t, n, &dest);
	if (r < 0) {
		char buf[256];

		serve_wake_targets_free(t, n);
		na_logf(&s->log, LOG_ERR, "machine %" PRId64 ": wake on %s not sent: %s", m->id,
			s->c->interface, strerror(-r));
		snprintf(buf, sizeof(buf), "the magic packet cannot be sent on %s: %s",
			 s->c->interface, strerror(-r));
		return reply_error(con, 503, buf);
	}
	answer = json_object_new_object();
	sent = json_object_new_array();
	if (!answer || !sent) {
		json_object_put(sent);
		strv_free(dest);
		serve_wake_targets_free(t, n);
		return reply_error(con, 500, "out of memory");
	}
	d = json_object_new_array();
	json_object_object_add(answer, "machine", serve_machine_to_json(m));
	json_object_object_add(answer, "interface", json_object_new_string(s->c->interface));
	json_object_object_add(answer, "port", json_object_new_int(SERVE_WOL_PORT));
	for (size_t i = 0; d && dest && dest[i]; i++)
		json_object_array_add(d, json_object_new_string(dest[i]));
	json_object_object_add(answer, "destinations", d);
	json_object_object_add(answer, "sent", sent);
	strv_free(dest);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_new_object();
		_cleanup_free_ char *warning = NULL;
		char *nd;

		if (!e)
			break;
		json_object_object_add(e, "mac", json_object_new_string(t[i].mac));
		json_object_object_add(e, "nic",
				       t[i].nic ? json_object_new_string(t[i].nic) : NULL);
		json_object_object_add(e, "wol_supported", tri_json(t[i].wol_supported));
		json_object_object_add(e, "wol_enabled", tri_json(t[i].wol_enabled));
		if (serve_wake_warning(&t[i], &warning) >= 0 && warning)
			json_object_object_add(e, "warning", json_object_new_string(warning));
		json_object_array_add(sent, e);
		if (asprintf(&nd, "%s%s%s", detail ? detail : "", detail ? ", " : "", t[i].mac) >=
		    0) {
			free(detail);
			detail = nd;
		}
	}
	serve_wake_targets_free(t, n);
	snprintf(key, sizeof(key), "#%" PRId64, m->id);
	if (asprintf(&text, "%s on %s, UDP port %d, by operator:%s", detail ? detail : "",
		     s->c->interface, SERVE_WOL_PORT, op->name) < 0)
		text = NULL;
	event(s, key, "wake sent", text);
	na_logf(&s->log, LOG_INFO, "machine %" PRId64 " (%s): wake sent to %s", m->id, m->code,
		text ? text : "?");
	return reply_json(con, 200, answer);
}

static enum MHD_Result api(serve_server *s, struct MHD_Connection *con, const char *url, bool post)
{
	_cleanup_(serve_machine_freep) serve_machine *m = NULL;
	_cleanup_json_ json_object *o = NULL;
	_cleanup_free_ char *ref = NULL, *by = NULL;
	const char *rest = url + strlen("/api/machines"), *action = NULL, *state;
	const serve_operator *op = NULL;
	json_object *unreported = NULL;
	char mac[18];
	int r;

	if (!*rest || !strcmp(rest, "/")) {
		if (post)
			return reply_error(con, 405, "method not allowed");
		r = serve_db_machines_json(s->db, &o);
		if (r < 0)
			return reply_db_error(con, r);
		json_object *doc = json_object_new_object();
		if (!doc)
			return reply_error(con, 500, "out of memory");
		json_object_object_add(doc, "schema",
				       json_object_new_string("node-agent/machines/v1"));
		json_object_object_add(doc, "machines", TAKE_PTR(o));
		o = doc;
		/* MACs that booted from serve and never reported, with where their boot stopped */
		if (serve_db_unreported_json(s->db, &unreported) >= 0)
			json_object_object_add(doc, "unreported", unreported);
		return reply_json(con, 200, o);
	}
	if (rest[0] != '/')
		return reply_error(con, 404, "not found");
	action = strchr(rest + 1, '/');
	ref = action ? strndup(rest + 1, (size_t)(action - rest - 1)) : strdup(rest + 1);
	if (!ref)
		return reply_error(con, 500, "out of memory");
	if (post != !!action)
		return reply_error(con, post ? 404 : 405,
				   post ? "not found" : "method not allowed");
	if (action && strcmp(action, "/accept") && strcmp(action, "/retire") &&
	    strcmp(action, "/wake"))
		return reply_error(con, 404, "not found");
	if (action && !(op = operator(s, con)))
		return reply_error(con, 401, "an operator's bearer token is required");
	r = serve_machine_get(s->db, ref, &m);
	if ((r == -ENOENT || r == -EINVAL) && !action && serve_mac_normalize(ref, mac) == 0) {
		/* by a MAC: its machine, else what it did without ever reporting */
		r = serve_machine_by_mac(s->db, mac, &m);
		if (r == -ENOENT && serve_db_mac_json(s->db, mac, &o) >= 0)
			return reply_json(con, 200, o);
	}
	if (r == -ENOENT || r == -EINVAL)
		return reply_error(con, 404, "no such machine");
	if (r < 0)
		return reply_db_error(con, r);
	if (action && !strcmp(action, "/wake"))
		return wake(s, con, m, op);
	if (action) {
		state = !strcmp(action, "/accept") ? "accepted" : "retired";
		if (asprintf(&by, "operator:%s", op->name) < 0) {
			by = NULL;
			return reply_error(con, 500, "out of memory");
		}
		r = serve_db_set_state(s->db, m->id, state, by, time(NULL));
		if (r < 0) {
			na_logf(&s->log, LOG_ERR, "machine %" PRId64 ": %s not stored: %s", m->id,
				state, strerror(-r));
			return reply_error(con, 503, "the change cannot be stored");
		}
		na_logf(&s->log, LOG_INFO, "machine %" PRId64 " (%s) %s by %s", m->id, m->code,
			state, by);
		if (!strcmp(state, "retired")) {
			_cleanup_free_ char *msg = NULL;

			r = serve_cluster_retire(s, m->id, &msg);
			if (r < 0)
				na_logf(&s->log, LOG_ERR, "machine %" PRId64 ": retire: %s", m->id,
					strerror(-r));
			else if (msg)
				na_logf(&s->log, LOG_INFO, "machine %" PRId64 ": %s", m->id, msg);
		}
	}
	r = serve_db_machine_json(s->db, m->id, &o);
	if (r < 0)
		return reply_db_error(con, r);
	return reply_json(con, 200, o);
}

/* POST /api/v1/join and /api/v1/cluster (cluster.c): HTTPS only, like everything but the
 * boot stage. Secrets are in the answer only, never in a log line. */
static enum MHD_Result cluster_api(serve_server *s, struct MHD_Connection *con, const char *url,
				   request *req)
{
	_cleanup_json_ json_object *answer = NULL;
	const char *auth = header(con, MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned status = 500;
	json_object *reason;
	int r;

	if (req->too_big)
		return reply_error(con, 413, "request larger than 4 MiB");
	if (!s->managed)
		return reply_error(con, 404,
				   "serve does not manage a cluster: the operator's node config "
				   "names its own");
	if (!strcmp(url, "/api/v1/join"))
		r = serve_cluster_join(s->db, s->node_cfg, req->body.data, req->body.len,
				       time(NULL), &status, &answer);
	else
		r = serve_cluster_post(s->db,
				       auth && !strncmp(auth, "Bearer ", 7) ? auth + 7 : NULL,
				       req->body.data, req->body.len, &status, &answer);
	if (r < 0) {
		na_logf(&s->log, LOG_ERR, "%s: %s", url, strerror(-r));
		return reply_db_error(con, r);
	}
	if (status != 200 && json_object_object_get_ex(answer, "reason", &reason))
		na_logf(&s->log, LOG_NOTICE, "%s refused (%u): %s", url, status,
			json_object_get_string(reason));
	else if (status == 200)
		na_logf(&s->log, LOG_INFO, "%s: %s", url,
			!strcmp(url, "/api/v1/join") ? "credentials handed" : "cluster reported");
	if (status == 503) {
		const char *t = json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PLAIN);
		struct MHD_Response *resp = sym_MHD_create_response_from_buffer(
		    strlen(t), (void *)t, MHD_RESPMEM_MUST_COPY);
		enum MHD_Result ret;

		if (!resp)
			return MHD_NO;
		sym_MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		sym_MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "5");
		ret = sym_MHD_queue_response(con, status, resp);
		sym_MHD_destroy_response(resp);
		return ret;
	}
	return reply_json(con, status, answer);
}

static enum MHD_Result handle(serve_server *s, struct MHD_Connection *con, const char *url,
			      const char *method, const char *upload_data, size_t *upload_data_size,
			      void **con_cls)
{
	bool get = !strcmp(method, "GET"), head = !strcmp(method, "HEAD");
	bool post = !strcmp(method, "POST");
	request *req = *con_cls;
	const serve_asset *asset;

	if (post && !req) {
		const char *cl = header(con, MHD_HTTP_HEADER_CONTENT_LENGTH);
		uint64_t n;

		bool is_report = !strcmp(url, "/reports") || !strcmp(url, "/api/v1/join") ||
				 !strcmp(url, "/api/v1/cluster");

		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		/* only a report has a body worth keeping: the API's actions take none */
		req->body.max = is_report ? SERVE_REPORT_MAX : 4096;
		*con_cls = req;
		/* refused before the body is read */
		if (!is_report && strncmp(url, "/api/machines/", 14))
			return reply_text(con, 405, "method not allowed\n");
		if (cl && parse_uint64(cl, 0, UINT64_MAX, &n) == 0 && n > req->body.max)
			return is_report ? reply_error(con, 413, "report larger than 4 MiB")
					 : reply_error(con, 413, "an API action takes no body");
		return MHD_YES;
	}
	if (post && *upload_data_size > 0) {
		if (!req->too_big && capbuf_append(&req->body, upload_data, *upload_data_size) < 0)
			req->too_big = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	na_logf(&s->log, LOG_DEBUG, "%s %s", method, url);
	if (post && !strcmp(url, "/reports"))
		return report(s, con, req);
	if (post && (!strcmp(url, "/api/v1/join") || !strcmp(url, "/api/v1/cluster")))
		return cluster_api(s, con, url, req);
	if (get && !strcmp(url, "/api/v1/cluster")) {
		_cleanup_json_ json_object *o = serve_cluster_json(s->db);
		return reply_json(con, 200, o);
	}
	if (!strncmp(url, "/api/machines", 13) && (get || post))
		return api(s, con, url, post);
	if (!get && !head)
		return reply_text(con, 405, "method not allowed\n");
	if (!strcmp(url, "/boot.ipxe") || !strncmp(url, "/boot/", 6))
		return boot_script(s, con, url);
	if (!strcmp(url, "/vmlinuz") || !strcmp(url, "/initrd"))
		return image_file(s, con, s->c->image_dir, url + 1, head);
	/* UEFI HTTP boot's program (the proxy DHCP's answer to HTTPClient), from the TFTP root */
	if (s->c->netboot && url[0] == '/' && !strcmp(url + 1, s->c->uefi_file))
		return image_file(s, con, s->c->tftp_root, url + 1, head);
	if (!strncmp(url, "/config/", 8))
		return node_config(s, con, url);
	if ((asset = serve_page_asset(url)))
		return serve_page_send(con, asset);
	return reply_text(con, 404, "not found\n");
}

static enum MHD_Result handle_tls(void *cls, struct MHD_Connection *con, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	return handle(cls, con, url, method, upload_data, upload_data_size, con_cls);
}

/* What iPXE fetches, which cannot speak TLS: nothing secret (content.c). */
static bool boot_stage(const serve_server *s, const char *url)
{
	return !strcmp(url, "/boot.ipxe") || !strncmp(url, "/boot/", 6) ||
	       !strcmp(url, "/vmlinuz") || !strcmp(url, "/initrd") ||
	       !strncmp(url, "/config/", 8) || (s->c->netboot && !strcmp(url + 1, s->c->uefi_file));
}

/*
 * Plain HTTP: the boot stage only. Anything else (reports, the API) is refused before a
 * body is read, with the https URL in the answer rather than a redirect: node-agent and
 * API clients do not follow redirects, and a report must not go out in clear text first.
 */
static enum MHD_Result handle_plain(void *cls, struct MHD_Connection *con, const char *url,
				    const char *method, const char *version,
				    const char *upload_data, size_t *upload_data_size,
				    void **con_cls)
{
	serve_server *s = cls;
	_cleanup_free_ char *text = NULL;

	if (boot_stage(s, url))
		return handle(s, con, url, method, upload_data, upload_data_size, con_cls);
	na_logf(&s->log, LOG_DEBUG, "%s %s over plain HTTP: refused", method, url);
	if (asprintf(&text, "only the boot stage is served over plain HTTP: use %s%s", s->tls_url,
		     url) < 0) {
		text = NULL;
		return MHD_NO;
	}
	return reply_error(con, 403, text);
}

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	request *req = *con_cls;

	if (!req)
		return;
	capbuf_done(&req->body);
	free(req);
	*con_cls = NULL;
}

/* A listening TCP socket on SA (port 0: any free one, then put in SA). */
static int listen_socket(struct sockaddr_in *sa, int *ret)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	socklen_t len = sizeof(*sa);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    listen(fd, HTTP_LISTEN_BACKLOG) < 0 || getsockname(fd, (struct sockaddr *)sa, &len) < 0)
		return -errno;
	*ret = TAKE_FD(fd);
	return 0;
}

static struct MHD_Daemon *start_daemon(serve_server *s, int fd, bool tls)
{
	/* without TLS, the first MHD_OPTION_END ends the list and the key is not passed */
	return sym_MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
		(tls ? MHD_USE_TLS : 0),
	    0, NULL, NULL, tls ? handle_tls : handle_plain, s, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTION_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_IP_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
	    completed, s, tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, s->tls->key_pem,
	    MHD_OPTION_HTTPS_MEM_CERT, s->tls->cert_pem, MHD_OPTION_END);
}

/* TEXT as a node reads it: 0, -EINVAL (refused), -ENOMEM. */
static int node_parses(const char *what, const char *text)
{
	na_log quiet = {0};
	na_config *nc = NULL;
	int r = na_config_parse(what, text, strlen(text), &quiet, &nc);

	na_config_free(nc);
	return r;
}

/* The node configs handed out, which name the HTTPS port: checked with node-agent's own
 * parser, as a node will read them. */
static int handed_configs(serve_server *s, char **ret_err)
{
	_cleanup_free_ char *report_url = NULL;
	const char *ca = s->c->report_url ? NULL : s->tls->cert_pem;
	const char *what = "the generated inventory config";
	int r;

	if (s->c->report_url)
		report_url = strdup(s->c->report_url);
	else if (asprintf(&report_url, "%s/reports", s->tls_url) < 0)
		report_url = NULL;
	if (!report_url)
		return -ENOMEM;
	r = serve_inventory_config(report_url, ca, &s->inventory_config);
	if (r >= 0)
		r = node_parses(what, s->inventory_config);
	if (r >= 0) {
		what = "node_config with serve's report section";
		r = serve_node_config_for_serve(s->node_config_text, report_url, ca,
						&s->accepted_config);
		if (r >= 0)
			r = node_parses(what, s->accepted_config);
	}
	if (r < 0 && asprintf(ret_err, "%s: %s", what,
			      r == -EINVAL ? "refused by node-agent's parser" : strerror(-r)) < 0)
		*ret_err = NULL;
	return r;
}

int serve_http_start(serve_server *s, const char *address, const char *advertised, char **ret_err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)s->c->http_port)};
	struct sockaddr_in tls_sa;
	_cleanup_close_ int fd = -1, tls_fd = -1;
	int r = dl_mhd();

	*ret_err = NULL;
	pthread_mutex_init(&s->retire_lock, NULL);
	pthread_cond_init(&s->retire_done, NULL);
	pthread_attr_init(&s->retire_attr);
	pthread_attr_setdetachstate(&s->retire_attr, PTHREAD_CREATE_DETACHED);
	if (r < 0) {
		*ret_err = strdup("libmicrohttpd.so.12 cannot be loaded (Debian: libmicrohttpd12)");
		return r;
	}
	if (sym_MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		*ret_err = strdup("this libmicrohttpd has no TLS (Debian's libmicrohttpd12 is "
				  "built with GnuTLS): reports and the API need HTTPS");
		return -EPROTONOSUPPORT;
	}
	if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
		if (asprintf(ret_err, "%s is not an IPv4 address", address) < 0)
			*ret_err = NULL;
		return -EINVAL;
	}
	tls_sa = sa;
	tls_sa.sin_port = htons((uint16_t)s->c->https_port);
	/* bound before either daemon runs: the configs they hand out name the ports */
	if ((r = listen_socket(&sa, &fd)) < 0 || (r = listen_socket(&tls_sa, &tls_fd)) < 0) {
		if (asprintf(ret_err, "cannot listen on %s:%" PRId64 ": %s", address,
			     fd < 0 ? s->c->http_port : s->c->https_port, strerror(-r)) < 0)
			*ret_err = NULL;
		return r;
	}
	/* machines are told the advertised address (the certificate's), whatever is bound */
	if (asprintf(&s->base_url, "http://%s:%u", advertised, ntohs(sa.sin_port)) < 0 ||
	    asprintf(&s->tls_url, "https://%s:%u", advertised, ntohs(tls_sa.sin_port)) < 0)
		return -ENOMEM;
	r = handed_configs(s, ret_err);
	if (r < 0)
		return r;
	s->managed = serve_cluster_managed(s->node_cfg);
	if (s->managed && asprintf(&s->join_url, "%s/api/v1/join", s->tls_url) < 0) {
		s->join_url = NULL;
		return -ENOMEM;
	}
	/* MHD owns a listening socket once given (it closes it at stop, and may on failure:
	 * then the process ends) */
	s->daemon = start_daemon(s, TAKE_FD(fd), false);
	s->tls_daemon = s->daemon ? start_daemon(s, TAKE_FD(tls_fd), true) : NULL;
	if (!s->tls_daemon) {
		*ret_err = strdup("libmicrohttpd did not start (its message above)");
		serve_http_stop(s);
		return -EIO;
	}
	return 0;
}

void serve_http_stop(serve_server *s)
{
	if (s->daemon)
		sym_MHD_stop_daemon(s->daemon);
	if (s->tls_daemon)
		sym_MHD_stop_daemon(s->tls_daemon);
	s->daemon = s->tls_daemon = NULL;
	serve_cluster_stop(s);
	char **texts[] = {&s->base_url, &s->tls_url, &s->inventory_config, &s->accepted_config,
			  &s->join_url};
	for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
		free(*texts[i]);
		*texts[i] = NULL;
	}
}
