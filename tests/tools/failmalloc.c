/* SPDX-License-Identifier: MIT */
/*
 * TEST TOOL, never part of the product: an LD_PRELOAD library that makes one allocation
 * fail, to test that a program's out-of-memory paths report an error instead of carrying
 * on with half its data (tests/85-plan-enomem.t).
 *
 *   FAILMALLOC_FAIL=N      the Nth call (from 1) of malloc, calloc, realloc, reallocarray,
 *                          strdup or strndup returns NULL with errno ENOMEM; the others
 *                          succeed. Unset or 0: none fails.
 *   FAILMALLOC_AFTER_OPEN=PATH
 *                          count only the calls made after the program's first open() (or
 *                          openat() from the working directory) of
 *                          PATH, to aim at one stage of it (node-agent plan opens its
 *                          --target directory between reading its inputs and planning).
 *   FAILMALLOC_REPORT=FILE at exit, FILE gets the number of calls counted.
 *
 * Calls from inside the C library (asprintf, open_memstream, stdio buffers) reach malloc
 * through its interposable symbol and are counted too. Works under AddressSanitizer
 * (ASAN_OPTIONS=verify_asan_link_order=0): the real allocator is whichever comes next
 * (RTLD_NEXT), and strdup/strndup/reallocarray, which ASan intercepts itself, are
 * defined here on top of malloc/realloc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);

extern char **environ;

static unsigned long n_calls, fail_at;
static int resolving, env_read, armed;

/* dlsym() may allocate before the real allocator is known: served from here, never freed */
static _Alignas(16) unsigned char bootstrap[4096];
static size_t bootstrap_used;

static void *bootstrap_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > sizeof(bootstrap) - bootstrap_used)
		return NULL;
	p = bootstrap + bootstrap_used;
	bootstrap_used += n;
	return p;
}

static int from_bootstrap(const void *p)
{
	return (const unsigned char *)p >= bootstrap &&
	       (const unsigned char *)p < bootstrap + sizeof(bootstrap);
}

static unsigned long env_number(const char *name)
{
	const char *s = getenv(name);
	unsigned long v = 0;

	/* digits only; anything else means 0 (no failure) */
	for (; s && *s >= '0' && *s <= '9' && v < 100000000; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	return s && *s ? 0 : v;
}

static void resolve(void)
{
	if (real_malloc || resolving)
		return;
	resolving = 1;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	resolving = 0;
}

/* The settings, once the C library has set up the environment: under AddressSanitizer the
 * first allocations come from its initialiser, before that. */
static int read_env(void)
{
	if (!env_read && environ) {
		fail_at = env_number("FAILMALLOC_FAIL");
		armed = armed || getenv("FAILMALLOC_AFTER_OPEN") == NULL;
		env_read = 1;
	}
	return env_read;
}

/* Count this call; true when it is the one to fail. */
static int should_fail(void)
{
	if (!read_env() || !armed)
		return 0;
	if (++n_calls == fail_at) {
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *malloc(size_t n)
{
	resolve();
	if (!real_malloc)
		return bootstrap_alloc(n);
	return should_fail() ? NULL : real_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	resolve();
	if (!real_calloc) {
		if (size && n > SIZE_MAX / size)
			return NULL;
		return bootstrap_alloc(n * size); /* static storage: already zero */
	}
	return should_fail() ? NULL : real_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	resolve();
	if (from_bootstrap(p)) {
		void *q = malloc(n);
		if (q)
			memcpy(q, p,
			       n < sizeof(bootstrap) - (size_t)((unsigned char *)p - bootstrap)
				   ? n
				   : sizeof(bootstrap) - (size_t)((unsigned char *)p - bootstrap));
		return q;
	}
	if (!real_realloc)
		return NULL;
	return should_fail() ? NULL : real_realloc(p, n);
}

void *reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size);
}

void free(void *p)
{
	if (!p || from_bootstrap(p))
		return;
	resolve();
	if (real_free)
		real_free(p);
}

/* open()'s mode argument, there only when FLAGS create a file */
#define MODE_ARG(flags)                                                                            \
	({                                                                                         \
		mode_t _mode = 0;                                                                  \
		if ((flags) & (O_CREAT | O_TMPFILE)) {                                             \
			va_list _ap;                                                               \
			va_start(_ap, flags);                                                      \
			_mode = va_arg(_ap, mode_t);                                               \
			va_end(_ap);                                                               \
		}                                                                                  \
		_mode;                                                                             \
	})

static void arm_on(const char *path)
{
	const char *after = getenv("FAILMALLOC_AFTER_OPEN");

	if (!armed && after && path && !strcmp(path, after))
		armed = 1;
}

static int open_and_arm(const char *path, int flags, mode_t mode)
{
	resolve();
	if (!real_open) {
		errno = ENOSYS;
		return -1;
	}
	arm_on(path);
	return real_open(path, flags, mode);
}

/* openat(AT_FDCWD, PATH) as the program's bounded file reads do it */
static int openat_and_arm(int dirfd, const char *path, int flags, mode_t mode)
{
	resolve();
	if (!real_openat) {
		errno = ENOSYS;
		return -1;
	}
	if (dirfd == AT_FDCWD || (path && path[0] == '/'))
		arm_on(path);
	return real_openat(dirfd, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	return openat_and_arm(dirfd, path, flags, MODE_ARG(flags));
}

/* what _FORTIFY_SOURCE makes of open()/openat() whose flags are not a constant */
int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	return open_and_arm(path, flags, 0);
}

int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags)
{
	return openat_and_arm(dirfd, path, flags, 0);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	return openat_and_arm(dirfd, path, flags, MODE_ARG(flags));
}

int open(const char *path, int flags, ...)
{
	return open_and_arm(path, flags, MODE_ARG(flags));
}

int open64(const char *path, int flags, ...)
{
	return open_and_arm(path, flags, MODE_ARG(flags));
}

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	return d ? memcpy(d, s, n) : NULL;
}

char *strndup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("FAILMALLOC_REPORT");
	char buf[32];
	int fd, n;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%lu\n", n_calls);
	if (n > 0 && write(fd, buf, (size_t)n) < 0)
		n = 0;
	close(fd);
}
