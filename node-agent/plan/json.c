/* SPDX-License-Identifier: MIT */
/* The plan as JSON (schema node-agent/plan/v1), and the json-c helpers plan/ builds its JSON
 * with: each checks every allocation. */
#include <errno.h>
#include <stdio.h>

#include "plan/plan-internal.h"

/* O[KEY] = V, taking V (NULL: its allocation failed); -ENOMEM when anything failed. */
int plan_json_add(json_object *o, const char *key, json_object *v)
{
	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* O[KEY] = the string S, or null when S is NULL. */
int plan_json_add_str(json_object *o, const char *key, const char *s)
{
	json_object *v = NULL;

	if (s && !(v = json_object_new_string(s)))
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Append V to the array A, taking V (NULL: its allocation failed). */
int plan_json_append(json_object *a, json_object *v)
{
	if (!v || json_object_array_add(a, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static json_object *jstrv(char *const *v)
{
	json_object *a = json_object_new_array();

	for (; a && v && *v; v++)
		if (plan_json_append(a, json_object_new_string(*v)) < 0) {
			json_object_put(a);
			return NULL;
		}
	return a;
}

static json_object *jkv(const na_kv_list *l)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; o && i < l->n; i++)
		if (plan_json_add_str(o, l->v[i].key, l->v[i].value) < 0) {
			json_object_put(o);
			return NULL;
		}
	return o;
}

static json_object *runtime_to_json(const na_plan *p)
{
	json_object *x = json_object_new_object();

	if (x && (plan_json_add(x, "nvidia", json_object_new_boolean(p->nvidia)) < 0 ||
		  plan_json_add_str(x, "default_runtime", p->default_runtime) < 0)) {
		json_object_put(x);
		return NULL;
	}
	return x;
}

static json_object *files_to_json(const na_plan *p)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < p->n_files; i++) {
		char mode[8];
		json_object *f = json_object_new_object();

		snprintf(mode, sizeof(mode), "%04o", p->files[i].mode);
		if (!f || plan_json_add_str(f, "path", p->files[i].path) < 0 ||
		    plan_json_add_str(f, "mode", mode) < 0 ||
		    plan_json_add_str(f, "content", p->files[i].content) < 0) {
			json_object_put(f);
			json_object_put(a);
			return NULL;
		}
		if (plan_json_append(a, f) < 0) {
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static json_object *disk_to_json(const plan_disk *d)
{
	json_object *x = json_object_new_object();

	if (x && (plan_json_add_str(x, "device", d->device) < 0 ||
		  plan_json_add_str(x, "action", d->action) < 0 ||
		  plan_json_add_str(x, "reason", d->reason) < 0 ||
		  plan_json_add_str(x, "serial", d->serial) < 0 ||
		  plan_json_add_str(x, "filesystem_label", d->fs_label) < 0 ||
		  plan_json_add_str(x, "filesystem_uuid", d->fs_uuid) < 0 ||
		  plan_json_add_str(x, "mount", d->mount) < 0 ||
		  plan_json_add_str(x, "unit", d->unit) < 0 ||
		  plan_json_add(x, "persists", jstrv(d->persists)) < 0 ||
		  plan_json_add(x, "bind_dirs", jstrv(d->bind_dirs)) < 0)) {
		json_object_put(x);
		return NULL;
	}
	return x;
}

static json_object *gitops_to_json(const na_plan *p)
{
	const na_gitops *g = p->gitops;
	json_object *x = json_object_new_object();

	if (x &&
	    (plan_json_add_str(x, "engine", g->engine) < 0 ||
	     plan_json_add_str(x, "install_url", g->install_url) < 0 ||
	     plan_json_add_str(x, "install_sha256", g->install_sha256) < 0 ||
	     plan_json_add_str(x, "repository", g->repository) < 0 ||
	     plan_json_add_str(x, "branch", g->branch) < 0 ||
	     plan_json_add_str(x, "tag", g->tag) < 0 || plan_json_add_str(x, "path", g->path) < 0 ||
	     plan_json_add(x, "applies", json_object_new_boolean(p->role == ROLE_SERVER_INIT)) <
		 0)) {
		json_object_put(x);
		return NULL;
	}
	return x;
}

json_object *plan_to_json(const na_plan *p)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (plan_json_add_str(o, "schema", PLAN_SCHEMA) < 0 ||
	    plan_json_add_str(o, "node_name", p->node_name) < 0 ||
	    plan_json_add_str(o, "role", na_role_name(p->role)) < 0 ||
	    plan_json_add(o, "matched_rules", jstrv(p->matched_rules)) < 0 ||
	    plan_json_add(o, "labels", jkv(&p->labels)) < 0 ||
	    plan_json_add(o, "api_labels", jkv(&p->api_labels)) < 0 ||
	    plan_json_add(o, "label_owners", jkv(&p->label_owners)) < 0 ||
	    plan_json_add(o, "taints", jstrv(p->taints)) < 0 ||
	    plan_json_add_str(o, "node_ip", p->node_ip) < 0 ||
	    plan_json_add(o, "container_runtime", runtime_to_json(p)) < 0 ||
	    plan_json_add(o, "files", files_to_json(p)) < 0 ||
	    plan_json_add(o, "units", jstrv(p->units)) < 0 ||
	    (p->disk ? plan_json_add(o, "data_disk", disk_to_json(p->disk))
		     : plan_json_add_str(o, "data_disk", NULL)) < 0 ||
	    plan_json_add(o, "disk_decisions", jstrv(p->disk_decisions)) < 0 ||
	    (p->gitops ? plan_json_add(o, "gitops", gitops_to_json(p))
		       : plan_json_add_str(o, "gitops", NULL)) < 0 ||
	    plan_json_add(o, "warnings", jstrv(p->warnings)) < 0 ||
	    plan_json_add(o, "errors", jstrv(p->errors)) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
