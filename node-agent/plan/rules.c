/* SPDX-License-Identifier: MIT */
/* The rules that match this machine and what they give the node: role, labels, taints;
 * its name and its node IP. */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "inventory/health.h"
#include "kube/k8s.h"
#include "plan/labels.h"
#include "plan/plan-internal.h"

/* --- rules --- */

static bool is_workload_gpu(const hw_gpu *g)
{
	return g->vendor && (!strcmp(g->vendor, "nvidia") || !strcmp(g->vendor, "amd") ||
			     !strcmp(g->vendor, "intel"));
}

static int64_t memory_bytes(const hw_inventory *inv)
{
	/* installed RAM when known: "16 GiB" machines report ~15.5 GiB MemTotal */
	return inv->memory.physical_bytes >= 0 ? inv->memory.physical_bytes
					       : inv->memory.total_bytes;
}

static bool glob_any(const char *glob, const char *s)
{
	return s && fnmatch(glob, s, FNM_CASEFOLD) == 0;
}

bool plan_match(const na_match *m, const hw_inventory *inv)
{
	int64_t n_gpus = 0;
	bool any;

	for (size_t i = 0; i < inv->n_gpus; i++)
		if (m->gpu_vendor
			? (inv->gpus[i].vendor && !strcmp(inv->gpus[i].vendor, m->gpu_vendor))
			: is_workload_gpu(&inv->gpus[i]))
			n_gpus++;
	if (m->gpu_vendor && n_gpus == 0)
		return false;
	if (m->min_gpus >= 0 && n_gpus < m->min_gpus)
		return false;
	if (m->gpu_model) {
		any = false;
		for (size_t i = 0; i < inv->n_gpus; i++)
			any = any || (inv->gpus[i].model &&
				      fnmatch(m->gpu_model, inv->gpus[i].model, FNM_CASEFOLD) == 0);
		if (!any)
			return false;
	}
	if (m->min_memory_gib >= 0 &&
	    (memory_bytes(inv) < 0 || memory_bytes(inv) < m->min_memory_gib * (INT64_C(1) << 30)))
		return false;
	if (m->min_cpu_threads >= 0 &&
	    (inv->cpu.threads < 0 || inv->cpu.threads < m->min_cpu_threads))
		return false;
	/* Lenovo's product_name is a type code (20L5CTO1WW); the model is in version and family */
	if (m->dmi_product && !glob_any(m->dmi_product, inv->system.product) &&
	    !glob_any(m->dmi_product, inv->system.version) &&
	    !glob_any(m->dmi_product, inv->system.family))
		return false;
	if (m->serial && !plan_in_list_ci(m->serial, inv->system.serial))
		return false;
	if (m->mac) {
		any = plan_in_list_ci(m->mac, inv->boot.pxe_mac);
		for (size_t i = 0; i < inv->n_nics; i++)
			any = any || plan_in_list_ci(m->mac, inv->nics[i].mac);
		if (!any)
			return false;
	}
	if (m->disk_health) {
		any = false;
		for (size_t i = 0; i < inv->n_disks; i++) {
			const char *h = health_name(health_disk(&inv->disks[i]));
			any = any || (h && strv_has(m->disk_health, h));
		}
		if (!any)
			return false;
	}
	if (m->memory_health && (!health_name(health_memory(inv)) ||
				 !strv_has(m->memory_health, health_name(health_memory(inv)))))
		return false;
	return true;
}

static bool rule_matches(const na_rule *r, const hw_inventory *inv)
{
	return !r->has_match || plan_match(&r->match, inv);
}

/* The rules' labels, taints and roles, and the hardware labels, into P. */
int plan_rules(na_plan *p, const na_config *c, const hw_inventory *inv, const char **ret_ip_glob)
{
	na_kv_list all = {0}, hw = {0};
	char **node_roles = NULL, **rule_keys = NULL;
	const char *ip_glob = NULL;
	int r;

	/* hardware labels first: a rule's label with the same key overrides */
	r = labels_from_hardware(inv, &hw);
	for (size_t i = 0; i < hw.n && r >= 0; i++)
		r = kv_set(&all, hw.v[i].key, hw.v[i].value);
	for (size_t i = 0; i < c->n_rules && r >= 0; i++) {
		const na_rule *rule = &c->rules[i];

		if (!rule_matches(rule, inv))
			continue;
		r = strv_add(&p->matched_rules, rule->name);
		if (r >= 0 && rule->role != ROLE_UNSET) {
			p->role = rule->role;
			free(p->role_rule);
			p->role_rule = strdup(rule->name);
			if (!p->role_rule)
				r = -ENOMEM;
		}
		if (r >= 0 && rule->node_role && !strv_has(node_roles, rule->node_role))
			r = strv_add(&node_roles, rule->node_role);
		for (size_t j = 0; j < rule->n_labels && r >= 0; j++) {
			r = kv_set(&all, rule->labels[j].key, rule->labels[j].value);
			if (r >= 0 && !strv_has(rule_keys, rule->labels[j].key))
				r = strv_add(&rule_keys, rule->labels[j].key);
		}
		for (char **tn = rule->taints; tn && *tn && r >= 0; tn++)
			if (!strv_has(p->taints, *tn))
				r = strv_add(&p->taints, *tn);
		if (rule->node_ip_interface)
			ip_glob = rule->node_ip_interface;
	}
	for (char **nr = node_roles; nr && *nr && r >= 0; nr++) {
		char *key = NULL;
		if (asprintf(&key, "node-role.kubernetes.io/%s", *nr) < 0)
			r = -ENOMEM;
		else
			r = kv_set(&all, key, "true");
		free(key);
	}
	strv_free(node_roles);
	/* hardware labels another tool takes over, unless a rule set the key itself */
	for (size_t i = 0; i < hw.n && r >= 0; i++) {
		const char *owner = labels_owner(hw.v[i].key);
		if (owner && !strv_has(rule_keys, hw.v[i].key))
			r = kv_set(&p->label_owners, hw.v[i].key, owner);
	}
	kv_free(&hw);
	strv_free(rule_keys);
	/* NodeRestriction: what the kubelet may not set goes through the API instead */
	for (size_t i = 0; i < all.n && r >= 0; i++)
		r = kv_set(k8s_label_kubelet_settable(all.v[i].key) ? &p->labels : &p->api_labels,
			   all.v[i].key, all.v[i].value);
	kv_free(&all);
	if (r < 0)
		return r;
	kv_sort(&p->labels);
	kv_sort(&p->api_labels);
	kv_sort(&p->label_owners);
	*ret_ip_glob = ip_glob;
	return 0;
}

/* --- node name --- */

/* The MAC that names a machine: the PXE interface, else the first physical NIC. */
static const char *primary_mac(const hw_inventory *inv)
{
	if (inv->boot.pxe_mac)
		return inv->boot.pxe_mac;
	for (size_t i = 0; i < inv->n_nics; i++)
		if (!inv->nics[i].is_virtual && inv->nics[i].mac)
			return inv->nics[i].mac;
	for (size_t i = 0; i < inv->n_nics; i++)
		if (inv->nics[i].mac)
			return inv->nics[i].mac;
	return NULL;
}

/* The node name TMPL makes on this machine, as a DNS-1123 label; when a value it uses is
 * unknown, or nothing usable remains, named after the MAC or the machine-id (with a
 * warning). -EINVAL when there is nothing to name the node after, -ENOMEM. */
int plan_node_name(na_plan *p, const char *tmpl, const hw_inventory *inv, char **ret)
{
	char *out = NULL, *name = NULL, *fb = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *mac = primary_mac(inv);
	bool missing = false;
	int r;

	if (!f)
		return -ENOMEM;
	for (const char *s = tmpl; *s;) {
		if (s[0] == '$' && s[1] == '{') {
			const char *e = strchr(s, '}');
			size_t n = e ? (size_t)(e - s - 2) : 0;
			const char *v = NULL;

			if (!e)
				break;
			if (n == 8 && !strncmp(s + 2, "hostname", n))
				v = inv->hostname && strcmp(inv->hostname, "localhost")
					? inv->hostname
					: NULL;
			else if (n == 6 && !strncmp(s + 2, "serial", n))
				v = inv->system.serial;
			else if (n == 4 && !strncmp(s + 2, "uuid", n))
				v = inv->system.uuid;
			else if (n == 3 && !strncmp(s + 2, "mac", n))
				v = mac;
			else if (n == 7 && !strncmp(s + 2, "product", n))
				v = inv->system.product;
			if (!v)
				missing = true;
			else
				fputs(v, f);
			s = e + 1;
		} else
			fputc(*s++, f);
	}
	r = plan_memstream_close(f, &out);
	if (r < 0)
		return r;
	r = missing ? -EINVAL : k8s_dns1123_label(out, &name);
	free(out);
	if (r != -EINVAL) {
		if (r >= 0)
			*ret = name;
		return r;
	}
	/* a name must be unique and stable: fall back to the machine's MAC */
	if (mac) {
		if (asprintf(&fb, "node-%s", mac) < 0)
			return -ENOMEM;
		r = plan_warnf(
		    p,
		    "node_name \"%s\": a value it uses is unknown on this machine; named "
		    "after the MAC instead",
		    tmpl);
	} else if (inv->machine_id) {
		if (asprintf(&fb, "node-%.12s", inv->machine_id) < 0)
			return -ENOMEM;
		r = plan_warnf(p,
			       "node_name \"%s\": values unknown and no MAC; named after the "
			       "machine-id",
			       tmpl);
	} else
		return -EINVAL;
	if (r >= 0)
		r = k8s_dns1123_label(fb, &name);
	free(fb);
	if (r >= 0)
		*ret = name;
	return r;
}

/* --- node IP --- */

/* The NIC's first IPv4 address without its prefix length; *ret NULL when it has none. */
static int first_ipv4(const hw_nic *n, char **ret)
{
	for (char **a = n->addresses; a && *a; a++)
		if (strchr(*a, '.') && !strchr(*a, ':')) {
			char *ip = strndup(*a, strcspn(*a, "/"));
			if (!ip)
				return -ENOMEM;
			*ret = ip;
			return 0;
		}
	*ret = NULL;
	return 0;
}

int plan_node_ip(na_plan *p, const char *iface_glob, const hw_inventory *inv)
{
	const hw_nic *nic = NULL;
	int r;

	for (size_t i = 0; i < inv->n_nics && !nic; i++)
		if (iface_glob ? fnmatch(iface_glob, inv->nics[i].name, 0) == 0
			       : inv->nics[i].default_route == HW_TRI_TRUE)
			nic = &inv->nics[i];
	if (!nic)
		return iface_glob ? plan_warnf(p,
					       "node_ip_interface \"%s\" matches no interface; K3s "
					       "picks the node IP",
					       iface_glob)
				  : 0;
	r = first_ipv4(nic, &p->node_ip);
	if (r >= 0 && !p->node_ip && iface_glob)
		r = plan_warnf(p, "interface %s has no known IPv4 address; K3s picks the node IP",
			       nic->name);
	return r;
}
