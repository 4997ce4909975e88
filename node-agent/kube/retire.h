/* SPDX-License-Identifier: MIT */
#pragma once

#include "basic/log.h"
#include "kube/kube.h"

/*
 * Retiring a machine through the Kubernetes API (issue 15): the least-privilege identity
 * node-agent serve uses, and the drain and delete of the machine's Node.
 */

/* The ServiceAccount kube-system/KUBE_SERVE_ACCOUNT, its ClusterRole and ClusterRoleBinding of
 * the same name. */
#define KUBE_SERVE_ACCOUNT "node-agent-serve"
/* At most this many pods of a node are evicted; the rest go with the Node (pod GC). */
#define KUBE_RETIRE_MAX_PODS 1000
/* Evicting takes at most this long (plus one request's timeout): evictions refused with 429
 * (a PodDisruptionBudget) are retried every KUBE_RETIRE_RETRY_S, as kubectl drain retries
 * them, until then; pods not evicted by then go with the Node. */
#define KUBE_RETIRE_EVICT_S 120
#define KUBE_RETIRE_RETRY_S 5

/*
 * With ADMIN (the cluster admin's client): create, or keep when it exists, the ServiceAccount
 * kube-system/node-agent-serve, the ClusterRole node-agent-serve (nodes get, list, patch,
 * delete; pods list; pods/eviction create) and the ClusterRoleBinding node-agent-serve of the
 * one to the other; then a TokenRequest for the ServiceAccount valid EXPIRATION_S seconds
 * (>= 600). *ret_token is the token (a secret: the caller keeps it out of logs and frees it
 * with erase_and_free()); it is in no error message. Returns 0 or -errno with *ret_err.
 */
int kube_serve_account_token(kube_client *admin, long expiration_s, char **ret_token,
			     char **ret_err);

/*
 * Retire NODE: cordon it (merge patch spec.unschedulable=true), evict its pods (those of
 * GET /api/v1/pods?fieldSelector=spec.nodeName=NODE, all namespaces) with policy/v1
 * Evictions, then DELETE the Node (K3s's node-password secret goes with it, by owner
 * reference). Pods are chosen as `kubectl drain --ignore-daemonsets --delete-emptydir-data
 * --force` chooses them (k8s.io/kubectl/pkg/drain/filters.go): mirror pods and running pods of
 * a DaemonSet are skipped, every other pod is evicted (the machine leaves; its local data goes
 * with it). Bounded by KUBE_RETIRE_MAX_PODS and KUBE_RETIRE_EVICT_S; it does not wait for
 * evicted pods to terminate. An eviction that fails does not stop the retirement: it is logged
 * and counted, and the Node is deleted anyway. A Node that does not exist (404) is already
 * retired: success.
 *
 * Progress goes to LOG, one line per step and per pod. Returns 0 when the Node is gone, with a
 * one-line *ret_summary ("node n1: cordoned, 2 pods evicted, 1 skipped, 0 failed, deleted");
 * -errno with *ret_err when it could not be cordoned or deleted.
 */
int kube_node_retire(kube_client *c, const char *node, const na_log *log, char **ret_summary,
		     char **ret_err);
