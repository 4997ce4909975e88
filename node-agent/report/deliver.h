/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/fetch.h"
#include "basic/log.h"

/*
 * Reliable delivery of inventory reports to report.url.
 *
 * Each report is an envelope (schema node-agent/report/v1: machine_id, idempotency_key,
 * created_at, inventory, and optionally node: what the boot job made of it) written atomically to
 * SPOOL_DIR/NNNNNNNN.json before it is sent, removed once the collector answered 2xx. The spool is
 * sent oldest first, so reports arrive in the order they were made; a report that fails to send
 * stays spooled for the next run. Retries use exponential backoff with full jitter inside a per-run
 * time budget.
 *
 * The idempotency key is a 128-bit hash of machine_id and the inventory bytes: a report
 * resent after a lost answer carries the same key (body and Idempotency-Key header), so
 * the collector can tell "sent twice" from "a new report". The inventory's collected_at
 * makes each collection distinct.
 */

#define DELIVER_SCHEMA "node-agent/report/v1"

/* The time as the report stage sees it. Tests pass a fake one, so that a run of backoff
 * waits takes no time; a NULL member means the system's. */
typedef struct deliver_clock {
	uint64_t (*now_ms)(void *userdata);	       /* CLOCK_MONOTONIC: the time budget */
	void (*sleep_ms)(void *userdata, unsigned ms); /* nanosleep(): delay, backoff, lock */
	int64_t (*wall_s)(void *userdata);	       /* time(): a new report's created_at */
	void *userdata;
} deliver_clock;

typedef struct deliver_opts {
	const char *url;
	const char *ca_file;
	const char *ca_pem;
	const char *spool_dir;	     /* e.g. /var/lib/node-agent/spool */
	unsigned max_files;	     /* spool bound, default 32 */
	size_t max_bytes;	     /* spool bound, default 8 MiB */
	unsigned max_attempts;	     /* HTTP requests per run, default 8 */
	unsigned base_ms;	     /* backoff base, default 1000 */
	unsigned cap_ms;	     /* backoff cap, default 30000 */
	unsigned budget_ms;	     /* whole run incl. waits, default 60000 */
	unsigned initial_delay_ms;   /* random 0..this before the first request, default 2000 */
	unsigned retry_after_cap_ms; /* longest Retry-After honoured, default 30000 */
	unsigned timeout_ms;	     /* one request, default 20000 (whole seconds used) */
	na_log log;		     /* what happened, a line each (the library does not print) */
	/* The boot job's account of the node (a JSON object's text: name, role, joined), the
	 * envelope's optional `node` member; NULL for none. Part of the idempotency key. */
	const char *node_json;
	/* Optional hook: the HTTP POST (tests; the contract of fetch_url()); NULL means
	 * fetch_url(). */
	int (*post)(void *userdata, const char *url, const char *body, size_t len,
		    const fetch_opts *fo, fetch_result *ret);
	void *userdata;
	const deliver_clock *clock; /* NULL: the system's */
	uint64_t jitter_seed;	    /* 0: from getrandom() */
} deliver_opts;

typedef struct deliver_stats {
	unsigned delivered; /* accepted by the collector this run */
	unsigned spooled;   /* still in the spool afterwards */
	unsigned rejected;  /* refused by the collector (400, 413, 415, 422): set aside */
	unsigned corrupt;   /* unreadable spool files set aside as .bad */
	unsigned dropped;   /* oldest reports removed to keep the spool bound */
	unsigned attempts;  /* HTTP requests made */
	unsigned waited_ms; /* time spent sleeping (initial delay and backoff) */
	unsigned delay_ms;  /* of which the random initial delay */
	long last_status;   /* last HTTP status seen, 0 for none */
} deliver_stats;

/* Defaults, then NODE_AGENT_REPORT_{MAX_FILES,MAX_BYTES,ATTEMPTS,BASE_MS,CAP_MS,BUDGET_MS,
 * DELAY_MS,RETRY_AFTER_CAP_MS,TIMEOUT_MS} from the environment. -EINVAL with *ret_bad set
 * to the variable's name when one is not a number in range (the others still apply). */
int deliver_opts_init(deliver_opts *o, const char **ret_bad);

/*
 * Spool INVENTORY_JSON (a JSON object; NULL to only flush the spool) as a new report, then
 * send the spool oldest first. MACHINE_ID NULL takes the inventory's machine_id. A report
 * equal to the newest spooled one apart from collected_at replaces it.
 * Returns 0 when the spool is empty afterwards, else -errno of the last failure (the
 * reports stay spooled); what went wrong on the way was said through o->log. STATS, when
 * given, is filled in either case.
 */
int deliver_report(const deliver_opts *o, const char *inventory_json, const char *machine_id,
		   deliver_stats *stats);

/* The idempotency key of (machine_id, inventory bytes): 32 lower-case hex digits + NUL. */
void deliver_key(const char *machine_id, const char *data, size_t len, char ret[static 33]);

/* A report or inventory file: regular, not through a symlink, at most 16 MiB; its bytes
 * NUL-terminated. -errno (-EFBIG when larger, -EINVAL when not a regular file). */
int deliver_read_file(const char *path, char **ret, size_t *ret_len);
