/* SPDX-License-Identifier: MIT */
/*
 * The report stage: spool the inventory as a report, then send the spool oldest first with
 * exponential backoff and full jitter, honouring Retry-After, inside a time budget so that
 * a dead collector never holds up the boot for long (report-internal.h names the parts).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "basic/parse-util.h"
#include "report/report-internal.h"

static int parse_env_uint(const char *name, uint64_t min, uint64_t max, uint64_t *ret)
{
	const char *s = getenv(name);

	if (!s)
		return 0;
	return parse_uint64(s, min, max, ret) < 0 ? -EINVAL : 1;
}

int deliver_opts_init(deliver_opts *o, const char **ret_bad)
{
	static const struct {
		const char *name;
		size_t off;
		bool is_size;
		uint64_t min, max;
	} vars[] = {
	    {"NODE_AGENT_REPORT_MAX_FILES", offsetof(deliver_opts, max_files), false, 1, 100000},
	    {"NODE_AGENT_REPORT_MAX_BYTES", offsetof(deliver_opts, max_bytes), true, 1024,
	     1ULL << 32},
	    {"NODE_AGENT_REPORT_ATTEMPTS", offsetof(deliver_opts, max_attempts), false, 1, 1000},
	    {"NODE_AGENT_REPORT_BASE_MS", offsetof(deliver_opts, base_ms), false, 1, 3600000},
	    {"NODE_AGENT_REPORT_CAP_MS", offsetof(deliver_opts, cap_ms), false, 1, 3600000},
	    {"NODE_AGENT_REPORT_BUDGET_MS", offsetof(deliver_opts, budget_ms), false, 0, 86400000},
	    {"NODE_AGENT_REPORT_DELAY_MS", offsetof(deliver_opts, initial_delay_ms), false, 0,
	     3600000},
	    {"NODE_AGENT_REPORT_RETRY_AFTER_CAP_MS", offsetof(deliver_opts, retry_after_cap_ms),
	     false, 0, 86400000},
	    {"NODE_AGENT_REPORT_TIMEOUT_MS", offsetof(deliver_opts, timeout_ms), false, 1000,
	     3600000},
	};
	int ret = 0;

	*o = (deliver_opts){
	    .max_files = 32,
	    .max_bytes = 8u * 1024 * 1024,
	    .max_attempts = 8,
	    .base_ms = 1000,
	    .cap_ms = 30000,
	    .budget_ms = 60000,
	    .initial_delay_ms = 2000,
	    .retry_after_cap_ms = 30000,
	    .timeout_ms = 20000,
	};
	for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
		uint64_t v;
		int r = parse_env_uint(vars[i].name, vars[i].min, vars[i].max, &v);
		if (r < 0) {
			if (ret_bad && !ret)
				*ret_bad = vars[i].name;
			ret = -EINVAL;
		} else if (r > 0) {
			if (vars[i].is_size)
				*(size_t *)((char *)o + vars[i].off) = (size_t)v;
			else
				*(unsigned *)((char *)o + vars[i].off) = (unsigned)v;
		}
	}
	return ret;
}

/* This run's report, when the spool cannot take it (a read-only or full disk): sent from
 * memory, after what is spooled. */
static int send_unspooled(report_ctx *c, const char *body)
{
	_cleanup_(json_object_putp) json_object *env = NULL;
	const char *key;
	int r;

	r = report_envelope_check(body, strlen(body), &env, &key);
	if (r < 0)
		return -EIO;
	r = report_send(c, "report", body, strlen(body), key);
	if (r == REPORT_DELIVERED)
		c->st->delivered++;
	else if (r == REPORT_REJECTED)
		c->st->rejected++;
	return r;
}

static int spool_count(const char *dir, unsigned *ret)
{
	_cleanup_(report_spool_done) report_spool l = {0};
	int r = report_spool_scan(dir, &l);

	if (r >= 0)
		*ret = (unsigned)l.n;
	return r;
}

static int deliver(report_ctx *c, const char *inventory_json, const char *machine_id)
{
	const deliver_opts *o = c->o;
	_cleanup_(json_object_putp) json_object *inv = NULL;
	_cleanup_(report_spool_done) report_spool l = {0};
	_cleanup_free_ char *body = NULL, *unspooled = NULL;
	_cleanup_close_ int lock_fd = -1;
	bool stopped = false;
	int r, err = 0; /* what stopped the run, or kept the spool from being read */

	if (!o->url || !o->spool_dir)
		return -EINVAL;
	if (inventory_json) {
		inv = report_parse_json(inventory_json, strlen(inventory_json));
		if (!inv || !json_object_is_type(inv, json_type_object))
			return -EINVAL;
		r = report_envelope_build(c, inv, inventory_json, machine_id, &body);
		if (r < 0)
			return r;
	}
	r = report_mkdir_p(o->spool_dir, 0755);
	if (r >= 0)
		r = report_spool_lock(c, &lock_fd);
	if (r >= 0 && body)
		r = report_spool_add(c, body, inv, report_machine_id(inv, machine_id));
	if (r < 0) {
		if (!body)
			return r;
		/* a read-only or full disk: still try this run's report, from memory */
		report_log(c, LOG_WARNING,
			   "cannot spool the report in %s: %s; sending it unspooled", o->spool_dir,
			   strerror(-r));
		unspooled = TAKE_PTR(body);
	}
	r = lock_fd >= 0 ? report_spool_scan(o->spool_dir, &l) : 0;
	if (r < 0)
		err = r;
	if (l.n || unspooled) {
		/* a fleet that reboots together (power cut) must not report at once */
		c->st->delay_ms = report_initial_delay(c);
		report_pause(c, c->st->delay_ms);
	}
	for (size_t i = 0; i < l.n && !stopped; i++) {
		r = report_send_spooled(c, l.v[i].seq);
		if (r < 0) {
			err = r;
			stopped = true;
		}
	}
	if (unspooled && stopped)
		report_log(c, LOG_WARNING, "the report that could not be spooled is lost");
	else if (unspooled) {
		r = send_unspooled(c, unspooled);
		if (r < 0)
			err = r;
	}
	if (lock_fd >= 0)
		(void)spool_count(o->spool_dir, &c->st->spooled);
	if (c->st->spooled)
		return err ? err : -EAGAIN;
	if (c->st->rejected)
		return -EBADMSG;
	return err;
}

int deliver_report(const deliver_opts *o, const char *inventory_json, const char *machine_id,
		   deliver_stats *stats)
{
	deliver_stats st = {0};
	report_ctx c;
	int r;

	report_ctx_init(&c, o, &st);
	r = deliver(&c, inventory_json, machine_id);
	if (stats)
		*stats = st;
	return r;
}
