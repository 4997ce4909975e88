/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

/*
 * Whole-file reads with a bound, for every file the agent reads in one piece (configs,
 * kubeconfigs, certificates, spool files, manifests). Each returns 0 or -errno and
 * never logs; the buffer is NUL-terminated (len excludes the NUL) and owned by the caller.
 */

/* Read fd to its end. More than max bytes: -EFBIG. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);

/* Open path (relative to dirfd, AT_FDCWD for the working directory) with O_RDONLY |
 * O_CLOEXEC | O_NOCTTY | open_flags (e.g. O_NOFOLLOW, O_NONBLOCK), require a regular file
 * (-EISDIR for a directory, -EINVAL for anything else) of at most max bytes (-EFBIG) and
 * read it whole. ret_st (optional) receives its fstat(). */
int read_full_file_at(int dirfd, const char *path, int open_flags, size_t max, char **ret,
		      size_t *ret_len, struct stat *ret_st);

static inline int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	return read_full_file_at(-100 /* AT_FDCWD */, path, 0, max, ret, ret_len, NULL);
}

/* Free a secret (key, token) after overwriting it; NULL is fine. Returns NULL. */
char *erase_and_free(char *s);
static inline void erase_and_freep(char **s)
{
	erase_and_free(*s);
}

/* mkdir -p of PATH's parent directories (0755). */
int mkdir_parents(const char *path);

/* Write PATH atomically with MODE (parents created): a temporary file beside it, fsync,
 * rename over it, fsync of the directory; a reader sees the old file or the new one. The
 * optional HOOK is called with "before-rename" and "after-rename" (crash-safety tests). */
int write_atomic_hooked(const char *path, const char *content, unsigned mode,
			void (*hook)(const char *when));
static inline int write_atomic(const char *path, const char *content, unsigned mode)
{
	return write_atomic_hooked(path, content, mode, NULL);
}
