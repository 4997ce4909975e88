/* SPDX-License-Identifier: MIT */
/*
 * rules[] of the node config: what a machine must have for a rule to apply (match), and
 * what the rule gives the node: a role, labels, taints, the interface of its node IP.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "config/config-internal.h"
#include "kube/k8s.h"

static bool check_taint(config_parser *p, const yaml_node_t *n, const char *what, const char *s)
{
	const char *why;

	if (k8s_taint_valid(s, &why))
		return true;
	config_err(p, n, "%s: bad taint \"%s\": %s", what, s, why);
	return false;
}

static bool check_mac(config_parser *p, const yaml_node_t *n, const char *what, const char *s)
{
	bool good = strlen(s) == 17;

	for (size_t i = 0; good && i < 17; i++)
		good = i % 3 == 2 ? s[i] == ':' : strchr("0123456789abcdefABCDEF", s[i]) && s[i];
	if (!good)
		config_err(p, n, "%s: \"%s\" is not a MAC address like aa:bb:cc:dd:ee:ff", what, s);
	return good;
}

static bool check_health(config_parser *p, const yaml_node_t *n, const char *what, const char *s)
{
	if (!strcmp(s, "ok") || !strcmp(s, "warning") || !strcmp(s, "failing"))
		return true;
	config_err(p, n, "%s: expected ok, warning or failing, found \"%s\"", what, s);
	return false;
}

/* one status or a list of them */
static char **health_list(config_parser *p, const yaml_node_t *v, const char *what)
{
	const char *s;
	char **l;

	if (v->type != YAML_SCALAR_NODE)
		return config_str_list(p, v, what, check_health);
	s = config_str(p, v, what);
	l = calloc(2, sizeof(char *));
	if (!l)
		p->oom = true;
	else if (s && check_health(p, v, what, s))
		l[0] = config_dup(p, s);
	return l;
}

static bool match_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_match *m = data;

	if (!strcmp(key, "gpu_vendor")) {
		const char *s = config_str(p, v, "match.gpu_vendor");
		if (s && strcmp(s, "nvidia") && strcmp(s, "amd") && strcmp(s, "intel"))
			config_err(p, v,
				   "match.gpu_vendor: expected nvidia, amd or intel, found \"%s\"",
				   s);
		else if (s)
			m->gpu_vendor = config_dup(p, s);
	} else if (!strcmp(key, "gpu_model"))
		m->gpu_model = config_dup_glob(p, v, "match.gpu_model");
	else if (!strcmp(key, "min_gpus"))
		config_get_int(p, v, "match.min_gpus", 64, &m->min_gpus);
	else if (!strcmp(key, "min_memory_gib"))
		config_get_int(p, v, "match.min_memory_gib", 1 << 20, &m->min_memory_gib);
	else if (!strcmp(key, "min_cpu_threads"))
		config_get_int(p, v, "match.min_cpu_threads", 1 << 16, &m->min_cpu_threads);
	else if (!strcmp(key, "dmi_product"))
		m->dmi_product = config_dup_glob(p, v, "match.dmi_product");
	else if (!strcmp(key, "serial")) {
		strv_free(m->serial);
		m->serial = config_str_list(p, v, "match.serial", NULL);
	} else if (!strcmp(key, "mac")) {
		strv_free(m->mac);
		m->mac = config_str_list(p, v, "match.mac", check_mac);
	} else if (!strcmp(key, "disk_health")) {
		strv_free(m->disk_health);
		m->disk_health = health_list(p, v, "match.disk_health");
	} else if (!strcmp(key, "memory_health")) {
		strv_free(m->memory_health);
		m->memory_health = health_list(p, v, "match.memory_health");
	} else
		return false;
	return true;
}

void config_match_init(na_match *m)
{
	memset(m, 0, sizeof(*m));
	m->min_gpus = m->min_memory_gib = m->min_cpu_threads = -1;
}

void config_match_parse(config_parser *p, yaml_node_t *n, na_match *m)
{
	config_walk_map(p, n, "match",
			"gpu_vendor, gpu_model, min_gpus, min_memory_gib, min_cpu_threads, "
			"dmi_product, serial, mac, disk_health, memory_health",
			match_key, m);
}

static bool labels_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v,
		       void *data)
{
	na_rule *r = data;
	const char *why, *value;
	na_kv *nl;

	if (!k8s_label_key_valid(key, &why)) {
		config_err(p, k, "labels: bad label key \"%s\": %s", key, why);
		return true;
	}
	if (v->type != YAML_SCALAR_NODE) {
		config_err(p, v, "labels.%s: expected a string value, found %s", key,
			   config_node_kind(v));
		return true;
	}
	if (config_has_nul(p, v, "labels"))
		return true;
	value = config_is_null(v) ? "" : (const char *)v->data.scalar.value;
	if (!k8s_label_value_valid(value, &why)) {
		config_err(p, v, "labels.%s: bad label value \"%s\": %s", key, value, why);
		return true;
	}
	/* doubling: n_labels is 0 or a power of two exactly when the array is full */
	if (!(r->n_labels & (r->n_labels - 1))) {
		nl = reallocarray(r->labels, r->n_labels ? 2 * r->n_labels : 1, sizeof(*nl));
		if (!nl) {
			p->oom = true;
			return true;
		}
		r->labels = nl;
	}
	r->labels[r->n_labels].key = config_dup(p, key);
	r->labels[r->n_labels].value = config_dup(p, value);
	if (!r->labels[r->n_labels].key || !r->labels[r->n_labels].value) {
		free(r->labels[r->n_labels].key);
		free(r->labels[r->n_labels].value);
		return true;
	}
	r->n_labels++;
	return true;
}

static bool rule_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_rule *r = data;

	if (!strcmp(key, "name")) {
		r->name = config_dup_str(p, v, "rules[].name");
	} else if (!strcmp(key, "match")) {
		r->has_match = true;
		config_match_parse(p, v, &r->match);
	} else if (!strcmp(key, "role")) {
		const char *s = config_str(p, v, "rules[].role");
		if (!s)
			;
		else if (!strcmp(s, "agent"))
			r->role = ROLE_AGENT;
		else if (!strcmp(s, "server"))
			r->role = ROLE_SERVER;
		else if (!strcmp(s, "server-init"))
			r->role = ROLE_SERVER_INIT;
		else
			config_err(p, v,
				   "rules[].role: expected server-init, server or agent, found "
				   "\"%s\"",
				   s);
	} else if (!strcmp(key, "node_role")) {
		const char *s = config_str(p, v, "rules[].node_role"), *why;
		if (s && !k8s_label_key_valid(s, &why))
			config_err(p, v, "rules[].node_role: \"%s\" cannot be a label name: %s", s,
				   why);
		else if (s && strchr(s, '/'))
			config_err(p, v,
				   "rules[].node_role: give the role name only, without a '/'");
		else if (s)
			r->node_role = config_dup(p, s);
	} else if (!strcmp(key, "labels")) {
		if (v->type != YAML_MAPPING_NODE)
			config_err(p, v,
				   "rules[].labels: expected a mapping of label keys to values, "
				   "found %s",
				   config_node_kind(v));
		else
			config_walk_names(p, v, "labels", labels_key, r);
	} else if (!strcmp(key, "taints")) {
		strv_free(r->taints);
		r->taints = config_str_list(p, v, "rules[].taints", check_taint);
	} else if (!strcmp(key, "node_ip_interface")) {
		r->node_ip_interface = config_dup_glob(p, v, "rules[].node_ip_interface");
	} else
		return false;
	return true;
}

void config_rules_parse(config_parser *p, yaml_node_t *n)
{
	na_config *c = p->cfg;

	if (n->type != YAML_SEQUENCE_NODE) {
		config_err(p, n, "rules: expected a list of rules, found %s", config_node_kind(n));
		return;
	}
	if (!config_within_bounds(
		p, n, (size_t)(n->data.sequence.items.top - n->data.sequence.items.start), "rules"))
		return;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *rn = config_node(p, *i);
		na_rule *nr;

		if (!rn)
			continue;
		nr = reallocarray(c->rules, c->n_rules + 1, sizeof(*nr));
		if (!nr) {
			p->oom = true;
			return;
		}
		c->rules = nr;
		na_rule *r = &c->rules[c->n_rules++];
		memset(r, 0, sizeof(*r));
		config_match_init(&r->match);
		config_walk_map(p, rn, "rules[]",
				"name, match, role, node_role, labels, taints, node_ip_interface",
				rule_key, r);
		if (config_map_lacks(p, rn, "name"))
			config_err(p, rn, "rules[]: every rule needs a name");
		for (size_t j = 0; r->name && j + 1 < c->n_rules; j++)
			if (c->rules[j].name && !strcmp(c->rules[j].name, r->name))
				config_err(p, config_map_get(p, rn, "name"),
					   "rules[]: a rule named \"%s\" already exists", r->name);
	}
}
