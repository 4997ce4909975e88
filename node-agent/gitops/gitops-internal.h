/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the files of the GitOps stage share (gitops.h is the stage's interface):
 *   stage.c     gitops_run(): everything fetched, checked, rendered and parsed back in
 *               memory first, then written; the files on disk
 *   manifest.c  the pinned install manifest: cache, download, SHA-256 pin, namespaces
 *   docs.c      manifests as libyaml documents: bounded loading, lookups, parse-back check,
 *               the metadata of the objects the stage writes
 *   creds.c     the credentials file, and the Secret made of it
 *   flux.c      Flux's objects            argocd.c  Argo CD's objects
 *
 * Errors: a function that can fail returns -errno and, unless memory ran out, leaves one
 * message for people in *ret_err (the first one stays: a caller does not replace the more
 * precise message of a function it called). gitops_run() hands it to its caller, who logs
 * it once. Only stage.c writes to the stage's log.
 */

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "basic/macro.h"
#include "basic/yaml-emit.h"
#include "basic/yaml-load.h"
#include "config/config.h"

#define MANIFEST_MAX	(16u * 1024 * 1024) /* Argo CD's install.yaml is ~2 MB */
#define RENDERED_MAX	(64u * 1024 * 1024)
#define CREDENTIALS_MAX (64u * 1024)

/* *ret_err = the message, unless one is there already; returns R. */
_printf_(3, 4) int gitops_fail(char **ret_err, int r, const char *fmt, ...);

/* --- docs.c --- */

typedef struct gitops_docs {
	yaml_document_t *v;
	size_t n;
} gitops_docs;

void gitops_docs_free(gitops_docs *d);
/*
 * Every document of DATA; empty ones are dropped. Each must be a mapping with string
 * apiVersion and kind and a metadata mapping with a name: what K3s turns into an object.
 * Problems are reported with WHAT, line and column.
 */
int gitops_docs_load(const char *what, const char *data, size_t len, gitops_docs *ret,
		     char **ret_err);
/* The top-level KEY, and metadata.KEY, of a document, when they are strings. */
const char *gitops_doc_str(yaml_document_t *d, const char *key);
const char *gitops_doc_meta(yaml_document_t *d, const char *key);
/* Parse CONTENT back: N_EXPECT objects, whose "apiVersion kind" are EXPECT's (not
 * compared when EXPECT is NULL). */
int gitops_check_written(const char *name, const char *content, size_t n_expect,
			 const char *const *expect, char **ret_err);

/* An emitter for one file the stage writes (capped, long values never folded). */
int gitops_render_open(yaml_emit *m);
/* A document of one object: apiVersion, kind, and metadata: name, namespace (NS unless
 * NULL), labels: managed-by node-agent and LABEL_KEY (unless NULL); the caller adds the
 * rest of the object before gitops_emit_object_end(). */
void gitops_emit_object_start(yaml_emit *m, const char *api_version, const char *kind,
			      const char *name, const char *ns, const char *label_key,
			      const char *label_value);
void gitops_emit_object_end(yaml_emit *m);

/* --- manifest.c --- */

typedef struct gitops_manifest {
	char *data;
	size_t len;
	bool cached;	     /* from the cache, not downloaded */
	int cache_error;     /* why the cache was not used: -ENOENT (not there), -EBADMSG (another
			      * manifest: cache_hash), or -errno reading it */
	char cache_hash[65]; /* the SHA-256 of what the cache holds */
} gitops_manifest;

void gitops_manifest_done(gitops_manifest *m);
/* 1 with *m when the cache file PATH holds the manifest pinned by SHA256; 0 when it does
 * not (m->cache_error says why); -errno when the hash cannot be computed. */
int gitops_manifest_from_cache(const char *path, const char *sha256, gitops_manifest *m,
			       char **ret_err);
/* G's install manifest downloaded and checked against its pin. */
int gitops_manifest_download(const na_gitops *g, gitops_manifest *m, char **ret_err);
/* Every manifest but KEEP's (by hash) out of the cache directory DIR. */
void gitops_manifest_prune_cache(const char *dir, const char *keep);
/*
 * The install manifest as it will be written. Without a default namespace to add, or
 * when nothing lacks one, it is DATA unchanged (*ret NULL). Otherwise namespaced objects
 * without metadata.namespace get NS, a Namespace NS comes first unless the manifest has
 * one, and the whole stream is emitted again (*ret). *ret_docs: objects, *ret_added: how
 * many got NS.
 */
int gitops_manifest_prepare(const char *what, const char *data, size_t len, const char *ns,
			    char **ret, size_t *ret_docs, unsigned *ret_added, char **ret_err);

/* --- creds.c --- */

typedef struct gitops_creds {
	char *username, *password, *bearer_token;
	char *identity, *identity_pub, *known_hosts;
} gitops_creds;

/* Wipes and frees; the struct can be used again. */
void gitops_creds_done(gitops_creds *c);
/*
 * The credentials file: one YAML mapping of strings, Flux's key names.
 *   https: username + password, or bearerToken (Flux only)
 *   ssh:   identity (the private key, PEM/OpenSSH), optional identity.pub, known_hosts
 * Messages name keys and positions, never values.
 */
int gitops_creds_parse(const char *path, const char *data, size_t len, gitops_creds *ret,
		       char **ret_err);
int gitops_creds_load(const char *path, gitops_creds *ret, char **ret_err);
/* Whether C suits G's repository and engine: 0, or -EINVAL. *ret_note (may stay NULL):
 * what is given but not used, for a warning. */
int gitops_creds_check(const na_gitops *g, const gitops_creds *c, const char **ret_note,
		       char **ret_err);

/* A Secret of the given keys, each value base64'd (absent when NULL). */
typedef struct gitops_secret {
	const char *name, *ns, *label_key, *label_value;
	struct {
		const char *key, *value;
	} data[6];
} gitops_secret;

int gitops_render_secret(const gitops_secret *s, char **ret);

/* --- flux.c, argocd.c --- */

typedef struct gitops_engine {
	const char *name; /* gitops.engine */
	/* the namespace the install manifest's objects go in when they name none; NULL: they
	 * all name one */
	const char *ns;
	const char *interval_note; /* when gitops.interval means nothing to the engine */
	/* the repository Secret (C holds credentials), the objects that point the engine at
	 * the repository (SECRET: with the Secret), and what they are ("apiVersion kind") */
	int (*render_secret)(const na_gitops *g, const gitops_creds *c, char **ret);
	int (*render_source)(const na_gitops *g, bool secret, char **ret);
	size_t n_source_kinds;
	const char *const *source_kinds;
} gitops_engine;

extern const gitops_engine gitops_engine_flux, gitops_engine_argocd;
