/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

void na_logf(const na_log *l, int prio, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (!l || !l->fn)
		return;
	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	/* Out of memory: the line is lost, not the run. */
	if (r < 0)
		return;
	l->fn(l->userdata, prio, msg);
	free(msg);
}

static void stream_line(void *userdata, int prio, const char *msg)
{
	(void)prio;
	fprintf(userdata, "%s\n", msg);
}

na_log na_log_stream(FILE *f)
{
	return (na_log){.fn = f ? stream_line : NULL, .userdata = f};
}
