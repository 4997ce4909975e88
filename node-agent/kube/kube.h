/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "basic/fetch.h"
#include "basic/macro.h"
#include "kube/kubeconfig.h"

/*
 * A minimal Kubernetes API client over libcurl: the node's own credentials from a
 * kubeconfig, JSON bodies, Status objects turned into messages. Redirects are never
 * followed (credentials must not travel to another host).
 */
typedef struct kube_client kube_client;

int kube_client_new(const kubeconfig *kc, long timeout_s, kube_client **ret, char **ret_err);
/* A client of SERVER (https://) that trusts CA_PEM (NULL: the system store) and sends TOKEN
 * as its bearer token (a secret: never logged, not in *ret_err): no kubeconfig file. */
int kube_client_new_bearer(const char *server, const char *ca_pem, const char *token,
			   long timeout_s, kube_client **ret, char **ret_err);
kube_client *kube_client_free(kube_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(kube_client *, kube_client_free)
/* Requests go through TRANSPORT (canned answers in tests and fuzz targets), not libcurl. */
void kube_client_set_transport(kube_client *c, fetch_transport *transport, void *data);

/*
 * METHOD PATH with an optional JSON body of the given content type. Returns 0 for a 2xx
 * answer (the parsed body in *ret_obj when wanted), otherwise -ENOENT (404), -EACCES
 * (401/403), -EEXIST (409), -EPROTO (other HTTP status), or the transport's -errno;
 * *ret_err says what happened, with the API server's Status message.
 */
int kube_request(kube_client *c, const char *method, const char *path, const char *content_type,
		 const char *body, json_object **ret_obj, long *ret_status, char **ret_err);

/* Is S a DNS-1123 subdomain (node, pod and namespace names), safe in a URL path? */
bool kube_name_valid(const char *s);

/* GET /api/v1/nodes/NAME. */
int kube_get_node(kube_client *c, const char *name, json_object **ret, char **ret_err);
/* PATCH /api/v1/nodes/NAME with a JSON merge patch (RFC 7386). */
int kube_patch_node(kube_client *c, const char *name, json_object *merge_patch, json_object **ret,
		    char **ret_err);
/* GET /api/v1/nodes */
int kube_list_nodes(kube_client *c, json_object **ret, char **ret_err);

/* The Ready condition of a Node object: 1 True, 0 False/Unknown/absent; *ret_why says why. */
int kube_node_ready(json_object *node, const char **ret_why);
/* status.nodeInfo.bootID, which the kubelet posts with its status (it changes with every
 * boot of the machine), or NULL. */
const char *kube_node_boot_id(json_object *node);
/* metadata.labels / metadata.annotations value or NULL. */
const char *kube_node_label(json_object *node, const char *key);
const char *kube_node_annotation(json_object *node, const char *key);
