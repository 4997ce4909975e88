/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The GitOps stage, on the cluster-init server only: the pinned Flux or Argo CD install
 * manifest (sha256-checked, cached by hash under /var/lib/node-agent/gitops/) and the
 * objects that point the engine at the cluster's repository, written to K3s's auto-deploy
 * directory /var/lib/rancher/k3s/server/manifests/ (K3s applies every *.yaml there):
 *
 *   node-agent-gitops-install.yaml  the install manifest (for Argo CD with
 *                                   metadata.namespace: argocd added, see manifest.c)
 *   node-agent-gitops-secret.yaml   the repository credentials (mode 0600), only with
 *                                   gitops.credentials_file
 *   node-agent-gitops-source.yaml   Flux: GitRepository + Kustomization flux-system;
 *                                   Argo CD: Application root
 *
 * Everything is fetched, checked and rendered in memory first: a manifest with the wrong
 * hash, a cut-off or non-2xx download, YAML that does not parse, or unusable credentials
 * write nothing. Files whose content is already right are not rewritten.
 */

#include <stdbool.h>
#include "basic/log.h"

#include "config/config.h"

#define GITOPS_MANIFESTS_DIR "/var/lib/rancher/k3s/server/manifests"
#define GITOPS_CACHE_DIR     "/var/lib/node-agent/gitops"

typedef struct gitops_opts {
	bool dry_run; /* fetch, check and render, say what would change, write nothing */
} gitops_opts;

/*
 * Run the stage for cfg->gitops with every path under TARGET ("/" on a node). Progress
 * and problems go to `log` (one line each; credentials never appear). Returns 0 when the
 * files are in place, 1 when the config has no gitops section (nothing done), -errno on
 * failure. *ret_summary (may be NULL) gets one line for people, also on failure.
 */
int gitops_run(const na_config *cfg, const char *target, const gitops_opts *opts, const na_log *log,
	       char **ret_summary);

/* gitops_run() without options: what the boot job calls on the server-init node. */
int gitops_stage(const na_config *cfg, const char *target, const na_log *log, char **ret_summary);
