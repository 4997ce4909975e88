/* SPDX-License-Identifier: MIT */
/* Checked number parsing (parse-util.h). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "basic/parse-util.h"

/* The value of a non-empty run of decimal digits, saturated at UINT64_MAX: a syntax error
 * is told apart from a range error before any arithmetic. */
static int parse_digits(const char *s, bool *ret_overflow, uint64_t *ret_value)
{
	uint64_t v = 0;
	bool overflow = false;
	size_t n = strspn(s, "0123456789");

	if (n == 0 || s[n] != '\0')
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10) {
			overflow = true;
			v = UINT64_MAX;
			break;
		}
		v = v * 10 + d;
	}
	*ret_overflow = overflow;
	*ret_value = v;
	return 0;
}

int parse_uint64(const char *s, uint64_t min, uint64_t max, uint64_t *ret_value)
{
	uint64_t v;
	bool overflow;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_digits(s, &overflow, &v);
	if (r < 0)
		return r;
	if (overflow || v < min || v > max)
		return -ERANGE;
	*ret_value = v;
	return 0;
}

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret_value)
{
	bool negative, overflow;
	uint64_t mag;
	int64_t v;
	int r;

	if (!s)
		return -EINVAL;
	negative = s[0] == '-';
	r = parse_digits(s + negative, &overflow, &mag);
	if (r < 0)
		return r;
	/* INT64_MIN's magnitude is one more than INT64_MAX */
	if (overflow || mag > (uint64_t)INT64_MAX + negative)
		return -ERANGE;
	if (!negative)
		v = (int64_t)mag;
	else if (mag == (uint64_t)INT64_MAX + 1)
		v = INT64_MIN;
	else
		v = -(int64_t)mag;
	if (v < min || v > max)
		return -ERANGE;
	*ret_value = v;
	return 0;
}

int parse_hex_digits(const char *s, size_t digits, bool lower, uint32_t *ret_value)
{
	uint32_t v = 0;
	size_t i;

	if (!s || digits == 0 || digits > 8)
		return -EINVAL;
	for (i = 0; i < digits && s[i]; i++) {
		char c = s[i];
		unsigned d = c >= '0' && c <= '9'	      ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f'	      ? (unsigned)(c - 'a' + 10)
			     : !lower && c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
							      : 16;
		if (d == 16)
			return -EINVAL;
		v = v << 4 | d;
	}
	if (i != digits || s[i])
		return -EINVAL;
	*ret_value = v;
	return 0;
}
