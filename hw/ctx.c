/* SPDX-License-Identifier: MIT */
/* The root-prefixed context and every read of the machine. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "hw-internal.h"

int hw_ctx_new(const char *root, hw_ctx **ret)
{
	hw_ctx *ctx;
	const char *r = root && *root ? root : "/";

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->root_fd = open(r, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->root_fd < 0) {
		int r_errno = -errno;
		free(ctx);
		return r_errno;
	}
	ctx->root = strdup(r);
	if (!ctx->root) {
		hw_ctx_free(ctx);
		return -ENOMEM;
	}
	/* Same inode as "/" means the live system, however the root was spelled. */
	struct stat a, b;
	ctx->live = fstat(ctx->root_fd, &a) == 0 && stat("/", &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino;
	ctx->nvml = ctx->live;
	*ret = ctx;
	return 0;
}

hw_ctx *hw_ctx_free(hw_ctx *ctx)
{
	if (!ctx)
		return NULL;
	if (ctx->root_fd >= 0)
		close(ctx->root_fd);
	for (size_t i = 0; i < ctx->n_warnings; i++)
		free(ctx->warnings[i]);
	free(ctx->warnings);
	free(ctx->pci_ids_override);
	free(ctx->root);
	free(ctx);
	return NULL;
}

bool hw_ctx_is_live(const hw_ctx *ctx)
{
	return ctx->live;
}

int hw_ctx_set_pci_ids(hw_ctx *ctx, const char *host_path)
{
	char *p = NULL;

	if (host_path) {
		p = strdup(host_path);
		if (!p)
			return -ENOMEM;
	}
	free(ctx->pci_ids_override);
	ctx->pci_ids_override = p;
	return 0;
}

void hw_ctx_set_nvml(hw_ctx *ctx, bool enable)
{
	ctx->nvml = enable;
}

/* Warnings are data: they travel with the inventory and the caller decides how to log. */
void hw_warn(hw_ctx *ctx, const char *path, const char *fmt, ...)
{
	char *msg = NULL, *line = NULL;
	char **n;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	if (asprintf(&line, "/%s: %s", path[0] == '/' ? path + 1 : path, msg) < 0)
		line = NULL;
	free(msg);
	if (!line)
		return;
	/* Keep the list bounded: a broken tree must not make the report huge. */
	if (ctx->n_warnings >= 256) {
		free(line);
		return;
	}
	n = reallocarray(ctx->warnings, ctx->n_warnings + 1, sizeof(*n));
	if (!n) {
		free(line);
		return;
	}
	ctx->warnings = n;
	ctx->warnings[ctx->n_warnings++] = line;
}

void hw_warn_errno(hw_ctx *ctx, const char *path, int err)
{
	hw_warn(ctx, path, "%s", strerror(err < 0 ? -err : err));
}

static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

int hw_read_file(hw_ctx *ctx, const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	/* one byte more than allowed, so that reading it proves the file too large */
	size_t cap = max < 4096 ? max + 1 : 4096 + 1, len = 0;

	fd = openat(ctx->root_fd, rel(path), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k;

		if (len == cap) {
			char *nb;

			if (len > max)
				return -EFBIG;
			cap = cap * 4 > max + 1 ? max + 1 : cap * 4;
			nb = realloc(buf, cap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		/* a sysfs attribute arrives in one read; don't pay a second syscall for EOF */
		if (max <= HW_ATTR_MAX + 1 && len < cap)
			break;
	}
	if (len > max)
		return -EFBIG;
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

char *hw_attr(hw_ctx *ctx, const char *path, unsigned flags)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	r = hw_read_file(ctx, path, HW_ATTR_MAX, &buf, &len);
	if (r < 0) {
		bool quiet = (r == -ENOENT && !(flags & HW_READ_WARN_MISSING)) ||
			     ((r == -EINVAL || r == -ENODEV || r == -ENXIO) &&
			      (flags & HW_READ_QUIET_EINVAL));
		if (r == -EFBIG)
			hw_warn(ctx, path, "larger than %u bytes, ignored", HW_ATTR_MAX);
		else if (!quiet)
			hw_warn_errno(ctx, path, r);
		return NULL;
	}
	if (flags & HW_READ_RAW) {
		if (len == 0) {
			hw_warn(ctx, path, "empty");
			return NULL;
		}
		return TAKE_PTR(buf);
	}
	if (memchr(buf, '\0', len)) {
		hw_warn(ctx, path, "contains NUL bytes, ignored");
		return NULL;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	if (len == 0) {
		if (!(flags & HW_READ_EMPTY_OK))
			hw_warn(ctx, path, "empty");
		return NULL;
	}
	return TAKE_PTR(buf);
}

char *hw_attrf(hw_ctx *ctx, unsigned flags, const char *fmt, ...)
{
	_cleanup_free_ char *p = NULL;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (k < 0)
		return NULL;
	return hw_attr(ctx, p, flags);
}

bool hw_attr_u64(hw_ctx *ctx, const char *path, int base, unsigned flags, uint64_t *ret)
{
	_cleanup_free_ char *s = hw_attr(ctx, path, flags);

	if (!s)
		return false;
	if (hw_parse_u64(s, base, ret) < 0) {
		hw_warn(ctx, path, "not a number: \"%.32s\"", s);
		return false;
	}
	return true;
}

bool hw_attr_i64(hw_ctx *ctx, const char *path, unsigned flags, int64_t *ret)
{
	_cleanup_free_ char *s = hw_attr(ctx, path, flags);

	if (!s)
		return false;
	if (hw_parse_i64(s, ret) < 0) {
		hw_warn(ctx, path, "not a number: \"%.32s\"", s);
		return false;
	}
	return true;
}

hw_tri hw_attr_bool(hw_ctx *ctx, const char *path, unsigned flags)
{
	uint64_t v;

	if (!hw_attr_u64(ctx, path, 10, flags, &v))
		return HW_TRI_UNKNOWN;
	if (v > 1) {
		hw_warn(ctx, path, "not 0 or 1: %llu", (unsigned long long)v);
		return HW_TRI_UNKNOWN;
	}
	return v ? HW_TRI_TRUE : HW_TRI_FALSE;
}

char *hw_readlink(hw_ctx *ctx, const char *path)
{
	char buf[4096];
	ssize_t k;

	k = readlinkat(ctx->root_fd, rel(path), buf, sizeof(buf) - 1);
	if (k < 0 || (size_t)k >= sizeof(buf) - 1)
		return NULL;
	return hw_strndup(buf, (size_t)k);
}

char *hw_link_basename(hw_ctx *ctx, const char *path)
{
	_cleanup_free_ char *t = hw_readlink(ctx, path);

	if (!t)
		return NULL;
	return hw_strdup(hw_path_basename(t));
}

bool hw_exists(hw_ctx *ctx, const char *path)
{
	return faccessat(ctx->root_fd, rel(path), F_OK, 0) == 0;
}

static int cmp_version(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

int hw_read_dir(hw_ctx *ctx, const char *path, char ***ret)
{
	_cleanup_close_ int fd = -1;
	char **v = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	fd = openat(ctx->root_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (n >= 100000) /* a bound, not a limit any machine reaches */
			break;
		if (hw_strv_push(&v, hw_strdup(de->d_name)) < 0) {
			closedir(d);
			hw_strv_free(v);
			return -ENOMEM;
		}
		n++;
	}
	closedir(d);
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	qsort(v, n, sizeof(*v), cmp_version);
	*ret = v;
	return 0;
}

int hw_list_dir(hw_ctx *ctx, const char *path, char ***ret)
{
	char **v;
	int r;

	r = hw_read_dir(ctx, path, ret);
	if (r >= 0 || r == -ENOMEM)
		return r;
	if (r != -ENOENT)
		hw_warn_errno(ctx, path, r);
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*ret = v;
	return 0;
}
