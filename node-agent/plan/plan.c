/* SPDX-License-Identifier: MIT */
/*
 * The plan: which rules match, the node's role, name, labels (split by NodeRestriction),
 * taints, node IP, container runtime, data disk and the files that make it so. Pure: the
 * same (config, inventory, target facts) always give the same plan, byte for byte.
 * This file puts it together; the parts: rules.c (rules, node name, node IP), render.c
 * (the K3s and containerd files), disk.c (the data disk), json.c (the plan as JSON), and
 * target.c reads the facts of the target.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "plan/plan-internal.h"

/* --- small containers --- */

_printf_(2, 0) static int add_once(char ***list, const char *fmt, va_list ap)
{
	_cleanup_free_ char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return -ENOMEM;
	return strv_has(*list, s) ? 0 : strv_add(list, s);
}

int plan_warnf(na_plan *p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = add_once(&p->warnings, fmt, ap);
	va_end(ap);
	return r;
}

int plan_errorf(na_plan *p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = add_once(&p->errors, fmt, ap);
	va_end(ap);
	return r;
}

int plan_check(const na_plan *p, const na_log *log)
{
	for (char **e = p->errors; e && *e; e++)
		na_logf(log, LOG_ERR, "plan refused: %s", *e);
	return p->errors && p->errors[0] ? -EPERM : 0;
}

/* Close an open_memstream() stream: 0 with *buf its text, or -ENOMEM with *buf NULL when a
 * write to it could not grow the buffer (the text would be cut short) or closing failed. */
int plan_memstream_close(FILE *f, char **buf)
{
	bool failed = ferror(f);

	if (fclose(f) != 0)
		failed = true;
	if (failed || !*buf) {
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	return 0;
}

bool plan_in_list_ci(char *const *list, const char *s)
{
	for (; s && list && *list; list++)
		if (!strcasecmp(*list, s))
			return true;
	return false;
}

/* --- files --- */

/* Add a file to the plan, taking CONTENT (NULL: making it ran out of memory). */
int plan_add_file(na_plan *p, const char *path, unsigned mode, char *content, bool needs_disk)
{
	plan_file *nf;
	char *pathc;

	if (!content)
		return -ENOMEM;
	nf = reallocarray(p->files, p->n_files + 1, sizeof(*nf));
	if (!nf) {
		free(content);
		return -ENOMEM;
	}
	p->files = nf;
	pathc = strdup(path);
	if (!pathc) {
		free(content);
		return -ENOMEM;
	}
	p->files[p->n_files] = (plan_file){
	    .path = pathc,
	    .mode = mode,
	    .content = content,
	    .needs_disk = needs_disk,
	};
	p->n_files++;
	return 0;
}

/* --- the plan --- */

/* Every allocation is checked: a plan that misses a file or a label because memory ran out
 * must not be printed or applied as if it were whole. */
int plan_compute(const na_config *c, const hw_inventory *inv, const plan_target *t, na_plan **ret)
{
	na_plan *p = calloc(1, sizeof(*p));
	const char *ip_glob = NULL;
	bool has_nvidia = false;
	int r;

	if (!p)
		return -ENOMEM;
	p->role = ROLE_AGENT;
	p->matched_rules = calloc(1, sizeof(char *));
	p->taints = calloc(1, sizeof(char *));
	p->units = calloc(1, sizeof(char *));
	p->warnings = calloc(1, sizeof(char *));
	p->errors = calloc(1, sizeof(char *));
	p->gitops = c->gitops.present ? &c->gitops : NULL;
	if (!p->matched_rules || !p->taints || !p->units || !p->warnings || !p->errors) {
		r = -ENOMEM;
		goto fail;
	}

	r = plan_rules(p, c, inv, &ip_glob);
	if (r < 0)
		goto fail;
	r = plan_node_name(p, c->node_name ? c->node_name : "${hostname}", inv, &p->node_name);
	if (r < 0)
		goto fail;
	r = plan_node_ip(p, ip_glob, inv);
	if (r >= 0 && p->role != ROLE_SERVER_INIT && !c->server)
		r = plan_warnf(p, "role %s needs cluster.server to join; the K3s config has none",
			       na_role_name(p->role));
	if (r < 0)
		goto fail;

	for (size_t i = 0; i < inv->n_gpus; i++)
		has_nvidia =
		    has_nvidia || (inv->gpus[i].vendor && !strcmp(inv->gpus[i].vendor, "nvidia"));
	p->nvidia = has_nvidia && c->containerd_nvidia;
	if (p->nvidia) {
		if (t->nvidia_runtime) {
			p->default_runtime = strdup("nvidia");
			r = p->default_runtime ? 0 : -ENOMEM;
		} else
			r = plan_warnf(
			    p, "NVIDIA GPU present but nvidia-container-runtime is not installed "
			       "where K3s looks (/usr/local/nvidia/toolkit or PATH): "
			       "default-runtime is not set, because K3s refuses to start with a "
			       "missing default runtime; install the NVIDIA Container Toolkit for "
			       "GPU pods");
		if (r < 0)
			goto fail;
	}

	r = plan_k3s_config(p, c);
	if (r >= 0 && p->nvidia && (t->containerd_major || c->containerd_config_version))
		r = plan_containerd(p, c, t);
	if (r >= 0 && c->data_disk.present)
		r = plan_data_disk(p, c, inv);
	if (r >= 0)
		r = plan_persistence(p, c);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	plan_free(p);
	return r;
}

na_plan *plan_free(na_plan *p)
{
	if (!p)
		return NULL;
	free(p->node_name);
	strv_free(p->matched_rules);
	kv_free(&p->labels);
	kv_free(&p->api_labels);
	strv_free(p->taints);
	free(p->default_runtime);
	free(p->node_ip);
	for (size_t i = 0; i < p->n_files; i++) {
		free(p->files[i].path);
		free(p->files[i].content);
	}
	free(p->files);
	strv_free(p->units);
	plan_disk_free(p->disk);
	strv_free(p->disk_decisions);
	strv_free(p->warnings);
	strv_free(p->errors);
	free(p->role_rule);
	free(p);
	return NULL;
}
