/* SPDX-License-Identifier: MIT */
/*
 * Where the boot job's words go: the journal with structured fields (NODE_AGENT_STAGE=...)
 * when stderr is the journal, else stderr; and one status line for `systemctl status`
 * (sd_notify STATUS=).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>

#include "basic/dl.h"
#include "run/run-internal.h"

static bool to_journal(void)
{
	/* stderr already goes to the journal: send structured entries there instead */
	return getenv("JOURNAL_STREAM") && dl_systemd() == 0;
}

void run_log(int prio, const char *stage, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	if (to_journal()) {
		char *m = NULL, *p = NULL, *s = NULL;
		if (asprintf(&m, "MESSAGE=%s: %s", stage, msg) >= 0 &&
		    asprintf(&p, "PRIORITY=%d", prio) >= 0 &&
		    asprintf(&s, "NODE_AGENT_STAGE=%s", stage) >= 0) {
			struct iovec iov[] = {
			    {m, strlen(m)},
			    {p, strlen(p)},
			    {s, strlen(s)},
			    {(char *)"SYSLOG_IDENTIFIER=node-agent", 28},
			};
			sym_sd_journal_sendv(iov, 4);
		}
		free(m);
		free(p);
		free(s);
	} else
		fprintf(stderr, "node-agent: %s%s: %s\n",
			prio <= LOG_ERR	      ? "error: "
			: prio <= LOG_WARNING ? "warning: "
					      : "",
			stage, msg);
	free(msg);
}

void run_notify(const char *fmt, ...)
{
	char *msg = NULL, *line = NULL;
	va_list ap;

	if (!getenv("NOTIFY_SOCKET") || dl_systemd() < 0)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg && asprintf(&line, "STATUS=%s", msg) >= 0)
		sym_sd_notify(0, line);
	free(line);
	free(msg);
}

/* A stage's log lines, one journal entry each; the indentation meant for a terminal goes. */
static void stage_line(void *userdata, int prio, const char *msg)
{
	run_log(prio, userdata, "%s", msg + strspn(msg, " "));
}

na_log run_stage_log(const char *stage)
{
	return (na_log){.fn = stage_line, .userdata = (void *)stage};
}
