/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * `node-agent serve`, the operator's side (DESIGN.md): one always-on machine of the LAN
 * that hands the node image, boot scripts and node configs to machines, takes their
 * inventory reports, and keeps what it knows of each machine in SQLite.
 *   config.c    serve.yaml, schema node-agent/serve/v1
 *   identity.c  which machine a report is from (UUID, serial, MACs), its human code
 *   db.c        the state: machines, reports, events (libsqlite3, dlopen'd)
 *   range.c     HTTP Range headers
 *   report.c    what a report's body must be before it is stored (no database, no HTTP)
 *   content.c   what is served: boot scripts, generated configs, the JSON API's documents
 *   tls.c       serve's key and certificate: made at first start (libcrypto, dlopen'd) or the
 *               operator's, checked
 *   http.c      the HTTP and HTTPS servers (libmicrohttpd, dlopen'd)
 *   page.c      the operator's page (page/: HTML, CSS, JS embedded at build time)
 *   wake.c      Wake-on-LAN: the magic packet, which MACs, the UDP broadcast
 *   timeline.c  where a machine's last network boot stopped, and why (from its events; no I/O)
 * The DHCP and TFTP modules add events with serve_event_add() and find machines with
 * serve_machine_by_mac().
 */

#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "config/config.h"

#define SERVE_SCHEMA		 "node-agent/serve/v1"
#define SERVE_DEFAULT_CONFIG	 "/etc/node-agent/serve.yaml"
#define SERVE_DEFAULT_STATE	 "/var/lib/node-agent-serve"
#define SERVE_DEFAULT_PORT	 8080
#define SERVE_DEFAULT_TFTP_ROOT	 "/usr/lib/ipxe" /* Debian's ipxe package */
#define SERVE_DEFAULT_HTTPS_PORT 8443
#define SERVE_TLS_CERT_FILE	 "tls-cert.pem" /* in state_dir, when serve makes its own */
#define SERVE_TLS_KEY_FILE	 "tls-key.pem"
#define SERVE_DB_FILE		 "serve.db"

/* --- config.c --- */

typedef enum serve_unknown {
	SERVE_UNKNOWN_INVENTORY, /* an unaccepted machine boots and only reports */
	SERVE_UNKNOWN_IGNORE,	 /* allow-list: nothing for a machine not accepted */
} serve_unknown;

typedef struct serve_accept_rule {
	char *name;
	na_match match;
} serve_accept_rule;

typedef struct serve_operator {
	char *name;
	char *token_sha256; /* 64 lower-case hex digits */
} serve_operator;

typedef struct serve_config {
	char *path;
	serve_unknown unknown;
	int64_t http_port;
	char *interface;
	char *address; /* what machines are told to fetch from; NULL: the interface's */
	char *state_dir;
	char *image_dir;
	char *node_config;
	char *http_listen; /* an IPv4 address; NULL: the advertised address */
	int64_t https_port;
	char *https_cert, *https_key;	    /* the operator's; NULL: serve's own in state_dir */
	char *https_cert_at, *https_key_at; /* "FILE:LINE:COLUMN" of those, for messages */
	char *report_url; /* report.url of handed-out configs; NULL: https://ADDRESS:PORT/reports */
	serve_accept_rule *accept;
	size_t n_accept;
	serve_operator *operators;
	size_t n_operators;
	/* netboot: proxy DHCP and TFTP beside the router (netboot.c); off without the section */
	bool netboot;	 /* TFTP, and ipxe.efi over HTTP for UEFI HTTP boot */
	bool proxy_dhcp; /* and the proxy DHCP responder (dhcp: proxy, the default) */
	char *tftp_root; /* iPXE's binaries: undionly.kpxe, ipxe.efi, snponly.efi */
	char *uefi_file; /* what UEFI PXE clients get: ipxe.efi (default) or snponly.efi */
} serve_config;

/* Parse and validate serve.yaml: -EINVAL with each problem logged as FILE:LINE:COLUMN,
 * -errno when it cannot be read. */
int serve_config_parse(const char *path, const char *data, size_t len, const na_log *log,
		       serve_config **ret);
int serve_config_load(const char *path, const na_log *log, serve_config **ret);
serve_config *serve_config_free(serve_config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(serve_config *, serve_config_free)
/* The first acceptance rule INV matches, NULL for none. */
const char *serve_config_accepting_rule(const serve_config *c, const hw_inventory *inv);
/* The operator whose token is TOKEN, NULL for none (constant time in the token). */
const serve_operator *serve_config_operator(const serve_config *c, const char *token);

/* --- identity.c --- */

typedef struct serve_identity {
	char *uuid;   /* lower case; NULL when absent or a known placeholder */
	char *serial; /* NULL when absent or a placeholder ("To Be Filled By O.E.M.") */
	char *vendor;
	char *product;
	char **macs; /* permanent MACs (lower case), the PXE MAC first; NULL-terminated */
} serve_identity;

bool serve_uuid_is_placeholder(const char *uuid);
bool serve_serial_is_placeholder(const char *serial);
/* "AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff" or "aabbccddeeff" -> "aa:bb:cc:dd:ee:ff". */
int serve_mac_normalize(const char *s, char ret[static 18]);
/* The MAC of a URL path "PREFIX<mac>SUFFIX" (e.g. "/config/", ".yaml"): 0, -ENOENT when the
 * path has another form, -EINVAL when what stands between is no MAC, -ENOMEM. */
int serve_mac_from_path(const char *path, const char *prefix, const char *suffix,
			char ret[static 18]);
/* The identity in an inventory (schema node-agent/inventory/v1) as JSON. -EINVAL when it
 * carries nothing that identifies a machine. */
int serve_identity_from_json(json_object *inv, serve_identity *ret);
void serve_identity_done(serve_identity *id);
/* Six characters of an alphabet without look-alikes (no 0/O, 1/I/L, U), from the identity,
 * so a person can tell which box a pending machine is. SALT 0 first; another on collision. */
int serve_machine_code(const serve_identity *id, unsigned salt, char ret[static 7]);

/* --- db.c --- */

typedef struct serve_db serve_db;

#define SERVE_DB_VERSION 2

/* Open (create, migrate) the database PATH: WAL, synchronous=FULL, busy timeout. On
 * failure *ret_err (may be NULL) says why. */
int serve_db_open(const char *path, serve_db **ret, char **ret_err);
serve_db *serve_db_close(serve_db *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(serve_db *, serve_db_close)
int serve_db_user_version(serve_db *db, int *ret);

typedef struct serve_machine {
	int64_t id;
	char code[7];
	char *name;
	char *state; /* discovered | accepted | joined | retired */
	char *accepted_by;
	char *uuid, *serial, *vendor, *product;
	char **macs;
	int64_t created_at, updated_at, last_report_at; /* unix seconds, last_report_at 0: none */
} serve_machine;

serve_machine *serve_machine_free(serve_machine *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(serve_machine *, serve_machine_free)
/* The machine that ID matches: a UUID that is no placeholder, else serial and
 * vendor/product, else a permanent MAC. 0 and *ret_id, or -ENOENT. */
int serve_db_find_machine(serve_db *db, const serve_identity *id, int64_t *ret_id);
/* By MAC (any form serve_mac_normalize() takes): 0, -ENOENT, -EINVAL. */
int serve_machine_by_mac(serve_db *db, const char *mac, serve_machine **ret);
/* By number or human code. */
int serve_machine_get(serve_db *db, const char *id_or_code, serve_machine **ret);

/* Store a report (idempotency KEY) of the machine ID names, creating or updating the
 * machine; a discovered machine becomes accepted by ACCEPT_RULE when it is not NULL. One
 * transaction, committed (synchronous=FULL) before it returns. 1 stored, 0 a duplicate key
 * (nothing written), -ENOSPC/-EROFS/-EIO when the disk refuses. */
int serve_db_add_report(serve_db *db, const char *key, const serve_identity *id,
			const char *inventory_json, const char *accept_rule, int64_t now,
			int64_t *ret_machine);
/* STATE by BY ("operator:NAME", "rule:NAME"): 0, -ENOENT. */
int serve_db_set_state(serve_db *db, int64_t machine, const char *state, const char *by,
		       int64_t now);

/* One event of the boot timeline. MACHINE_KEY: a MAC (tied to its machine when one has it,
 * and to the machine that reports it later), "#ID", or NULL. */
int serve_event_add(serve_db *db, const char *machine_key, const char *kind, const char *detail);

/* The JSON API's documents: every machine; one machine with its reports' times, its events,
 * its last inventory and the hardware changes between successive reports. */
int serve_db_machines_json(serve_db *db, json_object **ret);
int serve_db_machine_json(serve_db *db, int64_t machine, json_object **ret);
json_object *serve_machine_to_json(const serve_machine *m);
/* Both carry the last boot (timeline.c): the machine's document `boot`, the list's entries
 * `boot_reached` and `boot_problem`; diagnosed after the grace periods SECONDS (0: each
 * stage's own, serve_timeline_grace()). */
void serve_db_set_boot_grace(serve_db *db, int64_t seconds);
/* The events and last boot of a MAC no machine has (it never reported): -ENOENT when it has
 * none; and the newest such MACs with their last boot's stage and problem. */
int serve_db_mac_json(serve_db *db, const char *mac, json_object **ret);
int serve_db_unreported_json(serve_db *db, json_object **ret);

/* The cluster table (cluster.c's keys): 0 and *ret, -ENOENT. Set: 1 written, 0 kept (an
 * existing KEY when ONLY_IF_ABSENT). */
int serve_db_kv_get(serve_db *db, const char *key, char **ret);
int serve_db_kv_set(serve_db *db, const char *key, const char *value, bool only_if_absent);
/* A machine's credentials: FIELD ticket, machine_key_sha256, node_password, node_name, role
 * or tpm_key (the SPKI PEM of its TPM key, pinned at its first request that had one). Get: 0,
 * -ENOENT (none), -EINVAL (another field). Setting a ticket makes it unused. */
int serve_db_credential_get(serve_db *db, int64_t machine, const char *field, char **ret);
int serve_db_credential_set(serve_db *db, int64_t machine, const char *field, const char *value);
/* TICKET is the machine's current, unused ticket: mark it used and keep KEY_SHA256 as the
 * machine key's hash, 0; -ESTALE (not its current ticket), -EALREADY (used). */
int serve_db_ticket_redeem(serve_db *db, int64_t machine, const char *ticket,
			   const char *key_sha256);
/* The machine whose machine key hashes to KEY_SHA256: 0, -ENOENT. */
int serve_db_machine_by_key(serve_db *db, const char *key_sha256, int64_t *ret);
/* Forget the ticket, machine key, node password and TPM key of MACHINE. */
int serve_db_credentials_revoke(serve_db *db, int64_t machine);

/* --- range.c --- */

/* A Range header against a SIZE-byte file: 0 and the first and last byte (inclusive) for
 * one satisfiable range, -ENODATA when there is no header or it is to be ignored (several
 * ranges, another unit, junk: RFC 9110 lets a server answer 200 with the whole file),
 * -ERANGE when unsatisfiable (416). */
int serve_range_parse(const char *header, uint64_t size, uint64_t *ret_first, uint64_t *ret_last);

/* --- report.c --- */

typedef struct serve_report {
	json_object *env;	/* the envelope (owned) */
	const char *key;	/* its idempotency_key, in env */
	json_object *inventory; /* in env */
	serve_identity id;
	const char *rule; /* the acceptance rule of c the inventory matches, NULL for none */
} serve_report;

/* The body of POST /reports (LEN bytes at BODY) and its Idempotency-Key header (NULL when
 * absent) as http.c takes them: 0 and *ret; -EBADMSG with *ret_error the text of the 400
 * answer. C may be NULL (no rules). */
int serve_report_parse(const serve_config *c, const char *body, size_t len, const char *key_header,
		       serve_report *ret, const char **ret_error);
void serve_report_done(serve_report *r);

/* --- tls.c --- */

typedef struct serve_tls {
	char *cert_pem;
	char *key_pem;
	char sha256[96]; /* the certificate's SHA-256, "AB:CD:..." as openssl x509 -fingerprint */
	bool generated;	 /* serve's own, made now */
} serve_tls;

void serve_tls_done(serve_tls *t);
/* A new ECDSA P-256 key and a self-signed certificate for ADDRESS (IPv4; CN and
 * subjectAltName) and HOSTNAME (a DNS subjectAltName when not NULL), valid DAYS days from
 * now, random serial, as PEM. */
int serve_tls_generate(const char *address, const char *hostname, int days, char **ret_cert_pem,
		       char **ret_key_pem);
/* CERT_PEM and KEY_PEM parse and belong together: 0 and the certificate's SHA-256;
 * -EBADMSG (the certificate does not parse), -ENOKEY (the key does not),
 * -EKEYREJECTED (the key is another certificate's). */
int serve_tls_check(const char *cert_pem, const char *key_pem, char ret_sha256[static 96]);
/* Whether CERT_PEM names the IPv4 ADDRESS: 1, 0, -errno. */
int serve_tls_covers(const char *cert_pem, const char *address);
/* The certificate of c: the operator's (https.cert/key: read and checked, each problem as
 * FILE:LINE:COLUMN of the key in serve.yaml, -EINVAL) or serve's own in c->state_dir, made
 * when missing, unusable or not for ADDRESS. Problems go to LOG. */
int serve_tls_load(const serve_config *c, const char *address, const na_log *log, serve_tls *ret);

/* --- http.c --- */

#define SERVE_REPORT_MAX (4u * 1024 * 1024) /* a larger POST /reports: 413 */

typedef struct serve_server {
	const serve_config *c;
	serve_db *db;
	const char *node_config_text; /* the operator's node config */
	const serve_tls *tls;
	/* set by serve_http_start(): */
	char *base_url;		/* "http://ADDR:PORT" */
	char *tls_url;		/* "https://ADDR:PORT" */
	char *inventory_config; /* handed to machines not accepted */
	char *accepted_config;	/* handed to accepted ones: node_config_text reporting here */
	struct MHD_Daemon *daemon, *tls_daemon;
	na_log log; /* one line per request and per problem */
	/* the operator's node config, parsed; serve manages the cluster when it names none
	 * (cluster.c) */
	const na_config *node_cfg;
	bool managed;
	char *join_url; /* "https://ADDR:PORT/api/v1/join" when managed */
	/* retire jobs (cluster.c), each in a detached thread of its own */
	pthread_mutex_t retire_lock;
	pthread_cond_t retire_done;
	pthread_attr_t retire_attr;
	unsigned retire_running;
} serve_server;

/* Listen on ADDRESS (dotted IPv4; machines are told ADVERTISED, the certificate's),
 * c->http_port (the boot stage only) and c->https_port
 * (everything, with s->tls); work out the node configs handed out, which name the HTTPS
 * port; the server's threads run until serve_http_stop(). */
int serve_http_start(serve_server *s, const char *address, const char *advertised, char **ret_err);
void serve_http_stop(serve_server *s);

/* --- cluster.c --- */

#define SERVE_JOIN_REQUEST_SCHEMA "node-agent/join-request/v1"
#define SERVE_JOIN_SCHEMA	  "node-agent/join-credentials/v1"
#define SERVE_CLUSTER_SCHEMA	  "node-agent/cluster/v1"
#define SERVE_TICKET_TTL_S	  3600
#define SERVE_JOIN_MAX		  SERVE_REPORT_MAX /* a join request carries an inventory */

/* Whether serve makes and manages the cluster: the operator's node config NC names none (no
 * server, no token files) and a rule makes a machine server-init. */
bool serve_cluster_managed(const na_config *nc);
/* A new boot ticket for MACHINE, issued at NOW; it supersedes the machine's earlier one. */
int serve_ticket_new(serve_db *db, int64_t machine, int64_t now, char **ret);
/* Whether TICKET is one serve signed and not expired at NOW: 0 and its machine, -EBADMSG
 * (*ret_reason "tampered"), -ETIME ("expired"), -errno. */
int serve_ticket_check(serve_db *db, const char *ticket, int64_t now, int64_t *ret_machine,
		       const char **ret_reason);
/* POST /api/v1/join (BODY, LEN bytes) with the operator's node config NC: 0 with the
 * HTTP status and JSON answer (credentials, or {error, reason}); -errno for a failure of
 * serve itself (500). */
int serve_cluster_join(serve_db *db, const na_config *nc, const char *body, size_t len, int64_t now,
		       unsigned *ret_status, json_object **ret);
/* POST /api/v1/cluster with the bearer machine key BEARER: as serve_cluster_join(). */
int serve_cluster_post(serve_db *db, const char *bearer, const char *body, size_t len,
		       unsigned *ret_status, json_object **ret);
/* {server, ca_hash, init_machine}, each null while unknown: no secrets. */
json_object *serve_cluster_json(serve_db *db);
/* A machine was retired: its credentials go now, its Node (when serve knows its name and the
 * cluster's API) is drained and deleted in a thread of its own; *ret_msg says which. */
int serve_cluster_retire(serve_server *s, int64_t machine, char **ret_msg);
/* Wait for the retire jobs still running. */
void serve_cluster_stop(serve_server *s);

/* --- netboot.c --- */

/* Whether the machine with MAC (normalized) is booted: accepted and joined ones, unknown and
 * discovered ones in inventory mode, never a retired one; *ret_reason says why not. */
bool serve_mac_boots(serve_server *s, const char *mac, const char **ret_reason);

/* The MAC the kernel's neighbour table holds for ADDR (what a TFTP or HTTP client that gave
 * none is): 0, -ENOENT. */
int serve_neighbour_mac(struct in_addr addr, char ret[static 18]);

/* Proxy DHCP (when c->proxy_dhcp) and TFTP on c->interface, advertising ADDRESS, in a thread
 * of their own until serve_netboot_stop(); *ret_err says what failed to start. */
typedef struct serve_netboot serve_netboot;
int serve_netboot_start(serve_server *s, const char *address, serve_netboot **ret, char **ret_err);
serve_netboot *serve_netboot_stop(serve_netboot *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(serve_netboot *, serve_netboot_stop)

/* --- wake.c --- */

#define SERVE_WOL_PACKET_SIZE 102
#define SERVE_WOL_PORT	      9 /* discard: see wake.c */

/* The magic packet of MAC (any form serve_mac_normalize() takes): 6 bytes 0xff, then the
 * MAC 16 times. 0, -EINVAL. */
int serve_wol_packet(const char *mac, uint8_t ret[static SERVE_WOL_PACKET_SIZE]);

typedef struct serve_wake_target {
	char mac[18];			/* normalized */
	char *nic;			/* its name in the inventory, NULL when not from one */
	int wol_supported, wol_enabled; /* whether the inventory lists "magic": 1, 0, -1 unknown */
} serve_wake_target;

/* The MACs to wake of a machine: the physical NICs of its last INVENTORY (NULL: none)
 * unless their wol_supported lacks "magic" (all of them when that leaves none), else its
 * known MACS. 0, -ENOENT (no MAC at all), -ENOMEM. */
int serve_wake_targets(json_object *inventory, char *const *macs, serve_wake_target **ret,
		       size_t *ret_n);
void serve_wake_targets_free(serve_wake_target *t, size_t n);
/* What the operator should know of T (NULL: nothing): its NIC has WoL off or no magic. */
int serve_wake_warning(const serve_wake_target *t, char **ret);
/* The magic packet of each of T to UDP port 9 on IFACE: its broadcast address and
 * 255.255.255.255. *ret_destinations (may be NULL): the addresses, NULL-terminated. */
int serve_wol_send(const char *iface, const serve_wake_target *t, size_t n,
		   char ***ret_destinations);

/* --- timeline.c --- */

/* The stages of a network boot, in order. */
typedef enum serve_boot_stage {
	SERVE_BOOT_NONE,
	SERVE_BOOT_DHCP,      /* serve's proxy DHCP offered the boot program */
	SERVE_BOOT_PROGRAM,   /* the boot program (iPXE) fetched over TFTP or HTTP */
	SERVE_BOOT_IPXE_DHCP, /* iPXE's own DHCP: the script offered */
	SERVE_BOOT_SCRIPT,
	SERVE_BOOT_KERNEL,
	SERVE_BOOT_INITRD,
	SERVE_BOOT_CONFIG, /* node-agent running */
	SERVE_BOOT_REPORT,
	SERVE_BOOT_JOINED,
} serve_boot_stage;

/* Events further apart than this belong to different boots. */
#define SERVE_TIMELINE_GAP_S (30 * 60)
/* Sets every stage's grace period (seconds), for tests and slow LANs; serve.c reads it. */
#define SERVE_BOOT_GRACE_ENV "NODE_AGENT_SERVE_BOOT_GRACE_S"

typedef struct serve_timeline_event {
	int64_t at; /* unix seconds */
	const char *kind, *detail;
} serve_timeline_event;

typedef struct serve_timeline {
	int64_t started_at, last_at; /* 0: no boot seen */
	serve_boot_stage reached;
	bool stopped;	  /* the grace period of REACHED passed without progress */
	const char *code; /* "ok", "secure-boot", ...; NULL: still booting, or no boot */
	char *text;	  /* the diagnosis for people */
} serve_timeline;

const char *serve_boot_stage_name(serve_boot_stage s);	/* "kernel" */
const char *serve_boot_stage_label(serve_boot_stage s); /* "kernel fetched" */
/* The grace period of stage S: GRACE_S when > 0, else the stage's default. */
int64_t serve_timeline_grace(serve_boot_stage s, int64_t grace_s);
/* The last boot in EV (N events of one machine and the LAN-wide ones, in time order) at
 * NOW: how far it got and, once stopped, why. GRACE_S: see serve_timeline_grace(). */
int serve_timeline_compute(const serve_timeline_event *ev, size_t n, int64_t now, int64_t grace_s,
			   serve_timeline *ret);
void serve_timeline_done(serve_timeline *t);
/* {started_at, last_event_at, reached, reached_text, stopped, diagnosis {code, text} | null},
 * times through TIME_JSON. */
json_object *serve_timeline_to_json(const serve_timeline *t, json_object *(*time_json)(int64_t));

/* --- page.c --- */

typedef struct serve_asset {
	const char *path; /* "/app.js" */
	const char *type; /* Content-Type */
	const char *data;
	size_t size;
} serve_asset;

/* page/'s files, generated by page/embed.pl; the last entry's path is NULL */
extern const serve_asset serve_page_assets[];

/* What the page serves at URL ("/", "/machines/ID", "/app.js", ...), NULL for nothing. */
const serve_asset *serve_page_asset(const char *url);
/* A (GET or HEAD) with the page's security headers; 304 for If-None-Match. */
enum MHD_Result serve_page_send(struct MHD_Connection *con, const serve_asset *a);

/* --- content.c --- */

/* The iPXE script for MAC (normalized) with files from BASE_URL ("http://ADDR:PORT"): the
 * kernel and initrd when BOOT, else a script that says the machine is not served and exits.
 * NULL when out of memory. */
char *serve_boot_script(const char *base_url, const char *mac, bool boot);
/* The node config of a machine that is not accepted: it only reports, to REPORT_URL,
 * trusting CA_PEM (NULL: the system's CAs). */
int serve_inventory_config(const char *report_url, const char *ca_pem, char **ret);
/* The operator's node config TEXT with its report section pointing at REPORT_URL (and
 * trusting CA_PEM, NULL: the system's CAs), unless it sets its own report.url: then TEXT as
 * it is. Re-emitted from the parsed document (comments are lost). */
int serve_node_config_for_serve(const char *text, const char *report_url, const char *ca_pem,
				char **ret);
/* TEXT with a cluster section (replacing any) of credentials {url: URL, ticket: TICKET}. */
int serve_config_with_credentials(const char *text, const char *url, const char *ticket,
				  char **ret);
