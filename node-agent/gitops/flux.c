/* SPDX-License-Identifier: MIT */
/*
 * Flux's objects, as `flux bootstrap` names them: GitRepository and Kustomization
 * flux-system in flux-system, and the Secret flux-system with the credentials.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitops/gitops-internal.h"

static int render_secret(const na_gitops *g, const gitops_creds *c, char **ret)
{
	const gitops_secret s = {
	    .name = "flux-system",
	    .ns = "flux-system",
	    .data = {{"username", c->username},
		     {"password", c->password},
		     {"bearerToken", c->bearer_token},
		     {"identity", c->identity},
		     {"identity.pub", c->identity_pub},
		     {"known_hosts", c->known_hosts}},
	};

	return gitops_render_secret(&s, ret);
}

/* An object flux-system in flux-system, up to the start of its spec. */
static void emit_spec_start(yaml_emit *m, const char *api_version, const char *kind)
{
	gitops_emit_object_start(m, api_version, kind, "flux-system", "flux-system", NULL, NULL);
	yaml_emit_string(m, "spec");
	yaml_emit_mapping_start(m, false);
}

static void emit_spec_end(yaml_emit *m)
{
	yaml_emit_mapping_end(m);
	gitops_emit_object_end(m);
}

static int render_source(const na_gitops *g, bool secret, char **ret)
{
	_cleanup_yaml_emit_ yaml_emit m = {0};
	_cleanup_free_ char *path = NULL;
	const char *p = g->path ? g->path : "";
	int r;

	while (!strncmp(p, "./", 2))
		p += 2;
	if (!strcmp(p, "."))
		p = "";
	if (asprintf(&path, "./%s", p) < 0) {
		path = NULL;
		return -ENOMEM;
	}
	r = gitops_render_open(&m);
	if (r < 0)
		return r;

	emit_spec_start(&m, "source.toolkit.fluxcd.io/v1", "GitRepository");
	yaml_emit_pair(&m, "interval", g->interval ? g->interval : "1m");
	yaml_emit_pair(&m, "url", g->repository);
	yaml_emit_string(&m, "ref");
	yaml_emit_mapping_start(&m, false);
	if (g->tag)
		yaml_emit_pair(&m, "tag", g->tag);
	else
		yaml_emit_pair(&m, "branch", g->branch ? g->branch : "main");
	yaml_emit_mapping_end(&m);
	if (secret) {
		yaml_emit_string(&m, "secretRef");
		yaml_emit_mapping_start(&m, false);
		yaml_emit_pair(&m, "name", "flux-system");
		yaml_emit_mapping_end(&m);
	}
	emit_spec_end(&m);

	emit_spec_start(&m, "kustomize.toolkit.fluxcd.io/v1", "Kustomization");
	yaml_emit_pair(&m, "interval", g->interval ? g->interval : "10m");
	yaml_emit_pair(&m, "path", path);
	yaml_emit_string(&m, "prune");
	yaml_emit_plain(&m, "true");
	yaml_emit_string(&m, "sourceRef");
	yaml_emit_mapping_start(&m, false);
	yaml_emit_pair(&m, "kind", "GitRepository");
	yaml_emit_pair(&m, "name", "flux-system");
	yaml_emit_mapping_end(&m);
	emit_spec_end(&m);
	return yaml_emit_close_string(&m, ret);
}

static const char *const source_kinds[] = {"source.toolkit.fluxcd.io/v1 GitRepository",
					   "kustomize.toolkit.fluxcd.io/v1 Kustomization"};

const gitops_engine gitops_engine_flux = {
    .name = "flux",
    .render_secret = render_secret,
    .render_source = render_source,
    .n_source_kinds = ELEMENTSOF(source_kinds),
    .source_kinds = source_kinds,
};
