/* SPDX-License-Identifier: MIT */
/*
 * serve.yaml, schema node-agent/serve/v1, read with the node config's parser (config/:
 * basic/yaml-load, the walk that makes unknown keys errors, FILE:LINE:COLUMN messages) so
 * both files behave alike and an acceptance rule's match means what a node rule's does.
 *
 *   schema: node-agent/serve/v1
 *   interface: enp1s0        # the LAN interface; its first IPv4 address is advertised
 *   address: 10.0.0.2        # optional: advertise this IPv4 address instead
 *   state_dir: /var/lib/node-agent-serve          # default; holds serve.db
 *   image: {dir: /srv/node-agent/pxe}             # vmlinuz and initrd of `make image`
 *   node_config: /etc/node-agent/cluster.yaml     # handed to accepted machines; checked
 *                                                 # with node-agent's own parser at start
 *   http: {listen: 10.0.0.2, port: 8080}          # listen default: the advertised address;
 *                          # only what iPXE fetches (scripts, kernel, initrd, node configs):
 *                          # reports and the API answer 403 there, naming the https URL
 *   https:                 # reports, the API, and all of the above, over TLS on the same
 *     port: 8443           # listen address; default 8443
 *     cert: /etc/node-agent/serve-cert.pem  # optional, with key: the operator's certificate
 *     key: /etc/node-agent/serve-key.pem    # (PEM; the key matching it, checked at start).
 *                          # Without them serve makes its own at first start: an ECDSA
 *                          # P-256 key (state_dir/tls-key.pem, 0600) and a self-signed
 *                          # certificate (state_dir/tls-cert.pem) for the advertised address
 *                          # and the host name, valid 10 years, reused by later starts
 *   report_url: https://inventory.lan/reports     # report.url of the configs handed out
 *                          # (https, as node configs require); default serve itself,
 *                          # https://ADDRESS:HTTPS_PORT/reports, with report.ca_pem its
 *                          # certificate; another collector's URL goes out without ca_pem
 *   unknown_machines: inventory  # inventory: an unaccepted machine boots and only reports
 *                                # (no cluster, no data disk); ignore: allow-list mode
 *   accept:                      # acceptance rules over the last inventory; the match
 *     - name: lab-nucs           # keys of the node config's rules (gpu_vendor, mac, ...)
 *       match: {dmi_product: "NUC*", min_memory_gib: 16}
 *   netboot:                     # network boot beside the home router (netboot.c):
 *     dhcp: proxy                # proxy DHCP answering PXE/HTTP-boot clients only; off:
 *                                # TFTP only, for a router whose DHCP names this server
 *     tftp_root: /usr/lib/ipxe   # Debian's ipxe package: undionly.kpxe, ipxe.efi, ...
 *     uefi_file: ipxe.efi        # or snponly.efi (the firmware's NIC driver)
 *   operators:                   # who may accept and retire machines: the SHA-256 of a
 *     - name: alice              # bearer token (sha256sum); serve never stores the token
 *       token_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "basic/dl.h"
#include "basic/fileio.h"
#include "config/config-internal.h"
#include "plan/plan.h"
#include "serve/serve.h"

#define SERVE_CONFIG_MAX_BYTES (1024 * 1024)

typedef struct serve_parser {
	config_parser p;
	serve_config *c;
	bool have_schema;
	yaml_node_t *image, *netboot;
	yaml_node_t *https;
} serve_parser;

static char *ipv4_dup(config_parser *p, const yaml_node_t *n, const char *what)
{
	const char *s = config_str(p, n, what);
	struct in_addr a;

	if (!s)
		return NULL;
	if (inet_pton(AF_INET, s, &a) != 1) {
		config_err(p, n, "%s: \"%s\" is not an IPv4 address like 10.0.0.2", what, s);
		return NULL;
	}
	return config_dup(p, s);
}

static bool image_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	serve_config *c = data;

	if (strcmp(key, "dir"))
		return false;
	free(c->image_dir);
	c->image_dir = config_abs_path(p, v, "image.dir");
	return true;
}

static bool http_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	serve_config *c = data;

	if (!strcmp(key, "listen"))
		c->http_listen = ipv4_dup(p, v, "http.listen");
	else if (!strcmp(key, "port")) {
		/* 0: any free port, said in the log (tests) */
		config_get_int(p, v, "http.port", 65535, &c->http_port);
	} else
		return false;
	return true;
}

/* "FILE:LINE:COLUMN" of N, for problems found at start (a file that cannot be read) */
static char *config_position(config_parser *p, const yaml_node_t *n)
{
	char *s;

	if (asprintf(&s, "%s:%zu:%zu", p->path, n->start_mark.line + 1, n->start_mark.column + 1) <
	    0) {
		p->oom = true;
		return NULL;
	}
	return s;
}

static bool https_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	serve_config *c = data;

	if (!strcmp(key, "port"))
		config_get_int(p, v, "https.port", 65535, &c->https_port);
	else if (!strcmp(key, "cert")) {
		c->https_cert = config_abs_path(p, v, "https.cert");
		c->https_cert_at = config_position(p, v);
	} else if (!strcmp(key, "key")) {
		c->https_key = config_abs_path(p, v, "https.key");
		c->https_key_at = config_position(p, v);
	} else
		return false;
	return true;
}

static bool netboot_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v,
			void *data)
{
	serve_config *c = data;

	if (!strcmp(key, "dhcp")) {
		const char *s = config_str(p, v, "netboot.dhcp");

		if (s && !strcmp(s, "off"))
			c->proxy_dhcp = false;
		else if (s && strcmp(s, "proxy"))
			config_err(p, v, "netboot.dhcp: expected proxy or off, found \"%s\"", s);
	} else if (!strcmp(key, "tftp_root")) {
		free(c->tftp_root);
		c->tftp_root = config_abs_path(p, v, "netboot.tftp_root");
	} else if (!strcmp(key, "uefi_file")) {
		const char *s = config_str(p, v, "netboot.uefi_file");

		if (s && strcmp(s, "ipxe.efi") && strcmp(s, "snponly.efi"))
			config_err(
			    p, v,
			    "netboot.uefi_file: expected ipxe.efi or snponly.efi, found \"%s\"", s);
		else if (s) {
			free(c->uefi_file);
			c->uefi_file = config_dup(p, s);
		}
	} else
		return false;
	return true;
}

static bool accept_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v,
		       void *data)
{
	serve_accept_rule *r = data;

	if (!strcmp(key, "name"))
		r->name = config_dup_str(p, v, "accept[].name");
	else if (!strcmp(key, "match"))
		config_match_parse(p, v, &r->match);
	else
		return false;
	return true;
}

static bool operator_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v,
			 void *data)
{
	serve_operator *o = data;
	const char *s;

	if (!strcmp(key, "name"))
		o->name = config_dup_str(p, v, "operators[].name");
	else if (!strcmp(key, "token_sha256")) {
		s = config_str(p, v, "operators[].token_sha256");
		if (s && (strlen(s) != 64 || strspn(s, "0123456789abcdef") != 64))
			config_err(
			    p, v,
			    "operators[].token_sha256: expected the 64 lower-case hex digits "
			    "of the token's SHA-256 (sha256sum), never the token itself");
		else if (s)
			o->token_sha256 = config_dup(p, s);
	} else
		return false;
	return true;
}

/* Each item of the list N through FN into a new element of *ITEMS (SIZE bytes each); each
 * must have a name, and the key REQUIRED when not NULL. */
static void parse_list(config_parser *p, yaml_node_t *n, const char *what, const char *valid,
		       const char *required, config_key_fn fn, void **items, size_t *n_items,
		       size_t size, void (*init)(void *item))
{
	if (n->type != YAML_SEQUENCE_NODE) {
		config_err(p, n, "%s: expected a list, found %s", what, config_node_kind(n));
		return;
	}
	if (!config_within_bounds(
		p, n, (size_t)(n->data.sequence.items.top - n->data.sequence.items.start), what))
		return;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *in = config_node(p, *i);
		char *nv;

		if (!in)
			continue;
		nv = reallocarray(*items, *n_items + 1, size);
		if (!nv) {
			p->oom = true;
			return;
		}
		*items = nv;
		memset(nv + *n_items * size, 0, size);
		if (init)
			init(nv + *n_items * size);
		(*n_items)++;
		config_walk_map(p, in, what, valid, fn, nv + (*n_items - 1) * size);
		if (config_map_lacks(p, in, "name"))
			config_err(p, in, "%s: a name is required", what);
		if (required && config_map_lacks(p, in, required))
			config_err(p, in, "%s: %s is required", what, required);
	}
}

static void accept_init(void *item)
{
	config_match_init(&((serve_accept_rule *)item)->match);
}

static bool top_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	serve_parser *sp = data;
	serve_config *c = sp->c;

	if (!strcmp(key, "schema")) {
		const char *s = config_str(p, v, "schema");
		if (s && strcmp(s, SERVE_SCHEMA))
			config_err(p, v, "schema: expected \"%s\", found \"%s\"", SERVE_SCHEMA, s);
		sp->have_schema = true;
	} else if (!strcmp(key, "interface"))
		c->interface = config_dup_str(p, v, "interface");
	else if (!strcmp(key, "address"))
		c->address = ipv4_dup(p, v, "address");
	else if (!strcmp(key, "state_dir")) {
		free(c->state_dir);
		c->state_dir = config_abs_path(p, v, "state_dir");
	} else if (!strcmp(key, "image")) {
		sp->image = v;
		config_walk_map(p, v, "image", "dir", image_key, c);
	} else if (!strcmp(key, "node_config"))
		c->node_config = config_abs_path(p, v, "node_config");
	else if (!strcmp(key, "http"))
		config_walk_map(p, v, "http", "listen, port", http_key, c);
	else if (!strcmp(key, "https")) {
		sp->https = v;
		config_walk_map(p, v, "https", "port, cert, key", https_key, c);
	} else if (!strcmp(key, "netboot")) {
		c->netboot = c->proxy_dhcp = true;
		sp->netboot = v;
		config_walk_map(p, v, "netboot", "dhcp, tftp_root, uefi_file", netboot_key, c);
	} else if (!strcmp(key, "report_url"))
		c->report_url = config_secure_url(p, v, "report_url");
	else if (!strcmp(key, "unknown_machines")) {
		const char *s = config_str(p, v, "unknown_machines");
		if (s && !strcmp(s, "inventory"))
			c->unknown = SERVE_UNKNOWN_INVENTORY;
		else if (s && !strcmp(s, "ignore"))
			c->unknown = SERVE_UNKNOWN_IGNORE;
		else if (s)
			config_err(p, v,
				   "unknown_machines: expected inventory or ignore, found \"%s\"",
				   s);
	} else if (!strcmp(key, "accept"))
		parse_list(p, v, "accept[]", "name, match", NULL, accept_key, (void **)&c->accept,
			   &c->n_accept, sizeof(*c->accept), accept_init);
	else if (!strcmp(key, "operators"))
		/* an operator without a hash would be one whose token nothing can check */
		parse_list(p, v, "operators[]", "name, token_sha256", "token_sha256", operator_key,
			   (void **)&c->operators, &c->n_operators, sizeof(*c->operators), NULL);
	else
		return false;
	return true;
}

static void check_whole(serve_parser *sp, yaml_node_t *root)
{
	config_parser *p = &sp->p;
	serve_config *c = sp->c;

	if (!sp->have_schema)
		config_err(p, root, "serve: schema: %s is required", SERVE_SCHEMA);
	if (config_map_lacks(p, root, "interface") && config_map_lacks(p, root, "address"))
		config_err(p, root, "serve: interface or address is required");
	if (config_map_lacks(p, root, "image") || config_map_lacks(p, sp->image, "dir"))
		config_err(p, sp->image ? sp->image : root, "serve: image.dir is required");
	if (config_map_lacks(p, root, "node_config"))
		config_err(p, root, "serve: node_config is required");
	if (c->netboot && config_map_lacks(p, root, "interface"))
		config_err(p, sp->netboot,
			   "netboot: interface is required (the LAN the proxy DHCP "
			   "and TFTP servers answer on)");
	if (sp->https &&
	    config_map_lacks(p, sp->https, "cert") != config_map_lacks(p, sp->https, "key"))
		config_err(p, sp->https,
			   "https: give cert and key together, or neither (serve "
			   "then makes its own in state_dir)");
	for (size_t i = 0; i < c->n_accept; i++)
		for (size_t j = 0; j < i; j++)
			if (c->accept[i].name && c->accept[j].name &&
			    !strcmp(c->accept[i].name, c->accept[j].name))
				config_err(p, root, "accept[]: two rules are named \"%s\"",
					   c->accept[i].name);
}

int serve_config_parse(const char *path, const char *data, size_t len, const na_log *log,
		       serve_config **ret)
{
	_cleanup_yaml_loader_ yaml_loader l = {0};
	_cleanup_yaml_document_ yaml_document_t doc = {0};
	serve_parser sp = {.p = {.path = path, .log = log, .doc = &doc}};
	config_parser *p = &sp.p;
	yaml_problem at;
	yaml_node_t *root;
	int r;

	sp.c = calloc(1, sizeof(*sp.c));
	if (!sp.c)
		return -ENOMEM;
	sp.c->path = strdup(path);
	sp.c->state_dir = strdup(SERVE_DEFAULT_STATE);
	sp.c->http_port = SERVE_DEFAULT_PORT;
	sp.c->tftp_root = strdup(SERVE_DEFAULT_TFTP_ROOT);
	sp.c->uefi_file = strdup("ipxe.efi");
	sp.c->https_port = SERVE_DEFAULT_HTTPS_PORT;
	if (!sp.c->path || !sp.c->state_dir || !sp.c->tftp_root || !sp.c->uefi_file ||
	    yaml_loader_open(&l, data, len) < 0) {
		serve_config_free(sp.c);
		return -ENOMEM;
	}
	r = yaml_loader_next(&l, &doc, &at);
	if (r == -EBADMSG)
		config_yaml_error(p, &at);
	else if (r < 0)
		p->oom = true;
	root = p->n_errors || p->oom ? NULL : yaml_document_get_root_node(&doc);
	if (!p->n_errors && !p->oom && !root)
		config_err(p, NULL, "empty file: expected a mapping with schema: %s", SERVE_SCHEMA);
	else if (root) {
		config_walk_map(p, root, "serve",
				"schema, interface, address, state_dir, image, node_config, http, "
				"https, report_url, unknown_machines, accept, operators, netboot",
				top_key, &sp);
		if (root->type == YAML_MAPPING_NODE)
			check_whole(&sp, root);
	}
	if (p->oom) {
		serve_config_free(sp.c);
		return -ENOMEM;
	}
	if (p->n_errors > CONFIG_MAX_ERRORS)
		na_logf(log, LOG_ERR, "%s: %u more errors not shown", path,
			p->n_errors - CONFIG_MAX_ERRORS);
	if (p->n_errors > 0) {
		serve_config_free(sp.c);
		return -EINVAL;
	}
	*ret = sp.c;
	return 0;
}

int serve_config_load(const char *path, const na_log *log, serve_config **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_full_file(path, SERVE_CONFIG_MAX_BYTES, &buf, &len);

	if (r == -EFBIG) {
		na_logf(log, LOG_ERR, "%s:1:1: larger than %d bytes", path, SERVE_CONFIG_MAX_BYTES);
		return -EINVAL;
	}
	if (r < 0)
		return r;
	return serve_config_parse(path, buf, len, log, ret);
}

serve_config *serve_config_free(serve_config *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_accept; i++) {
		free(c->accept[i].name);
		na_match_done(&c->accept[i].match);
	}
	for (size_t i = 0; i < c->n_operators; i++) {
		free(c->operators[i].name);
		free(c->operators[i].token_sha256);
	}
	char *texts[] = {c->path,	c->interface,	c->address,	  c->state_dir,
			 c->image_dir,	c->node_config, c->http_listen,	  c->report_url,
			 c->https_cert, c->https_key,	c->https_cert_at, c->https_key_at,
			 c->tftp_root,	c->uefi_file};

	for (size_t i = 0; i < ELEMENTSOF(texts); i++)
		free(texts[i]);
	free(c->accept);
	free(c->operators);
	free(c);
	return NULL;
}

const char *serve_config_accepting_rule(const serve_config *c, const hw_inventory *inv)
{
	for (size_t i = 0; i < c->n_accept; i++)
		if (plan_match(&c->accept[i].match, inv))
			return c->accept[i].name;
	return NULL;
}

const serve_operator *serve_config_operator(const serve_config *c, const char *token)
{
	char hex[65];
	const serve_operator *found = NULL;

	if (!token || !*token || sha256_hex(token, strlen(token), hex) < 0)
		return NULL;
	for (size_t i = 0; i < c->n_operators; i++) {
		unsigned diff = 0;

		if (!c->operators[i].token_sha256)
			continue;
		for (size_t j = 0; j < 64; j++)
			diff |= (unsigned char)(hex[j] ^ c->operators[i].token_sha256[j]);
		if (!diff && !found)
			found = &c->operators[i];
	}
	return found;
}
