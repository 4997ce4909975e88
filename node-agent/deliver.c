/* SPDX-License-Identifier: MIT */
/*
 * Inventory reports: spooled on disk first, then sent oldest first with exponential backoff
 * and full jitter (sleep = random(0, min(cap, base * 2^n))), honouring Retry-After, inside a
 * time budget so that a dead collector never holds up the boot for long.
 *
 * What the collector's answer means for a report:
 *   2xx                                  delivered: the spool file is removed
 *   400 413 415 422                      the collector refuses this report: set aside as
 *                                        NNNNNNNN.json.rejected, never retried
 *   408 409 425 429 5xx, no answer       retried (backoff), then left spooled for next run
 *   other 4xx (401 403 404 ...), TLS     a setup problem, not the report's: no retry this
 *                                        run, the report stays spooled
 * Spool files that do not parse as a report envelope are set aside as .bad.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "config.h"
#include "deliver.h"
#include "fetch.h"
#include "parse-util.h"

#define SPOOL_FILE_MAX (16u * 1024 * 1024) /* one report; larger files are not ours */
#define ASIDE_KEEP 16                     /* .bad/.rejected files kept for inspection */
#define SEQ_MAX 99999999u

typedef struct deliver_ctx {
	const deliver_opts *o;
	deliver_stats *st;
	uint64_t rng;
	uint64_t start_ms;
} deliver_ctx;

/* --- small helpers --- */

__attribute__((format(printf, 3, 4))) static void say(deliver_ctx *c, int prio, const char *fmt,
						      ...)
{
	char *msg = NULL;
	va_list ap;

	if (!c->o->log)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg)
		c->o->log(c->o->userdata, prio, msg);
	free(msg);
}

static uint64_t mono_ms(void *userdata)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void nano_sleep_ms(void *userdata, unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t now(deliver_ctx *c)
{
	return c->o->now_ms ? c->o->now_ms(c->o->userdata) : mono_ms(NULL);
}

static uint64_t elapsed(deliver_ctx *c)
{
	uint64_t t = now(c);
	return t > c->start_ms ? t - c->start_ms : 0;
}

static void pause_ms(deliver_ctx *c, unsigned ms)
{
	if (!ms)
		return;
	if (c->o->sleep_ms)
		c->o->sleep_ms(c->o->userdata, ms);
	else
		nano_sleep_ms(NULL, ms);
	c->st->waited_ms += ms;
}

/* xorshift64*: jitter only, nothing secret */
static uint64_t rng_next(deliver_ctx *c)
{
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545F4914F6CDD1DULL;
}

/* uniform in 0..max inclusive */
static unsigned rng_upto(deliver_ctx *c, unsigned max)
{
	return max ? (unsigned)(rng_next(c) % ((uint64_t)max + 1)) : 0;
}

static void rng_seed(deliver_ctx *c)
{
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = mono_ms(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	c->rng = s ? s : 0x9E3779B97F4A7C15ULL;
}

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
		{ "NODE_AGENT_REPORT_MAX_FILES", offsetof(deliver_opts, max_files), false, 1, 100000 },
		{ "NODE_AGENT_REPORT_MAX_BYTES", offsetof(deliver_opts, max_bytes), true, 1024,
		  1ULL << 32 },
		{ "NODE_AGENT_REPORT_ATTEMPTS", offsetof(deliver_opts, max_attempts), false, 1, 1000 },
		{ "NODE_AGENT_REPORT_BASE_MS", offsetof(deliver_opts, base_ms), false, 1, 3600000 },
		{ "NODE_AGENT_REPORT_CAP_MS", offsetof(deliver_opts, cap_ms), false, 1, 3600000 },
		{ "NODE_AGENT_REPORT_BUDGET_MS", offsetof(deliver_opts, budget_ms), false, 0, 86400000 },
		{ "NODE_AGENT_REPORT_DELAY_MS", offsetof(deliver_opts, initial_delay_ms), false, 0,
		  3600000 },
		{ "NODE_AGENT_REPORT_RETRY_AFTER_CAP_MS", offsetof(deliver_opts, retry_after_cap_ms),
		  false, 0, 86400000 },
		{ "NODE_AGENT_REPORT_TIMEOUT_MS", offsetof(deliver_opts, timeout_ms), false, 1000,
		  3600000 },
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
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
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

/* --- the idempotency key --- */

static uint64_t fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

typedef struct key_state {
	uint64_t a, b, n;
} key_state;

/* Two independent 64-bit lanes: FNV-1a, and a multiply-rotate lane with another constant;
 * both finished with murmur3's fmix64. Not cryptographic: the key names a report, it does
 * not authenticate it. */
static void key_feed(key_state *k, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		k->a = (k->a ^ p[i]) * 0x100000001b3ULL;
		k->b = (k->b ^ p[i]) * 0x9E3779B97F4A7C15ULL;
		k->b = (k->b << 31) | (k->b >> 33);
	}
	k->n += len;
}

void deliver_key(const char *machine_id, const char *data, size_t len, char ret[static 33])
{
	key_state k = { .a = 0xcbf29ce484222325ULL, .b = 0x6a09e667f3bcc908ULL };
	const char *mid = machine_id ? machine_id : "";
	uint64_t a, b;

	key_feed(&k, (const unsigned char *)mid, strlen(mid) + 1); /* with its NUL: a separator */
	key_feed(&k, (const unsigned char *)data, len);
	a = fmix64(k.a ^ k.n);
	b = fmix64(k.b ^ (k.n * 0xbb67ae8584caa73bULL) ^ a);
	snprintf(ret, 33, "%016" PRIx64 "%016" PRIx64, a, b);
}

static bool key_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return i == 32;
}

/* --- the spool --- */

typedef struct spool_entry {
	unsigned seq;
	size_t size;
} spool_entry;

typedef struct spool_list {
	spool_entry *v;
	size_t n;
	size_t bytes;
	unsigned max_seq; /* over every NNNNNNNN.json* name, set aside ones included */
} spool_list;

/* "NNNNNNNN.json" + suffix; *ret_suffix points after ".json" */
static bool spool_name(const char *name, unsigned *ret_seq, const char **ret_suffix)
{
	unsigned v = 0;

	for (int i = 0; i < 8; i++) {
		if (!isdigit((unsigned char)name[i]))
			return false;
		v = v * 10 + (unsigned)(name[i] - '0');
	}
	if (strncmp(name + 8, ".json", 5))
		return false;
	*ret_seq = v;
	*ret_suffix = name + 13;
	return true;
}

static int cmp_entry(const void *a, const void *b)
{
	const spool_entry *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void spool_list_done(spool_list *l)
{
	free(l->v);
	*l = (spool_list){ 0 };
}

/* List the spool oldest first; set-aside files beyond ASIDE_KEEP are removed, oldest first. */
static int spool_scan(const char *dir, spool_list *ret)
{
	spool_list l = { 0 };
	char **aside = NULL;
	size_t n_aside = 0, cap = 0, cap_aside = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		const char *suffix;
		unsigned seq;
		struct stat sb;

		if (de->d_name[0] == '.' && strstr(de->d_name, ".json.node-agent-tmp")) {
			/* left by a write_atomic() that was interrupted; we hold the lock */
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (!spool_name(de->d_name, &seq, &suffix))
			continue;
		if (seq > l.max_seq)
			l.max_seq = seq;
		if (!strcmp(suffix, ".bad") || !strcmp(suffix, ".rejected")) {
			if (n_aside == cap_aside) {
				size_t nc = cap_aside ? cap_aside * 2 : 16;
				char **nv = realloc(aside, nc * sizeof(*nv));
				if (!nv) {
					r = -ENOMEM;
					break;
				}
				aside = nv;
				cap_aside = nc;
			}
			aside[n_aside] = strdup(de->d_name);
			if (!aside[n_aside]) {
				r = -ENOMEM;
				break;
			}
			n_aside++;
			continue;
		}
		if (*suffix || fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (l.n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			spool_entry *nv = realloc(l.v, nc * sizeof(*nv));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			l.v = nv;
			cap = nc;
		}
		l.v[l.n++] = (spool_entry){ seq, (size_t)sb.st_size };
		l.bytes += (size_t)sb.st_size;
	}
	if (r == 0 && n_aside > ASIDE_KEEP) {
		qsort(aside, n_aside, sizeof(*aside), cmp_str);
		for (size_t i = 0; i < n_aside - ASIDE_KEEP; i++)
			unlinkat(dirfd(d), aside[i], 0);
	}
	for (size_t i = 0; i < n_aside; i++)
		free(aside[i]);
	free(aside);
	closedir(d);
	if (r < 0) {
		spool_list_done(&l);
		return r;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_entry);
	*ret = l;
	return 0;
}

static char *spool_path(const char *dir, unsigned seq, const char *suffix)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%08u.json%s", dir, seq, suffix) < 0)
		return NULL;
	return p;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char *p = strdup(path);
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; r == 0; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			r = -errno;
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return r;
}

static int read_bounded(const char *path, size_t max, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	struct stat sb;
	size_t len, off = 0;
	char *buf;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)sb.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	len = (size_t)sb.st_size;
	buf = malloc(len + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < len) {
		ssize_t k = read(fd, buf + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (k == 0)
			break; /* shrank under us: parse what is there */
		off += (size_t)k;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[off] = '\0';
	*ret = buf;
	*ret_len = off;
	return 0;
}

static json_object *parse_json(const char *s, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(64);
	json_object *o;

	if (!tok || len > INT_MAX) {
		json_tokener_free(tok);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, s, (int)len);
	/* the whole text must be one value, nothing after it but white space */
	if (o && json_tokener_get_error(tok) == json_tokener_success) {
		size_t end = json_tokener_get_parse_end(tok);
		while (end < len && strchr(" \t\r\n", s[end]) && s[end])
			end++;
		if (end != len) {
			json_object_put(o);
			o = NULL;
		}
	} else if (o) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* A spool file: its envelope, checked. Returns the parsed tree (caller puts it). */
static json_object *envelope_check(const char *body, size_t len, const char **ret_key)
{
	json_object *o = parse_json(body, len), *v;

	if (!o || !json_object_is_type(o, json_type_object))
		goto bad;
	if (!json_object_object_get_ex(o, "schema", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), DELIVER_SCHEMA))
		goto bad;
	if (!json_object_object_get_ex(o, "idempotency_key", &v) ||
	    !json_object_is_type(v, json_type_string) || !key_valid(json_object_get_string(v)))
		goto bad;
	*ret_key = json_object_get_string(v);
	if (!json_object_object_get_ex(o, "inventory", &v) ||
	    !json_object_is_type(v, json_type_object))
		goto bad;
	return o;
bad:
	json_object_put(o);
	return NULL;
}

static char *now_rfc3339(void)
{
	time_t t = time(NULL);
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return strdup(buf);
}

/* The envelope of a new report, as text ending in a newline. */
static int envelope_build(json_object *inv, const char *inventory_json, const char *machine_id,
			  char **ret)
{
	json_object *env = json_object_new_object(), *v;
	char key[33], *at = now_rfc3339(), *s = NULL;
	const char *mid = machine_id;
	int r = 0;

	if (!mid && json_object_object_get_ex(inv, "machine_id", &v) &&
	    json_object_is_type(v, json_type_string))
		mid = json_object_get_string(v);
	deliver_key(mid, inventory_json, strlen(inventory_json), key);
	if (!env || !at) {
		r = -ENOMEM;
		goto out;
	}
	json_object_object_add(env, "schema", json_object_new_string(DELIVER_SCHEMA));
	json_object_object_add(env, "machine_id", mid ? json_object_new_string(mid) : NULL);
	json_object_object_add(env, "idempotency_key", json_object_new_string(key));
	json_object_object_add(env, "created_at", json_object_new_string(at));
	json_object_object_add(env, "inventory", json_object_get(inv));
	const char *t = json_object_to_json_string_ext(env, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!t || asprintf(&s, "%s\n", t) < 0)
		r = -ENOMEM;
	else
		*ret = s;
out:
	json_object_put(env);
	free(at);
	return r;
}

/* Whether the newest spooled report says the same as INV, collected_at aside. */
static bool same_as_spooled(const char *dir, unsigned seq, json_object *inv, const char *mid)
{
	char *path = spool_path(dir, seq, ""), *body = NULL;
	json_object *env = NULL, *old, *copy = NULL, *v;
	const char *key;
	size_t len;
	bool same = false;

	if (!path || read_bounded(path, SPOOL_FILE_MAX, &body, &len) < 0)
		goto out;
	env = envelope_check(body, len, &key);
	if (!env || !json_object_object_get_ex(env, "inventory", &old))
		goto out;
	if (!json_object_object_get_ex(env, "machine_id", &v) ||
	    (mid ? !json_object_is_type(v, json_type_string) ||
			   strcmp(json_object_get_string(v), mid)
		 : v != NULL))
		goto out;
	if (json_object_deep_copy(inv, &copy, NULL) < 0)
		goto out;
	json_object_object_del(copy, "collected_at");
	json_object_object_del(old, "collected_at");
	same = json_object_equal(copy, old);
out:
	json_object_put(copy);
	json_object_put(env);
	free(body);
	free(path);
	return same;
}

/* Spool the new report; then keep the spool within its bounds (the newest always stays). */
static int spool_add(deliver_ctx *c, const char *body, json_object *inv, const char *mid)
{
	const deliver_opts *o = c->o;
	spool_list l = { 0 };
	char *path = NULL;
	unsigned seq;
	int r;

	r = spool_scan(o->spool_dir, &l);
	if (r < 0)
		return r;
	if (l.n && same_as_spooled(o->spool_dir, l.v[l.n - 1].seq, inv, mid)) {
		seq = l.v[l.n - 1].seq;
		say(c, LOG_INFO, "the inventory is unchanged since the undelivered report "
				 "%08u.json: it is replaced, not added",
		    seq);
	} else if (l.max_seq >= SEQ_MAX) {
		/* 10^8 reports: start again; older names sort first only once those are gone */
		spool_list_done(&l);
		return -EOVERFLOW;
	} else
		seq = l.max_seq + 1;
	path = spool_path(o->spool_dir, seq, "");
	r = path ? write_atomic(path, body, 0644) : -ENOMEM;
	free(path);
	spool_list_done(&l);
	if (r < 0)
		return r;

	r = spool_scan(o->spool_dir, &l);
	if (r < 0)
		return r;
	for (size_t i = 0; i + 1 < l.n && (l.n - i > o->max_files || l.bytes > o->max_bytes); i++) {
		path = spool_path(o->spool_dir, l.v[i].seq, "");
		if (path && unlink(path) == 0) {
			say(c, LOG_WARNING,
			    "spool over its bound (%zu reports, %zu bytes; at most %u and %zu): "
			    "dropped the oldest undelivered report %08u.json",
			    l.n - i, l.bytes, o->max_files, o->max_bytes, l.v[i].seq);
			c->st->dropped++;
		}
		l.bytes -= l.v[i].size;
		free(path);
	}
	spool_list_done(&l);
	return 0;
}

static int set_aside(deliver_ctx *c, unsigned seq, const char *suffix)
{
	char *from = spool_path(c->o->spool_dir, seq, ""), *to = spool_path(c->o->spool_dir, seq, suffix);
	int r = 0;

	if (!from || !to)
		r = -ENOMEM;
	else if (rename(from, to) < 0)
		r = -errno;
	if (r < 0 && from)
		unlink(from); /* never loop on it */
	free(from);
	free(to);
	return r;
}

/* --- sending --- */

typedef enum { SEND_DONE, SEND_REJECTED, SEND_STOP } send_outcome;

static bool status_rejects(long s)
{
	return s == 400 || s == 413 || s == 415 || s == 422;
}

static bool worth_retrying(int r, const fetch_result *fr)
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

static send_outcome send_one(deliver_ctx *c, const char *name, const char *body, size_t len,
			     const char *key, int *ret_err)
{
	const deliver_opts *o = c->o;
	char *hdr = NULL;
	const char *headers[2] = { NULL, NULL };
	unsigned failures = 0;
	send_outcome out = SEND_STOP;

	/* an sf-string, as draft-ietf-httpapi-idempotency-key-header shows it */
	if (asprintf(&hdr, "Idempotency-Key: \"%s\"", key) < 0) {
		*ret_err = -ENOMEM;
		return SEND_STOP;
	}
	headers[0] = hdr;
	for (;;) {
		uint64_t used = elapsed(c);
		uint64_t left = o->budget_ms > used ? o->budget_ms - used : 0;
		unsigned t_ms = o->timeout_ms < left ? o->timeout_ms : (unsigned)left;
		fetch_opts fo = { .ca_file = o->ca_file, .ca_pem = o->ca_pem, .headers = headers,
				  .timeout_s = t_ms / 1000 };
		fetch_result fr;
		unsigned wait, ceiling;
		int r;

		if (fo.timeout_s < 1) {
			say(c, LOG_WARNING, "%s: the time budget of %u ms is used up; the report "
					    "stays spooled",
			    name, o->budget_ms);
			if (!*ret_err)
				*ret_err = -ETIMEDOUT;
			break;
		}
		fo.connect_timeout_s = fo.timeout_s < 10 ? fo.timeout_s : 10;
		r = fetch_url(o->url, body, len, &fo, &fr);
		c->st->attempts++;
		c->st->last_status = fr.status;
		if (r == 0) {
			fetch_result_done(&fr);
			*ret_err = 0;
			out = SEND_DONE;
			break;
		}
		*ret_err = r;
		if (status_rejects(fr.status)) {
			say(c, LOG_WARNING, "%s: %s: the collector refuses this report; set aside "
					    "as %s.rejected",
			    name, fr.error, name);
			fetch_result_done(&fr);
			out = SEND_REJECTED;
			break;
		}
		if (!worth_retrying(r, &fr)) {
			say(c, LOG_WARNING, "%s: %s; not retried this run, the report stays spooled",
			    name, fr.error);
			fetch_result_done(&fr);
			break;
		}
		failures++;
		/* full jitter: random(0, min(cap, base * 2^(n-1))) */
		ceiling = o->base_ms;
		for (unsigned i = 1; i < failures && ceiling < o->cap_ms; i++)
			ceiling = ceiling > UINT_MAX / 2 ? UINT_MAX : ceiling * 2;
		if (ceiling > o->cap_ms)
			ceiling = o->cap_ms;
		wait = rng_upto(c, ceiling);
		if (fr.retry_after_s >= 0 && (fr.status == 429 || fr.status == 503)) {
			uint64_t ra = (uint64_t)fr.retry_after_s * 1000;
			/* at least what the server asked, spread by up to one base so that the
			 * clients it told the same thing do not all come back at once */
			wait = (unsigned)(ra < o->retry_after_cap_ms ? ra : o->retry_after_cap_ms) +
			       rng_upto(c, o->base_ms);
		}
		if (failures >= o->max_attempts) {
			say(c, LOG_WARNING, "%s: %s; attempt %u of %u, the report stays spooled",
			    name, fr.error, failures, o->max_attempts);
			fetch_result_done(&fr);
			break;
		}
		used = elapsed(c);
		if (used + wait + 1000 > o->budget_ms) {
			say(c, LOG_WARNING, "%s: %s; attempt %u, no time left in the budget of %u ms "
					    "for another: the report stays spooled",
			    name, fr.error, failures, o->budget_ms);
			fetch_result_done(&fr);
			break;
		}
		say(c, LOG_WARNING, "%s: %s; attempt %u, retrying in %u.%u s", name, fr.error,
		    failures, wait / 1000, wait % 1000 / 100);
		fetch_result_done(&fr);
		pause_ms(c, wait);
	}
	free(hdr);
	return out;
}

/* Send one spool file. SEND_STOP ends the run (order is kept: nothing newer goes first). */
static send_outcome send_spooled(deliver_ctx *c, unsigned seq, int *ret_err)
{
	char *path = spool_path(c->o->spool_dir, seq, ""), *body = NULL, name[16];
	json_object *env = NULL;
	const char *key;
	send_outcome out;
	size_t len;
	int r;

	snprintf(name, sizeof(name), "%08u.json", seq);
	r = path ? read_bounded(path, SPOOL_FILE_MAX, &body, &len) : -ENOMEM;
	if (r == -ENOENT) { /* gone meanwhile */
		free(path);
		return SEND_DONE;
	}
	if (r == -ENOMEM) {
		free(path);
		*ret_err = r;
		return SEND_STOP;
	}
	env = r == 0 ? envelope_check(body, len, &key) : NULL;
	if (!env) {
		r = set_aside(c, seq, ".bad");
		say(c, LOG_WARNING, "%s: not a report (%s): %s", name,
		    body ? "not a node-agent/report/v1 envelope" : "unreadable",
		    r < 0 ? "removed" : "set aside as .bad");
		c->st->corrupt++;
		free(body);
		free(path);
		return SEND_REJECTED;
	}
	out = send_one(c, name, body, len, key, ret_err);
	if (out == SEND_DONE) {
		if (unlink(path) < 0 && errno != ENOENT) {
			/* sent twice next run, which the key makes harmless */
			say(c, LOG_WARNING, "%s: delivered but cannot be removed: %s", name,
			    strerror(errno));
		}
		c->st->delivered++;
		say(c, LOG_INFO, "%s delivered (key %s)", name, key);
	} else if (out == SEND_REJECTED) {
		set_aside(c, seq, ".rejected");
		c->st->rejected++;
	}
	json_object_put(env);
	free(body);
	free(path);
	return out;
}

static int spool_lock(deliver_ctx *c, int *ret_fd)
{
	char *p = NULL;
	int fd;

	if (asprintf(&p, "%s/.lock", c->o->spool_dir) < 0)
		return -ENOMEM;
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(p);
	if (fd < 0)
		return -errno;
	/* another sender (run, report-send) has it: wait, within the budget */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int r = -errno;
			close(fd);
			return r;
		}
		if (elapsed(c) + 100 > c->o->budget_ms) {
			close(fd);
			return -EBUSY;
		}
		pause_ms(c, 100);
	}
	*ret_fd = fd;
	return 0;
}

int deliver_report(const deliver_opts *o, const char *inventory_json, const char *machine_id,
		   deliver_stats *stats)
{
	deliver_stats st = { 0 };
	deliver_ctx c = { .o = o, .st = &st };
	spool_list l = { 0 };
	json_object *inv = NULL;
	char *body = NULL, *unspooled = NULL;
	int lock_fd = -1, r, err = 0;
	bool stopped = false;

	rng_seed(&c);
	c.start_ms = now(&c);
	if (!o->url || !o->spool_dir) {
		r = -EINVAL;
		goto out;
	}
	if (inventory_json) {
		inv = parse_json(inventory_json, strlen(inventory_json));
		if (!inv || !json_object_is_type(inv, json_type_object)) {
			r = -EINVAL;
			goto out;
		}
		r = envelope_build(inv, inventory_json, machine_id, &body);
		if (r < 0)
			goto out;
	}
	r = mkdir_p(o->spool_dir, 0755);
	if (r >= 0)
		r = spool_lock(&c, &lock_fd);
	if (r >= 0 && body) {
		json_object *v;
		const char *mid = machine_id;
		if (!mid && json_object_object_get_ex(inv, "machine_id", &v) &&
		    json_object_is_type(v, json_type_string))
			mid = json_object_get_string(v);
		r = spool_add(&c, body, inv, mid);
	}
	if (r < 0) {
		if (!body)
			goto out;
		/* a read-only or full disk: still try this run's report, from memory */
		say(&c, LOG_WARNING, "cannot spool the report in %s: %s; sending it unspooled",
		    o->spool_dir, strerror(-r));
		unspooled = body;
		body = NULL;
	}
	r = lock_fd >= 0 ? spool_scan(o->spool_dir, &l) : 0;
	if (r < 0) {
		err = r;
		l = (spool_list){ 0 };
	}
	if (l.n || unspooled) {
		/* a fleet that reboots together (power cut) must not report at once */
		unsigned d = rng_upto(&c, o->initial_delay_ms);
		if (d + 1000 > o->budget_ms)
			d = o->budget_ms > 1000 ? rng_upto(&c, o->budget_ms - 1000) : 0;
		pause_ms(&c, d);
		st.delay_ms = d;
	}
	for (size_t i = 0; i < l.n && !stopped; i++)
		stopped = send_spooled(&c, l.v[i].seq, &err) == SEND_STOP;
	if (unspooled && stopped)
		say(&c, LOG_WARNING, "the report that could not be spooled is lost");
	else if (unspooled) {
		const char *key = "";
		json_object *env = envelope_check(unspooled, strlen(unspooled), &key);
		send_outcome so = env ? send_one(&c, "report", unspooled, strlen(unspooled), key, &err)
				      : SEND_STOP;
		if (so == SEND_DONE)
			st.delivered++;
		else if (so == SEND_REJECTED)
			st.rejected++;
		else if (!err)
			err = -EIO;
		json_object_put(env);
	}
	spool_list_done(&l);
	if (lock_fd >= 0 && spool_scan(o->spool_dir, &l) >= 0)
		st.spooled = (unsigned)l.n;
	spool_list_done(&l);
	if (st.spooled)
		r = err ? err : -EAGAIN;
	else if (st.rejected)
		r = -EBADMSG;
	else
		r = unspooled && err ? err : 0;
out:
	if (lock_fd >= 0)
		close(lock_fd);
	json_object_put(inv);
	free(body);
	free(unspooled);
	if (stats)
		*stats = st;
	return r;
}

/* --- node-agent report-send --- */

static void log_stderr(void *userdata, int prio, const char *msg)
{
	fprintf(stderr, "node-agent: %sreport: %s\n", prio <= LOG_WARNING ? "warning: " : "", msg);
}

int deliver_cli(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "inventory", required_argument, NULL, 'i' },
		{ "url", required_argument, NULL, 'u' },
		{ "ca-file", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *config = NULL, *state_dir = NULL, *inv_file = NULL, *url = NULL, *ca = NULL;
	const char *bad = NULL;
	na_config *cfg = NULL;
	deliver_opts o;
	deliver_stats st;
	char *inv = NULL, *spool = NULL;
	size_t len;
	int c, r, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:i:u:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
			state_dir = optarg;
			break;
		case 'i':
			inv_file = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 'a':
			ca = optarg;
			break;
		case 'h':
			printf("Usage: node-agent report-send (--config FILE | --url URL [--ca-file PEM])\n"
			       "       [--state-dir DIR] [--inventory FILE]\n"
			       "Spool the inventory FILE as a report in DIR/spool (default\n"
			       "/var/lib/node-agent) and send the spool to report.url, oldest first.\n"
			       "Without --inventory only the spool is sent.\n");
			return 0;
		default:
			return 2;
		}
	}
	if ((!config && !url) || optind < argc) {
		fprintf(stderr, "usage: node-agent report-send (--config FILE | --url URL) "
				"[--state-dir DIR] [--inventory FILE]\n");
		return 2;
	}
	if (deliver_opts_init(&o, &bad) < 0) {
		fprintf(stderr, "node-agent: %s must be a number in range\n", bad);
		return 2;
	}
	if (config) {
		r = na_config_load(config, stderr, &cfg);
		if (r < 0) {
			if (r != -EINVAL)
				fprintf(stderr, "node-agent: %s: %s\n", config, strerror(-r));
			return 2;
		}
		if (!url && !cfg->report_url) {
			fprintf(stderr, "node-agent: %s has no report.url\n", config);
			goto out_usage;
		}
		o.ca_file = cfg->report_ca_file;
		o.ca_pem = cfg->report_ca_pem;
	}
	o.url = url ? url : cfg->report_url;
	if (ca) {
		o.ca_file = ca;
		o.ca_pem = NULL;
	}
	if (asprintf(&spool, "%s/spool", state_dir ? state_dir : "/var/lib/node-agent") < 0)
		goto out;
	if (inv_file) {
		r = read_bounded(inv_file, SPOOL_FILE_MAX, &inv, &len);
		if (r < 0 || strlen(inv) != len) {
			fprintf(stderr, "node-agent: %s: %s\n", inv_file,
				r < 0 ? strerror(-r) : "contains a NUL byte");
			goto out_usage;
		}
	}
	o.spool_dir = spool;
	o.log = log_stderr;
	r = deliver_report(&o, inv, NULL, &st);
	if (r == -EINVAL && inv) {
		fprintf(stderr, "node-agent: %s: not a JSON object\n", inv_file);
		goto out_usage;
	}
	printf("delivered %u, spooled %u, rejected %u, set aside %u, dropped %u; %u attempts, "
	       "waited %u ms (initial delay %u ms)\n",
	       st.delivered, st.spooled, st.rejected, st.corrupt, st.dropped, st.attempts,
	       st.waited_ms, st.delay_ms);
	if (r < 0 && r != -EAGAIN)
		fprintf(stderr, "node-agent: report: %s\n", strerror(-r));
	ret = r < 0 ? 1 : 0;
	goto out;
out_usage:
	ret = 2;
out:
	na_config_free(cfg);
	free(inv);
	free(spool);
	return ret;
}
