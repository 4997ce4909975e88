/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "config/config.h"

/*
 * Before a node sends its token anywhere: is cluster.server the cluster the token belongs
 * to? A K3s secure token ("K10<sha256 of the CA bundle>::<user>:<password>") names the CA;
 * the server's /cacerts must hash to it (K3s's own agents do the same check), and the
 * server's certificate must chain to that CA. Without a hash in the token, the CA must be
 * pinned with cluster.ca_file. Nothing here sends the token.
 */
typedef struct preflight_result {
	char *ca_pem;		/* the verified CA bundle, for later connections */
	char *ca_sha256;	/* its hash */
	char *message;		/* what was checked, or exactly what failed (NULL: out of memory) */
	const char *token_file; /* the token checked (the config's, for the role) */
	bool server_token;	/* it is a server token (K10...::server:...) */
} preflight_result;

typedef struct token_info {
	char *token;	  /* the whole token (secret) */
	char ca_hash[65]; /* lower-case hex from a K10 token, "" when the token has none */
	bool server_user; /* K10<hash>::server:<password>: the server token, administrator-
			   * equivalent (it can fetch the cluster's CA keys) */
} token_info;

#define PREFLIGHT_SERVER_TOKEN_WARNING                                                             \
	"this agent holds the server token, which is administrator-equivalent (it can fetch "      \
	"the cluster's CA keys); give agents the agent token (cluster.agent_token_file, from "     \
	"the server's /var/lib/rancher/k3s/server/agent-token)"

/* Whether a node of ROLE may send its token (na_config_token_file()) to cluster.server:
 * 0, or -errno with ret->message. ret->server_token tells an agent holding the server token. */
int preflight_check(const na_config *cfg, na_role role, long timeout_s, preflight_result *ret);
void preflight_result_done(preflight_result *r);

/* The CA hash a K10 token carries for the bundle PEM served at /cacerts, computed as K3s
 * does (cahash.c): the bytes for one certificate, the chain root's DER for several.
 * *ret_root (optional) says which. -EBADMSG when the bundle holds no certificate or one
 * that does not parse. */
int k3s_ca_hash(const char *pem, size_t len, char ret[65], bool *ret_root);

/* Read and parse a token file: refuses files others can read or that are not ours.
 * -errno with *ret_err (the caller frees it). */
int token_read(const char *path, token_info *ret, char **ret_err);
void token_info_done(token_info *t);
