/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "basic/macro.h"

/*
 * The parts of a kubeconfig (clientcmd v1, "kind: Config") that a node uses to talk to its
 * own cluster: the current context's server, CA, and user credentials (client certificate
 * and key, or a bearer token), inline (*-data, base64) or in files. Parsed with libyaml,
 * bounded; file paths are read under `prefix` (the target root, "" or NULL for /), and a
 * relative path is relative to the kubeconfig's directory, as kubectl resolves them.
 */
typedef struct kubeconfig {
	char *path;
	char *server;
	char *ca_pem;	/* NULL: the system trust store */
	int insecure;	/* insecure-skip-tls-verify: refused by kube_client_new() */
	char *cert_pem; /* client certificate + key ... */
	char *key_pem;
	char *token; /* ... or a bearer token (secret: never logged) */
	char *user;  /* the user entry's name, for messages */
} kubeconfig;

/* 0 on success; -errno with a message "FILE: ..." in *ret_err (malloc'd) otherwise. */
int kubeconfig_load(const char *prefix, const char *path, kubeconfig **ret, char **ret_err);
int kubeconfig_parse(const char *prefix, const char *path, const char *data, size_t len,
		     kubeconfig **ret, char **ret_err);
kubeconfig *kubeconfig_free(kubeconfig *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(kubeconfig *, kubeconfig_free)

/* RFC 4648 base64 (whitespace ignored); NULL on invalid input. Result is NUL-terminated. */
char *base64_decode(const char *s, size_t *ret_len);
