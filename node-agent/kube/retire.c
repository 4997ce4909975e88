/* SPDX-License-Identifier: MIT */
/* The serve ServiceAccount's token, and a machine's Node drained and deleted. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/json-util.h"
#include "basic/macro.h"
#include "kube/retire.h"

#define SA_PATH	  "/api/v1/namespaces/kube-system/serviceaccounts"
#define RBAC_PATH "/apis/rbac.authorization.k8s.io/v1"

static const char service_account[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
    "\"metadata\":{\"name\":\"" KUBE_SERVE_ACCOUNT "\",\"namespace\":\"kube-system\","
    "\"labels\":{\"app.kubernetes.io/managed-by\":\"node-agent\"}}}";

/* What retiring needs and nothing more: cordon (patch), read (get, list) and delete Nodes,
 * find a node's pods (list) and evict them (the eviction subresource, which honours
 * PodDisruptionBudgets, unlike deleting pods). */
static const char cluster_role[] =
    "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\","
    "\"metadata\":{\"name\":\"" KUBE_SERVE_ACCOUNT "\","
    "\"labels\":{\"app.kubernetes.io/managed-by\":\"node-agent\"}},\"rules\":["
    "{\"apiGroups\":[\"\"],\"resources\":[\"nodes\"],\"verbs\":[\"get\",\"list\",\"patch\","
    "\"delete\"]},"
    "{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"list\"]},"
    "{\"apiGroups\":[\"\"],\"resources\":[\"pods/eviction\"],\"verbs\":[\"create\"]}]}";

static const char cluster_role_binding[] =
    "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRoleBinding\","
    "\"metadata\":{\"name\":\"" KUBE_SERVE_ACCOUNT "\","
    "\"labels\":{\"app.kubernetes.io/managed-by\":\"node-agent\"}},"
    "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\","
    "\"name\":\"" KUBE_SERVE_ACCOUNT "\"},"
    "\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"" KUBE_SERVE_ACCOUNT "\","
    "\"namespace\":\"kube-system\"}]}";

/* POST an object; one that exists already (409 AlreadyExists) is kept as it is. */
static int create_or_keep(kube_client *c, const char *path, const char *body, char **ret_err)
{
	int r = kube_request(c, "POST", path, "application/json", body, NULL, NULL, ret_err);

	if (r == -EEXIST) {
		free(*ret_err);
		*ret_err = NULL;
		return 0;
	}
	return r;
}

int kube_serve_account_token(kube_client *admin, long expiration_s, char **ret_token,
			     char **ret_err)
{
	_cleanup_json_ json_object *answer = NULL;
	_cleanup_free_ char *body = NULL;
	json_object *status, *token;
	const char *t;
	bool bad;
	int r;

	*ret_err = NULL;
	if (expiration_s < 600) {
		*ret_err = strdup("a service account token lasts at least 600 seconds");
		return -EINVAL;
	}
	r = create_or_keep(admin, SA_PATH, service_account, ret_err);
	if (r >= 0)
		r = create_or_keep(admin, RBAC_PATH "/clusterroles", cluster_role, ret_err);
	if (r >= 0)
		r = create_or_keep(admin, RBAC_PATH "/clusterrolebindings", cluster_role_binding,
				   ret_err);
	if (r < 0)
		return r;
	if (asprintf(&body,
		     "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\","
		     "\"spec\":{\"expirationSeconds\":%ld}}",
		     expiration_s) < 0)
		return -ENOMEM;
	r = kube_request(admin, "POST", SA_PATH "/" KUBE_SERVE_ACCOUNT "/token", "application/json",
			 body, &answer, NULL, ret_err);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(answer, "status", &status) ||
	    !json_object_object_get_ex(status, "token", &token) ||
	    !json_object_is_type(token, json_type_string)) {
		*ret_err = strdup("the TokenRequest answer has no status.token");
		return -EBADMSG;
	}
	t = json_object_get_string(token);
	/* it becomes an HTTP header of serve's requests */
	bad = !*t;
	for (const char *p = t; *p && !bad; p++)
		bad = (unsigned char)*p < 0x21 || *p == 0x7f;
	if (bad) {
		*ret_err = strdup("the TokenRequest answer's token is empty or not printable");
		r = -EBADMSG;
	} else {
		*ret_token = strdup(t);
		r = *ret_token ? 0 : -ENOMEM;
	}
	/* the parsed copy is the secret too */
	explicit_bzero((char *)t, strlen(t));
	return r;
}

static const char *str_at(json_object *o, const char *a, const char *b)
{
	json_object *v;

	if (!json_object_object_get_ex(o, a, &v) || (b && !json_object_object_get_ex(v, b, &v)) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * Why a pod stays, as kubectl drain's filters decide with --ignore-daemonsets
 * (k8s.io/kubectl/pkg/drain/filters.go): a mirror pod (annotation kubernetes.io/config.mirror,
 * mirrorPodFilter: the kubelet's static pod, not the API's to move), or a pod whose controller
 * is a DaemonSet and that has not finished (daemonSetFilter: the DaemonSet would put it back at
 * once). NULL: evict it. Pods with local storage and pods of no controller are evicted, as
 * with --delete-emptydir-data --force: the machine leaves, its local data with it.
 */
static const char *pod_skip_reason(json_object *pod)
{
	json_object *meta, *ann, *refs;
	const char *phase = str_at(pod, "status", "phase");

	if (json_object_object_get_ex(pod, "metadata", &meta) &&
	    json_object_object_get_ex(meta, "annotations", &ann) &&
	    json_object_object_get_ex(ann, "kubernetes.io/config.mirror", NULL))
		return "mirror pod";
	if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))
		return NULL;
	if (!meta || !json_object_object_get_ex(meta, "ownerReferences", &refs) ||
	    !json_object_is_type(refs, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(refs); i++) {
		json_object *ref = json_object_array_get_idx(refs, i), *ctl;
		const char *kind = str_at(ref, "kind", NULL);
		/* metav1.GetControllerOf: the reference with controller: true */
		if (json_object_object_get_ex(ref, "controller", &ctl) &&
		    json_object_get_boolean(ctl) && kind && !strcmp(kind, "DaemonSet"))
			return "DaemonSet pod";
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct pod_ref {
	const char *ns, *name; /* in the pod list */
	bool pending;	       /* to evict (again) */
} pod_ref;

/* POST the Eviction of one pod: 1 done (201, or 404: gone already), 0 refused for now (429: a
 * PodDisruptionBudget), -errno failed. */
static int evict_one(kube_client *c, const pod_ref *p, char **ret_err)
{
	_cleanup_free_ char *path = NULL, *body = NULL;
	long status = 0;
	int r;

	if (asprintf(&path, "/api/v1/namespaces/%s/pods/%s/eviction", p->ns, p->name) < 0 ||
	    asprintf(&body,
		     "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":"
		     "\"%s\",\"namespace\":\"%s\"}}",
		     p->name, p->ns) < 0)
		return -ENOMEM;
	r = kube_request(c, "POST", path, "application/json", body, NULL, &status, ret_err);
	if (r == 0 || r == -ENOENT)
		return 1;
	if (status == 429)
		return 0;
	return r;
}

/* Evict the pods of NODE; counts in the n_* outputs. Errors of single pods are logged. */
static int evict_pods(kube_client *c, const char *node, const na_log *log, unsigned *n_evicted,
		      unsigned *n_skipped, unsigned *n_failed)
{
	_cleanup_json_ json_object *list = NULL;
	_cleanup_free_ char *path = NULL, *err = NULL;
	_cleanup_free_ pod_ref *pods = NULL;
	json_object *items;
	size_t n = 0, pending;
	double deadline;
	int r;

	if (asprintf(&path, "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s", node) < 0)
		return -ENOMEM;
	r = kube_request(c, "GET", path, NULL, NULL, &list, NULL, &err);
	if (r < 0) {
		na_logf(log, LOG_WARNING, "node %s: cannot list its pods, none evicted: %s", node,
			err ? err : strerror(-r));
		(*n_failed)++;
		return 0;
	}
	if (!json_object_object_get_ex(list, "items", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		na_logf(log, LOG_WARNING, "node %s: the pod list has no items, none evicted", node);
		(*n_failed)++;
		return 0;
	}
	n = json_object_array_length(items);
	pods = calloc((n < KUBE_RETIRE_MAX_PODS ? n : KUBE_RETIRE_MAX_PODS) + 1, sizeof(*pods));
	n = 0;
	if (!pods)
		return -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *pod = json_object_array_get_idx(items, i);
		const char *ns = str_at(pod, "metadata", "namespace");
		const char *name = str_at(pod, "metadata", "name");
		const char *why;

		if (!ns || !name || !kube_name_valid(ns) || !kube_name_valid(name)) {
			na_logf(log, LOG_WARNING, "node %s: a pod without a valid name, left",
				node);
			(*n_failed)++;
			continue;
		}
		why = pod_skip_reason(pod);
		if (why) {
			na_logf(log, LOG_INFO, "node %s: pod %s/%s left (%s)", node, ns, name, why);
			(*n_skipped)++;
			continue;
		}
		if (n == KUBE_RETIRE_MAX_PODS) {
			na_logf(log, LOG_WARNING,
				"node %s: more than %d pods to evict; the others go with the Node",
				node, KUBE_RETIRE_MAX_PODS);
			break;
		}
		pods[n++] = (pod_ref){.ns = ns, .name = name, .pending = true};
	}
	/* the whole of it, slow answers included, not only the pauses between passes */
	deadline = now_s() + KUBE_RETIRE_EVICT_S;
	for (pending = n; pending > 0;) {
		bool late = false;

		for (size_t i = 0; i < n && !late; i++) {
			if (!pods[i].pending)
				continue;
			late = now_s() > deadline;
			if (late)
				break;
			free(err);
			err = NULL;
			r = evict_one(c, &pods[i], &err);
			if (r == 0)
				continue;
			pods[i].pending = false;
			pending--;
			if (r > 0) {
				na_logf(log, LOG_INFO, "node %s: pod %s/%s evicted", node,
					pods[i].ns, pods[i].name);
				(*n_evicted)++;
			} else {
				na_logf(log, LOG_WARNING, "node %s: pod %s/%s not evicted: %s",
					node, pods[i].ns, pods[i].name, err ? err : strerror(-r));
				(*n_failed)++;
			}
		}
		if (pending == 0)
			break;
		if (late || now_s() + KUBE_RETIRE_RETRY_S > deadline) {
			na_logf(log, LOG_WARNING,
				"node %s: %zu pods not evicted within %d s; they go with the Node",
				node, pending, KUBE_RETIRE_EVICT_S);
			*n_failed += (unsigned)pending;
			break;
		}
		na_logf(
		    log, LOG_INFO,
		    "node %s: %zu evictions refused for now (disruption budget), retrying in %d s",
		    node, pending, KUBE_RETIRE_RETRY_S);
		nanosleep(&(struct timespec){.tv_sec = KUBE_RETIRE_RETRY_S}, NULL);
	}
	return 0;
}

int kube_node_retire(kube_client *c, const char *node, const na_log *log, char **ret_summary,
		     char **ret_err)
{
	_cleanup_free_ char *path = NULL, *summary = NULL;
	unsigned evicted = 0, skipped = 0, failed = 0;
	int r;

	*ret_err = NULL;
	if (!kube_name_valid(node)) {
		*ret_err = strdup("invalid node name");
		return -EINVAL;
	}
	if (asprintf(&path, "/api/v1/nodes/%s", node) < 0)
		return -ENOMEM;
	r = kube_request(c, "PATCH", path, "application/merge-patch+json",
			 "{\"spec\":{\"unschedulable\":true}}", NULL, NULL, ret_err);
	if (r == -ENOENT) {
		free(*ret_err);
		*ret_err = NULL;
		na_logf(log, LOG_INFO, "node %s: no such Node, already retired", node);
		if (asprintf(&summary, "node %s: already gone", node) < 0)
			return -ENOMEM;
		*ret_summary = TAKE_PTR(summary);
		return 0;
	}
	if (r < 0)
		return r;
	na_logf(log, LOG_INFO, "node %s: cordoned", node);
	r = evict_pods(c, node, log, &evicted, &skipped, &failed);
	if (r < 0)
		return r;
	r = kube_request(c, "DELETE", path, NULL, NULL, NULL, NULL, ret_err);
	if (r == -ENOENT) {
		free(*ret_err);
		*ret_err = NULL;
		r = 0;
	}
	if (r < 0)
		return r;
	na_logf(log, LOG_INFO, "node %s: deleted", node);
	if (asprintf(&summary, "node %s: cordoned, %u pods evicted, %u skipped, %u failed, deleted",
		     node, evicted, skipped, failed) < 0)
		return -ENOMEM;
	*ret_summary = TAKE_PTR(summary);
	return 0;
}
