/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "basic/log.h"

#include "config/config.h"
#include "kube/kube.h"
#include "plan/plan.h"

/* Where K3s keeps the credentials a node uses to talk to its own cluster. */
#define K3S_ADMIN_KUBECONFIG   "/etc/rancher/k3s/k3s.yaml"
#define K3S_KUBELET_KUBECONFIG "/var/lib/rancher/k3s/agent/kubelet.kubeconfig"
#define K3S_BINARY	       "/usr/local/bin/k3s"
/* the server's CA: present once K3s created (or was given) the cluster's CA */
#define K3S_SERVER_CA "/var/lib/rancher/k3s/server/tls/server-ca.crt"

/*
 * Annotations a node sets on its own Node object (NodeRestriction lets a kubelet change
 * its own annotations, but not labels under kubernetes.io):
 *  - managed-labels: the label keys node-agent set last time, so a label whose reason
 *    went away (a GPU removed) is removed, and labels set by others are left alone;
 *  - api-labels: the labels it wants but may not set itself (node-role.kubernetes.io/...),
 *    as a JSON object. Server nodes apply them with the admin credentials, but only keys
 *    and values the cluster's shared config could give some node, and record what they
 *    applied in applied-api-labels so a role given up is taken away again.
 */
#define ANNOT_MANAGED_LABELS	 "node-agent.io/managed-labels"
#define ANNOT_API_LABELS	 "node-agent.io/api-labels"
#define ANNOT_APPLIED_API_LABELS "node-agent.io/applied-api-labels"
/* The same for taints (NodeRestriction forbids a kubelet to change its taints): the plan's
 * taints the node asks for, comma-joined, and what a server applied. */
#define ANNOT_API_TAINTS	 "node-agent.io/api-taints"
#define ANNOT_APPLIED_API_TAINTS "node-agent.io/applied-api-taints"

typedef struct join_opts {
	const char *target;   /* where K3s's files are ("/") */
	bool start_units;     /* start k3s(-agent).service over D-Bus (false: already running) */
	long unit_timeout_s;  /* the start job, default 300 */
	long ready_timeout_s; /* until the Node is Ready, default 600 */
	long request_timeout_s;
	na_log log; /* progress for people (sd_notify STATUS and the journal) */
} join_opts;

/*
 * Preflight, start K3s, wait for the Node to be Ready, keep its labels current, and on
 * servers apply other nodes' api-labels requests. Returns 0 when joined, 1 when skipped
 * (no K3s in the image), -errno on failure; *ret_summary says what happened.
 */
int join_cluster(const na_config *cfg, const na_plan *plan, const join_opts *o, char **ret_summary);

/* The label/annotation merge patch that brings NODE to the plan; NULL when nothing differs. */
json_object *join_label_patch(json_object *node, const na_plan *plan);

/*
 * Server side: for every node asking for api-labels or api-taints, apply what the config
 * allows, remove what it no longer asks for. Logs one line per change or refusal.
 * Returns the number of nodes changed, or -errno.
 */
int roles_reconcile(const na_config *cfg, kube_client *admin, const na_log *log);
