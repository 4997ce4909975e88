/* SPDX-License-Identifier: MIT */
/*
 * gitops: of the node config: the engine and its pinned install manifest, and the
 * repository, ref, path and interval Flux or Argo CD is pointed at. Each value is checked
 * as the engine's own CRDs would, so that a typo is reported here, at its line, and not
 * by a controller on the node later.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <string.h>

#include "config/config-internal.h"

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return false;
	return true;
}

/* A Go duration as Flux's CRDs accept it: ^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$ */
static bool duration_valid(const char *s)
{
	if (!*s || strlen(s) > 32)
		return false;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
		if (*s == '.') {
			s++;
			if (!isdigit((unsigned char)*s))
				return false;
			while (isdigit((unsigned char)*s))
				s++;
		}
		if (!strncmp(s, "ms", 2))
			s += 2;
		else if (*s == 's' || *s == 'm' || *s == 'h')
			s++;
		else
			return false;
	}
	return true;
}

/* The parts of git-check-ref-format(1) a typo would break: no spaces, controls, "..",
 * "~^:?*[\\", "@{", leading '-' or '/', trailing '/', '.' or ".lock". */
static bool git_ref_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255 || s[0] == '-' || s[0] == '/' || s[n - 1] == '/' || s[n - 1] == '.' ||
	    strstr(s, "..") || strstr(s, "@{") || strstr(s, "//") ||
	    (n >= 5 && !strcmp(s + n - 5, ".lock")))
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f || strchr("~^:?*[\\", *c))
			return false;
	return true;
}

/* A directory of the repository: relative, no ".." component, no controls. */
static bool repo_path_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 1024 || s[0] == '/')
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	for (const char *c = s; c; c = strchr(c, '/')) {
		if (*c == '/')
			c++;
		if (c[0] == '.' && c[1] == '.' && (!c[2] || c[2] == '/'))
			return false;
	}
	return true;
}

static bool gitops_key(config_parser *p, const char *key, yaml_node_t *k, yaml_node_t *v,
		       void *data)
{
	na_gitops *g = data;

	if (!strcmp(key, "engine")) {
		const char *s = config_str(p, v, "gitops.engine");
		if (s && strcmp(s, "flux") && strcmp(s, "argocd"))
			config_err(p, v, "gitops.engine: expected flux or argocd, found \"%s\"", s);
		else if (s)
			g->engine = config_dup(p, s);
	} else if (!strcmp(key, "install_url"))
		g->install_url = config_secure_url(p, v, "gitops.install_url");
	else if (!strcmp(key, "install_sha256")) {
		const char *s = config_str(p, v, "gitops.install_sha256");
		if (s && !is_hex64(s))
			config_err(p, v,
				   "gitops.install_sha256: expected 64 lower-case hex digits");
		else if (s)
			g->install_sha256 = config_dup(p, s);
	} else if (!strcmp(key, "repository")) {
		const char *s = config_str(p, v, "gitops.repository");
		if (s && strncmp(s, "https://", 8) && strncmp(s, "ssh://", 6))
			config_err(p, v,
				   "gitops.repository: \"%s\" must be an https:// or ssh:// URL "
				   "(write git@host:path as ssh://git@host/path)",
				   s);
		else if (s)
			g->repository = config_dup(p, s);
	} else if (!strcmp(key, "branch") || !strcmp(key, "tag")) {
		const char *s =
		    config_str(p, v, !strcmp(key, "tag") ? "gitops.tag" : "gitops.branch");
		if (s && !git_ref_valid(s))
			config_err(p, v, "gitops.%s: \"%s\" is not a usable git branch or tag name",
				   key, s);
		else if (s && !strcmp(key, "tag"))
			g->tag = config_dup(p, s);
		else if (s)
			g->branch = config_dup(p, s);
	} else if (!strcmp(key, "path")) {
		const char *s = config_str(p, v, "gitops.path");
		if (s && !repo_path_valid(s))
			config_err(p, v,
				   "gitops.path: \"%s\" must be a path inside the repository "
				   "(relative, without \"..\")",
				   s);
		else if (s)
			g->path = config_dup(p, s);
	} else if (!strcmp(key, "credentials_file"))
		g->credentials_file = config_abs_path(p, v, "gitops.credentials_file");
	else if (!strcmp(key, "install_ca_file"))
		g->install_ca_file = config_abs_path(p, v, "gitops.install_ca_file");
	else if (!strcmp(key, "interval")) {
		const char *s = config_str(p, v, "gitops.interval");
		if (s && !duration_valid(s))
			config_err(p, v,
				   "gitops.interval: expected a duration like 1m, 30s or 1h30m, "
				   "found \"%s\"",
				   s);
		else if (s)
			g->interval = config_dup(p, s);
	} else
		return false;
	return true;
}

void config_gitops_parse(config_parser *p, yaml_node_t *n)
{
	config_walk_map(p, n, "gitops",
			"engine, install_url, install_sha256, install_ca_file, repository, "
			"branch, tag, path, credentials_file, interval",
			gitops_key, &p->cfg->gitops);
}
