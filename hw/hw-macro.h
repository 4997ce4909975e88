/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Ownership helpers shared by hw/ and node-agent/ (node-agent/basic/macro.h), as in
 * systemd's src/basic: a variable declared _cleanup_free_ / _cleanup_close_ /
 * _cleanup_fclose_ is released when it goes out of scope; TAKE_PTR() / TAKE_FD() hand it
 * over (and leave NULL / -1 behind). DEFINE_TRIVIAL_CLEANUP_FUNC() makes the same for a
 * type's own destructor.
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ELEMENTSOF(x)  (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* type_freep() for _cleanup_(type_freep), from a destructor that takes the pointer itself:
 * DEFINE_TRIVIAL_CLEANUP_FUNC(kubeconfig *, kubeconfig_free) defines kubeconfig_freep(). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
	static inline void func##p(type *p)                                                        \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})
