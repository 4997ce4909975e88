/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/capbuf.h"
#include "basic/fileio.h"
#include "basic/macro.h"

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_(capbuf_done) capbuf b = {.max = max};
	char *data;
	size_t len;

	for (;;) {
		int r = capbuf_grow(&b);
		if (r < 0)
			return r;
		ssize_t k = read(fd, b.data + b.len, b.cap - b.len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		b.len += (size_t)k;
		if (b.len > max)
			return -EFBIG;
	}
	b.data[b.len] = '\0';
	data = capbuf_take(&b, &len);
	if (!data)
		return -ENOMEM;
	*ret = data;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int read_full_file_at(int dirfd, const char *path, int open_flags, size_t max, char **ret,
		      size_t *ret_len, struct stat *ret_st)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | open_flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if ((size_t)st.st_size > max)
		return -EFBIG;
	r = read_full_fd(fd, max, ret, ret_len);
	if (r < 0)
		return r;
	if (ret_st)
		*ret_st = st;
	return 0;
}

char *erase_and_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
	return NULL;
}

int mkdir_parents(const char *path)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	_cleanup_free_ char *d = strdup(path);
	_cleanup_close_ int fd = -1;
	char *slash;

	if (!d)
		return -ENOMEM;
	slash = strrchr(d, '/');
	if (slash == d)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* temp file beside the target, fsync, rename over it, fsync the directory */
int write_atomic_hooked(const char *path, const char *content, unsigned mode,
			void (*hook)(const char *when))
{
	_cleanup_free_ char *tmp = NULL;
	const char *base = strrchr(path, '/');
	size_t len = strlen(content), off = 0;
	int fd, r = 0;

	if (asprintf(&tmp, "%.*s.%s.node-agent-tmp", (int)(base - path + 1), path, base + 1) < 0)
		return -ENOMEM;
	r = mkdir_parents(path);
	if (r < 0)
		return r;
	unlink(tmp); /* left over from an interrupted run */
	/* not _cleanup_close_: close() can report a failed write-back, which must fail us */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 0777);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t k = write(fd, content + off, len - off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)k;
	}
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	if (hook)
		hook("before-rename");
	if (rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	if (hook)
		hook("after-rename");
	return fsync_dir_of(path);
}
