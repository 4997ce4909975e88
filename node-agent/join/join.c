/* SPDX-License-Identifier: MIT */
/* Join K3s: preflight, start the unit over D-Bus, wait for Ready, keep labels current. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/dl.h"
#include "basic/json-util.h"
#include "basic/macro.h"
#include "basic/unit-start.h"
#include "basic/fileio.h"
#include "join/join-internal.h"
#include "kube/k8s.h"
#include "join/preflight.h"
#include "plan/labels.h"

#define API_LABELS_MAX 64

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define progress(o, ...) na_logf(&(o)->log, LOG_INFO, __VA_ARGS__)

/* The servers' roles lines, as part of the join's progress. */
static void roles_line(void *userdata, int prio, const char *msg)
{
	na_logf(userdata, prio, "roles: %s", msg);
}

__attribute__((format(printf, 2, 3))) static void set_summary(char **s, const char *fmt, ...)
{
	va_list ap;

	free(*s);
	va_start(ap, fmt);
	if (vasprintf(s, fmt, ap) < 0)
		*s = NULL;
	va_end(ap);
}

/* --- labels --- */

const char *join_map_get_string(json_object *map, const char *key)
{
	json_object *v;

	if (!map || !json_object_object_get_ex(map, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

json_object *join_meta_map(json_object *node, const char *field)
{
	json_object *m, *f;

	if (!json_object_object_get_ex(node, "metadata", &m) ||
	    !json_object_object_get_ex(m, field, &f) || !json_object_is_type(f, json_type_object))
		return NULL;
	return f;
}

/* "a,b,c" contains "b"? */
bool join_list_has(const char *list, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == n && !strncmp(p, key, n))
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

/*
 * Whether nfd-master manages KEY on this node: it lists the labels it set in the annotation
 * [<instance>.]nfd.node.kubernetes.io/feature-labels, comma-separated, keys under
 * feature.node.kubernetes.io/ without that prefix (node-feature-discovery
 * pkg/nfd-master/nfd-master.go, updateNodeObject). GPU Feature Discovery and Intel's rules
 * publish through it.
 */
static bool nfd_manages(json_object *annots, const char *key)
{
	static const char ann[] = "nfd.node.kubernetes.io/feature-labels";
	static const char ns[] = "feature.node.kubernetes.io/";
	const char *bare = !strncmp(key, ns, strlen(ns)) ? key + strlen(ns) : NULL;

	if (!annots)
		return false;
	json_object_object_foreach (annots, k, v) {
		size_t n = strlen(k);

		if (n < strlen(ann) || strcmp(k + n - strlen(ann), ann) ||
		    (n > strlen(ann) && k[n - strlen(ann) - 1] != '.') ||
		    !json_object_is_type(v, json_type_string))
			continue;
		if (join_list_has(json_object_get_string(v), key) ||
		    (bare && join_list_has(json_object_get_string(v), bare)))
			return true;
	}
	return false;
}

/*
 * Whether the tool that owns KEY's family (plan/labels.h) runs here and manages it, so the
 * agent must neither set nor remove it: nfd-master lists it; GPU Feature Discovery's
 * timestamp label is there (all of nvidia.com/), or for gpu.present the GPU Operator's
 * gpu.deploy.* labels; AMD's labeller, which writes the Node
 * itself and marks nothing, has written an amd.com/ label the agent did not set.
 */
static bool label_taken_over(json_object *labels, json_object *annots, const char *managed,
			     const char *key)
{
	const char *owner = labels_owner(key);

	if (!owner)
		return false;
	if (nfd_manages(annots, key))
		return true;
	if (!strcmp(owner, "gpu-feature-discovery") || !strcmp(owner, "gpu-operator")) {
		if (join_map_get_string(labels, "nvidia.com/gfd.timestamp"))
			return true;
		/* the GPU Operator's own: it schedules its operands by nvidia.com/gpu.deploy.* */
		if (!strcmp(owner, "gpu-operator") && labels) {
			json_object_object_foreach (labels, k, v) {
				(void)v;
				if (!strncmp(k, "nvidia.com/gpu.deploy.", 22))
					return true;
			}
		}
		return false;
	}
	if (strcmp(owner, "amd-node-labeller") || !labels)
		return false;
	json_object_object_foreach (labels, k, v) {
		(void)v;
		if ((!strncmp(k, "amd.com/", 8) || !strncmp(k, "beta.amd.com/", 13)) &&
		    !join_list_has(managed, k))
			return true;
	}
	return false;
}

/* A label of the plan's the join sets: one another tool owns, while that tool manages it,
 * is left to that tool (a rule's label with the same key is the administrator's, and set). */
static bool label_ours(json_object *labels, json_object *annots, const char *managed,
		       const na_plan *plan, const char *key)
{
	return !kv_get(&plan->label_owners, key) || !label_taken_over(labels, annots, managed, key);
}

json_object *join_label_patch(json_object *node, const na_plan *plan)
{
	json_object *labels = join_meta_map(node, "labels"),
		    *annots = join_meta_map(node, "annotations");
	_cleanup_json_ json_object *pl = json_object_new_object(), *pa = json_object_new_object();
	json_object *patch, *meta;
	const char *managed = join_map_get_string(annots, ANNOT_MANAGED_LABELS);
	const char *req = join_map_get_string(annots, ANNOT_API_LABELS);
	_cleanup_free_ char *want_managed = NULL, *want_req = NULL;
	size_t want_len = 0;
	FILE *wf = open_memstream(&want_managed, &want_len);

	for (size_t i = 0; i < plan->labels.n; i++) {
		const char *key = plan->labels.v[i].key, *have = join_map_get_string(labels, key);

		if (!label_ours(labels, annots, managed, plan, key))
			continue;
		if (wf)
			fprintf(wf, "%s%s", ftell(wf) > 0 ? "," : "", key);
		if (!have || strcmp(have, plan->labels.v[i].value))
			json_object_object_add(pl, key,
					       json_object_new_string(plan->labels.v[i].value));
	}
	if (!wf || fclose(wf) != 0) {
		free(want_managed);
		want_managed = NULL;
	}
	/* labels this agent set before and no longer wants (a GPU taken out), unless another
	 * tool manages them now */
	for (const char *p = managed; p && *p;) {
		const char *c = strchr(p, ',');
		_cleanup_free_ char *k = strndup(p, c ? (size_t)(c - p) : strlen(p));
		if (k && *k && !kv_get(&plan->labels, k) && join_map_get_string(labels, k) &&
		    !label_taken_over(labels, annots, managed, k))
			json_object_object_add(pl, k, NULL);
		p = c ? c + 1 : NULL;
	}
	if (want_managed && (!managed || strcmp(managed, want_managed)))
		json_object_object_add(pa, ANNOT_MANAGED_LABELS,
				       json_object_new_string(want_managed));
	if (plan->api_labels.n) {
		_cleanup_json_ json_object *r = json_object_new_object();
		for (size_t i = 0; i < plan->api_labels.n; i++)
			json_object_object_add(r, plan->api_labels.v[i].key,
					       json_object_new_string(plan->api_labels.v[i].value));
		want_req = strdup(json_object_to_json_string_ext(
		    r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		if (want_req && (!req || strcmp(req, want_req)))
			json_object_object_add(pa, ANNOT_API_LABELS,
					       json_object_new_string(want_req));
	} else if (req)
		json_object_object_add(pa, ANNOT_API_LABELS, NULL);
	/* the taints it needs and may not set itself (NodeRestriction) */
	{
		const char *have = join_map_get_string(annots, ANNOT_API_TAINTS);
		_cleanup_free_ char *want = join_wanted_taints(plan);

		if (want && *want && (!have || strcmp(have, want)))
			json_object_object_add(pa, ANNOT_API_TAINTS, json_object_new_string(want));
		else if (want && !*want && have)
			json_object_object_add(pa, ANNOT_API_TAINTS, NULL);
	}
	if (!json_object_object_length(pl) && !json_object_object_length(pa))
		return NULL;
	patch = json_object_new_object();
	meta = json_object_new_object();
	json_object_object_add(patch, "metadata", meta);
	if (json_object_object_length(pl))
		json_object_object_add(meta, "labels", TAKE_PTR(pl));
	if (json_object_object_length(pa))
		json_object_object_add(meta, "annotations", TAKE_PTR(pa));
	return patch;
}

/* --- server side: api-labels requests --- */

/* Whether the shared config could give some node this label: a rule's node_role, or a
 * rule's labels. A node cannot talk a server into any other restricted label. */
static bool config_allows(const na_config *cfg, const char *key, const char *value)
{
	static const char role_prefix[] = "node-role.kubernetes.io/";

	for (size_t i = 0; i < cfg->n_rules; i++) {
		const na_rule *r = &cfg->rules[i];
		if (r->node_role && !strncmp(key, role_prefix, sizeof(role_prefix) - 1) &&
		    !strcmp(key + sizeof(role_prefix) - 1, r->node_role) && !strcmp(value, "true"))
			return true;
		for (size_t j = 0; j < r->n_labels; j++)
			if (!strcmp(r->labels[j].key, key) && !strcmp(r->labels[j].value, value))
				return true;
	}
	return false;
}

/* Whether some value of this key is one config_allows(): the only labels a server may
 * take away again. applied-api-labels is an annotation the node can write itself, so it
 * must not be able to make a server remove labels an administrator set (for example
 * node-restriction.kubernetes.io/..., which exist because a node cannot change them). */
static bool config_gives_key(const na_config *cfg, const char *key)
{
	static const char role_prefix[] = "node-role.kubernetes.io/";

	for (size_t i = 0; i < cfg->n_rules; i++) {
		const na_rule *r = &cfg->rules[i];
		if (r->node_role && !strncmp(key, role_prefix, sizeof(role_prefix) - 1) &&
		    !strcmp(key + sizeof(role_prefix) - 1, r->node_role))
			return true;
		for (size_t j = 0; j < r->n_labels; j++)
			if (!strcmp(r->labels[j].key, key))
				return true;
	}
	return false;
}

static json_object *parse_request(const char *s, const char **why)
{
	_cleanup_(json_tokener_freep) json_tokener *tok = NULL;
	_cleanup_json_ json_object *o = NULL;

	if (strlen(s) > 16384) {
		*why = "larger than 16 KiB";
		return NULL;
	}
	tok = json_tokener_new_ex(4);
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, s, (int)strlen(s));
	if (json_tokener_get_error(tok) != json_tokener_success || !o ||
	    !json_object_is_type(o, json_type_object)) {
		*why = "not a JSON object";
		return NULL;
	}
	if (json_object_object_length(o) > API_LABELS_MAX) {
		*why = "too many labels";
		return NULL;
	}
	return TAKE_PTR(o);
}

/* The annotation is written by the node: what it asks for goes to the journal only if it
 * cannot forge lines there. */
bool join_log_safe(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static int reconcile_node(const na_config *cfg, kube_client *admin, json_object *node,
			  const na_log *log)
{
	json_object *m, *n, *labels = join_meta_map(node, "labels"),
			    *annots = join_meta_map(node, "annotations");
	const char *name = NULL, *reqs, *applied, *why = NULL;
	_cleanup_json_ json_object *req = NULL, *pl = json_object_new_object(), *patch = NULL;
	_cleanup_free_ char *new_applied = NULL, *err = NULL;
	size_t len = 0;
	FILE *f;
	int r, n_keys = 0;

	/* a name that is not a string (never from a real API server) names no node */
	if (json_object_object_get_ex(node, "metadata", &m) &&
	    json_object_object_get_ex(m, "name", &n) && json_object_is_type(n, json_type_string))
		name = json_object_get_string(n);
	reqs = join_map_get_string(annots, ANNOT_API_LABELS);
	applied = join_map_get_string(annots, ANNOT_APPLIED_API_LABELS);
	if (!name || !join_log_safe(name) || (!reqs && !applied))
		return 0;
	if (reqs && !(req = parse_request(reqs, &why)))
		na_logf(log, LOG_WARNING, "node %s: ignoring %s: %s", name, ANNOT_API_LABELS,
			why ? why : "?");
	/* closed before any return: new_applied is complete only after fclose() */
	f = open_memstream(&new_applied, &len);
	if (!f)
		return -ENOMEM;
	if (!req)
		req = json_object_new_object();
	json_object_object_foreach (req, k, v) {
		const char *val =
		    json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		const char *have;
		if (!val || !k8s_label_key_valid(k, &why) || !k8s_label_value_valid(val, &why)) {
			na_logf(log, LOG_WARNING, "node %s: refusing label %s: not a valid label",
				name, join_log_safe(k) ? k : "(with unprintable characters)");
			continue;
		}
		if (!config_allows(cfg, k, val)) {
			na_logf(log, LOG_WARNING,
				"node %s: refusing label %s=%s: no rule of the config gives it",
				name, k, val);
			continue;
		}
		fprintf(f, "%s%s", n_keys++ ? "," : "", k);
		have = join_map_get_string(labels, k);
		if (!have || strcmp(have, val)) {
			json_object_object_add(pl, k, json_object_new_string(val));
			na_logf(log, LOG_INFO, "node %s: label %s=%s", name, k, val);
		}
	}
	fclose(f);
	/* what a server applied before and the node no longer asks for */
	for (const char *p = applied; p && *p;) {
		const char *c = strchr(p, ',');
		_cleanup_free_ char *key = strndup(p, c ? (size_t)(c - p) : strlen(p));
		if (key && *key && !join_list_has(new_applied, key) &&
		    join_map_get_string(labels, key) && config_gives_key(cfg, key)) {
			json_object_object_add(pl, key, NULL);
			na_logf(log, LOG_INFO, "node %s: removing label %s (no longer requested)",
				name, key);
		}
		p = c ? c + 1 : NULL;
	}
	if (!json_object_object_length(pl) && applied &&
	    !strcmp(applied, new_applied ? new_applied : ""))
		return 0;
	if (!json_object_object_length(pl) && !applied && (!new_applied || !*new_applied))
		return 0;
	patch = json_object_new_object();
	m = json_object_new_object();
	json_object_object_add(patch, "metadata", m);
	json_object_object_add(m, "labels", json_object_get(pl));
	n = json_object_new_object();
	json_object_object_add(n, ANNOT_APPLIED_API_LABELS,
			       new_applied && *new_applied ? json_object_new_string(new_applied)
							   : NULL);
	json_object_object_add(m, "annotations", n);
	r = kube_patch_node(admin, name, patch, NULL, &err);
	if (r < 0) {
		na_logf(log, LOG_ERR, "node %s: %s", name, err ? err : strerror(-r));
		return r;
	}
	return 1;
}

int roles_reconcile(const na_config *cfg, kube_client *admin, const na_log *log)
{
	_cleanup_json_ json_object *list = NULL;
	json_object *items;
	_cleanup_free_ char *err = NULL;
	int r, changed = 0, failed = 0;

	r = kube_list_nodes(admin, &list, &err);
	if (r < 0) {
		na_logf(log, LOG_ERR, "cannot list nodes: %s", err ? err : strerror(-r));
		return r;
	}
	if (json_object_object_get_ex(list, "items", &items) &&
	    json_object_is_type(items, json_type_array))
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			json_object *node = json_object_array_get_idx(items, i), *m, *n;
			_cleanup_json_ json_object *updated = NULL;
			const char *name = NULL;
			int rt = 0;

			if (json_object_object_get_ex(node, "metadata", &m) &&
			    json_object_object_get_ex(m, "name", &n) &&
			    json_object_is_type(n, json_type_string))
				name = json_object_get_string(n);
			/* taints first: their patch carries the resourceVersion it saw */
			if (name && join_log_safe(name))
				rt = join_reconcile_taints(cfg, admin, node, name, log, &updated);
			r = reconcile_node(cfg, admin, updated ? updated : node, log);
			if (r > 0 || rt > 0)
				changed++;
			if (r < 0 || rt < 0)
				failed++;
		}
	return failed ? -EIO : changed;
}

/* --- the join --- */

static int client_from(const char *target, const char *path, long timeout_s, kube_client **ret,
		       char **err)
{
	_cleanup_(kubeconfig_freep) kubeconfig *kc = NULL;
	int r;

	r = kubeconfig_load(target, path, &kc, err);
	if (r < 0)
		return r;
	return kube_client_new(kc, timeout_s, ret, err);
}

/* K3s writes the node password without fsync (pkg/agent/config ensureNodePassword:
 * os.WriteFile). A power cut in the next seconds leaves it empty on ext4 (delayed
 * allocation), and the node never rejoins: "node password not set". Now that the server
 * has accepted it, flush the filesystem that holds it (the data disk's bind mount). */
static void flush_node_state(const join_opts *o)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int fd = -EBADF;

	if (asprintf(&dir, "%s/etc/rancher/node",
		     o->target && strcmp(o->target, "/") ? o->target : "") < 0)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd < 0 || syncfs(fd) < 0)
		na_logf(&o->log, LOG_WARNING, "%s: not flushed to disk: %m", dir);
}

/* Until the Node exists and is Ready, or the deadline. The kubeconfig itself appears only
 * once K3s has its certificates, so it is (re)read on every attempt; the client that saw
 * the node Ready is handed back for the label patch. */
/* This boot's ID as the kubelet reports it (/proc/sys/kernel/random/boot_id under TARGET),
 * NULL when unknown: then a Ready condition is taken as it is. */
static char *read_boot_id(const char *target)
{
	_cleanup_free_ char *path = NULL;
	char *id = NULL;
	size_t len = 0;

	if (asprintf(&path, "%s/proc/sys/kernel/random/boot_id",
		     strcmp(target, "/") ? target : "") < 0 ||
	    read_full_file(path, 64, &id, &len) < 0)
		return NULL;
	id[strcspn(id, "\n")] = '\0';
	if (!*id) {
		free(id);
		return NULL;
	}
	return id;
}

/* Ready, and posted by this boot's kubelet: after a reboot the Node keeps the last boot's
 * Ready=True until the new kubelet posts its status with the new bootID. */
static int ready_this_boot(json_object *node, const char *boot_id, char **ret_why)
{
	const char *why, *theirs = kube_node_boot_id(node);

	*ret_why = NULL;
	if (kube_node_ready(node, &why) != 1)
		return asprintf(ret_why, "not Ready yet: %s", why) < 0 ? -ENOMEM : 0;
	if (boot_id && theirs && strcmp(boot_id, theirs))
		return asprintf(ret_why,
				"Ready from an earlier boot (bootID %s, this boot is %s): waiting "
				"for this boot's kubelet",
				theirs, boot_id) < 0
			   ? -ENOMEM
			   : 0;
	return 1;
}

/* Now, CLOCK_REALTIME in µs: the journal's timestamps. */
static uint64_t realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* While the K3s unit starts: its journal since SINCE, for what waiting cannot cure. */
typedef struct k3s_watch {
	const char *unit;
	const char *boot_id;
	uint64_t since;
	char *diag;
} k3s_watch;

static int k3s_watch_poll(void *userdata)
{
	k3s_watch *w = userdata;

	return join_k3s_journal_scan(w->unit, w->boot_id, w->since, &w->diag) > 0 ? -EPERM : 0;
}

/* UNIT: the K3s unit started for this join (its journal is read for failures that waiting
 * cannot cure), or NULL. */
static int wait_ready(const join_opts *o, const char *unit, const char *kcpath, const char *name,
		      char **msg, json_object **ret_node, kube_client **ret_client)
{
	const uint64_t since = realtime_usec();
	_cleanup_free_ char *boot_id = read_boot_id(o->target);
	uint64_t deadline =
	    now_ms() + (uint64_t)(o->ready_timeout_s > 0 ? o->ready_timeout_s : 600) * 1000;
	_cleanup_free_ char *last = NULL;
	int r = -ETIMEDOUT;

	for (unsigned attempt = 0;; attempt++) {
		_cleanup_(kube_client_freep) kube_client *c = NULL;
		_cleanup_json_ json_object *node = NULL;
		_cleanup_free_ char *err = NULL, *why = NULL;
		char *now = NULL;

		r = client_from(o->target, kcpath, o->request_timeout_s, &c, &err);
		if (r >= 0) {
			r = kube_get_node(c, name, &node, &err);
			if (r == 0 && ready_this_boot(node, boot_id, &why) == 1) {
				*ret_node = TAKE_PTR(node);
				*ret_client = TAKE_PTR(c);
				return 0;
			}
			if (r == 0 && asprintf(&now, "node %s registered, %s", name,
					       why ? why : "not Ready yet") < 0)
				now = NULL;
			else if (r == -ENOENT &&
				 asprintf(&now, "waiting for node %s to register", name) < 0)
				now = NULL;
		}
		if (!now)
			now = err ? strdup(err) : strdup(strerror(-r));
		if (now && (!last || strcmp(now, last)))
			progress(o, "%s", now);
		free(last);
		last = now;
		/* credentials refused, or a kubeconfig we will not use (insecure), is final */
		if (r == -EACCES || r == -EPERM) {
			set_summary(msg, "%s", last ? last : "access denied");
			break;
		}
		/* so is what K3s retries for ever (a node password the server refuses) */
		if (unit && attempt % 3 == 2) {
			_cleanup_free_ char *diag = NULL;

			if (join_k3s_journal_scan(unit, boot_id, since, &diag) > 0) {
				set_summary(msg, "node %s cannot join: %s", name, diag);
				r = -EPERM;
				break;
			}
		}
		if (now_ms() + 2000 > deadline) {
			set_summary(msg, "node %s not Ready within %ld s: %s", name,
				    o->ready_timeout_s > 0 ? o->ready_timeout_s : 600L,
				    last ? last : "?");
			r = -ETIMEDOUT;
			break;
		}
		/* 0.5 s at first (a stand-in registers at once), then 2 s */
		usleep(attempt < 10 ? 500000 : 2000000);
	}
	return r;
}

/*
 * The node that creates the cluster, when K3s's server state is not on it: if the token
 * carries a CA hash, the cluster exists already (the hash is of its CA), and K3s started
 * now would create a second cluster with a new CA that no token matches. Custom CAs are
 * put in place before K3s first starts, so they count as state. 0: go on; -ESTALE: stop.
 */
static int server_init_state(const na_config *cfg, const join_opts *o, char **ret_summary)
{
	const char *tf = na_config_token_file(cfg, ROLE_SERVER_INIT);
	_cleanup_(token_info_done) token_info tok = {0};
	_cleanup_free_ char *ca = NULL, *err = NULL;

	if (asprintf(&ca, "%s%s", o->target && strcmp(o->target, "/") ? o->target : "",
		     K3S_SERVER_CA) < 0)
		return -ENOMEM;
	if (access(ca, F_OK) == 0 || !tf || token_read(tf, &tok, &err) < 0 || !tok.ca_hash[0])
		return 0;
	set_summary(ret_summary,
		    "server-init: K3s's server state is not on this machine (no %s) but the token "
		    "carries the CA hash of an existing cluster (%.12s...): starting K3s would "
		    "create a second cluster with a new CA. Restore the data disk that held "
		    "/var/lib/rancher/k3s, or, to start a new cluster on purpose, give it a "
		    "token without a CA hash",
		    K3S_SERVER_CA, tok.ca_hash);
	return -ESTALE;
}

int join_cluster(const na_config *cfg, const na_plan *plan, const join_opts *o, char **ret_summary)
{
	const bool server = plan->role == ROLE_SERVER || plan->role == ROLE_SERVER_INIT;
	const char *unit = server ? "k3s.service" : "k3s-agent.service";
	_cleanup_json_ json_object *node = NULL, *patch = NULL;
	_cleanup_(kube_client_freep) kube_client *c = NULL;
	_cleanup_free_ char *msg = NULL, *err = NULL, *k3s = NULL, *labels_msg = NULL;
	int r;

	*ret_summary = NULL;
	if (!server && !cfg->server) {
		set_summary(ret_summary, "role agent needs cluster.server in the config");
		return -EINVAL;
	}
	if (asprintf(&k3s, "%s%s", o->target && strcmp(o->target, "/") ? o->target : "",
		     K3S_BINARY) < 0)
		return -ENOMEM;
	if (o->start_units && access(k3s, X_OK) < 0) {
		set_summary(ret_summary,
			    "K3s is not in this image (no %s): build the image with K3S_BINARY=... "
			    "to join a cluster",
			    K3S_BINARY);
		return 1;
	}

	/* 1. the server must be the cluster the token belongs to; nothing is sent before.
	 * The first server checks it is not about to create the cluster a second time. */
	if (plan->role == ROLE_SERVER_INIT) {
		r = server_init_state(cfg, o, ret_summary);
		if (r < 0)
			return r;
	} else {
		_cleanup_(preflight_result_done) preflight_result pf = {0};

		progress(o, "preflight: verifying %s", cfg->server);
		r = preflight_check(cfg, plan->role,
				    o->request_timeout_s > 0 ? o->request_timeout_s : 15, &pf);
		if (r < 0) {
			set_summary(ret_summary, "preflight: %s",
				    pf.message ? pf.message : strerror(-r));
			return r;
		}
		progress(o, "preflight: %s", pf.message ? pf.message : "verified");
		if (plan->role == ROLE_AGENT && pf.server_token)
			na_logf(&o->log, LOG_WARNING, "preflight: %s",
				PREFLIGHT_SERVER_TOKEN_WARNING);
	}

	/* 2. K3s itself: a Type=notify unit, so the job waits for READY=1, which K3s never
	 * sends when it cannot get its certificates: its journal says why meanwhile */
	if (o->start_units) {
		_cleanup_free_ char *unit_msg = NULL;
		_cleanup_free_ char *boot_id = read_boot_id(o->target);
		k3s_watch watch = {.unit = unit, .boot_id = boot_id, .since = realtime_usec()};

		progress(o, "starting %s", unit);
		r = unit_start(
		    unit,
		    &(unit_start_opts){.timeout_s = o->unit_timeout_s > 0 ? o->unit_timeout_s : 300,
				       .poll = k3s_watch_poll,
				       .userdata = &watch},
		    &unit_msg);
		/* a K3s that exits (etcd refusing it) fails the job before a poll saw why */
		if (r < 0 && !watch.diag)
			(void)join_k3s_journal_scan(unit, boot_id, watch.since, &watch.diag);
		if (r < 0 && watch.diag) {
			set_summary(ret_summary, "node %s cannot join: %s", plan->node_name,
				    watch.diag);
			free(watch.diag);
			return -EPERM;
		}
		if (r < 0) {
			set_summary(ret_summary, "%s", unit_msg ? unit_msg : strerror(-r));
			return r;
		}
		progress(o, "%s", unit_msg);
	}

	/* 3. Ready, seen with the node's own credentials */
	r = wait_ready(o, o->start_units ? unit : NULL, K3S_KUBELET_KUBECONFIG, plan->node_name,
		       &msg, &node, &c);
	if (r < 0) {
		set_summary(ret_summary, "%s", msg ? msg : strerror(-r));
		return r;
	}
	progress(o, "node %s is Ready", plan->node_name);
	flush_node_state(o);

	/* 4. labels it may set itself, and its request for the others */
	patch = join_label_patch(node, plan);
	if (patch) {
		/* with the client that saw the node Ready: the kubelet's own credentials */
		r = kube_patch_node(c, plan->node_name, patch, NULL, &err);
		if (r < 0) {
			set_summary(ret_summary, "labels: %s", err ? err : strerror(-r));
			return r;
		}
		set_summary(&labels_msg, "labels updated");
	} else
		set_summary(&labels_msg, "labels current");
	c = kube_client_free(c);

	/* 5. servers apply every node's api-labels request (their own included) */
	if (server) {
		na_log roles = {.fn = roles_line, .userdata = (void *)&o->log};

		r = client_from(o->target, K3S_ADMIN_KUBECONFIG, o->request_timeout_s, &c, &err);
		if (r >= 0)
			r = roles_reconcile(cfg, c, &roles);
		else
			na_logf(&roles, LOG_ERR, "%s", err ? err : strerror(-r));
		if (r < 0) {
			set_summary(ret_summary, "node %s Ready, %s; applying node roles failed",
				    plan->node_name, labels_msg);
			return r;
		}
	}
	set_summary(ret_summary, "node %s Ready as %s, %s%s", plan->node_name,
		    na_role_name(plan->role), labels_msg,
		    plan->api_labels.n
			? server ? ", roles applied" : ", roles requested from the servers"
			: "");
	return 0;
}
