/* SPDX-License-Identifier: MIT */
/*
 * Taints that follow the hardware. K3s applies node-taint only when the kubelet creates
 * the Node (--register-with-taints), and NodeRestriction forbids a kubelet to change its
 * taints later (plugin/pkg/admission/noderestriction: "is not allowed to modify taints"),
 * so a GPU added later would never get its taint and a removed one would keep it.
 * As with role labels, a node asks (annotation node-agent.io/api-taints: its plan's taints,
 * "key[=value]:Effect" joined by commas, which no taint can contain) and servers apply
 * with the admin credentials: only taints some rule of the shared config gives, recorded
 * in node-agent.io/applied-api-taints so a taint given up is removed again. Taints set by
 * others (an administrator, the node lifecycle controller) are never touched; a taint is
 * the same taint when key and effect are (as Kubernetes compares them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/json-util.h"
#include "basic/macro.h"
#include "join/join-internal.h"
#include "kube/k8s.h"

#define API_TAINTS_MAX	  64
#define API_TAINTS_MAXLEN 16384

char *join_wanted_taints(const na_plan *plan)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f;

	if (!plan->taints || !plan->taints[0])
		return strdup("");
	f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	for (char **t = plan->taints; *t; t++)
		fprintf(f, "%s%s", t == plan->taints ? "" : ",", *t);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

typedef struct taint {
	char *key;
	char *value; /* NULL: none */
	char *effect;
} taint;

static void taint_done(taint *t)
{
	free(t->key);
	free(t->value);
	free(t->effect);
	*t = (taint){0};
}

/* "key[=value]:Effect", checked with k8s_taint_valid() first. */
static int taint_parse(const char *s, taint *ret)
{
	const char *colon = strrchr(s, ':'), *eq;

	if (!colon)
		return -EINVAL;
	eq = memchr(s, '=', (size_t)(colon - s));
	*ret = (taint){
	    .key = strndup(s, (size_t)((eq ? eq : colon) - s)),
	    .value = eq ? strndup(eq + 1, (size_t)(colon - eq - 1)) : NULL,
	    .effect = strdup(colon + 1),
	};
	if (!ret->key || !ret->effect || (eq && !ret->value)) {
		taint_done(ret);
		return -ENOMEM;
	}
	return 0;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}

static bool same_taint(json_object *o, const taint *t)
{
	const char *k = jstr(o, "key"), *e = jstr(o, "effect");

	return k && e && !strcmp(k, t->key) && !strcmp(e, t->effect);
}

static bool same_value(json_object *o, const taint *t)
{
	const char *v = jstr(o, "value");

	return t->value ? v && !strcmp(v, t->value) : !v || !*v;
}

static json_object *taint_json(const taint *t)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "key", json_object_new_string(t->key));
	if (t->value)
		json_object_object_add(o, "value", json_object_new_string(t->value));
	json_object_object_add(o, "effect", json_object_new_string(t->effect));
	return o;
}

/* Some rule gives exactly this taint (a node asks for it). */
static bool config_allows_taint(const na_config *cfg, const char *s)
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		for (char **t = cfg->rules[i].taints; t && *t; t++)
			if (!strcmp(*t, s))
				return true;
	return false;
}

/* Some rule gives a taint with this key and effect: the only ones a server may take away
 * (applied-api-taints is written by the node, which must not make a server remove taints
 * an administrator set). */
static bool config_gives_taint(const na_config *cfg, const taint *want)
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		for (char **t = cfg->rules[i].taints; t && *t; t++) {
			_cleanup_(taint_done) taint x = {0};
			if (taint_parse(*t, &x) == 0 && !strcmp(x.key, want->key) &&
			    !strcmp(x.effect, want->effect))
				return true;
		}
	return false;
}

/* Index of the taint with t's key and effect in the array, or -1. */
static int find_taint(json_object *list, const taint *t)
{
	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		if (same_taint(json_object_array_get_idx(list, i), t))
			return (int)i;
	return -1;
}

/* A copy of LIST without element SKIP. */
static json_object *without(json_object *list, int skip)
{
	json_object *n = json_object_new_array();

	for (size_t i = 0; n && i < json_object_array_length(list); i++)
		if ((int)i != skip)
			json_object_array_add(n,
					      json_object_get(json_object_array_get_idx(list, i)));
	return n;
}

typedef struct taint_work {
	const na_config *cfg;
	const char *name;
	const na_log *log;
	json_object *list; /* the node's spec.taints as it will be (owned) */
	FILE *applied;	   /* what this server applies now, comma-joined */
	unsigned n_applied;
	bool changed;
} taint_work;

static void taint_work_done(taint_work *w)
{
	if (w->applied)
		fclose(w->applied);
	json_object_put(w->list);
}

static int apply_requested(taint_work *w, const char *s)
{
	_cleanup_(taint_done) taint t = {0};
	const char *why = NULL;
	int i, r;

	if (!k8s_taint_valid(s, &why)) {
		na_logf(w->log, LOG_WARNING, "node %s: refusing taint %s: %s", w->name,
			join_log_safe(s) ? s : "(with unprintable characters)", why);
		return 0;
	}
	if (!config_allows_taint(w->cfg, s)) {
		na_logf(w->log, LOG_WARNING,
			"node %s: refusing taint %s: no rule of the config gives it", w->name, s);
		return 0;
	}
	r = taint_parse(s, &t);
	if (r < 0)
		return r;
	fprintf(w->applied, "%s%s", w->n_applied++ ? "," : "", s);
	i = find_taint(w->list, &t);
	if (i >= 0 && same_value(json_object_array_get_idx(w->list, (size_t)i), &t))
		return 0;
	if (i >= 0) {
		json_object *n = without(w->list, i);
		if (!n)
			return -ENOMEM;
		json_object_put(w->list);
		w->list = n;
	}
	json_object_array_add(w->list, taint_json(&t));
	w->changed = true;
	na_logf(w->log, LOG_INFO, "node %s: taint %s", w->name, s);
	return 0;
}

/* A taint with T's key and effect is among the comma-joined LIST (what this server applies
 * now): then T was not given up, only its value changed (Kubernetes: the same taint). */
static bool list_has_taint(const char *list, const taint *t)
{
	unsigned n = 0;

	for (const char *p = list; p && *p && n < API_TAINTS_MAX; n++) {
		const char *c = strchr(p, ',');
		_cleanup_free_ char *item = strndup(p, c ? (size_t)(c - p) : strlen(p));
		_cleanup_(taint_done) taint x = {0};

		if (item && taint_parse(item, &x) == 0 && !strcmp(x.key, t->key) &&
		    !strcmp(x.effect, t->effect))
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

static int remove_given_up(taint_work *w, const char *s, const char *now_applied)
{
	_cleanup_(taint_done) taint t = {0};
	json_object *n;
	int i;

	if (!k8s_taint_valid(s, NULL) || taint_parse(s, &t) < 0 ||
	    list_has_taint(now_applied, &t) || !config_gives_taint(w->cfg, &t))
		return 0;
	i = find_taint(w->list, &t);
	if (i < 0)
		return 0;
	n = without(w->list, i);
	if (!n)
		return -ENOMEM;
	json_object_put(w->list);
	w->list = n;
	w->changed = true;
	na_logf(w->log, LOG_INFO, "node %s: removing taint %s (no longer requested)", w->name, s);
	return 0;
}

/* Call FN on each element of a comma-joined list (at most API_TAINTS_MAX). */
static int each_item(const char *list, int (*fn)(taint_work *, const char *, const char *),
		     taint_work *w, const char *arg)
{
	unsigned n = 0;

	for (const char *p = list; p && *p && n < API_TAINTS_MAX; n++) {
		const char *c = strchr(p, ',');
		_cleanup_free_ char *item = strndup(p, c ? (size_t)(c - p) : strlen(p));
		int r;

		if (!item)
			return -ENOMEM;
		r = *item ? fn(w, item, arg) : 0;
		if (r < 0)
			return r;
		p = c ? c + 1 : NULL;
	}
	return 0;
}

static int apply_requested_cb(taint_work *w, const char *s, const char *unused)
{
	(void)unused;
	return apply_requested(w, s);
}

int join_reconcile_taints(const na_config *cfg, kube_client *admin, json_object *node,
			  const char *name, const na_log *log, json_object **ret_node)
{
	json_object *annots = join_meta_map(node, "annotations"), *spec, *cur = NULL, *m, *a;
	const char *reqs = join_map_get_string(annots, ANNOT_API_TAINTS),
		   *applied = join_map_get_string(annots, ANNOT_APPLIED_API_TAINTS), *rv = NULL;
	_cleanup_free_ char *now_applied = NULL, *err = NULL;
	_cleanup_json_ json_object *patch = NULL;
	_cleanup_(taint_work_done) taint_work w = {.cfg = cfg, .name = name, .log = log};
	size_t len = 0;
	int r;

	*ret_node = NULL;
	if (!reqs && !applied)
		return 0;
	if (reqs && strlen(reqs) > API_TAINTS_MAXLEN) {
		na_logf(log, LOG_WARNING, "node %s: ignoring %s: larger than 16 KiB", name,
			ANNOT_API_TAINTS);
		reqs = NULL;
	}
	if (json_object_object_get_ex(node, "spec", &spec))
		json_object_object_get_ex(spec, "taints", &cur);
	if (json_object_object_get_ex(node, "metadata", &m))
		rv = jstr(m, "resourceVersion");
	w.list = cur && json_object_is_type(cur, json_type_array) ? without(cur, -1)
								  : json_object_new_array();
	w.applied = open_memstream(&now_applied, &len);
	if (!w.list || !w.applied)
		return -ENOMEM;
	r = each_item(reqs, apply_requested_cb, &w, NULL);
	fclose(w.applied); /* now_applied is complete only now */
	w.applied = NULL;
	if (r >= 0 && now_applied)
		r = each_item(applied, remove_given_up, &w, now_applied);
	if (r < 0 || !now_applied)
		return r < 0 ? r : -ENOMEM;
	if (!w.changed && !strcmp(applied ? applied : "", now_applied))
		return 0;
	/* the taints as they are now: a change made meanwhile (the node lifecycle controller)
	 * makes this patch fail with 409, and the next round starts from the new state */
	patch = json_object_new_object();
	m = json_object_new_object();
	a = json_object_new_object();
	if (!patch || !m || !a) {
		json_object_put(m);
		json_object_put(a);
		return -ENOMEM;
	}
	json_object_object_add(patch, "metadata", m);
	if (rv)
		json_object_object_add(m, "resourceVersion", json_object_new_string(rv));
	json_object_object_add(a, ANNOT_APPLIED_API_TAINTS,
			       *now_applied ? json_object_new_string(now_applied) : NULL);
	json_object_object_add(m, "annotations", a);
	if (w.changed) {
		json_object *s = json_object_new_object();
		json_object_object_add(
		    s, "taints", json_object_array_length(w.list) ? json_object_get(w.list) : NULL);
		json_object_object_add(patch, "spec", s);
	}
	r = kube_patch_node(admin, name, patch, ret_node, &err);
	if (r == -EEXIST) {
		na_logf(log, LOG_NOTICE,
			"node %s: changed meanwhile; its taints are left for the "
			"next round",
			name);
		return 0;
	}
	if (r < 0) {
		na_logf(log, LOG_ERR, "node %s: %s", name, err ? err : strerror(-r));
		return r;
	}
	return 1;
}
