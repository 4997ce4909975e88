/* SPDX-License-Identifier: MIT */
/*
 * Argo CD's objects: the root Application in argocd that syncs the repository (app of
 * apps), and a repository Secret with the credentials. Its install manifest gets the
 * namespace argocd (see manifest.c).
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
	    .name = "node-agent-gitops-repo",
	    .ns = "argocd",
	    .label_key = "argocd.argoproj.io/secret-type",
	    .label_value = "repository",
	    .data = {{"type", "git"},
		     {"url", g->repository},
		     {"username", c->username},
		     {"password", c->password},
		     {"sshPrivateKey", c->identity}},
	};

	return gitops_render_secret(&s, ret);
}

static int render_source(const na_gitops *g, bool secret, char **ret)
{
	_cleanup_yaml_emit_ yaml_emit m = {0};
	int r = gitops_render_open(&m);

	if (r < 0)
		return r;
	gitops_emit_object_start(&m, "argoproj.io/v1alpha1", "Application", "root", "argocd", NULL,
				 NULL);
	yaml_emit_string(&m, "spec");
	yaml_emit_mapping_start(&m, false);
	yaml_emit_pair(&m, "project", "default");
	yaml_emit_string(&m, "source");
	yaml_emit_mapping_start(&m, false);
	yaml_emit_pair(&m, "repoURL", g->repository);
	yaml_emit_pair(&m, "targetRevision", g->tag ? g->tag : g->branch ? g->branch : "main");
	yaml_emit_pair(&m, "path", g->path ? g->path : ".");
	yaml_emit_mapping_end(&m);
	yaml_emit_string(&m, "destination");
	yaml_emit_mapping_start(&m, false);
	yaml_emit_pair(&m, "server", "https://kubernetes.default.svc");
	yaml_emit_pair(&m, "namespace", "argocd");
	yaml_emit_mapping_end(&m);
	yaml_emit_string(&m, "syncPolicy");
	yaml_emit_mapping_start(&m, false);
	yaml_emit_string(&m, "automated");
	yaml_emit_mapping_start(&m, false);
	yaml_emit_string(&m, "prune");
	yaml_emit_plain(&m, "true");
	yaml_emit_string(&m, "selfHeal");
	yaml_emit_plain(&m, "true");
	yaml_emit_mapping_end(&m);
	yaml_emit_mapping_end(&m);
	yaml_emit_mapping_end(&m);
	gitops_emit_object_end(&m);
	return yaml_emit_close_string(&m, ret);
}

static const char *const source_kinds[] = {"argoproj.io/v1alpha1 Application"};

const gitops_engine gitops_engine_argocd = {
    .name = "argocd",
    .ns = "argocd",
    .interval_note = "gitops.interval is not used by Argo CD (timeout.reconciliation in "
		     "argocd-cm sets how often it looks)",
    .render_secret = render_secret,
    .render_source = render_source,
    .n_source_kinds = ELEMENTSOF(source_kinds),
    .source_kinds = source_kinds,
};
