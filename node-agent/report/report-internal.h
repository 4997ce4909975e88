/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Inside the report stage (deliver.h), one file per seam:
 *   deliver.c   the stage: options, one run of deliver_report()
 *   backoff.c   the clock and the retry schedule (initial delay, full jitter, Retry-After)
 *   envelope.c  the report/v1 envelope and its idempotency key
 *   spool.c     the on-disk spool: its bounds, its lock, reports set aside (.bad, .rejected)
 *   send.c      one report over HTTP, and what the collector's answer means for it
 * Every function that can fail returns -errno; what happened on the way, for people, goes
 * through the caller's log hook (report_log()), never to a stream.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/json-util.h"
#include "basic/macro.h"
#include "report/deliver.h"

#define REPORT_FILE_MAX	  (16u * 1024 * 1024) /* one report; larger files are not ours */
#define REPORT_ASIDE_KEEP 16		      /* .bad/.rejected files kept for inspection */
#define REPORT_SEQ_MAX	  99999999u

/* One run of deliver_report(). */
typedef struct report_ctx {
	const deliver_opts *o;
	deliver_clock clock; /* o->clock, its NULL members the system's */
	deliver_stats *st;
	uint64_t rng; /* jitter only, nothing secret */
	uint64_t start_ms;
} report_ctx;

/* deliver.c */
#define report_log(c, prio, ...) na_logf(&(c)->o->log, prio, __VA_ARGS__)

/* backoff.c */
/* The clock, the jitter's seed, the start of the budget. */
void report_ctx_init(report_ctx *c, const deliver_opts *o, deliver_stats *st);
uint64_t report_elapsed_ms(report_ctx *c);
int64_t report_wall_s(report_ctx *c);
void report_pause(report_ctx *c, unsigned ms);		  /* counted in st->waited_ms */
unsigned report_random_upto(report_ctx *c, unsigned max); /* uniform in 0..max */
/* The random wait before the first request: 0..initial_delay_ms, shortened to leave a
 * second of the budget. */
unsigned report_initial_delay(report_ctx *c);
/* The largest wait after FAILURES (>= 1) failed requests: min(cap, base * 2^(failures-1)). */
unsigned report_backoff_ceiling(const deliver_opts *o, unsigned failures);
/* The wait after FAILURES failed requests, the last answered STATUS (0: none) with
 * RETRY_AFTER_S (-1: none): full jitter, uniform in 0..ceiling; after a 429 or 503 with
 * Retry-After, that (at most retry_after_cap_ms) plus 0..base_ms. */
unsigned report_backoff_wait(report_ctx *c, unsigned failures, long status, int retry_after_s);

/* envelope.c */
bool report_key_valid(const char *s);
/* One JSON value and nothing after it but white space; NULL when not. */
json_object *report_parse_json(const char *s, size_t len);
/* The machine_id a report is made for: MACHINE_ID, else the inventory's, else NULL. */
const char *report_machine_id(json_object *inv, const char *machine_id);
/* A spool file's envelope, checked: -EBADMSG when it is not one. *ret_key points into
 * *ret_env. */
int report_envelope_check(const char *body, size_t len, json_object **ret_env,
			  const char **ret_key);
/* The envelope of a new report, as text ending in a newline. */
int report_envelope_build(report_ctx *c, json_object *inv, const char *inventory_json,
			  const char *machine_id, char **ret);

/* spool.c */
typedef struct report_spool_entry {
	unsigned seq;
	size_t size;
} report_spool_entry;

typedef struct report_spool {
	report_spool_entry *v; /* oldest first */
	size_t n;
	size_t bytes;
	unsigned max_seq; /* over every NNNNNNNN.json* name, set aside ones included */
} report_spool;

int report_mkdir_p(const char *path, mode_t mode);
/* NNNNNNNN.json files of DIR, oldest first; set-aside files beyond REPORT_ASIDE_KEEP are
 * removed, oldest first, and leftovers of an interrupted write_atomic() too. */
int report_spool_scan(const char *dir, report_spool *ret);
void report_spool_done(report_spool *l);
char *report_spool_path(const char *dir, unsigned seq, const char *suffix);
/* Spool the new report BODY (of INV, for MID); then keep the spool within its bounds,
 * dropping the oldest (the newest always stays). */
int report_spool_add(report_ctx *c, const char *body, json_object *inv, const char *mid);
/* Rename NNNNNNNN.json to NNNNNNNN.json + SUFFIX; when that fails it is removed, so that
 * it is never looped on. */
int report_spool_set_aside(report_ctx *c, unsigned seq, const char *suffix);
/* The spool's lock, waited for within the budget (-EBUSY when it runs out). */
int report_spool_lock(report_ctx *c, int *ret_fd);

/* send.c */
enum {
	REPORT_DELIVERED = 0,
	REPORT_REJECTED = 1, /* the collector refuses it, or it is no report: set aside */
};
bool report_status_rejects(long status);
bool report_worth_retrying(int r, const fetch_result *fr);
/* POST one report (NAME for messages), retried with backoff. REPORT_DELIVERED,
 * REPORT_REJECTED, or -errno: not delivered this run, and the run stops here (order is
 * kept: nothing newer goes first). */
int report_send(report_ctx *c, const char *name, const char *body, size_t len, const char *key);
/* The same for the spool file SEQ, removed once delivered or set aside when refused. */
int report_send_spooled(report_ctx *c, unsigned seq);
