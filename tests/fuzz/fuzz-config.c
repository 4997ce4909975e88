/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the node config parser (`make fuzz`): arbitrary bytes into
 * na_config_parse(). Besides what ASan/UBSan/LeakSanitizer catch, it checks the contract
 * the CLI relies on: a config is accepted with no message, or rejected with -EINVAL and
 * one LOG_ERR line "FILE:LINE:COLUMN: message" per problem handed to the log sink, never
 * a line break or another control character inside a line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config/config.h"

#define PATH "fuzz.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "fuzz.yaml:LINE:COLUMN: text" or the closing "fuzz.yaml: N more errors not shown" */
static int line_ok(const char *line)
{
	const char *s = line + strlen(PATH);
	unsigned long n;
	char *end;

	if (strncmp(line, PATH ":", strlen(PATH) + 1) != 0)
		return 0;
	s++;
	if (*s == ' ')
		return strstr(s, " more errors not shown") != NULL;
	for (int field = 0; field < 2; field++) {
		if (*s < '1' || *s > '9')
			return 0;
		n = strtoul(s, &end, 10);
		if (n == 0 || *end != ':')
			return 0;
		s = end + 1;
	}
	return *s == ' ' && s[1] != '\0';
}

/* The log sink: counts the lines, and stops at the first that breaks the contract. */
static void check_line(void *userdata, int prio, const char *msg)
{
	size_t *n_lines = userdata;
	bool controls = false;

	for (const char *c = msg; *c; c++)
		controls = controls || (unsigned char)*c < 0x20 || *c == 0x7f;
	if (prio != LOG_ERR || controls || !line_ok(msg)) {
		fprintf(stderr, "malformed error line (priority %d): %s\n", prio, msg);
		abort();
	}
	(*n_lines)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n_lines = 0;
	const na_log sink = {.fn = check_line, .userdata = &n_lines};
	na_config *c = NULL;
	int r;

	r = na_config_parse(PATH, (const char *)data, size, &sink, &c);

	if (r == 0) {
		if (!c || n_lines != 0)
			abort(); /* accepted, yet a config is missing or problems were reported */
		na_config_free(c);
	} else {
		if (r != -EINVAL && r != -ENOMEM)
			abort();
		if (r == -EINVAL && n_lines == 0)
			abort(); /* rejected without saying why */
	}
	return 0;
}
