/* SPDX-License-Identifier: MIT */
/* Kubernetes API requests with the node's own credentials. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fetch.h"
#include "basic/fileio.h"
#include "basic/json-util.h"
#include "basic/macro.h"
#include "kube/kube.h"

struct kube_client {
	char *server; /* without a trailing slash */
	fetch_opts fo;
	char *ca_pem, *cert_pem, *key_pem, *token;
};

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

int kube_client_new(const kubeconfig *kc, long timeout_s, kube_client **ret, char **ret_err)
{
	_cleanup_(kube_client_freep) kube_client *c = NULL;
	bool oom = false;
	size_t n;

	*ret_err = NULL;
	if (kc->insecure) {
		if (asprintf(ret_err,
			     "%s: insecure-skip-tls-verify is set; the node only talks to "
			     "an API server it can verify",
			     kc->path) < 0)
			*ret_err = NULL;
		return -EPERM;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->server = dup_or_null(kc->server, &oom);
	c->ca_pem = dup_or_null(kc->ca_pem, &oom);
	c->cert_pem = dup_or_null(kc->cert_pem, &oom);
	c->key_pem = dup_or_null(kc->key_pem, &oom);
	c->token = dup_or_null(kc->token, &oom);
	if (oom)
		return -ENOMEM;
	n = strlen(c->server);
	while (n > 0 && c->server[n - 1] == '/')
		c->server[--n] = '\0';
	c->fo.connect_timeout_s = 5;
	c->fo.timeout_s = timeout_s > 0 ? timeout_s : 15;
	c->fo.max_bytes = 16 * 1024 * 1024; /* a node list of a large cluster */
	c->fo.ca_pem = c->ca_pem;
	c->fo.client_cert_pem = c->cert_pem;
	c->fo.client_key_pem = c->key_pem;
	/* a client certificate wins, as in client-go when both are given */
	c->fo.bearer_token = c->cert_pem ? NULL : c->token;
	c->fo.no_redirects = true;
	*ret = TAKE_PTR(c);
	return 0;
}

int kube_client_new_bearer(const char *server, const char *ca_pem, const char *token,
			   long timeout_s, kube_client **ret, char **ret_err)
{
	/* kube_client_new() only reads the kubeconfig and copies what it keeps */
	kubeconfig kc = {
	    .path = (char *)"(API server URL, CA and token)",
	    .server = (char *)server,
	    .ca_pem = (char *)ca_pem,
	    .token = (char *)token,
	};
	bool bad = !token || !*token;

	*ret_err = NULL;
	if (!server || strncmp(server, "https://", 8) || !server[8]) {
		*ret_err = strdup("the API server URL is not an https:// URL");
		return -EINVAL;
	}
	if (ca_pem && !strstr(ca_pem, "-----BEGIN ")) {
		*ret_err = strdup("the API server CA is not PEM");
		return -EINVAL;
	}
	/* it becomes an HTTP header: a line break would smuggle in other headers */
	for (const char *p = token; p && *p && !bad; p++)
		bad = (unsigned char)*p < 0x21 || *p == 0x7f;
	if (bad) {
		*ret_err =
		    strdup("the bearer token is empty or holds spaces or control characters");
		return -EINVAL;
	}
	return kube_client_new(&kc, timeout_s, ret, ret_err);
}

void kube_client_set_transport(kube_client *c, fetch_transport *transport, void *data)
{
	c->fo.transport = transport;
	c->fo.transport_data = data;
}

kube_client *kube_client_free(kube_client *c)
{
	if (!c)
		return NULL;
	free(c->server);
	free(c->ca_pem);
	free(c->cert_pem);
	erase_and_free(c->key_pem);
	erase_and_free(c->token);
	free(c);
	return NULL;
}

/* The message of a Status object answer, if the body is one. */
static const char *status_message(json_object *o)
{
	json_object *v;

	/* a JSON null is a NULL object, whose string is NULL */
	if (!o || !json_object_object_get_ex(o, "kind", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "Status") ||
	    !json_object_object_get_ex(o, "message", &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* An answer may carry a credential (a TokenRequest's token): erased before it is freed. */
static void fetch_result_erase(fetch_result *fr)
{
	if (fr->body)
		explicit_bzero(fr->body, fr->len);
	fetch_result_done(fr);
}

int kube_request(kube_client *c, const char *method, const char *path, const char *content_type,
		 const char *body, json_object **ret_obj, long *ret_status, char **ret_err)
{
	fetch_opts fo = c->fo;
	_cleanup_(fetch_result_erase) fetch_result fr = {0};
	_cleanup_json_ json_object *o = NULL;
	const char *accept[] = {"Accept: application/json", NULL};
	_cleanup_free_ char *url = NULL;
	int r;

	*ret_err = NULL;
	if (ret_obj)
		*ret_obj = NULL;
	if (asprintf(&url, "%s%s", c->server, path) < 0)
		return -ENOMEM;
	fo.method = method;
	fo.content_type = content_type;
	fo.headers = accept;
	r = fetch_url(url, body, body ? strlen(body) : 0, &fo, &fr);
	if (ret_status)
		*ret_status = fr.status;
	if (fr.status > 0 && fr.body && fr.len > 0) {
		_cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
		if (tok) {
			o = json_tokener_parse_ex(tok, fr.body, (int)fr.len);
			if (json_tokener_get_error(tok) != json_tokener_success || !o ||
			    !json_object_is_type(o, json_type_object))
				json_object_put(TAKE_PTR(o));
		}
	}
	if (r == 0) {
		if (ret_obj && !o) {
			if (asprintf(ret_err, "%s %s: the answer is not a JSON object", method,
				     url) < 0)
				*ret_err = NULL;
			r = -EBADMSG;
		}
	} else if (fr.status > 0) {
		const char *m = status_message(o);
		r = fr.status == 404			   ? -ENOENT
		    : fr.status == 401 || fr.status == 403 ? -EACCES
		    : fr.status == 409			   ? -EEXIST
							   : -EPROTO;
		if (asprintf(ret_err, "%s %s: HTTP %ld%s%s", method, url, fr.status, m ? ": " : "",
			     m ? m : "") < 0)
			*ret_err = NULL;
	} else {
		*ret_err = strdup(fr.error);
	}
	if (r == 0 && ret_obj)
		*ret_obj = TAKE_PTR(o);
	return r;
}

bool kube_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	/* "." and ".." would be dot segments: curl resolves them to another path */
	if (s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.' || strstr(s, ".."))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.'))
			return false;
	return true;
}

/* METHOD /api/v1/nodes/NAME, with the name checked before it goes into a URL. */
static int node_request(kube_client *c, const char *method, const char *name, const char *ctype,
			const char *body, json_object **ret, char **ret_err)
{
	_cleanup_free_ char *path = NULL;

	if (!kube_name_valid(name)) {
		*ret_err = strdup("invalid node name");
		return -EINVAL;
	}
	if (asprintf(&path, "/api/v1/nodes/%s", name) < 0)
		return -ENOMEM;
	return kube_request(c, method, path, ctype, body, ret, NULL, ret_err);
}

int kube_get_node(kube_client *c, const char *name, json_object **ret, char **ret_err)
{
	return node_request(c, "GET", name, NULL, NULL, ret, ret_err);
}

int kube_patch_node(kube_client *c, const char *name, json_object *patch, json_object **ret,
		    char **ret_err)
{
	return node_request(c, "PATCH", name, "application/merge-patch+json",
			    json_object_to_json_string_ext(
				patch, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			    ret, ret_err);
}

int kube_list_nodes(kube_client *c, json_object **ret, char **ret_err)
{
	return kube_request(c, "GET", "/api/v1/nodes", NULL, NULL, ret, NULL, ret_err);
}

int kube_node_ready(json_object *node, const char **ret_why)
{
	json_object *st, *conds;

	*ret_why = "the Node has no Ready condition yet";
	if (!json_object_object_get_ex(node, "status", &st) ||
	    !json_object_object_get_ex(st, "conditions", &conds) ||
	    !json_object_is_type(conds, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(conds); i++) {
		json_object *cnd = json_object_array_get_idx(conds, i), *t, *s, *m;
		if (!json_object_object_get_ex(cnd, "type", &t) ||
		    !json_object_is_type(t, json_type_string) ||
		    strcmp(json_object_get_string(t), "Ready"))
			continue;
		if (json_object_object_get_ex(cnd, "status", &s) &&
		    json_object_is_type(s, json_type_string) &&
		    !strcmp(json_object_get_string(s), "True")) {
			*ret_why = "Ready";
			return 1;
		}
		*ret_why = json_object_object_get_ex(cnd, "message", &m) &&
				   json_object_is_type(m, json_type_string)
			       ? json_object_get_string(m)
			       : "Ready is not True";
		return 0;
	}
	return 0;
}

const char *kube_node_boot_id(json_object *node)
{
	json_object *st, *info, *v;

	if (!json_object_object_get_ex(node, "status", &st) ||
	    !json_object_object_get_ex(st, "nodeInfo", &info) ||
	    !json_object_object_get_ex(info, "bootID", &v) ||
	    !json_object_is_type(v, json_type_string) || !*json_object_get_string(v))
		return NULL;
	return json_object_get_string(v);
}

static const char *meta_value(json_object *node, const char *field, const char *key)
{
	json_object *m, *f, *v;

	if (!json_object_object_get_ex(node, "metadata", &m) ||
	    !json_object_object_get_ex(m, field, &f) || !json_object_object_get_ex(f, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

const char *kube_node_label(json_object *node, const char *key)
{
	return meta_value(node, "labels", key);
}

const char *kube_node_annotation(json_object *node, const char *key)
{
	return meta_value(node, "annotations", key);
}
