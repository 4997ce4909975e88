/* SPDX-License-Identifier: MIT */
/*
 * Node config (schema node-agent/config/v1): libyaml's document loader gives every node
 * its line and column, and a walk over the tree checks each key against the schema.
 * Every problem is reported as FILE:LINE:COLUMN with what was expected; unknown keys are
 * errors, because a typo must not silently change a node's role. This file holds the
 * entry points, the top level and the checks that involve several sections; the values
 * and the sections are in the other files of config/ (config-internal.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <yaml.h>

#include "basic/fileio.h"
#include "basic/yaml-load.h"
#include "config/config-internal.h"

#define CONFIG_MAX_BYTES (1024 * 1024)

const char *na_role_name(na_role r)
{
	switch (r) {
	case ROLE_AGENT:
		return "agent";
	case ROLE_SERVER:
		return "server";
	case ROLE_SERVER_INIT:
		return "server-init";
	default:
		return NULL;
	}
}

static bool top_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_config *c = p->cfg;

	if (!strcmp(key, "schema")) {
		const char *s = config_str(p, v, "schema");
		if (s && strcmp(s, CONFIG_SCHEMA))
			config_err(p, v, "schema: expected \"%s\", found \"%s\"", CONFIG_SCHEMA, s);
		*(bool *)data = true;
	} else if (!strcmp(key, "cluster")) {
		p->cluster_key = k;
		p->cluster = v;
		config_cluster_parse(p, v);
	} else if (!strcmp(key, "node_name"))
		config_node_name_parse(p, v);
	else if (!strcmp(key, "rules")) {
		p->rules_key = k;
		config_rules_parse(p, v);
	} else if (!strcmp(key, "containerd"))
		config_containerd_parse(p, v);
	else if (!strcmp(key, "data_disk")) {
		c->data_disk.present = true;
		p->disk_key = k;
		p->disk = v;
		config_data_disk_parse(p, v);
	} else if (!strcmp(key, "gitops")) {
		c->gitops.present = true;
		p->gitops_key = k;
		p->gitops = v;
		config_gitops_parse(p, v);
	} else if (!strcmp(key, "report"))
		config_report_parse(p, v);
	else if (!strcmp(key, "persistent_root"))
		config_get_bool(p, v, "persistent_root", &c->persistent_root);
	else
		return false;
	return true;
}

/*
 * Problems that involve several keys. They are reported at the key of the section
 * concerned, and "is required" looks at which keys are written, so that a value already
 * reported as invalid is not called missing as well.
 */
static void check_whole(config_parser *p)
{
	na_config *c = p->cfg;
	bool init = false;

	for (size_t i = 0; i < c->n_rules; i++)
		init = init || c->rules[i].role == ROLE_SERVER_INIT;
	if (config_map_get(p, p->cluster, "server") &&
	    config_map_lacks(p, p->cluster, "token_file") &&
	    config_map_lacks(p, p->cluster, "agent_token_file"))
		config_err(p, p->cluster_key, "cluster: a server needs a token_file to join it");
	/* the agent token cannot join servers (K3s refuses it for user "server"): one message */
	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].role == ROLE_SERVER && config_map_get(p, p->cluster, "server") &&
		    config_map_lacks(p, p->cluster, "token_file")) {
			config_err(
			    p, p->cluster_key,
			    "cluster: rule %s makes servers, which join with the server token: "
			    "cluster.token_file is missing (agent_token_file is for agents)",
			    c->rules[i].name ? c->rules[i].name : "(unnamed)");
			break;
		}
	if (config_map_get(p, p->cluster, "credentials") &&
	    (config_map_get(p, p->cluster, "server") ||
	     config_map_get(p, p->cluster, "token_file") ||
	     config_map_get(p, p->cluster, "agent_token_file")))
		config_err(p, p->cluster_key,
			   "cluster: credentials brings the server and the tokens from node-agent "
			   "serve: give it without server, token_file and agent_token_file");
	if (!config_map_get(p, p->cluster, "server") &&
	    !config_map_get(p, p->cluster, "credentials") && !init && c->n_rules > 0)
		config_err(
		    p, p->cluster_key ? p->cluster_key : p->rules_key,
		    "cluster.server is missing and no rule makes a server-init node: nodes would "
		    "have no cluster to join");
	if (config_map_lacks(p, p->disk, "mount"))
		config_err(p, p->disk_key, "data_disk: mount is required");
	if (c->data_disk.present && c->data_disk.min_size_gib >= 0 &&
	    c->data_disk.max_size_gib >= 0 && c->data_disk.max_size_gib < c->data_disk.min_size_gib)
		config_err(p, p->disk_key, "data_disk.match: max_size_gib is below min_size_gib");
	if (c->gitops.present) {
		na_gitops *g = &c->gitops;
		if (config_map_lacks(p, p->gitops, "engine") ||
		    config_map_lacks(p, p->gitops, "install_url") ||
		    config_map_lacks(p, p->gitops, "install_sha256") ||
		    config_map_lacks(p, p->gitops, "repository"))
			config_err(p, p->gitops_key,
				   "gitops: engine, install_url, install_sha256 and "
				   "repository are required");
		if (g->branch && g->tag)
			config_err(p, p->gitops_key, "gitops: give branch or tag, not both");
	}
}

/* The one document of the stream into *doc: 0 (its root may be NULL: an empty file), or
 * -ENOMEM; syntax errors are counted and logged. */
static int load_document(config_parser *p, yaml_loader *l, yaml_document_t *doc)
{
	yaml_problem at;
	int r = yaml_loader_next(l, doc, &at);

	if (r == -EBADMSG)
		config_yaml_error(p, &at);
	return r == -ENOMEM ? r : 0;
}

/* Anything after the first document: a second one would be silently ignored otherwise. */
static int check_no_more(config_parser *p, yaml_loader *l)
{
	_cleanup_yaml_document_ yaml_document_t more = {0};
	yaml_problem at;
	int r = yaml_loader_next(l, &more, &at);

	if (r == -EBADMSG)
		config_yaml_error(p, &at);
	else if (r > 0)
		config_err(p, yaml_document_get_root_node(&more),
			   "only one YAML document is allowed");
	return r == -ENOMEM ? r : 0;
}

int na_config_parse(const char *path, const char *data, size_t len, const na_log *log,
		    na_config **ret)
{
	_cleanup_yaml_loader_ yaml_loader l = {0};
	_cleanup_yaml_document_ yaml_document_t doc = {0};
	config_parser p = {.path = path, .log = log, .doc = &doc};
	na_config *c;
	yaml_node_t *root;
	bool have_schema = false;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->path = strdup(path);
	if (!c->path) {
		free(c);
		return -ENOMEM;
	}
	c->containerd_nvidia = true;
	c->data_disk.min_size_gib = c->data_disk.max_size_gib = -1;
	c->data_disk.rotational = HW_TRI_UNKNOWN;
	p.cfg = c;

	if (yaml_loader_open(&l, data, len) < 0 || load_document(&p, &l, &doc) < 0) {
		na_config_free(c);
		return -ENOMEM;
	}
	root = yaml_document_get_root_node(&doc);
	if (p.n_errors > 0) {
		/* a syntax error: nothing to walk */
	} else if (!root) {
		config_err(&p, NULL, "empty file: expected a mapping with schema: %s",
			   CONFIG_SCHEMA);
	} else {
		config_walk_map(
		    &p, root, "config",
		    "schema, cluster, node_name, rules, containerd, data_disk, gitops, report, "
		    "persistent_root",
		    top_key, &have_schema);
		if (root->type == YAML_MAPPING_NODE && !have_schema)
			config_err(&p, root, "config: schema: %s is required", CONFIG_SCHEMA);
		if (root->type == YAML_MAPPING_NODE)
			check_whole(&p);
	}
	if (p.n_errors == 0 && !p.oom && check_no_more(&p, &l) < 0)
		p.oom = true;
	if (p.oom) {
		na_config_free(c);
		return -ENOMEM;
	}
	if (p.n_errors > CONFIG_MAX_ERRORS)
		na_logf(log, LOG_ERR, "%s: %u more errors not shown", path,
			p.n_errors - CONFIG_MAX_ERRORS);
	if (p.n_errors > 0) {
		na_config_free(c);
		return -EINVAL;
	}
	if (!c->data_disk.label && c->data_disk.present)
		c->data_disk.label = config_dup(&p, "node-data");
	/* kept so the boot job can leave a copy for later commands (node-agent roles) */
	c->text = strndup(data, len);
	if (p.oom || !c->text) {
		na_config_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

int na_config_load(const char *path, const na_log *log, na_config **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_full_file(path, CONFIG_MAX_BYTES, &buf, &len);

	if (r == -EFBIG) {
		na_logf(log, LOG_ERR, "%s:1:1: larger than %d bytes", path, CONFIG_MAX_BYTES);
		return -EINVAL;
	}
	if (r == -EINVAL) {
		na_logf(log, LOG_ERR, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (r < 0)
		return r; /* -EISDIR, -ENOENT, ...: the caller says so */
	return na_config_parse(path, buf, len, log, ret);
}

void na_match_done(na_match *m)
{
	free(m->gpu_vendor);
	free(m->gpu_model);
	free(m->dmi_product);
	strv_free(m->serial);
	strv_free(m->mac);
	strv_free(m->disk_health);
	strv_free(m->memory_health);
}

na_config *na_config_free(na_config *c)
{
	if (!c)
		return NULL;
	free(c->path);
	free(c->server);
	free(c->token_file);
	free(c->agent_token_file);
	free(c->server_ca_file);
	free(c->credentials.url);
	if (c->credentials.ticket)
		explicit_bzero(c->credentials.ticket, strlen(c->credentials.ticket));
	free(c->credentials.ticket);
	free(c->text);
	free(c->node_name);
	for (size_t i = 0; i < c->n_rules; i++) {
		na_rule *r = &c->rules[i];
		free(r->name);
		na_match_done(&r->match);
		free(r->node_role);
		for (size_t j = 0; j < r->n_labels; j++) {
			free(r->labels[j].key);
			free(r->labels[j].value);
		}
		free(r->labels);
		strv_free(r->taints);
		free(r->node_ip_interface);
	}
	free(c->rules);
	free(c->data_disk.transport);
	free(c->data_disk.model);
	strv_free(c->data_disk.serial);
	strv_free(c->data_disk.allow_wipe_serials);
	free(c->data_disk.mount);
	free(c->data_disk.label);
	free(c->gitops.engine);
	free(c->gitops.install_url);
	free(c->gitops.install_sha256);
	free(c->gitops.repository);
	free(c->gitops.branch);
	free(c->gitops.tag);
	free(c->gitops.path);
	free(c->gitops.credentials_file);
	free(c->gitops.interval);
	free(c->gitops.install_ca_file);
	free(c->report_url);
	free(c->report_ca_file);
	free(c->report_ca_pem);
	free(c);
	return NULL;
}

bool na_config_inventory_only(const na_config *c)
{
	if (c->server || c->credentials.url)
		return false;
	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].role == ROLE_SERVER_INIT)
			return false;
	return true;
}

const char *na_config_token_file(const na_config *c, na_role role)
{
	return role == ROLE_AGENT && c->agent_token_file ? c->agent_token_file : c->token_file;
}
