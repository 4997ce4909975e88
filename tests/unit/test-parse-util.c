/* SPDX-License-Identifier: MIT */
/* Unit tests of node-agent's number parser (node-agent/parse-util.c), as TAP. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "basic/parse-util.h"
#include "tap.h"

/* s as a C string literal would show it, so a TAP line stays one line */
static const char *shown(const char *s)
{
	static char buf[128];
	size_t n = 0;

	if (!s)
		return "NULL";
	buf[n++] = '"';
	for (; *s && n < sizeof(buf) - 4; s++) {
		if (*s == '\n' || *s == '\t') {
			buf[n++] = '\\';
			buf[n++] = *s == '\n' ? 'n' : 't';
		} else
			buf[n++] = *s;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* parse_uint64(s, min, max) must return want_r and, on success, want; on failure the
 * output must be left as it was */
static void u(const char *s, uint64_t min, uint64_t max, int want_r, uint64_t want)
{
	uint64_t v = 4242;
	int r = parse_uint64(s, min, max, &v);
	char what[200];

	snprintf(what, sizeof(what), "parse_uint64(%s, %" PRIu64 ", %" PRIu64 ") = %s", shown(s),
		 min, max,
		 want_r == 0	     ? "ok"
		 : want_r == -EINVAL ? "-EINVAL"
				     : "-ERANGE");
	ok(r == want_r && v == (want_r == 0 ? want : 4242), what);
	if (r != want_r || v != (want_r == 0 ? want : 4242))
		printf("#   got r=%d value=%" PRIu64 "\n", r, v);
}

static void i(const char *s, int64_t min, int64_t max, int want_r, int64_t want)
{
	int64_t v = 4242;
	int r = parse_int64(s, min, max, &v);
	char what[200];

	snprintf(what, sizeof(what), "parse_int64(%s, %" PRId64 ", %" PRId64 ") = %s", shown(s),
		 min, max,
		 want_r == 0	     ? "ok"
		 : want_r == -EINVAL ? "-EINVAL"
				     : "-ERANGE");
	ok(r == want_r && v == (want_r == 0 ? want : 4242), what);
	if (r != want_r || v != (want_r == 0 ? want : 4242))
		printf("#   got r=%d value=%" PRId64 "\n", r, v);
}

static void hex(const char *s, size_t digits, bool lower, int want_r, uint32_t want)
{
	uint32_t v = 12345;
	int r = parse_hex_digits(s, digits, lower, &v);
	char what[200];

	snprintf(what, sizeof(what), "parse_hex_digits(%s, %zu, %s) = %d, 0x%x", shown(s), digits,
		 lower ? "lower" : "any case", want_r, want);
	ok(r == want_r && (r < 0 ? v == 12345 : v == want), what);
}

int main(void)
{
	/* what is a number */
	u("0", 0, UINT64_MAX, 0, 0);
	u("42", 0, UINT64_MAX, 0, 42);
	u("007", 0, UINT64_MAX, 0, 7);
	u("86400", 0, 86400, 0, 86400);
	u(NULL, 0, UINT64_MAX, -EINVAL, 0);
	u("", 0, UINT64_MAX, -EINVAL, 0);
	u("abc", 0, UINT64_MAX, -EINVAL, 0);
	u("12abc", 0, UINT64_MAX, -EINVAL, 0);
	u("12 ", 0, UINT64_MAX, -EINVAL, 0);
	u("12\n", 0, UINT64_MAX, -EINVAL, 0);
	u(" 12", 0, UINT64_MAX, -EINVAL, 0);
	u("\t12", 0, UINT64_MAX, -EINVAL, 0);
	u("+12", 0, UINT64_MAX, -EINVAL, 0);
	u("-1", 0, UINT64_MAX, -EINVAL, 0);
	u("-0", 0, UINT64_MAX, -EINVAL, 0);
	u("0x10", 0, UINT64_MAX, -EINVAL, 0); /* decimal only: no hex, no octal */
	u("1e3", 0, UINT64_MAX, -EINVAL, 0);
	u("1.5", 0, UINT64_MAX, -EINVAL, 0);
	u("1_000", 0, UINT64_MAX, -EINVAL, 0);
	u("-", 0, UINT64_MAX, -EINVAL, 0);
	/* the whole width, and one past it */
	u("4294967295", 0, UINT64_MAX, 0, UINT32_MAX);
	u("4294967296", 0, UINT64_MAX, 0, UINT64_C(4294967296));
	u("18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX);
	u("18446744073709551616", 0, UINT64_MAX, -ERANGE, 0);
	u("99999999999999999999999999999999", 0, UINT64_MAX, -ERANGE, 0);
	u("99999999999999999999999999999999x", 0, UINT64_MAX, -EINVAL, 0); /* junk wins */
	/* bounds: 2^32 against a 32-bit range is the defect of issue item 7 */
	u("4294967296", 0, 86400, -ERANGE, 0);
	u("86401", 0, 86400, -ERANGE, 0);
	u("0", 1, 86400, -ERANGE, 0);
	u("1", 1, 86400, 0, 1);
	u("1023", 1024, UINT64_MAX, -ERANGE, 0);
	u("1024", 1024, UINT64_MAX, 0, 1024);
	u("5", 5, 5, 0, 5);

	i("0", INT64_MIN, INT64_MAX, 0, 0);
	i("-1", INT64_MIN, INT64_MAX, 0, -1);
	i("-0", INT64_MIN, INT64_MAX, 0, 0);
	i("123", 0, INT64_MAX, 0, 123);
	i("9223372036854775807", INT64_MIN, INT64_MAX, 0, INT64_MAX);
	i("9223372036854775808", INT64_MIN, INT64_MAX, -ERANGE, 0);
	i("-9223372036854775808", INT64_MIN, INT64_MAX, 0, INT64_MIN);
	i("-9223372036854775809", INT64_MIN, INT64_MAX, -ERANGE, 0);
	i("18446744073709551616", INT64_MIN, INT64_MAX, -ERANGE, 0);
	i("-18446744073709551616", INT64_MIN, INT64_MAX, -ERANGE, 0);
	i(NULL, INT64_MIN, INT64_MAX, -EINVAL, 0);
	i("", INT64_MIN, INT64_MAX, -EINVAL, 0);
	i("-", INT64_MIN, INT64_MAX, -EINVAL, 0);
	i("--1", INT64_MIN, INT64_MAX, -EINVAL, 0);
	i("+1", INT64_MIN, INT64_MAX, -EINVAL, 0);
	i(" -1", INT64_MIN, INT64_MAX, -EINVAL, 0);
	i("- 1", INT64_MIN, INT64_MAX, -EINVAL, 0);
	i("-1x", INT64_MIN, INT64_MAX, -EINVAL, 0);
	i("0x10", INT64_MIN, INT64_MAX, -EINVAL, 0);
	i("-1", 0, 86400, -ERANGE, 0);
	i("-86400", -86400, 0, 0, -86400);
	i("-86401", -86400, 0, -ERANGE, 0);
	i("86401", 0, 86400, -ERANGE, 0);
	i("4294967296", 0, INT32_MAX, -ERANGE, 0);
	i("2147483647", 0, INT32_MAX, 0, INT32_MAX);

	hex("10de", 4, false, 0, 0x10de);
	hex("10DE", 4, false, 0, 0x10de);
	hex("10DE", 4, true, -EINVAL, 0);
	hex("0300", 4, true, 0, 0x300);
	hex("a1", 2, true, 0, 0xa1);
	hex("ffffffff", 8, false, 0, 0xffffffffu);
	hex("fff", 4, false, -EINVAL, 0);
	hex("10de0", 4, false, -EINVAL, 0);
	hex("+fff", 4, false, -EINVAL, 0);
	hex(" fff", 4, false, -EINVAL, 0);
	hex("0x1f", 4, false, -EINVAL, 0);
	hex("", 1, false, -EINVAL, 0);
	hex("1", 0, false, -EINVAL, 0);
	hex("123456789", 9, false, -EINVAL, 0);
	hex(NULL, 4, false, -EINVAL, 0);

	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
