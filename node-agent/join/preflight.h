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
	char *ca_pem;	 /* the verified CA bundle, for later connections */
	char *ca_sha256; /* its hash */
	char *message;	 /* what was checked, or exactly what failed (NULL: out of memory) */
} preflight_result;

typedef struct token_info {
	char *token;	  /* the whole token (secret) */
	char ca_hash[65]; /* lower-case hex from a K10 token, "" when the token has none */
} token_info;

/* 0: the node may join; -errno otherwise, with ret->message. */
int preflight_check(const na_config *cfg, long timeout_s, preflight_result *ret);
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
