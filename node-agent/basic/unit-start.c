/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/dl.h"
#include "basic/macro.h"
#include "basic/unit-start.h"

#define SD_DEST	   "org.freedesktop.systemd1"
#define SD_PATH	   "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

_printf_(2, 3) static void set_msg(char **m, const char *fmt, ...)
{
	va_list ap;

	if (!m)
		return;
	free(*m);
	va_start(ap, fmt);
	if (vasprintf(m, fmt, ap) < 0)
		*m = NULL;
	va_end(ap);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void bus_unrefp(sd_bus **b)
{
	if (*b)
		sym_sd_bus_unref(*b);
}
static void slot_unrefp(sd_bus_slot **s)
{
	if (*s)
		sym_sd_bus_slot_unref(*s);
}
static void message_unrefp(sd_bus_message **m)
{
	if (*m)
		sym_sd_bus_message_unref(*m);
}
static void bus_error_freep(sd_bus_error *e)
{
	sym_sd_bus_error_free(e);
}

typedef struct job_wait {
	const char *path;
	char *result;
	bool stopped; /* the caller's poll stopped the wait */
} job_wait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	job_wait *w = userdata;
	uint32_t id;
	const char *path, *unit, *result;

	if (sym_sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->path && !w->result && !strcmp(path, w->path))
		w->result = strdup(result);
	return 0;
}

static char *unit_property(sd_bus *bus, const char *unit, const char *prop)
{
	_cleanup_(bus_error_freep) sd_bus_error e = SD_BUS_ERROR_NULL;
	_cleanup_(message_unrefp) sd_bus_message *reply = NULL;
	const char *path;
	char *v = NULL;

	if (sym_sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "GetUnit", &e, &reply, "s",
				   unit) >= 0 &&
	    sym_sd_bus_message_read(reply, "o", &path) >= 0)
		sym_sd_bus_get_property_string(bus, SD_DEST, path, "org.freedesktop.systemd1.Unit",
					       prop, &e, &v);
	return v;
}

/* Process the bus until the JobRemoved signal of w->path arrived or the deadline passed:
 * checked before looking for more, so a busy bus (every unit's signals, after Subscribe)
 * cannot keep us past it. */
static int wait_job(sd_bus *bus, job_wait *w, uint64_t deadline, const unit_start_opts *o)
{
	uint64_t next_poll = now_ms() + 2000;

	for (;;) {
		uint64_t now = now_ms(), until = deadline;
		int r = sym_sd_bus_process(bus, NULL);

		if (r < 0)
			return r;
		if (w->result)
			return 0;
		if (now >= deadline)
			return -ETIMEDOUT;
		if (o->poll && now >= next_poll) {
			int p = o->poll(o->userdata);

			if (p < 0) {
				w->stopped = true;
				return p;
			}
			next_poll = now + 2000;
		}
		if (r > 0)
			continue;
		if (o->poll && next_poll < until)
			until = next_poll;
		r = sym_sd_bus_wait(bus, (until > now ? until - now : 0) * 1000);
		if (r < 0 && r != -EINTR)
			return r;
	}
}

int unit_start(const char *unit, const unit_start_opts *o, char **ret_msg)
{
	_cleanup_(bus_unrefp) sd_bus *bus = NULL;
	_cleanup_(slot_unrefp) sd_bus_slot *slot = NULL;
	_cleanup_(message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(bus_error_freep) sd_bus_error e = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *active = NULL, *sub = NULL;
	job_wait w = {0};
	uint64_t deadline = now_ms() + (uint64_t)(o->timeout_s > 0 ? o->timeout_s : 0) * 1000;
	int r;

	r = dl_systemd();
	if (r < 0) {
		set_msg(ret_msg, "libsystemd.so.0 cannot be loaded");
		return r;
	}
	if (sym_sd_booted() <= 0) {
		set_msg(ret_msg, "cannot start %s: this system was not booted with systemd", unit);
		return -EOPNOTSUPP;
	}
	r = sym_sd_bus_open_system(&bus);
	if (r < 0) {
		set_msg(ret_msg, "cannot connect to the system bus: %s", strerror(-r));
		return r;
	}
	sym_sd_bus_set_method_call_timeout(bus, 30 * 1000000ULL);
	if (o->reload)
		r = sym_sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Reload", &e, NULL,
					   "");
	/* subscribed before the call, so a job that finishes at once is not missed */
	if (r >= 0 && o->timeout_s > 0)
		r = sym_sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved",
					    on_job_removed, &w);
	if (r >= 0 && o->timeout_s > 0)
		r = sym_sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", &e, NULL,
					   "");
	if (r >= 0)
		r = sym_sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "StartUnit", &e,
					   &reply, "ss", unit, "replace");
	if (r < 0) {
		set_msg(ret_msg, "cannot start %s: %s", unit, e.message ? e.message : strerror(-r));
		return r;
	}
	if (o->timeout_s <= 0) {
		set_msg(ret_msg, "start %s", unit);
		return 0;
	}
	r = sym_sd_bus_message_read(reply, "o", &w.path);
	if (r < 0) {
		set_msg(ret_msg, "StartUnit %s: unexpected reply", unit);
		return r;
	}
	r = wait_job(bus, &w, deadline, o);
	if (r == -ETIMEDOUT)
		set_msg(ret_msg, "%s did not finish starting within %ld s; see journalctl -u %s",
			unit, o->timeout_s, unit);
	else if (r < 0 && w.stopped)
		set_msg(ret_msg, "%s: stopped waiting for its start job", unit);
	else if (r < 0)
		set_msg(ret_msg, "D-Bus: %s", strerror(-r));
	if (r < 0) {
		free(w.result);
		return r;
	}
	active = unit_property(bus, unit, "ActiveState");
	sub = unit_property(bus, unit, "SubState");
	if (strcmp(w.result, "done") || !active || strcmp(active, "active")) {
		set_msg(ret_msg, "%s: start job %s, unit %s/%s; see journalctl -u %s", unit,
			w.result, active ? active : "?", sub ? sub : "?", unit);
		free(w.result);
		return -EIO;
	}
	set_msg(ret_msg, "%s %s (%s)", unit, active, sub ? sub : "?");
	free(w.result);
	return 0;
}
