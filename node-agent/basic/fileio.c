/* SPDX-License-Identifier: MIT */
#include <errno.h>
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
