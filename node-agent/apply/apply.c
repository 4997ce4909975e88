/* SPDX-License-Identifier: MIT */
/* Applying a plan: atomic file writes, unit enablement, data disk formatting. */
#define _GNU_SOURCE
#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apply/apply.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/unit-start.h"
#include "basic/dl.h"
#include "basic/log.h"
#include "basic/parse-util.h"

extern char **environ;

#define FILE_MAX (4u * 1024 * 1024)

/* --- fault injection for crash-safety tests --- */

static unsigned fault_count;

static void fault_point(const char *when)
{
	const char *f = getenv("NODE_AGENT_FAULT");
	size_t n = strlen(when);
	uint64_t at;

	if (!f || strncmp(f, when, n) != 0 || f[n] != ':')
		return;
	if (parse_uint64(f + n + 1, 1, UINT_MAX, &at) == 0 && fault_count + 1 == at) {
		fprintf(stderr, "node-agent: fault injected %s of file %" PRIu64 "\n", when, at);
		_exit(70);
	}
}

/* --- paths and reads --- */

static char *join(const char *target, const char *path)
{
	char *s = NULL;
	size_t n = strlen(target);

	while (n > 1 && target[n - 1] == '/')
		n--;
	if (n == 1 && target[0] == '/')
		n = 0;
	if (asprintf(&s, "%.*s%s", (int)n, target, path) < 0)
		return NULL;
	return s;
}

/* Existing content and mode; -ENOENT when there is no file. */
static int read_existing(const char *path, char **ret, unsigned *ret_mode)
{
	struct stat st;
	int r = read_full_file_at(AT_FDCWD, path, O_NOFOLLOW, FILE_MAX, ret, NULL, &st);

	if (r == -EISDIR || r == -EFBIG || r == -ELOOP)
		return -EINVAL;
	if (r < 0)
		return r;
	*ret_mode = st.st_mode & 07777;
	return 0;
}

/* --- diff for --dry-run --- */

static char **split_lines(const char *s, size_t *ret_n)
{
	size_t n = 0, cap = 16;
	char **v = malloc(cap * sizeof(char *));

	for (const char *p = s; v && p && *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (n == cap) {
			char **nv = reallocarray(v, cap *= 2, sizeof(char *));
			if (!nv)
				break;
			v = nv;
		}
		v[n++] = strndup(p, l);
		p = e ? e + 1 : NULL;
	}
	*ret_n = n;
	return v;
}

static void lines_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The hunk of a unified diff (whole-file context) from an LCS table: the files we write
 * are small configs, so O(n*m) is fine; bounded to keep it so. */
static void print_hunk(const na_log *log, char **a, size_t n, char **b, size_t m)
{
	_cleanup_free_ unsigned *t = NULL;

	if (n > 4000 || m > 4000 || !(t = calloc((n + 1) * (m + 1), sizeof(unsigned)))) {
		na_logf(log, LOG_INFO, "@@ (too large to show) @@");
		return;
	}
	for (size_t i = n; i-- > 0;)
		for (size_t j = m; j-- > 0;)
			t[i * (m + 1) + j] =
			    !strcmp(a[i], b[j]) ? t[(i + 1) * (m + 1) + j + 1] + 1
						: (t[(i + 1) * (m + 1) + j] > t[i * (m + 1) + j + 1]
						       ? t[(i + 1) * (m + 1) + j]
						       : t[i * (m + 1) + j + 1]);
	na_logf(log, LOG_INFO, "@@ -%zu,%zu +%zu,%zu @@", n ? (size_t)1 : 0, n, m ? (size_t)1 : 0,
		m);
	for (size_t i = 0, j = 0; i < n || j < m;) {
		if (i < n && j < m && !strcmp(a[i], b[j])) {
			na_logf(log, LOG_INFO, " %s", a[i]);
			i++, j++;
		} else if (j < m && (i == n || t[i * (m + 1) + j + 1] >= t[(i + 1) * (m + 1) + j]))
			na_logf(log, LOG_INFO, "+%s", b[j++]);
		else
			na_logf(log, LOG_INFO, "-%s", a[i++]);
	}
}

static void print_diff(const na_log *log, const char *path, const char *old, const char *new)
{
	size_t n, m;
	char **a = split_lines(old ? old : "", &n), **b = split_lines(new, &m);

	na_logf(log, LOG_INFO, "--- %s", old ? path : "/dev/null");
	na_logf(log, LOG_INFO, "+++ %s", path);
	print_hunk(log, a, n, b, m);
	lines_free(a, n);
	lines_free(b, m);
}

/* --- units --- */

/* What `systemctl enable` does for WantedBy=local-fs.target, done on files so it also
 * works on a target directory. */
static int enable_unit(const char *target, const char *unit, bool dry_run, const na_log *log,
		       apply_result *res)
{
	_cleanup_free_ char *link = NULL, *want = NULL, *path = NULL;
	char buf[PATH_MAX];
	ssize_t k;
	int r;

	if (asprintf(&want, "../%s", unit) < 0 ||
	    asprintf(&link, "/etc/systemd/system/local-fs.target.wants/%s", unit) < 0)
		return -ENOMEM;
	path = join(target, link);
	if (!path)
		return -ENOMEM;
	k = readlink(path, buf, sizeof(buf) - 1);
	if (k >= 0 && (size_t)k == strlen(want) && !strncmp(buf, want, (size_t)k)) {
		na_logf(log, LOG_INFO, "  unchanged %s (enabled)", unit);
		res->unchanged++;
		return 0;
	}
	na_logf(log, LOG_INFO, "  %s %s -> %s", dry_run ? "would enable" : "enable", link, want);
	res->changed++;
	if (dry_run)
		return 0;
	if ((r = mkdir_parents(path)) < 0)
		return r;
	unlink(path);
	if (symlink(want, path) < 0)
		return -errno;
	return 0;
}

/* On the running system: reload systemd and start the mount, before K3s needs it, waiting
 * for it (what comes next may need it mounted). 0, or -errno when it did not start. */
static int start_unit_live(const char *unit, const na_log *log)
{
	_cleanup_free_ char *msg = NULL;
	int r;

	/* not booted with systemd (a target root, a container): nothing to start */
	if (dl_systemd() < 0 || sym_sd_booted() <= 0)
		return 0;
	r = unit_start(unit, &(unit_start_opts){.reload = true, .timeout_s = 120}, &msg);
	if (r < 0 && !msg)
		return r;
	if (r < 0)
		na_logf(log, LOG_WARNING, "  warning: %s", msg);
	else
		na_logf(log, LOG_INFO, "  %s", msg);
	return r;
}

/* --- data disk --- */

/* Fresh libblkid look at the device right before formatting: the plan may be older than
 * the disk's contents. Returns 1 when any signature is present, 0 when blank. */
static int device_has_signature(const char *dev, char **ret_first)
{
	blkid_probe pr = blkid_new_probe_from_filename(dev);
	int r = 0;

	if (!pr)
		return -errno ? -errno : -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_BADCSUM);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	if (blkid_do_probe(pr) == 0) {
		const char *t = NULL;
		if (blkid_probe_lookup_value(pr, "TYPE", &t, NULL) < 0)
			blkid_probe_lookup_value(pr, "PTTYPE", &t, NULL);
		*ret_first = strdup(t ? t : "unknown");
		r = 1;
	}
	blkid_free_probe(pr);
	return r;
}

static int run_wait(char *const argv[])
{
	pid_t pid;
	int status, r;

	r = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (r != 0)
		return -r;
	for (int i = 0; i < 6000; i++) { /* 10 minutes at most */
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
		if (w < 0)
			return -errno;
		nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -ETIMEDOUT;
}

static int apply_disk(const plan_disk *d, const char *target, bool dry_run, const na_log *log,
		      apply_result *res)
{
	_cleanup_free_ char *rel = NULL, *dev = NULL, *first = NULL;
	int r;

	if (strcmp(d->action, "format") != 0) {
		na_logf(log, LOG_INFO, "  unchanged %s: %s", d->device, d->reason);
		res->unchanged++;
		return 0;
	}
	if (asprintf(&rel, "/dev/%s", d->device) < 0 || !(dev = join(target, rel)))
		return -ENOMEM;
	if (!d->wipe_allowed) {
		r = device_has_signature(dev, &first);
		if (r != 0) {
			na_logf(log, LOG_ERR, "  refuse %s: %s", dev,
				r > 0 ? "it is no longer blank" : "it cannot be read");
			if (first)
				na_logf(log, LOG_ERR, "    found %s signature; nothing was written",
					first);
			res->failed++;
			return r > 0 ? -EEXIST : r;
		}
	}
	na_logf(log, LOG_INFO, "  %s %s: ext4, label %s, uuid %s (%s)",
		dry_run ? "would format" : "format", dev, d->fs_label, d->fs_uuid, d->reason);
	res->changed++;
	if (!dry_run) {
		char *argv[] = {"mkfs.ext4", "-q",	 "-F", "-L", d->fs_label,
				"-U",	     d->fs_uuid, dev,  NULL};
		r = run_wait(argv);
		if (r < 0) {
			na_logf(log, LOG_ERR, "  failed: mkfs.ext4 %s: %s", dev, strerror(-r));
			res->failed++;
			return r;
		}
	}
	return 0;
}

/* The directories on the data disk that bind mounts take as their source (a bind mount of
 * a missing directory fails): made once, kept on the disk for later boots. */
static int make_bind_dirs(const plan_disk *d, const char *target, bool dry_run, const na_log *log,
			  apply_result *res)
{
	for (char **b = d->bind_dirs; b && *b; b++) {
		_cleanup_free_ char *path = join(target, *b), *child = NULL;
		struct stat st;

		if (!path || asprintf(&child, "%s/.", path) < 0)
			return -ENOMEM;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			na_logf(log, LOG_INFO, "  unchanged %s (directory)", *b);
			res->unchanged++;
			continue;
		}
		na_logf(log, LOG_INFO, "  %s %s (directory)", dry_run ? "would create" : "create",
			*b);
		res->changed++;
		if (dry_run)
			continue;
		if (mkdir_parents(child) < 0 || (mkdir(path, 0700) < 0 && errno != EEXIST)) {
			int r = -errno;
			na_logf(log, LOG_ERR, "  failed %s: %s", *b, strerror(errno));
			res->failed++;
			return r;
		}
	}
	return 0;
}

int apply_plan(const na_plan *plan, const char *target, bool dry_run, const na_log *log,
	       apply_result *ret)
{
	apply_result res = {0};
	int r, first_error = 0;
	bool live = !strcmp(target, "/"), disk_ready = true;

	*ret = res;
	r = plan_check(plan, log);
	if (r < 0)
		return r; /* nothing is written for a refused plan */

	fault_count = 0;
	/* the disk first: a mount unit must not point at a disk that was not prepared */
	if (plan->disk) {
		r = apply_disk(plan->disk, target, dry_run, log, &res);
		if (r < 0) {
			first_error = r;
			disk_ready = false;
		}
	}
	for (size_t i = 0; i < plan->n_files; i++) {
		const plan_file *f = &plan->files[i];
		_cleanup_free_ char *path = join(target, f->path), *old = NULL;
		unsigned mode = 0;

		if (!path)
			return -ENOMEM;
		if (f->needs_disk && !disk_ready) {
			na_logf(log, LOG_WARNING, "  skipped %s: the data disk is not ready",
				f->path);
			continue;
		}
		r = read_existing(path, &old, &mode);
		if (r == 0 && !strcmp(old, f->content) && mode == f->mode) {
			na_logf(log, LOG_INFO, "  unchanged %s", f->path);
			res.unchanged++;
		} else if (dry_run) {
			na_logf(log, LOG_INFO, "  would write %s (mode %04o%s)", f->path, f->mode,
				r == 0 && mode != f->mode ? ", mode changes" : "");
			print_diff(log, f->path, r == 0 ? old : NULL, f->content);
			res.changed++;
		} else {
			r = write_atomic_hooked(path, f->content, f->mode, fault_point);
			fault_count++;
			if (r < 0) {
				na_logf(log, LOG_ERR, "  failed %s: %s", f->path, strerror(-r));
				res.failed++;
				if (!first_error)
					first_error = r;
			} else {
				na_logf(log, LOG_INFO, "  wrote %s (mode %04o)", f->path, f->mode);
				res.changed++;
			}
		}
	}
	for (char **u = plan->units; disk_ready && u && *u; u++) {
		r = enable_unit(target, *u, dry_run, log, &res);
		if (r < 0 && !first_error)
			first_error = r;
		if (r >= 0 && live && !dry_run)
			r = start_unit_live(*u, log);
		/* the data disk is mounted now: the sources of the bind mounts that follow (not
		 * made when it is not: they would land on the RAM root under its mount point) */
		if (r >= 0 && plan->disk && !strcmp(*u, plan->disk->unit))
			r = make_bind_dirs(plan->disk, target, dry_run, log, &res);
		if (r < 0 && !first_error)
			first_error = r;
	}
	if (res.changed == 0 && res.failed == 0)
		na_logf(log, LOG_INFO, "nothing to change: %s already matches the plan", target);
	*ret = res;
	return first_error;
}
