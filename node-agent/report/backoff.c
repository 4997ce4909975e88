/* SPDX-License-Identifier: MIT */
/*
 * The report stage's clock and retry schedule. Waits use exponential backoff with full
 * jitter: after the n-th failed request, random(0, min(cap, base * 2^(n-1))); a 429 or 503
 * with Retry-After waits what the server asked (at most retry_after_cap_ms) plus up to one
 * base. Before the first request a random initial delay spreads a fleet that boots at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "report/report-internal.h"

static uint64_t system_now_ms(void *userdata)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void system_sleep_ms(void *userdata, unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t system_wall_s(void *userdata)
{
	return (int64_t)time(NULL);
}

void report_ctx_init(report_ctx *c, const deliver_opts *o, deliver_stats *st)
{
	const deliver_clock *k = o->clock;
	uint64_t seed = o->jitter_seed;

	*c = (report_ctx){
	    .o = o,
	    .st = st,
	    .clock =
		{
		    .now_ms = k && k->now_ms ? k->now_ms : system_now_ms,
		    .sleep_ms = k && k->sleep_ms ? k->sleep_ms : system_sleep_ms,
		    .wall_s = k && k->wall_s ? k->wall_s : system_wall_s,
		    .userdata = k ? k->userdata : NULL,
		},
	};
	if (!seed && getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = system_now_ms(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	c->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
	c->start_ms = c->clock.now_ms(c->clock.userdata);
}

uint64_t report_elapsed_ms(report_ctx *c)
{
	uint64_t t = c->clock.now_ms(c->clock.userdata);

	return t > c->start_ms ? t - c->start_ms : 0;
}

int64_t report_wall_s(report_ctx *c)
{
	return c->clock.wall_s(c->clock.userdata);
}

void report_pause(report_ctx *c, unsigned ms)
{
	if (!ms)
		return;
	c->clock.sleep_ms(c->clock.userdata, ms);
	c->st->waited_ms += ms;
}

/* xorshift64* */
static uint64_t random_next(report_ctx *c)
{
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545F4914F6CDD1DULL;
}

unsigned report_random_upto(report_ctx *c, unsigned max)
{
	return max ? (unsigned)(random_next(c) % ((uint64_t)max + 1)) : 0;
}

unsigned report_initial_delay(report_ctx *c)
{
	const deliver_opts *o = c->o;
	unsigned d = report_random_upto(c, o->initial_delay_ms);

	if (d + 1000 > o->budget_ms)
		d = o->budget_ms > 1000 ? report_random_upto(c, o->budget_ms - 1000) : 0;
	return d;
}

unsigned report_backoff_ceiling(const deliver_opts *o, unsigned failures)
{
	unsigned ceiling = o->base_ms;

	for (unsigned i = 1; i < failures && ceiling < o->cap_ms; i++)
		ceiling = ceiling > UINT_MAX / 2 ? UINT_MAX : ceiling * 2;
	return ceiling > o->cap_ms ? o->cap_ms : ceiling;
}

unsigned report_backoff_wait(report_ctx *c, unsigned failures, long status, int retry_after_s)
{
	const deliver_opts *o = c->o;
	unsigned wait = report_random_upto(c, report_backoff_ceiling(o, failures));

	if (retry_after_s >= 0 && (status == 429 || status == 503)) {
		uint64_t ra = (uint64_t)retry_after_s * 1000;
		/* at least what the server asked, spread by up to one base so that the clients
		 * it told the same thing do not all come back at once */
		wait = (unsigned)(ra < o->retry_after_cap_ms ? ra : o->retry_after_cap_ms) +
		       report_random_upto(c, o->base_ms);
	}
	return wait;
}
