/* SPDX-License-Identifier: MIT */
/*
 * The report envelope, schema node-agent/report/v1: {schema, machine_id, idempotency_key,
 * created_at, inventory, node (optional: the boot job's name, role and join result)}, one
 * line of JSON; and its idempotency key.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report/report-internal.h"

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
	key_state k = {.a = 0xcbf29ce484222325ULL, .b = 0x6a09e667f3bcc908ULL};
	const char *mid = machine_id ? machine_id : "";
	uint64_t a, b;

	key_feed(&k, (const unsigned char *)mid, strlen(mid) + 1); /* with its NUL: a separator */
	key_feed(&k, (const unsigned char *)data, len);
	a = fmix64(k.a ^ k.n);
	b = fmix64(k.b ^ (k.n * 0xbb67ae8584caa73bULL) ^ a);
	snprintf(ret, 33, "%016" PRIx64 "%016" PRIx64, a, b);
}

bool report_key_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return i == 32;
}

json_object *report_parse_json(const char *s, size_t len)
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

const char *report_machine_id(json_object *inv, const char *machine_id)
{
	json_object *v;

	if (!machine_id && json_object_object_get_ex(inv, "machine_id", &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return machine_id;
}

static bool has_string(json_object *o, const char *key, json_object **ret)
{
	return json_object_object_get_ex(o, key, ret) &&
	       json_object_is_type(*ret, json_type_string);
}

int report_envelope_check(const char *body, size_t len, json_object **ret_env, const char **ret_key)
{
	json_object *o = report_parse_json(body, len), *v, *k;

	if (!o || !json_object_is_type(o, json_type_object) || !has_string(o, "schema", &v) ||
	    strcmp(json_object_get_string(v), DELIVER_SCHEMA) ||
	    !has_string(o, "idempotency_key", &k) || !report_key_valid(json_object_get_string(k)) ||
	    !json_object_object_get_ex(o, "inventory", &v) ||
	    !json_object_is_type(v, json_type_object)) {
		json_object_put(o);
		return -EBADMSG;
	}
	*ret_key = json_object_get_string(k);
	*ret_env = o;
	return 0;
}

int report_envelope_build(report_ctx *c, json_object *inv, const char *inventory_json,
			  const char *machine_id, char **ret)
{
	json_object *env = json_object_new_object(), *node = NULL;
	const char *mid = report_machine_id(inv, machine_id), *t;
	time_t now = (time_t)report_wall_s(c);
	_cleanup_free_ char *keyed = NULL;
	char key[33], at[32], *s;
	struct tm tm;
	int r = -ENOMEM;

	if (c->o->node_json) {
		node = report_parse_json(c->o->node_json, strlen(c->o->node_json));
		if (!node || !json_object_is_type(node, json_type_object)) {
			r = -EINVAL;
			goto out;
		}
		/* the same inventory with another account of the node is another report */
		if (asprintf(&keyed, "%s\n%s", inventory_json, c->o->node_json) < 0) {
			keyed = NULL;
			goto out;
		}
	}
	deliver_key(mid, keyed ? keyed : inventory_json, strlen(keyed ? keyed : inventory_json),
		    key);
	if (!env || !gmtime_r(&now, &tm) || !strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm))
		goto out;
	json_object_object_add(env, "schema", json_object_new_string(DELIVER_SCHEMA));
	json_object_object_add(env, "machine_id", mid ? json_object_new_string(mid) : NULL);
	json_object_object_add(env, "idempotency_key", json_object_new_string(key));
	json_object_object_add(env, "created_at", json_object_new_string(at));
	json_object_object_add(env, "inventory", json_object_get(inv));
	if (node)
		json_object_object_add(env, "node", json_object_get(node));
	t = json_object_to_json_string_ext(env,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (t && asprintf(&s, "%s\n", t) >= 0) {
		*ret = s;
		r = 0;
	}
out:
	json_object_put(node);
	json_object_put(env);
	return r;
}
