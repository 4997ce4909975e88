/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the node config parser (`make fuzz`): arbitrary bytes into
 * na_config_parse(). Besides what ASan/UBSan/LeakSanitizer catch, it checks the contract
 * the CLI relies on: a config is accepted with no message, or rejected with -EINVAL and
 * one "FILE:LINE:COLUMN: message" line per problem, never a line break inside a message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msgs = NULL;
	size_t msgs_len = 0;
	FILE *errors = open_memstream(&msgs, &msgs_len);
	na_log sink = na_log_stream(errors);
	na_config *c = NULL;
	int r;

	if (!errors)
		return 0;
	r = na_config_parse(PATH, (const char *)data, size, &sink, &c);
	fclose(errors);

	if (r == 0) {
		if (!c || msgs_len != 0)
			abort(); /* accepted, yet a config is missing or problems were printed */
		na_config_free(c);
	} else {
		if (r != -EINVAL && r != -ENOMEM)
			abort();
		if (r == -EINVAL && msgs_len == 0)
			abort(); /* rejected without saying why */
		if (msgs_len > 0 && msgs[msgs_len - 1] != '\n')
			abort();
		for (char *line = msgs, *nl; line < msgs + msgs_len; line = nl + 1) {
			nl = strchr(line, '\n');
			*nl = '\0';
			if (!line_ok(line)) {
				fprintf(stderr, "malformed error line: %s\n", line);
				abort();
			}
		}
	}
	free(msgs);
	return 0;
}
