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
/* Whether the K3s release VERSION ({0,0,0}: not known, taken as the oldest) looks for the
 * NVIDIA runtime in the I-th directory of the target probe's list (toolkit, /usr/local/sbin,
 * /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin). k3s pkg/agent/containerd/
 * config_linux.go: at first /usr/local/nvidia/toolkit and /usr/bin only; from v1.28.7 and
 * v1.29.2 (k3s-io/k3s#9311) a fixed PATH adding /usr/sbin, /usr/local/sbin, /usr/local/bin;
 * from v1.28.15, v1.29.10, v1.30.6 and v1.31.2 (k3s-io/k3s#10761, PR #10953) K3s's own PATH.
 */
static bool k3s_looks_in(const int version[3], unsigned i)
{
	int minor = version[0] == 1 ? version[1] : version[0] > 1 ? 999 : 0, patch = version[2];
	bool fixed_path = (minor == 28 && patch >= 7) || (minor == 29 && patch >= 2) || minor >= 30;
	bool own_path = (minor == 28 && patch >= 15) || (minor == 29 && patch >= 10) ||
			(minor == 30 && patch >= 6) || (minor == 31 && patch >= 2) || minor >= 32;

	switch (i) {
	case 0: /* /usr/local/nvidia/toolkit */
	case 4: /* /usr/bin */
		return true;
	case 1:
	case 2:
	case 3:
		return fixed_path || own_path;
	default:
		return own_path;
	}
}

/* default-runtime: nvidia only where this K3s will find the runtime: a default runtime K3s
 * does not find stops it, and the node never becomes Ready. */
int plan_default_runtime(na_plan *p, const plan_target *t)
{
	const int *v = t->k3s_version;
	bool found = false;
	_cleanup_free_ char *version = NULL;

	for (unsigned i = 0; i < 32; i++)
		found = found || ((t->nvidia_runtime_dirs >> i & 1) && k3s_looks_in(v, i));
	if (found) {
		p->default_runtime = strdup("nvidia");
		return p->default_runtime ? 0 : -ENOMEM;
	}
	if (!t->nvidia_runtime)
		return plan_warnf(
		    p, "NVIDIA GPU present but nvidia-container-runtime is not installed where K3s "
		       "looks (/usr/local/nvidia/toolkit or PATH): default-runtime is not set, "
		       "because K3s refuses to start with a missing default runtime; install the "
		       "NVIDIA Container Toolkit for GPU pods");
	if (v[0] && asprintf(&version, "v%d.%d.%d", v[0], v[1], v[2]) < 0)
		return -ENOMEM;
	return plan_warnf(
	    p,
	    "nvidia-container-runtime is in %.*s, where K3s %s does not look: before v1.28.7 and "
	    "v1.29.2 K3s looks only in /usr/local/nvidia/toolkit and /usr/bin, and in /sbin or "
	    "/bin only from v1.28.15, v1.29.10, v1.30.6 and v1.31.2 (k3s-io/k3s#10761); "
	    "default-runtime is not set, because K3s refuses to start with a default runtime it "
	    "does not find: link the runtime into /usr/bin%s",
	    (int)(strrchr(t->nvidia_runtime, '/') - t->nvidia_runtime), t->nvidia_runtime,
	    version ? version : "(version not known)",
	    version ? ", or use a newer K3s"
		    : ", or build the image with K3S_BINARY (make image records its version "
		      "in " PLAN_K3S_VERSION_FILE ")");
}

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
	if (r >= 0 && p->role != ROLE_SERVER_INIT && !c->server && !c->credentials.url)
		r = plan_warnf(p, "role %s needs cluster.server to join; the K3s config has none",
			       na_role_name(p->role));
	if (r < 0)
		goto fail;

	for (size_t i = 0; i < inv->n_gpus; i++)
		has_nvidia =
		    has_nvidia || (inv->gpus[i].vendor && !strcmp(inv->gpus[i].vendor, "nvidia"));
	p->nvidia = has_nvidia && c->containerd_nvidia;
	if (p->nvidia) {
		r = plan_default_runtime(p, t);
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
	kv_free(&p->label_owners);
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
