/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>
#include <syslog.h>

#include "hw-macro.h"

/*
 * The one log sink of the library code. A stage that reports progress, or a parser that
 * finds several problems at once, hands each line to the sink; it never prints. The
 * command line decides where lines go: a stream (na_log_stream) or the journal. Failures
 * themselves travel as -errno plus an error text (char **ret_err) that the caller logs
 * once; the sink is for what comes besides.
 *
 * prio is a syslog priority (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG); msg has no
 * trailing newline. A NULL sink, or one without fn, drops the lines.
 */
typedef struct na_log {
	void (*fn)(void *userdata, int prio, const char *msg);
	void *userdata;
} na_log;

_printf_(3, 4) void na_logf(const na_log *l, int prio, const char *fmt, ...);

/* A sink that writes each line and a newline to f (NULL f: drops). */
na_log na_log_stream(FILE *f);
