/* SPDX-License-Identifier: MIT */
#pragma once

/* TAP for the C unit tests (one test program per file includes it): ok() and is_str()
 * print one "ok N - WHAT" line each; the program ends with "1..N" (tests/05-unit.t). */

#include <stdio.h>
#include <string.h>

static int n_tests, n_failed;

static inline void ok(int cond, const char *what)
{
	n_tests++;
	if (!cond)
		n_failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n_tests, what);
}

static inline void is_str(const char *got, const char *want, const char *what)
{
	int same = (!got && !want) || (got && want && strcmp(got, want) == 0);

	ok(same, what);
	if (!same)
		printf("#   got: %s\n#   expected: %s\n", got ? got : "(null)",
		       want ? want : "(null)");
}
