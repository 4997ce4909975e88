/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the report stage (node-agent/report/), as TAP, on a fake clock and a fake
 * collector (deliver_opts.clock, .post): the retry schedule (base, doubling, cap, the
 * bounds of the jitter, Retry-After and its cap, the initial delay, the time budget and
 * the attempts), what each kind of answer does to a report, the spool's bounds (the oldest
 * dropped first, the newest always kept), corrupt files set aside as .bad, the set-aside
 * files kept to their bound, the lock. No real time passes: waits advance the fake clock.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/report-internal.h"

#define MAX_EVENTS 64

static int n_tests, n_failed;
static char dir[256];

static void ok(int cond, const char *fmt, ...) _printf_(2, 3);
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	n_tests++;
	n_failed += !cond;
	printf("%sok %d - ", cond ? "" : "not ", n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* --- the fake world --- */

typedef struct answer {
	int r;	     /* what fetch_url() returns: 0, -EBADMSG (HTTP status), -ECONNREFUSED ... */
	long status; /* 0: no answer */
	int retry_after_s; /* -1: none */
} answer;

typedef struct world {
	uint64_t now_ms;
	unsigned post_ms; /* how long one request takes */
	unsigned sleeps[MAX_EVENTS];
	size_t n_sleeps;
	answer script[MAX_EVENTS]; /* then 201 for every request */
	size_t n_script, n_posts;
	long timeout_s;		 /* of the last request */
	char *hosts[MAX_EVENTS]; /* inventory.hostname of each request */
	char *keys[MAX_EVENTS];	 /* its Idempotency-Key header */
	char log[16384];
	deliver_clock clock; /* the functions below, on this world */
} world;

static uint64_t fake_now(void *userdata)
{
	return ((world *)userdata)->now_ms;
}

static void fake_sleep(void *userdata, unsigned ms)
{
	world *w = userdata;

	if (w->n_sleeps < MAX_EVENTS)
		w->sleeps[w->n_sleeps++] = ms;
	w->now_ms += ms;
}

static int64_t fake_wall(void *userdata)
{
	return 1767225600 + (int64_t)(((world *)userdata)->now_ms / 1000); /* 2026-01-01 */
}

static void fake_log(void *userdata, int prio, const char *msg)
{
	world *w = userdata;
	size_t len = strlen(w->log);

	snprintf(w->log + len, sizeof(w->log) - len, "%s\n", msg);
}

static int fake_post(void *userdata, const char *url, const char *body, size_t len,
		     const fetch_opts *fo, fetch_result *ret)
{
	world *w = userdata;
	answer a = w->n_posts < w->n_script ? w->script[w->n_posts] : (answer){0, 201, -1};
	json_object *env = report_parse_json(body, len), *inv, *h;

	if (w->n_posts < MAX_EVENTS) {
		const char *host = json_object_object_get_ex(env, "inventory", &inv) &&
					   json_object_object_get_ex(inv, "hostname", &h)
				       ? json_object_get_string(h)
				       : "?";
		w->hosts[w->n_posts] = strdup(host);
		w->keys[w->n_posts] = strdup(fo->headers && fo->headers[0] ? fo->headers[0] : "");
	}
	json_object_put(env);
	w->n_posts++;
	w->timeout_s = fo->timeout_s;
	if ((uint64_t)w->post_ms > (uint64_t)fo->timeout_s * 1000) {
		/* the collector is slower than the request may take */
		w->now_ms += (uint64_t)fo->timeout_s * 1000;
		*ret = (fetch_result){.retry_after_s = -1};
		snprintf(ret->error, sizeof(ret->error), "%s: timed out", url);
		return -ETIMEDOUT;
	}
	w->now_ms += w->post_ms;
	*ret = (fetch_result){.status = a.status, .retry_after_s = a.retry_after_s};
	if (a.status)
		snprintf(ret->error, sizeof(ret->error), "HTTP status %ld from %s", a.status, url);
	else if (a.r)
		snprintf(ret->error, sizeof(ret->error), "%s: cannot connect", url);
	return a.r;
}

static void world_reset(world *w)
{
	for (size_t i = 0; i < w->n_posts && i < MAX_EVENTS; i++) {
		free(w->hosts[i]);
		free(w->keys[i]);
	}
	*w = (world){.post_ms = 50, .clock = {fake_now, fake_sleep, fake_wall, w}};
}

static void script(world *w, size_t n, const answer *a)
{
	memcpy(w->script, a, n * sizeof(*a));
	w->n_script = n;
}

/* The collector refuses every connection. */
static void collector_down(world *w)
{
	for (size_t i = 0; i < MAX_EVENTS; i++)
		w->script[i] = (answer){-ECONNREFUSED, 0, -1};
	w->n_script = MAX_EVENTS;
}

static const char *const env_vars[] = {
    "NODE_AGENT_REPORT_MAX_FILES",  "NODE_AGENT_REPORT_MAX_BYTES",
    "NODE_AGENT_REPORT_ATTEMPTS",   "NODE_AGENT_REPORT_BASE_MS",
    "NODE_AGENT_REPORT_CAP_MS",	    "NODE_AGENT_REPORT_BUDGET_MS",
    "NODE_AGENT_REPORT_DELAY_MS",   "NODE_AGENT_REPORT_RETRY_AFTER_CAP_MS",
    "NODE_AGENT_REPORT_TIMEOUT_MS",
};

static void clear_env(void)
{
	for (size_t i = 0; i < ELEMENTSOF(env_vars); i++)
		unsetenv(env_vars[i]);
}

/* A fresh world and the options of a test run with the spool DIR/NAME: the defaults (main()
 * clears the environment), no initial delay, the fake clock and collector. */
static deliver_opts test_opts(world *w, const char *name)
{
	static char spools[8][320];
	static size_t n_spools;
	char *spool = spools[n_spools++ % ELEMENTSOF(spools)];
	deliver_opts o;

	world_reset(w);
	snprintf(spool, sizeof(spools[0]), "%s/%s", dir, name);
	deliver_opts_init(&o, NULL);
	o.url = "http://collector.test/reports";
	o.spool_dir = spool;
	o.initial_delay_ms = 0;
	o.log = (na_log){.fn = fake_log, .userdata = w};
	o.post = fake_post;
	o.userdata = w;
	o.clock = &w->clock;
	o.jitter_seed = 42;
	return o;
}

/* An inventory named HOST; PAD bytes of padding make it larger. */
static char *inventory(const char *host, const char *collected_at, size_t pad)
{
	char *s = NULL;

	if (asprintf(&s,
		     "{\"schema\": \"node-agent/inventory/v1\", \"hostname\": \"%s\", "
		     "\"machine_id\": \"0123456789abcdef0123456789abcdef\", \"collected_at\": "
		     "\"%s\", \"pad\": \"%*s\"}",
		     host, collected_at, (int)pad, "") < 0)
		abort();
	return s;
}

static int send_inventory(const deliver_opts *o, const char *host, size_t pad, deliver_stats *st)
{
	_cleanup_free_ char *inv = inventory(host, "2026-01-01T00:00:00Z", pad);

	return deliver_report(o, inv, NULL, st);
}

/* The names in DIR, sorted, space-separated (hidden ones left out). */
static char *listing(const char *d)
{
	struct dirent **v;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int n = scandir(d, &v, NULL, alphasort);
	const char *sep = "";

	for (int i = 0; i < n; i++) {
		if (v[i]->d_name[0] != '.') {
			fprintf(f, "%s%s", sep, v[i]->d_name);
			sep = " ";
		}
		free(v[i]);
	}
	if (n >= 0)
		free(v);
	fclose(f);
	return out;
}

/* The hostnames of the spooled reports, oldest first. */
static char *spooled_hosts(const char *d)
{
	_cleanup_(report_spool_done) report_spool l = {0};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (report_spool_scan(d, &l) < 0)
		fputs("(scan failed)", f);
	for (size_t i = 0; i < l.n; i++) {
		_cleanup_free_ char *path = report_spool_path(d, l.v[i].seq, ""), *body = NULL;
		json_object *env = NULL, *inv, *h;
		const char *key;
		size_t n;

		if (deliver_read_file(path, &body, &n) == 0 &&
		    report_envelope_check(body, n, &env, &key) == 0 &&
		    json_object_object_get_ex(env, "inventory", &inv) &&
		    json_object_object_get_ex(inv, "hostname", &h))
			fprintf(f, "%s%s", i ? " " : "", json_object_get_string(h));
		json_object_put(env);
	}
	fclose(f);
	return out;
}

static void write_file(const char *d, const char *name, const char *content)
{
	_cleanup_free_ char *p = NULL;
	FILE *f;

	if (asprintf(&p, "%s/%s", d, name) < 0 || !(f = fopen(p, "we")))
		abort();
	fputs(content, f);
	fclose(f);
}

static void is_list(char *got, const char *want, const char *what)
{
	ok(strcmp(got, want) == 0, "%s", what);
	if (strcmp(got, want))
		printf("#   got:      %s\n#   expected: %s\n", got, want);
	free(got);
}

/* --- the retry schedule, as functions --- */

static void test_schedule(void)
{
	deliver_opts o;
	deliver_stats st = {0};
	report_ctx c, c2;
	unsigned want[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
	unsigned lo = UINT_MAX, hi = 0, n_distinct = 0, seen[16] = {0};
	bool same = true, in_bounds = true;
	uint64_t sum = 0;

	deliver_opts_init(&o, NULL);
	o.jitter_seed = 7;
	for (unsigned n = 1; n <= 8; n++)
		ok(report_backoff_ceiling(&o, n) == want[n - 1],
		   "ceiling after %u failures: min(cap 30 s, base 1 s * 2^%u) = %u ms", n, n - 1,
		   want[n - 1]);
	ok(report_backoff_ceiling(&o, 4000000000u) == 30000,
	   "a huge failure count stays at the cap");
	o.base_ms = 3000000;
	o.cap_ms = 2000000;
	ok(report_backoff_ceiling(&o, 1) == 2000000, "a base above the cap is capped");
	o.base_ms = 1000;
	o.cap_ms = 30000;

	/* full jitter: uniform in 0..ceiling, both ends reached, mean near the middle */
	report_ctx_init(&c, &o, &st);
	for (int i = 0; i < 20000; i++) {
		unsigned w = report_backoff_wait(&c, 3, 503, -1);
		in_bounds &= w <= 4000;
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
		sum += w;
		if (!seen[w * 16 / 4001]++)
			n_distinct++;
	}
	ok(in_bounds, "20000 waits after 3 failures all within 0..4000 ms");
	ok(lo < 100 && hi > 3900, "the jitter spans the range: %u..%u ms", lo, hi);
	ok(sum / 20000 > 1900 && sum / 20000 < 2100, "its mean is the middle: %llu ms",
	   (unsigned long long)(sum / 20000));
	ok(n_distinct == 16, "and it is spread: every sixteenth of the range is hit");

	/* the seed fixes the sequence; another seed gives another */
	report_ctx_init(&c, &o, &st);
	report_ctx_init(&c2, &o, &st);
	for (int i = 0; i < 16; i++)
		same &= report_backoff_wait(&c, 5, 0, -1) == report_backoff_wait(&c2, 5, 0, -1);
	ok(same, "the same jitter_seed gives the same waits");
	o.jitter_seed = 8;
	report_ctx_init(&c2, &o, &st);
	same = true;
	for (int i = 0; i < 16; i++)
		same &= report_backoff_wait(&c, 5, 0, -1) == report_backoff_wait(&c2, 5, 0, -1);
	ok(!same, "another seed, other waits");

	/* Retry-After: what the server asked, at most retry_after_cap_ms, plus 0..base */
	in_bounds = true;
	for (int i = 0; i < 2000; i++) {
		unsigned a = report_backoff_wait(&c, 1, 429, 5),
			 b = report_backoff_wait(&c, 6, 503, 2);
		unsigned d = report_backoff_wait(&c, 1, 429, 3600),
			 e = report_backoff_wait(&c, 1, 503, 0);
		in_bounds &= a >= 5000 && a <= 6000 && b >= 2000 && b <= 3000 && d >= 30000 &&
			     d <= 31000 && e <= 1000;
	}
	ok(in_bounds, "429/503 with Retry-After: RA s + 0..base, RA capped at retry_after_cap_ms");
	in_bounds = true;
	for (int i = 0; i < 2000; i++)
		in_bounds &= report_backoff_wait(&c, 1, 500, 60) <= 1000 &&
			     report_backoff_wait(&c, 2, 0, 60) <= 2000;
	ok(in_bounds, "Retry-After on another status (500, no answer) is not honoured");

	/* the initial delay: 0..initial_delay_ms, leaving a second of the budget */
	in_bounds = true;
	for (int i = 0; i < 2000; i++)
		in_bounds &= report_initial_delay(&c) <= 2000;
	o.budget_ms = 1500;
	o.initial_delay_ms = 60000;
	for (int i = 0; i < 2000; i++)
		in_bounds &= report_initial_delay(&c) <= 500;
	o.budget_ms = 800;
	for (int i = 0; i < 200; i++)
		in_bounds &= report_initial_delay(&c) == 0;
	ok(in_bounds, "the initial delay is within 0..2 s, and leaves 1 s of a short budget");
}

/* --- the schedule in a run: fake collector, fake clock --- */

static void test_retries(world *w)
{
	deliver_opts o = test_opts(w, "retries");
	deliver_stats st;
	unsigned sum = 0;
	bool in_bounds = true;
	int r;

	/* the collector refuses connections 5 times, then stores: 6 requests, 5 waits */
	script(w, 5,
	       (answer[]){{-ECONNREFUSED, 0, -1},
			  {-ECONNREFUSED, 0, -1},
			  {-ECONNREFUSED, 0, -1},
			  {-ECONNREFUSED, 0, -1},
			  {-ECONNREFUSED, 0, -1}});
	o.base_ms = 1000;
	o.cap_ms = 4000;
	r = send_inventory(&o, "r1", 0, &st);
	ok(r == 0 && st.delivered == 1 && st.spooled == 0 && st.attempts == 6,
	   "connection refused 5 times, then delivered: 6 attempts (r=%d, %u attempts)", r,
	   st.attempts);
	ok(w->n_sleeps == 5, "5 waits between them (%zu)", w->n_sleeps);
	for (size_t i = 0; i < w->n_sleeps; i++) {
		in_bounds &= w->sleeps[i] <= report_backoff_ceiling(&o, (unsigned)i + 1);
		sum += w->sleeps[i];
	}
	ok(in_bounds, "wait n within min(cap 4 s, 1 s * 2^(n-1)): %u %u %u %u %u ms", w->sleeps[0],
	   w->sleeps[1], w->sleeps[2], w->sleeps[3], w->sleeps[4]);
	ok(st.waited_ms == sum && w->now_ms == sum + 6 * 50, "waited_ms counts them (%u ms)",
	   st.waited_ms);
	ok(w->n_posts == 6 && !strcmp(w->keys[0], w->keys[5]) && strlen(w->keys[0]) == 51,
	   "every retry carries the same header: %s", w->keys[0]);
	ok(strstr(w->log, "cannot connect; attempt 1, retrying in ") != NULL,
	   "each retry is logged with its wait");

	/* 429 and 503 with Retry-After: the server's wait, plus up to one base */
	world_reset(w);
	script(w, 3, (answer[]){{-EBADMSG, 429, 7}, {-EBADMSG, 503, 120}, {-EBADMSG, 503, -1}});
	o.retry_after_cap_ms = 20000;
	o.budget_ms = 600000;
	r = send_inventory(&o, "r2", 0, &st);
	ok(r == 0 && st.attempts == 4 && w->n_sleeps == 3, "429, 503, 503, then delivered");
	ok(w->sleeps[0] >= 7000 && w->sleeps[0] <= 8000, "Retry-After: 7 honoured: %u ms",
	   w->sleeps[0]);
	ok(w->sleeps[1] >= 20000 && w->sleeps[1] <= 21000,
	   "Retry-After: 120 capped at retry_after_cap_ms 20 s: %u ms", w->sleeps[1]);
	ok(w->sleeps[2] <= 4000, "503 without Retry-After: backoff (%u ms <= 4000)", w->sleeps[2]);

	/* max_attempts: the report stays spooled, the run fails with the last error */
	world_reset(w);
	script(w, 4,
	       (answer[]){{-EBADMSG, 500, -1},
			  {-EBADMSG, 502, -1},
			  {-EBADMSG, 500, -1},
			  {-EBADMSG, 500, -1}});
	o.max_attempts = 3;
	r = send_inventory(&o, "r3", 0, &st);
	ok(r == -EBADMSG && st.attempts == 3 && w->n_sleeps == 2 && st.spooled == 1,
	   "3 attempts at most: 3 requests, 2 waits, the report stays spooled (r=%d)", r);
	ok(strstr(w->log, "attempt 3 of 3, the report stays spooled") != NULL, "and says so");
	o.max_attempts = 8;

	/* statuses that are not retried */
	world_reset(w);
	script(w, 1, (answer[]){{-EBADMSG, 401, -1}});
	r = deliver_report(&o, NULL, NULL, &st);
	ok(r == -EBADMSG && st.attempts == 1 && w->n_sleeps == 0 && st.spooled == 1,
	   "401: not retried this run, the report stays spooled");
	ok(strstr(w->log, "not retried this run") != NULL, "and says so");
	world_reset(w);
	script(w, 1, (answer[]){{-EPERM, 0, -1}});
	r = deliver_report(&o, NULL, NULL, &st);
	ok(r == -EPERM && st.attempts == 1 && st.spooled == 1,
	   "a certificate that does not verify: not retried");
	world_reset(w);
	r = deliver_report(&o, NULL, NULL, &st);
	ok(r == 0 && st.delivered == 1 && !strcmp(w->hosts[0], "r3"), "the next run delivers it");
	world_reset(w);
}

static void test_budget(world *w)
{
	deliver_opts o = test_opts(w, "budget");
	deliver_stats st;
	int r;

	/* 10 s budget, 2 s per request, 5 s waits: each wait must leave 1 s for a request */
	w->post_ms = 2000;
	collector_down(w);
	o.budget_ms = 10000;
	o.base_ms = o.cap_ms = 5000;
	o.max_attempts = 100;
	r = send_inventory(&o, "b1", 0, &st);
	ok(r < 0 && st.spooled == 1, "a dead collector: the run fails, the report stays spooled");
	ok(w->now_ms <= 10000, "within the 10 s budget on the fake clock (%llu ms, %u attempts)",
	   (unsigned long long)w->now_ms, st.attempts);
	ok(strstr(w->log, "no time left in the budget of 10000 ms") != NULL,
	   "and says why it stopped");

	/* a budget used up before a request: the request timeout would be under 1 s */
	world_reset(w);
	o.budget_ms = 900;
	r = deliver_report(&o, NULL, NULL, &st);
	ok(r == -ETIMEDOUT && st.attempts == 0 && st.spooled == 1,
	   "a budget under 1 s sends nothing: -ETIMEDOUT, still spooled");

	/* one request may take what is left of the budget, in whole seconds */
	world_reset(w);
	o.budget_ms = 2900;
	r = deliver_report(&o, NULL, NULL, &st);
	ok(r == 0 && st.delivered == 1 && w->timeout_s == 2,
	   "2.9 s left: the request may take 2 s, and goes (timeout %ld s)", w->timeout_s);
	world_reset(w);
}

/* --- what the answers do to the spool --- */

static void test_answers(world *w)
{
	deliver_opts o = test_opts(w, "answers");
	const char *sd = o.spool_dir;
	deliver_stats st;
	int r;

	/* three reports pile up while the collector is down, then arrive in order */
	collector_down(w);
	o.max_attempts = 1;
	send_inventory(&o, "a1", 0, &st);
	send_inventory(&o, "a2", 0, &st);
	r = send_inventory(&o, "a3", 0, &st);
	ok(r == -ECONNREFUSED && st.spooled == 3 && st.attempts == 1,
	   "collector down: 3 reports spooled, each run stops at the oldest");
	is_list(listing(sd), "00000001.json 00000002.json 00000003.json", "numbered in order");
	{
		_cleanup_free_ char *p = report_spool_path(sd, 1, ""), *body = NULL;
		size_t n;
		ok(deliver_read_file(p, &body, &n) == 0 &&
		       strstr(body, "\"created_at\":\"2026-01-01T00:00:00Z\"") != NULL,
		   "created_at comes from the (fake) wall clock");
	}
	world_reset(w);
	r = deliver_report(&o, NULL, NULL, &st);
	ok(r == 0 && st.delivered == 3 && w->n_posts == 3 && !strcmp(w->hosts[0], "a1") &&
	       !strcmp(w->hosts[1], "a2") && !strcmp(w->hosts[2], "a3"),
	   "collector up: all three delivered, oldest first");
	is_list(listing(sd), "", "the spool is empty");

	/* 422: set aside as .rejected, not retried; the next report goes on */
	world_reset(w);
	script(w, 1, (answer[]){{-EBADMSG, 422, -1}});
	send_inventory(&o, "a4", 0, &st);
	ok(st.rejected == 1 && st.delivered == 0 && w->n_posts == 1, "422: rejected, sent once");
	r = send_inventory(&o, "a5", 0, &st);
	ok(r == 0 && st.delivered == 1 && !strcmp(w->hosts[1], "a5"),
	   "the next report is delivered");
	is_list(listing(sd), "00000001.json.rejected",
		"the refused report is set aside (numbering starts again in an empty spool)");

	/* an unchanged inventory (collected_at aside) replaces the newest spooled report */
	world_reset(w);
	script(w, 2, (answer[]){{-ECONNREFUSED, 0, -1}, {-ECONNREFUSED, 0, -1}});
	send_inventory(&o, "a6", 0, &st);
	{
		_cleanup_free_ char *inv = inventory("a6", "2026-02-02T00:00:00Z", 0);
		deliver_report(&o, inv, NULL, &st);
	}
	is_list(listing(sd), "00000001.json.rejected 00000002.json",
		"an unchanged inventory replaces the newest spooled report");
	ok(strstr(w->log, "unchanged since the undelivered report 00000002.json") != NULL,
	   "and says so");
	world_reset(w);
	deliver_report(&o, NULL, NULL, &st);

	/* a spool that cannot be made (a file in the way): this run's report goes from memory */
	world_reset(w);
	write_file(dir, "not-a-dir", "x");
	{
		deliver_opts ob = test_opts(w, "not-a-dir/spool");

		r = send_inventory(&ob, "u1", 0, &st);
		ok(r == 0 && st.delivered == 1 && w->n_posts == 1 && !strcmp(w->hosts[0], "u1") &&
		       strstr(w->log, "cannot spool the report in ") &&
		       strstr(w->log, "sending it unspooled"),
		   "no spool: the report is still sent, unspooled");
		world_reset(w);
		script(w, 1, (answer[]){{-EBADMSG, 403, -1}});
		r = send_inventory(&ob, "u2", 0, &st);
		ok(r == -EBADMSG && st.spooled == 0 && st.delivered == 0,
		   "and when that fails, the run fails with its error");
	}
	world_reset(w);
}

/* The boot job's second report, once the node joined: the same inventory with `node` is a new
 * report (another key, not replacing the spooled one), and carries `node` as given. */
static void test_node(world *w)
{
	deliver_opts o = test_opts(w, "node");
	_cleanup_free_ char *inv = inventory("n1", "2026-03-03T00:00:00Z", 0), *p = NULL,
			    *body = NULL;
	deliver_stats st;
	size_t n;

	collector_down(w);
	o.max_attempts = 1;
	deliver_report(&o, inv, NULL, &st);
	o.node_json = "{\"name\":\"n1\",\"role\":\"agent\",\"joined\":true}";
	deliver_report(&o, inv, NULL, &st);
	is_list(listing(o.spool_dir), "00000001.json 00000002.json",
		"the same inventory with node {joined} is a second report, not a replacement");
	p = report_spool_path(o.spool_dir, 2, "");
	ok(p && deliver_read_file(p, &body, &n) == 0 &&
	       strstr(body, "\"node\":{\"name\":\"n1\",\"role\":\"agent\",\"joined\":true}"),
	   "the envelope carries node as given");
	deliver_report(&o, inv, NULL, &st);
	is_list(listing(o.spool_dir), "00000001.json 00000002.json",
		"the same again replaces the newest (same node)");
	world_reset(w);
	deliver_report(&o, NULL, NULL, &st);
	ok(w->n_posts == 2 && w->keys[0] && w->keys[1] && strcmp(w->keys[0], w->keys[1]),
	   "both delivered, under different idempotency keys");
	o.node_json = "[1]";
	ok(deliver_report(&o, inv, NULL, &st) == -EINVAL, "a node that is not an object: -EINVAL");
	world_reset(w);
}

static void test_bounds(world *w)
{
	deliver_opts o = test_opts(w, "bounds");
	const char *sd = o.spool_dir;
	deliver_stats st;
	struct stat sb;
	_cleanup_free_ char *p6 = report_spool_path(sd, 6, "");

	collector_down(w);
	o.max_attempts = 1;
	o.max_files = 4;
	for (int i = 1; i <= 6; i++) {
		char host[16];
		snprintf(host, sizeof(host), "b%d", i);
		send_inventory(&o, host, 2000, &st);
	}
	is_list(spooled_hosts(sd), "b3 b4 b5 b6", "at most 4 files: the oldest are dropped");
	ok(st.dropped == 1 && strstr(w->log, "spool over its bound (5 reports") &&
	       strstr(w->log, "dropped the oldest undelivered report 00000002.json"),
	   "each drop is counted and logged, naming the file");

	o.max_files = 32;
	stat(p6, &sb);
	o.max_bytes = (size_t)sb.st_size * 5 / 2;
	send_inventory(&o, "b7", 2000, &st);
	is_list(spooled_hosts(sd), "b6 b7", "at most 2.5 reports' bytes: the newest 2 stay");
	ok(st.dropped == 3, "3 dropped for the byte bound (%u)", st.dropped);

	o.max_bytes = 1024;
	deliver_report(&o, NULL, NULL, &st);
	is_list(spooled_hosts(sd), "b6 b7", "flushing alone never drops");
	send_inventory(&o, "b8", 2000, &st);
	is_list(spooled_hosts(sd), "b8",
		"a report over the byte bound is still kept: the newest always is");
	world_reset(w);
}

static void test_corrupt(world *w)
{
	deliver_opts o = test_opts(w, "corrupt");
	const char *sd = o.spool_dir;
	deliver_stats st;
	char name[64];
	int r;

	mkdir(sd, 0755);
	write_file(sd, "00000001.json", "{\"schema\": \"node-agent/report/v1\", \"inven");
	write_file(sd, "00000002.json",
		   "{\"schema\": \"something/else\", \"idempotency_key\": "
		   "\"00000000000000000000000000000000\", \"inventory\": {}}\n");
	write_file(sd, "00000003.json",
		   "{\"schema\": \"node-agent/report/v1\", \"idempotency_key\": \"ABC\", "
		   "\"inventory\": {}}\n");
	write_file(sd, ".00000009.json.node-agent-tmpXYZ", "half written");
	write_file(sd, "notes.txt", "not ours");
	r = send_inventory(&o, "c4", 0, &st);
	ok(r == 0 && st.corrupt == 3 && st.delivered == 1 && w->n_posts == 1 &&
	       !strcmp(w->hosts[0], "c4"),
	   "3 corrupt files set aside, the good report delivered (r=%d)", r);
	is_list(listing(sd), "00000001.json.bad 00000002.json.bad 00000003.json.bad notes.txt",
		"truncated, other schema, bad key: .bad; other names left alone");
	{
		_cleanup_free_ char *tmp = NULL;
		ok(asprintf(&tmp, "%s/.00000009.json.node-agent-tmpXYZ", sd) > 0 &&
		       access(tmp, F_OK) < 0 && errno == ENOENT,
		   "a leftover of an interrupted write is removed");
	}
	ok(strstr(w->log, "00000001.json: not a report (not a node-agent/report/v1 envelope): set "
			  "aside as .bad") != NULL,
	   "each is logged");
	r = deliver_report(&o, NULL, NULL, &st);
	ok(r == 0 && st.corrupt == 0 && w->n_posts == 1, "set-aside files are not looped on");

	/* of the set-aside files the newest REPORT_ASIDE_KEEP stay */
	for (int i = 10; i < 30; i++) {
		snprintf(name, sizeof(name), "%08d.json.rejected", i);
		write_file(sd, name, "{}");
	}
	deliver_report(&o, NULL, NULL, &st);
	is_list(listing(sd),
		"00000014.json.rejected 00000015.json.rejected 00000016.json.rejected "
		"00000017.json.rejected 00000018.json.rejected 00000019.json.rejected "
		"00000020.json.rejected 00000021.json.rejected 00000022.json.rejected "
		"00000023.json.rejected 00000024.json.rejected 00000025.json.rejected "
		"00000026.json.rejected 00000027.json.rejected 00000028.json.rejected "
		"00000029.json.rejected notes.txt",
		"23 set-aside files: the newest 16 are kept");
	world_reset(w);
	script(w, 1, (answer[]){{-EBADMSG, 415, -1}});
	send_inventory(&o, "c5", 0, &st);
	is_list(listing(sd),
		"00000015.json.rejected 00000016.json.rejected 00000017.json.rejected "
		"00000018.json.rejected 00000019.json.rejected 00000020.json.rejected "
		"00000021.json.rejected 00000022.json.rejected 00000023.json.rejected "
		"00000024.json.rejected 00000025.json.rejected 00000026.json.rejected "
		"00000027.json.rejected 00000028.json.rejected 00000029.json.rejected "
		"00000030.json.rejected notes.txt",
		"numbering goes on after the set-aside files; a 415 is set aside too");
	world_reset(w);
}

static void test_lock(world *w)
{
	deliver_opts o = test_opts(w, "lock");
	_cleanup_free_ char *lock = NULL;
	const char *sd = o.spool_dir;
	deliver_stats st;
	_cleanup_close_ int fd = -1;
	int r;

	if (asprintf(&lock, "%s/.lock", sd) < 0)
		abort();
	mkdir(sd, 0755);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ok(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "another sender holds the spool's lock");
	o.budget_ms = 2000;
	r = deliver_report(&o, NULL, NULL, &st);
	ok(r == -EBUSY && w->n_posts == 0, "a run waits for it within the budget, then gives up");
	ok(w->n_sleeps > 10 && w->sleeps[0] == 100 && st.waited_ms <= 2000,
	   "in 100 ms steps on the fake clock (%zu waits, %u ms)", w->n_sleeps, st.waited_ms);
	world_reset(w);
}

static void test_env(void)
{
	const char *bad = NULL;
	deliver_opts o;

	ok(deliver_opts_init(&o, &bad) == 0 && o.base_ms == 1000 && o.cap_ms == 30000 &&
	       o.max_files == 32 && o.max_bytes == 8u * 1024 * 1024 && o.initial_delay_ms == 2000,
	   "the documented defaults: base 1 s, cap 30 s, 32 files, 8 MiB, delay 0..2 s");
	setenv("NODE_AGENT_REPORT_BASE_MS", "250", 1);
	setenv("NODE_AGENT_REPORT_MAX_BYTES", "4096", 1);
	ok(deliver_opts_init(&o, &bad) == 0 && o.base_ms == 250 && o.max_bytes == 4096,
	   "NODE_AGENT_REPORT_* override them");
	setenv("NODE_AGENT_REPORT_CAP_MS", "12abc", 1);
	setenv("NODE_AGENT_REPORT_ATTEMPTS", "0", 1);
	ok(deliver_opts_init(&o, &bad) == -EINVAL && bad &&
	       !strcmp(bad, "NODE_AGENT_REPORT_ATTEMPTS") && o.base_ms == 250 &&
	       o.cap_ms == 30000 && o.max_attempts == 8,
	   "junk or out of range: -EINVAL naming the first, the others still apply");
	clear_env();
}

static void test_key(void)
{
	char a[33], b[33], c[33];

	deliver_key("m1", "{}", 2, a);
	deliver_key("m1", "{}", 2, b);
	deliver_key("m2", "{}", 2, c);
	ok(!strcmp(a, b) && strcmp(a, c) && report_key_valid(a),
	   "the idempotency key: 32 hex digits, from machine_id and content (%s)", a);
	deliver_key(NULL, "m1{}", 4, b);
	ok(strcmp(a, b) != 0, "machine_id and content do not run into each other");
	ok(!report_key_valid("ABCDEF0123456789abcdef0123456789") && !report_key_valid("abc"),
	   "upper case and short keys are not keys");
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	world w = {0};

	world_reset(&w);
	clear_env();
	snprintf(dir, sizeof(dir), "%s/test-report-spool.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_schedule();
	test_retries(&w);
	test_budget(&w);
	test_answers(&w);
	test_node(&w);
	test_bounds(&w);
	test_corrupt(&w);
	test_lock(&w);
	test_key();
	test_env();
	world_reset(&w);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
