/* SPDX-License-Identifier: MIT */
/*
 * The smaller sections of the node config: cluster (where to join, or where node-agent
 * serve hands out the server and tokens: credentials), node_name,
 * containerd, data_disk (which disk to take and where to mount it) and report (where the
 * inventory goes).
 */
#define _GNU_SOURCE
#include <string.h>

#include "basic/strv.h"
#include "config/config-internal.h"

/* --- cluster --- */

#define TICKET_MAX 200

static bool credentials_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v,
			    void *data)
{
	na_config *c = p->cfg;

	if (!strcmp(key, "url")) {
		free(c->credentials.url);
		c->credentials.url = config_secure_url(p, v, "cluster.credentials.url");
	} else if (!strcmp(key, "ticket")) {
		/* single-use and short-lived, but never echoed: the message does not quote it */
		const char *s = config_str(p, v, "cluster.credentials.ticket");
		if (s &&
		    (!*s || strlen(s) > TICKET_MAX ||
		     strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.") !=
			 strlen(s)))
			config_err(p, v,
				   "cluster.credentials.ticket: expected 1 to %d characters of "
				   "A-Z, a-z, 0-9 and \".\"",
				   TICKET_MAX);
		else if (s) {
			free(c->credentials.ticket);
			c->credentials.ticket = config_dup(p, s);
		}
	} else
		return false;
	return true;
}

static bool cluster_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v,
			void *data)
{
	na_config *c = p->cfg;

	if (!strcmp(key, "server"))
		c->server = config_secure_url(p, v, "cluster.server");
	else if (!strcmp(key, "token_file"))
		c->token_file = config_abs_path(p, v, "cluster.token_file");
	else if (!strcmp(key, "agent_token_file"))
		c->agent_token_file = config_abs_path(p, v, "cluster.agent_token_file");
	else if (!strcmp(key, "ca_file"))
		c->server_ca_file = config_abs_path(p, v, "cluster.ca_file");
	else if (!strcmp(key, "credentials")) {
		config_walk_map(p, v, "cluster.credentials", "url, ticket", credentials_key, NULL);
		if ((config_map_lacks(p, v, "url") || config_map_lacks(p, v, "ticket")))
			config_err(p, k, "cluster.credentials: url and ticket are required");
	} else
		return false;
	return true;
}

void config_cluster_parse(config_parser *p, yaml_node_t *n)
{
	config_walk_map(p, n, "cluster",
			"server, token_file, agent_token_file, ca_file, credentials", cluster_key,
			NULL);
}

/* --- node_name --- */

/* ${hostname} ${serial} ${uuid} ${mac} ${product} and literal text. */
static bool node_name_valid(config_parser *p, const yaml_node_t *n, const char *t)
{
	static const char *const vars[] = {"hostname", "serial", "uuid", "mac", "product"};

	for (const char *s = t; (s = strstr(s, "${"));) {
		const char *e = strchr(s, '}');
		bool known = false;

		if (!e) {
			config_err(p, n, "node_name: \"${\" without a closing \"}\"");
			return false;
		}
		for (size_t i = 0; i < ELEMENTSOF(vars); i++)
			known = known || ((size_t)(e - s - 2) == strlen(vars[i]) &&
					  !strncmp(s + 2, vars[i], strlen(vars[i])));
		if (!known) {
			config_err(p, n,
				   "node_name: unknown variable \"%.*s\" (expected ${hostname}, "
				   "${serial}, ${uuid}, ${mac} or ${product})",
				   (int)(e - s + 1), s);
			return false;
		}
		s = e + 1;
	}
	return true;
}

void config_node_name_parse(config_parser *p, yaml_node_t *n)
{
	const char *s = config_str(p, n, "node_name");

	if (s && node_name_valid(p, n, s))
		p->cfg->node_name = config_dup(p, s);
}

/* --- containerd --- */

static bool containerd_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v,
			   void *data)
{
	na_config *c = p->cfg;

	if (!strcmp(key, "nvidia")) {
		const char *s = config_str(p, v, "containerd.nvidia");
		if (s && !strcmp(s, "auto"))
			c->containerd_nvidia = true;
		else if (s && (!strcmp(s, "off") || !strcmp(s, "false")))
			c->containerd_nvidia = false;
		else if (s)
			config_err(p, v, "containerd.nvidia: expected auto or off, found \"%s\"",
				   s);
	} else if (!strcmp(key, "config_version")) {
		int64_t x;
		if (config_get_int(p, v, "containerd.config_version", 3, &x)) {
			if (x != 2 && x != 3)
				config_err(p, v,
					   "containerd.config_version: expected 2 (containerd "
					   "1.x) or 3 (containerd 2.x)");
			else
				c->containerd_config_version = (int)x;
		}
	} else
		return false;
	return true;
}

void config_containerd_parse(config_parser *p, yaml_node_t *n)
{
	config_walk_map(p, n, "containerd", "nvidia, config_version", containerd_key, NULL);
}

/* --- data_disk --- */

static bool disk_match_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v,
			   void *data)
{
	static const char *const transports[] = {"nvme", "sata", "usb", "virtio", "scsi", "mmc"};
	na_data_disk *d = data;

	if (!strcmp(key, "min_size_gib"))
		config_get_int(p, v, "data_disk.match.min_size_gib", INT64_C(1) << 30,
			       &d->min_size_gib);
	else if (!strcmp(key, "max_size_gib"))
		config_get_int(p, v, "data_disk.match.max_size_gib", INT64_C(1) << 30,
			       &d->max_size_gib);
	else if (!strcmp(key, "rotational")) {
		bool b;
		if (config_get_bool(p, v, "data_disk.match.rotational", &b))
			d->rotational = b ? HW_TRI_TRUE : HW_TRI_FALSE;
	} else if (!strcmp(key, "transport")) {
		const char *s = config_str(p, v, "data_disk.match.transport");
		bool found = false;
		for (size_t i = 0; s && i < ELEMENTSOF(transports); i++)
			found = found || !strcmp(s, transports[i]);
		if (s && !found)
			config_err(p, v,
				   "data_disk.match.transport: expected nvme, sata, usb, virtio, "
				   "scsi or mmc, found \"%s\"",
				   s);
		else if (s)
			d->transport = config_dup(p, s);
	} else if (!strcmp(key, "model"))
		d->model = config_dup_glob(p, v, "data_disk.match.model");
	else if (!strcmp(key, "serial")) {
		strv_free(d->serial);
		d->serial = config_str_list(p, v, "data_disk.match.serial", NULL);
	} else
		return false;
	return true;
}

/* A normalised absolute path other than "/": it becomes Where= of a mount unit, where
 * systemd wants exactly that, and a line break would start a new unit setting. */
static bool mount_point_valid(const char *s)
{
	if (!strcmp(s, "/") || strstr(s, "//") || s[strlen(s) - 1] == '/')
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	for (const char *c = s; (c = strchr(c, '/')); c++)
		if ((c[1] == '.' && (!c[2] || c[2] == '/')) ||
		    (c[1] == '.' && c[2] == '.' && (!c[3] || c[3] == '/')))
			return false;
	return true;
}

static bool disk_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_data_disk *d = data;

	if (!strcmp(key, "match"))
		config_walk_map(p, v, "data_disk.match",
				"min_size_gib, max_size_gib, rotational, transport, model, serial",
				disk_match_key, d);
	else if (!strcmp(key, "allow_wipe_serials")) {
		strv_free(d->allow_wipe_serials);
		d->allow_wipe_serials = config_str_list(p, v, "data_disk.allow_wipe_serials", NULL);
	} else if (!strcmp(key, "mount")) {
		free(d->mount);
		d->mount = config_abs_path(p, v, "data_disk.mount");
		if (d->mount && !mount_point_valid(d->mount)) {
			config_err(p, v, "data_disk.mount: \"%s\" is not a usable mount point",
				   d->mount);
			free(d->mount);
			d->mount = NULL;
		}
	} else if (!strcmp(key, "label")) {
		const char *s = config_str(p, v, "data_disk.label");
		if (s && (strlen(s) == 0 || strlen(s) > 16 || strpbrk(s, " /\\\"'")))
			config_err(p, v,
				   "data_disk.label: an ext4 label is 1 to 16 characters without "
				   "spaces, quotes or slashes");
		else if (s) {
			free(d->label);
			d->label = config_dup(p, s);
		}
	} else
		return false;
	return true;
}

void config_data_disk_parse(config_parser *p, yaml_node_t *n)
{
	config_walk_map(p, n, "data_disk", "match, allow_wipe_serials, mount, label", disk_key,
			&p->cfg->data_disk);
}

/* --- report --- */

static bool report_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v,
		       void *data)
{
	na_config *c = p->cfg;

	if (!strcmp(key, "url"))
		c->report_url = config_secure_url(p, v, "report.url");
	else if (!strcmp(key, "ca_file"))
		c->report_ca_file = config_abs_path(p, v, "report.ca_file");
	else if (!strcmp(key, "ca_pem")) {
		/* a CA certificate is public: pinning the collector's CA in the config is fine */
		const char *s = config_str(p, v, "report.ca_pem");
		if (s && !strstr(s, "-----BEGIN CERTIFICATE-----"))
			config_err(p, v,
				   "report.ca_pem: expected PEM certificates (-----BEGIN "
				   "CERTIFICATE-----)");
		else if (s)
			c->report_ca_pem = config_dup(p, s);
	} else
		return false;
	return true;
}

void config_report_parse(config_parser *p, yaml_node_t *n)
{
	config_walk_map(p, n, "report", "url, ca_file, ca_pem", report_key, NULL);
}
