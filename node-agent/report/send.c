/* SPDX-License-Identifier: MIT */
/*
 * One report over HTTP, and what the collector's answer means for it:
 *   2xx                                  delivered: the spool file is removed
 *   400 413 415 422                      the collector refuses this report: set aside as
 *                                        NNNNNNNN.json.rejected, never retried
 *   408 409 425 429 5xx, no answer       retried (backoff.c), then left spooled for next run
 *   other 4xx (401 403 404 ...), TLS     a setup problem, not the report's: no retry this
 *                                        run, the report stays spooled
 * Spool files that do not parse as a report envelope are set aside as .bad.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "report/report-internal.h"

bool report_status_rejects(long status)
{
	return status == 400 || status == 413 || status == 415 || status == 422;
}

bool report_worth_retrying(int r, const fetch_result *fr)
{
	long s = fr->status;

	if (s >= 500 || s == 408 || s == 409 || s == 425 || s == 429)
		return true;
	if (s >= 400)
		return false;
	/* a broken connection or handshake may be an overloaded collector; a certificate that
	 * does not verify (-EPERM) is a setup problem */
	return r == -ECONNREFUSED || r == -ETIMEDOUT || r == -EHOSTUNREACH || r == -EIO ||
	       r == -ECONNRESET || r == -EPIPE || r == -EPROTO;
}

static int post(report_ctx *c, const char *body, size_t len, const fetch_opts *fo,
		fetch_result *ret)
{
	const deliver_opts *o = c->o;

	if (o->post)
		return o->post(o->userdata, o->url, body, len, fo, ret);
	return fetch_url(o->url, body, len, fo, ret);
}

int report_send(report_ctx *c, const char *name, const char *body, size_t len, const char *key)
{
	const deliver_opts *o = c->o;
	_cleanup_free_ char *hdr = NULL;
	const char *headers[2] = {NULL, NULL};
	unsigned failures = 0;

	/* an sf-string, as draft-ietf-httpapi-idempotency-key-header shows it */
	if (asprintf(&hdr, "Idempotency-Key: \"%s\"", key) < 0) {
		hdr = NULL;
		return -ENOMEM;
	}
	headers[0] = hdr;
	for (;;) {
		uint64_t used = report_elapsed_ms(c);
		uint64_t left = o->budget_ms > used ? o->budget_ms - used : 0;
		unsigned t_ms = o->timeout_ms < left ? o->timeout_ms : (unsigned)left;
		fetch_opts fo = {.ca_file = o->ca_file,
				 .ca_pem = o->ca_pem,
				 .headers = headers,
				 .timeout_s = t_ms / 1000};
		_cleanup_(fetch_result_done) fetch_result fr = {.retry_after_s = -1};
		unsigned wait;
		int r;

		if (fo.timeout_s < 1) {
			report_log(
			    c, LOG_WARNING,
			    "%s: the time budget of %u ms is used up; the report stays spooled",
			    name, o->budget_ms);
			return -ETIMEDOUT;
		}
		fo.connect_timeout_s = fo.timeout_s < 10 ? fo.timeout_s : 10;
		r = post(c, body, len, &fo, &fr);
		c->st->attempts++;
		c->st->last_status = fr.status;
		if (r == 0)
			return REPORT_DELIVERED;
		if (report_status_rejects(fr.status)) {
			report_log(
			    c, LOG_WARNING,
			    "%s: %s: the collector refuses this report; set aside as %s.rejected",
			    name, fr.error, name);
			return REPORT_REJECTED;
		}
		if (!report_worth_retrying(r, &fr)) {
			report_log(c, LOG_WARNING,
				   "%s: %s; not retried this run, the report stays spooled", name,
				   fr.error);
			return r;
		}
		failures++;
		wait = report_backoff_wait(c, failures, fr.status, fr.retry_after_s);
		if (failures >= o->max_attempts) {
			report_log(c, LOG_WARNING,
				   "%s: %s; attempt %u of %u, the report stays spooled", name,
				   fr.error, failures, o->max_attempts);
			return r;
		}
		used = report_elapsed_ms(c);
		if (used + wait + 1000 > o->budget_ms) {
			report_log(c, LOG_WARNING,
				   "%s: %s; attempt %u, no time left in the budget of %u ms for "
				   "another: the report stays spooled",
				   name, fr.error, failures, o->budget_ms);
			return r;
		}
		report_log(c, LOG_WARNING, "%s: %s; attempt %u, retrying in %u.%u s", name,
			   fr.error, failures, wait / 1000, wait % 1000 / 100);
		report_pause(c, wait);
	}
}

int report_send_spooled(report_ctx *c, unsigned seq)
{
	_cleanup_free_ char *path = report_spool_path(c->o->spool_dir, seq, ""), *body = NULL;
	_cleanup_(json_object_putp) json_object *env = NULL;
	const char *key = NULL;
	char name[16];
	size_t len;
	int r;

	snprintf(name, sizeof(name), "%08u.json", seq);
	r = path ? deliver_read_file(path, &body, &len) : -ENOMEM;
	if (r == -ENOENT) /* gone meanwhile */
		return REPORT_DELIVERED;
	if (r == -ENOMEM)
		return r;
	if (r >= 0)
		r = report_envelope_check(body, len, &env, &key);
	if (r < 0) {
		int k = report_spool_set_aside(c, seq, ".bad");

		report_log(c, LOG_WARNING, "%s: not a report (%s): %s", name,
			   body ? "not a node-agent/report/v1 envelope" : "unreadable",
			   k < 0 ? "removed" : "set aside as .bad");
		c->st->corrupt++;
		return REPORT_REJECTED;
	}
	r = report_send(c, name, body, len, key);
	if (r == REPORT_DELIVERED) {
		if (unlink(path) < 0 && errno != ENOENT)
			/* sent twice next run, which the key makes harmless */
			report_log(c, LOG_WARNING, "%s: delivered but cannot be removed: %s", name,
				   strerror(errno));
		c->st->delivered++;
		report_log(c, LOG_INFO, "%s delivered (key %s)", name, key);
	} else if (r == REPORT_REJECTED) {
		report_spool_set_aside(c, seq, ".rejected");
		c->st->rejected++;
	}
	return r;
}
