/* SPDX-License-Identifier: MIT */
/*
 * The spool: one report per SPOOL_DIR/NNNNNNNN.json, numbered in the order they were made
 * and sent oldest first. It is bounded in files and bytes: over a bound, the oldest
 * undelivered reports are dropped (the newest always stays). Files that do not parse as a
 * report are set aside as .bad, reports the collector refuses as .rejected; of those the
 * newest REPORT_ASIDE_KEEP are kept for inspection. A lock file keeps two senders (run,
 * report-send) apart.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "report/report-internal.h"

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

int report_mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = *p ? p + 1 : p;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = c;
		if (!c)
			return 0;
	}
}

int deliver_read_file(const char *path, char **ret, size_t *ret_len)
{
	int r = read_full_file_at(AT_FDCWD, path, O_NOFOLLOW, REPORT_FILE_MAX, ret, ret_len, NULL);

	return r == -EISDIR ? -EINVAL : r;
}

/* "NNNNNNNN.json" + suffix; *ret_suffix points after ".json" */
static bool spool_name(const char *name, unsigned *ret_seq, const char **ret_suffix)
{
	unsigned v = 0;

	for (int i = 0; i < 8; i++) {
		if (!isdigit((unsigned char)name[i]))
			return false;
		v = v * 10 + (unsigned)(name[i] - '0');
	}
	if (strncmp(name + 8, ".json", 5))
		return false;
	*ret_seq = v;
	*ret_suffix = name + 13;
	return true;
}

static int cmp_entry(const void *a, const void *b)
{
	const report_spool_entry *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void report_spool_done(report_spool *l)
{
	free(l->v);
	*l = (report_spool){0};
}

typedef struct name_list {
	char **v;
	size_t n, cap;
} name_list;

static void name_list_done(name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int name_list_add(name_list *l, const char *name)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		char **nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n] = strdup(name);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int spool_list_add(report_spool *l, size_t *cap, unsigned seq, size_t size)
{
	if (l->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		report_spool_entry *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		*cap = nc;
	}
	l->v[l->n++] = (report_spool_entry){seq, size};
	l->bytes += size;
	return 0;
}

int report_spool_scan(const char *dir, report_spool *ret)
{
	_cleanup_(report_spool_done) report_spool l = {0};
	_cleanup_(name_list_done) name_list aside = {0};
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	int r;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		const char *suffix;
		unsigned seq;
		struct stat sb;

		if (de->d_name[0] == '.' && strstr(de->d_name, ".json.node-agent-tmp")) {
			/* left by a write_atomic() that was interrupted; we hold the lock */
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (!spool_name(de->d_name, &seq, &suffix))
			continue;
		if (seq > l.max_seq)
			l.max_seq = seq;
		if (!strcmp(suffix, ".bad") || !strcmp(suffix, ".rejected")) {
			r = name_list_add(&aside, de->d_name);
			if (r < 0)
				return r;
			continue;
		}
		if (*suffix || fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		r = spool_list_add(&l, &cap, seq, (size_t)sb.st_size);
		if (r < 0)
			return r;
	}
	if (aside.n > REPORT_ASIDE_KEEP) {
		qsort(aside.v, aside.n, sizeof(*aside.v), cmp_str);
		for (size_t i = 0; i < aside.n - REPORT_ASIDE_KEEP; i++)
			unlinkat(dirfd(d), aside.v[i], 0);
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_entry);
	*ret = l;
	l = (report_spool){0};
	return 0;
}

char *report_spool_path(const char *dir, unsigned seq, const char *suffix)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%08u.json%s", dir, seq, suffix) < 0)
		return NULL;
	return p;
}

/* Whether the newest spooled report says the same as INV (and NODE_JSON), collected_at
 * aside. */
static bool same_as_spooled(const char *dir, unsigned seq, json_object *inv, const char *mid,
			    const char *node_json)
{
	_cleanup_free_ char *path = report_spool_path(dir, seq, ""), *body = NULL;
	_cleanup_(json_object_putp) json_object *env = NULL, *copy = NULL, *node = NULL;
	json_object *old, *v, *old_node = NULL;
	const char *key;
	size_t len;

	if (!path || deliver_read_file(path, &body, &len) < 0 ||
	    report_envelope_check(body, len, &env, &key) < 0 ||
	    !json_object_object_get_ex(env, "inventory", &old))
		return false;
	if (!json_object_object_get_ex(env, "machine_id", &v) ||
	    (mid ? !json_object_is_type(v, json_type_string) ||
		       strcmp(json_object_get_string(v), mid)
		 : v != NULL))
		return false;
	(void)json_object_object_get_ex(env, "node", &old_node);
	node = node_json ? report_parse_json(node_json, strlen(node_json)) : NULL;
	if (!json_object_equal(node, old_node))
		return false;
	if (json_object_deep_copy(inv, &copy, NULL) < 0)
		return false;
	json_object_object_del(copy, "collected_at");
	json_object_object_del(old, "collected_at");
	return json_object_equal(copy, old);
}

/* Drop the oldest reports while the spool is over a bound; the newest always stays. */
static int spool_bound(report_ctx *c)
{
	const deliver_opts *o = c->o;
	_cleanup_(report_spool_done) report_spool l = {0};
	int r;

	r = report_spool_scan(o->spool_dir, &l);
	if (r < 0)
		return r;
	for (size_t i = 0; i + 1 < l.n && (l.n - i > o->max_files || l.bytes > o->max_bytes); i++) {
		_cleanup_free_ char *path = report_spool_path(o->spool_dir, l.v[i].seq, "");

		if (path && unlink(path) == 0) {
			report_log(
			    c, LOG_WARNING,
			    "spool over its bound (%zu reports, %zu bytes; at most %u and %zu): "
			    "dropped the oldest undelivered report %08u.json",
			    l.n - i, l.bytes, o->max_files, o->max_bytes, l.v[i].seq);
			c->st->dropped++;
		}
		l.bytes -= l.v[i].size;
	}
	return 0;
}

int report_spool_add(report_ctx *c, const char *body, json_object *inv, const char *mid)
{
	const deliver_opts *o = c->o;
	_cleanup_(report_spool_done) report_spool l = {0};
	_cleanup_free_ char *path = NULL;
	unsigned seq;
	int r;

	r = report_spool_scan(o->spool_dir, &l);
	if (r < 0)
		return r;
	if (l.n && same_as_spooled(o->spool_dir, l.v[l.n - 1].seq, inv, mid, o->node_json)) {
		seq = l.v[l.n - 1].seq;
		report_log(c, LOG_INFO,
			   "the inventory is unchanged since the undelivered report %08u.json: "
			   "it is replaced, not added",
			   seq);
	} else if (l.max_seq >= REPORT_SEQ_MAX)
		/* 10^8 reports: start again; older names sort first only once those are gone */
		return -EOVERFLOW;
	else
		seq = l.max_seq + 1;
	path = report_spool_path(o->spool_dir, seq, "");
	r = path ? write_atomic(path, body, 0644) : -ENOMEM;
	if (r < 0)
		return r;
	return spool_bound(c);
}

int report_spool_set_aside(report_ctx *c, unsigned seq, const char *suffix)
{
	_cleanup_free_ char *from = report_spool_path(c->o->spool_dir, seq, ""),
			    *to = report_spool_path(c->o->spool_dir, seq, suffix);
	int r = 0;

	if (!from || !to)
		r = -ENOMEM;
	else if (rename(from, to) < 0)
		r = -errno;
	if (r < 0 && from)
		unlink(from); /* never loop on it */
	return r;
}

int report_spool_lock(report_ctx *c, int *ret_fd)
{
	_cleanup_free_ char *p = NULL;
	_cleanup_close_ int fd = -1;

	if (asprintf(&p, "%s/.lock", c->o->spool_dir) < 0) {
		p = NULL;
		return -ENOMEM;
	}
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	/* another sender (run, report-send) has it: wait, within the budget */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (report_elapsed_ms(c) + 100 > c->o->budget_ms)
			return -EBUSY;
		report_pause(c, 100);
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}
