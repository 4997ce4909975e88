/* SPDX-License-Identifier: MIT */
/*
 * The GitOps stage's driver (see gitops.h): the pinned manifest, the credentials and the
 * engine's objects are fetched, checked, rendered and parsed back in memory; only then is
 * anything written, the cache first. Progress goes to the stage's log, one line each; the
 * first failure's message goes back to the caller in the summary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "gitops/gitops-internal.h"
#include "gitops/gitops.h"

#define FILE_INSTALL "node-agent-gitops-install.yaml"
#define FILE_SECRET  "node-agent-gitops-secret.yaml"
#define FILE_SOURCE  "node-agent-gitops-source.yaml"

int gitops_fail(char **ret_err, int r, const char *fmt, ...)
{
	va_list ap;

	if (!*ret_err) {
		va_start(ap, fmt);
		if (vasprintf(ret_err, fmt, ap) < 0)
			*ret_err = NULL;
		va_end(ap);
	}
	return r;
}

_printf_(3, 4) static void say(const na_log *log, int prio, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	if (!log)
		return;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r >= 0)
		na_logf(log, prio, "gitops: %s", msg);
}

/* --- files --- */

static char *path_join(const char *target, const char *path)
{
	size_t n = strlen(target);
	char *s;

	while (n > 0 && target[n - 1] == '/')
		n--;
	if (asprintf(&s, "%.*s%s", (int)n, target, path) < 0)
		return NULL;
	return s;
}

typedef struct out_file {
	const char *name;
	char *content;
	unsigned mode;
} out_file;

/* What the stage writes to the manifests directory, rendered and checked first. */
typedef struct out_files {
	out_file v[3];
	size_t n;
} out_files;

static int out_files_add(out_files *f, const char *name, unsigned mode, char *content)
{
	if (!content)
		return -ENOMEM;
	f->v[f->n++] = (out_file){.name = name, .content = content, .mode = mode};
	return 0;
}

static void out_files_done(out_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].mode == 0600) /* the Secret */
			erase_and_free(f->v[i].content);
		else
			free(f->v[i].content);
}

typedef struct tally {
	unsigned written, unchanged;
} tally;

static int put_file(const na_log *log, const char *path, const char *content, unsigned mode,
		    bool dry_run, tally *t, char **ret_err)
{
	_cleanup_free_ char *old = NULL;
	struct stat st;
	int r = read_full_file_at(AT_FDCWD, path, O_NOFOLLOW | O_NONBLOCK, RENDERED_MAX, &old, NULL,
				  &st);

	if (r == 0 && (st.st_mode & 07777) == mode && !strcmp(old, content)) {
		t->unchanged++;
		say(log, LOG_INFO, "unchanged %s", path);
		return 0;
	}
	if (dry_run) {
		t->written++;
		say(log, LOG_INFO, "would write %s (%zu bytes, mode %04o)", path, strlen(content),
		    mode);
		return 0;
	}
	r = write_atomic(path, content, mode);
	if (r < 0)
		return gitops_fail(ret_err, r, "cannot write %s: %s", path, strerror(-r));
	t->written++;
	say(log, LOG_INFO, "wrote %s (%zu bytes)", path, strlen(content));
	return 0;
}

/* Credentials taken out of the config: the file goes (the Secret stays in the cluster;
 * K3s does not delete what a removed file created). */
static int remove_secret(const na_log *log, const char *dir, bool dry_run)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/%s", dir, FILE_SECRET) < 0) {
		path = NULL;
		return -ENOMEM;
	}
	if (access(path, F_OK) < 0)
		return 0;
	if (dry_run)
		say(log, LOG_INFO, "would remove %s", path);
	else if (unlink(path) < 0)
		say(log, LOG_WARNING, "warning: cannot remove %s: %m", path);
	else
		say(log, LOG_INFO, "removed %s (no gitops.credentials_file)", path);
	return 0;
}

/* --- the stage --- */

static int get_manifest(const na_log *log, const na_gitops *g, const char *cache_path,
			gitops_manifest *m, char **ret_err)
{
	int r = gitops_manifest_from_cache(cache_path, g->install_sha256, m, ret_err);

	if (r < 0)
		return r;
	if (r > 0) {
		say(log, LOG_INFO, "install manifest from the cache %s (sha256 %s)", cache_path,
		    m->cache_hash);
		return 0;
	}
	if (m->cache_error == -EBADMSG)
		say(log, LOG_WARNING,
		    "warning: cached %s has sha256 %s, not its name: downloading again", cache_path,
		    m->cache_hash);
	else if (m->cache_error != -ENOENT)
		say(log, LOG_WARNING, "warning: cannot read the cached %s: %s; downloading",
		    cache_path, strerror(-m->cache_error));
	say(log, LOG_INFO, "downloading %s", g->install_url);
	return gitops_manifest_download(g, m, ret_err);
}

/* A refusal of the pinned manifest says that nothing was written. */
static int nothing_written(int r, char **ret_err)
{
	char *e = NULL;

	if (*ret_err && asprintf(&e, "%s; nothing written", *ret_err) >= 0) {
		free(*ret_err);
		*ret_err = e;
	}
	return r;
}

typedef struct outcome {
	bool cached;   /* the manifest came from the cache */
	size_t n_docs; /* objects in the install manifest as written */
	size_t n_files;
	tally t;
} outcome;

static int run(const na_gitops *g, const char *target, bool dry_run, const na_log *log, outcome *o,
	       char **ret_err)
{
	static const char *const secret_kinds[] = {"v1 Secret"};
	const gitops_engine *e;
	_cleanup_free_ char *cache_dir = NULL, *cache_path = NULL, *dir = NULL, *what = NULL;
	_cleanup_(gitops_manifest_done) gitops_manifest mf = {0};
	_cleanup_(gitops_creds_done) gitops_creds c = {0};
	_cleanup_(out_files_done) out_files files = {0};
	char *content = NULL;
	unsigned added = 0;
	int r;

	if (!g->engine || !g->install_url || !g->install_sha256 || !g->repository)
		return gitops_fail(ret_err, -EINVAL,
				   "gitops: engine, install_url, install_sha256 and repository "
				   "are required");
	e = !strcmp(g->engine, gitops_engine_argocd.name) ? &gitops_engine_argocd
	    : !strcmp(g->engine, gitops_engine_flux.name) ? &gitops_engine_flux
							  : NULL;
	if (!e)
		return gitops_fail(ret_err, -EINVAL,
				   "gitops.engine: expected flux or argocd, found \"%s\"",
				   g->engine);
	cache_dir = path_join(target, GITOPS_CACHE_DIR);
	dir = path_join(target, GITOPS_MANIFESTS_DIR);
	if (!cache_dir || !dir)
		return -ENOMEM;
	if (asprintf(&cache_path, "%s/%s.yaml", cache_dir, g->install_sha256) < 0) {
		cache_path = NULL;
		return -ENOMEM;
	}
	if (asprintf(&what, "install manifest %s", g->install_url) < 0) {
		what = NULL;
		return -ENOMEM;
	}

	/* 1. the pinned manifest, checked */
	r = get_manifest(log, g, cache_path, &mf, ret_err);
	if (r < 0)
		return r;
	o->cached = mf.cached;
	r = gitops_manifest_prepare(what, mf.data, mf.len, e->ns, &content, &o->n_docs, &added,
				    ret_err);
	if (r < 0)
		return nothing_written(r, ret_err);
	if (content)
		say(log, LOG_INFO, "install manifest: metadata.namespace %s added to %u objects",
		    e->ns, added);

	/* 2. everything rendered and parsed back before anything is written */
	r = out_files_add(&files, FILE_INSTALL, 0644,
			  content ? TAKE_PTR(content) : strdup(mf.data));
	if (r < 0)
		return r;
	r = gitops_check_written(FILE_INSTALL, files.v[0].content, o->n_docs, NULL, ret_err);
	if (r < 0)
		return r;
	if (g->credentials_file) {
		const char *note = NULL;

		r = gitops_creds_load(g->credentials_file, &c, ret_err);
		if (r < 0)
			return r;
		r = gitops_creds_check(g, &c, &note, ret_err);
		if (r < 0)
			return r;
		if (note)
			say(log, LOG_WARNING, "warning: %s: %s", g->credentials_file, note);
		r = e->render_secret(g, &c, &content);
		if (r < 0)
			return r;
		r = out_files_add(&files, FILE_SECRET, 0600, TAKE_PTR(content));
		if (r < 0)
			return r;
		r = gitops_check_written(FILE_SECRET, files.v[files.n - 1].content, 1, secret_kinds,
					 ret_err);
		if (r < 0)
			return r;
	}
	if (g->interval && e->interval_note)
		say(log, LOG_INFO, "note: %s", e->interval_note);
	r = e->render_source(g, g->credentials_file != NULL, &content);
	if (r < 0)
		return r;
	r = out_files_add(&files, FILE_SOURCE, 0644, TAKE_PTR(content));
	if (r < 0)
		return r;
	r = gitops_check_written(FILE_SOURCE, files.v[files.n - 1].content, e->n_source_kinds,
				 e->source_kinds, ret_err);
	if (r < 0)
		return r;
	o->n_files = files.n;

	/* 3. written: the cache first, so that the next boot needs no network */
	if (!mf.cached && !dry_run) {
		r = write_atomic(cache_path, mf.data, 0644);
		if (r < 0)
			return gitops_fail(ret_err, r, "cannot write %s: %s", cache_path,
					   strerror(-r));
		say(log, LOG_INFO, "cached as %s", cache_path);
		gitops_manifest_prune_cache(cache_dir, g->install_sha256);
	}
	for (size_t i = 0; i < files.n; i++) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, files.v[i].name) < 0) {
			path = NULL;
			return -ENOMEM;
		}
		r = put_file(log, path, files.v[i].content, files.v[i].mode, dry_run, &o->t,
			     ret_err);
		if (r < 0)
			return r;
	}
	if (!g->credentials_file)
		return remove_secret(log, dir, dry_run);
	return 0;
}

int gitops_run(const na_config *cfg, const char *target, const gitops_opts *opts, const na_log *log,
	       char **ret_summary)
{
	const na_gitops *g = &cfg->gitops;
	bool dry_run = opts && opts->dry_run;
	_cleanup_free_ char *error = NULL;
	outcome o = {0};
	char *summary = NULL;
	int r;

	if (!g->present) {
		if (ret_summary)
			*ret_summary = strdup("no gitops section in the config");
		return 1;
	}
	r = run(g, target, dry_run, log, &o, &error);
	if (r == 0) {
		if (asprintf(
			&summary,
			"%s: install manifest sha256 %.12s (%s, %zu objects), %zu files in %s: "
			"%u %s, %u unchanged",
			g->engine, g->install_sha256, o.cached ? "cached" : "downloaded", o.n_docs,
			o.n_files, GITOPS_MANIFESTS_DIR, o.t.written,
			dry_run ? "to write" : "written", o.t.unchanged) < 0)
			summary = NULL;
	} else {
		summary = error ? TAKE_PTR(error) : strdup(strerror(-r));
	}
	if (ret_summary)
		*ret_summary = summary;
	else
		free(summary);
	return r;
}

int gitops_stage(const na_config *cfg, const char *target, const na_log *log, char **ret_summary)
{
	return gitops_run(cfg, target, NULL, log, ret_summary);
}
