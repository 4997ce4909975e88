/* SPDX-License-Identifier: MIT */
/*
 * What serve hands to machines besides files: the iPXE script of a machine and the node
 * configs. Nothing secret: all travel over plain HTTP (Debian's iPXE has no HTTPS) and the
 * kernel command line is readable by every process of the node. The configs carry what the
 * node needs to trust serve's HTTPS side, its certificate (public) as report.ca_pem: one
 * who can change them on the wire can send the node anywhere anyway (see http.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/yaml-emit.h"
#include "basic/yaml-load.h"
#include "config/config.h"
#include "serve/serve.h"

/* bounds of the operator's node config before the emitter (which recurses) sees it */
#define SERVE_YAML_MAX_DEPTH  64
#define SERVE_YAML_MAX_VALUES 100000

/*
 * The kernel command line is the image's (init/boot.ipxe.in, images/build.sh): the console
 * on screen and serial port, the config URL, BOOTIF so the initrd knows the boot NIC. The
 * files are named with ?mac= so serve can put "kernel fetched" on the machine's timeline;
 * `initrd --name initrd` keeps the name initrd= refers to independent of the URL.
 */
char *serve_boot_script(const char *base_url, const char *mac, bool boot)
{
	char *s;

	if (!boot)
		return asprintf(
			   &s,
			   "#!ipxe\n"
			   "echo node-agent serve: machine %s is not accepted and unknown machines "
			   "are ignored here\n"
			   "echo Accept it with: node-agent machines accept ID\n"
			   "exit\n",
			   mac) < 0
			   ? NULL
			   : s;
	return asprintf(&s,
			"#!ipxe\n"
			"# node-agent serve: the boot script of %s\n"
			"echo node-agent: booting %s from %s\n"
			"kernel %s/vmlinuz?mac=%s initrd=initrd console=tty0 console=ttyS0,115200 "
			"nodeagent.config=%s/config/%s.yaml BOOTIF=01-${netX/mac:hexhyp} quiet\n"
			"initrd --name initrd %s/initrd?mac=%s\n"
			"boot\n",
			mac, mac, base_url, base_url, mac, base_url, mac, base_url, mac) < 0
		   ? NULL
		   : s;
}

/* A valid node config (schema node-agent/config/v1) without cluster, rules or data disk:
 * the node reports its inventory and joins nothing, touches no disk. */
int serve_inventory_config(const char *report_url, const char *ca_pem, char **ret)
{
	_cleanup_yaml_emit_ yaml_emit m = {0};
	_cleanup_free_ char *text = NULL;
	int r = yaml_emit_open_string(&m, 0, -1);

	if (r < 0)
		return r;
	yaml_emit_document_start(&m);
	yaml_emit_mapping_start(&m, false);
	yaml_emit_pair(&m, "schema", CONFIG_SCHEMA);
	yaml_emit_string(&m, "report");
	yaml_emit_mapping_start(&m, false);
	yaml_emit_pair(&m, "url", report_url);
	if (ca_pem)
		yaml_emit_pair(&m, "ca_pem", ca_pem);
	yaml_emit_mapping_end(&m);
	yaml_emit_mapping_end(&m);
	yaml_emit_document_end(&m);
	r = yaml_emit_close_string(&m, &text);
	if (r < 0)
		return r;
	if (asprintf(ret,
		     "# Written by node-agent serve: this machine is not accepted (yet); it\n"
		     "# reports its inventory and does nothing else: no cluster, no data disk.\n"
		     "%s",
		     text) < 0)
		return -ENOMEM;
	return 0;
}

static int add_scalar(yaml_document_t *d, const char *s, yaml_scalar_style_t style)
{
	int id = yaml_document_add_scalar(d, NULL, (yaml_char_t *)s, (int)strlen(s), style);

	return id > 0 ? id : -ENOMEM;
}

/* Drop the pairs of the root mapping whose key is KEY. */
static void root_drop_key(yaml_document_t *d, const char *key)
{
	yaml_node_t *root = yaml_document_get_root_node(d);
	yaml_node_pair_t *w = root->data.mapping.pairs.start;

	for (yaml_node_pair_t *i = root->data.mapping.pairs.start; i < root->data.mapping.pairs.top;
	     i++) {
		const char *k = yaml_scalar(yaml_document_get_node(d, i->key));

		if (!k || strcmp(k, key))
			*w++ = *i;
	}
	root->data.mapping.pairs.top = w;
}

/* TEXT's document into *DOC: a bounded mapping at its root, or -EBADMSG. */
static int load_mapping(yaml_loader *l, const char *text, yaml_document_t *doc)
{
	yaml_problem at;
	yaml_node_t *root;
	int r = yaml_loader_open(l, text, strlen(text));

	if (r < 0)
		return r;
	r = yaml_loader_next(l, doc, &at);
	if (r <= 0)
		return r == 0 ? -EBADMSG : r;
	root = yaml_document_get_root_node(doc);
	if (!root || root->type != YAML_MAPPING_NODE ||
	    !yaml_document_bounded(doc, SERVE_YAML_MAX_DEPTH, SERVE_YAML_MAX_VALUES))
		return -EBADMSG;
	return 0;
}

/*
 * The operator's file was checked with node-agent's parser at start, so its root is a
 * mapping and its report section, when there, a mapping of url, ca_file and ca_pem (or
 * empty). Without url, its CA keys are of no use: the section is replaced as a whole.
 */
int serve_node_config_for_serve(const char *text, const char *report_url, const char *ca_pem,
				char **ret)
{
	_cleanup_yaml_loader_ yaml_loader l = {0};
	_cleanup_yaml_document_ yaml_document_t doc = {0};
	_cleanup_yaml_emit_ yaml_emit m = {0};
	int r, report, url, ca, key;

	r = load_mapping(&l, text, &doc);
	if (r < 0)
		return r;
	if (yaml_map_get(&doc, yaml_map_get(&doc, yaml_document_get_root_node(&doc), "report"),
			 "url"))
		return (*ret = strdup(text)) ? 0 : -ENOMEM;
	root_drop_key(&doc, "report");
	/* nodes added from here on may move the others: ids, not pointers */
	report = yaml_document_add_mapping(&doc, NULL, YAML_BLOCK_MAPPING_STYLE);
	key = add_scalar(&doc, "report", YAML_ANY_SCALAR_STYLE);
	url = add_scalar(&doc, report_url, YAML_ANY_SCALAR_STYLE);
	if (report <= 0 || key < 0 || url < 0 ||
	    !yaml_document_append_mapping_pair(&doc, 1, key, report) ||
	    (key = add_scalar(&doc, "url", YAML_ANY_SCALAR_STYLE)) < 0 ||
	    !yaml_document_append_mapping_pair(&doc, report, key, url))
		return -ENOMEM;
	if (ca_pem && ((key = add_scalar(&doc, "ca_pem", YAML_ANY_SCALAR_STYLE)) < 0 ||
		       (ca = add_scalar(&doc, ca_pem, YAML_LITERAL_SCALAR_STYLE)) < 0 ||
		       !yaml_document_append_mapping_pair(&doc, report, key, ca)))
		return -ENOMEM;
	r = yaml_emit_open_string(&m, 0, -1);
	if (r < 0)
		return r;
	/* the emitter takes the document (and deletes it) */
	yaml_emit_yaml_document(&m, &doc);
	return yaml_emit_close_string(&m, ret);
}

/* TEXT (a node config serve hands out, a mapping) with a cluster section naming the URL to
 * ask for join credentials with TICKET (cluster.c). */
int serve_config_with_credentials(const char *text, const char *url, const char *ticket, char **ret)
{
	_cleanup_yaml_loader_ yaml_loader l = {0};
	_cleanup_yaml_document_ yaml_document_t doc = {0};
	_cleanup_yaml_emit_ yaml_emit m = {0};
	int r, cluster, creds, key, val;

	r = load_mapping(&l, text, &doc);
	if (r < 0)
		return r;
	root_drop_key(&doc, "cluster");
	cluster = yaml_document_add_mapping(&doc, NULL, YAML_BLOCK_MAPPING_STYLE);
	creds = yaml_document_add_mapping(&doc, NULL, YAML_BLOCK_MAPPING_STYLE);
	if (cluster <= 0 || creds <= 0 ||
	    (key = add_scalar(&doc, "cluster", YAML_ANY_SCALAR_STYLE)) < 0 ||
	    !yaml_document_append_mapping_pair(&doc, 1, key, cluster) ||
	    (key = add_scalar(&doc, "credentials", YAML_ANY_SCALAR_STYLE)) < 0 ||
	    !yaml_document_append_mapping_pair(&doc, cluster, key, creds) ||
	    (key = add_scalar(&doc, "url", YAML_ANY_SCALAR_STYLE)) < 0 ||
	    (val = add_scalar(&doc, url, YAML_ANY_SCALAR_STYLE)) < 0 ||
	    !yaml_document_append_mapping_pair(&doc, creds, key, val) ||
	    (key = add_scalar(&doc, "ticket", YAML_ANY_SCALAR_STYLE)) < 0 ||
	    (val = add_scalar(&doc, ticket, YAML_DOUBLE_QUOTED_SCALAR_STYLE)) < 0 ||
	    !yaml_document_append_mapping_pair(&doc, creds, key, val))
		return -ENOMEM;
	r = yaml_emit_open_string(&m, 0, -1);
	if (r < 0)
		return r;
	yaml_emit_yaml_document(&m, &doc);
	return yaml_emit_close_string(&m, ret);
}
