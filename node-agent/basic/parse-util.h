/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Whole-string decimal numbers from outside input (command lines, environment, files,
 * headers), checked the way a hand-rolled strtol() call never quite is: the string must
 * be nothing but decimal digits (one leading '-' for the signed form), so "", " 5", "5 ",
 * "5s", "+5", "0x10" and "-1" (unsigned) are refused, and the value must lie in
 * [min, max] without overflowing on the way.
 *
 * Returns 0 and writes *ret_value, or -EINVAL (not a number) or -ERANGE (a number outside
 * [min, max], however many digits it has); *ret_value is written only on success.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int parse_uint64(const char *s, uint64_t min, uint64_t max, uint64_t *ret_value);
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret_value);

/* Exactly DIGITS (1..8) hex digits, lower-case only when LOWER, as IDs and classes are
 * written ("10de", "0300", "a1"): 0 and *ret_value, or -EINVAL. */
int parse_hex_digits(const char *s, size_t digits, bool lower, uint32_t *ret_value);
