/* SPDX-License-Identifier: MIT */
/*
 * HTTP Range requests (RFC 9110 section 14) for the kernel and initrd: one range of bytes,
 * "bytes=FIRST-", "bytes=FIRST-LAST" or the suffix "bytes=-N". Several ranges, other units
 * and anything malformed are ignored (a 200 with the whole file is always a valid answer),
 * which spares us multipart/byteranges and its abuse (overlapping ranges).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "basic/parse-util.h"
#include "serve/serve.h"

/* A decimal number of bytes, the LEN characters at S. */
static int parse_pos(const char *s, size_t len, uint64_t *ret)
{
	char buf[21];

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return parse_uint64(buf, 0, UINT64_MAX, ret);
}

int serve_range_parse(const char *header, uint64_t size, uint64_t *ret_first, uint64_t *ret_last)
{
	const char *spec, *dash;
	uint64_t first, last;
	bool has_last;

	if (!header || strncmp(header, "bytes=", 6))
		return -ENODATA;
	spec = header + 6;
	spec += strspn(spec, " \t");
	if (strchr(spec, ','))
		return -ENODATA;
	dash = strchr(spec, '-');
	if (!dash)
		return -ENODATA;
	has_last = dash[1] != '\0';
	if (dash == spec) {
		/* the last N bytes */
		uint64_t n;
		if (parse_pos(dash + 1, strlen(dash + 1), &n) < 0)
			return -ENODATA;
		if (n == 0 || size == 0)
			return -ERANGE;
		first = n >= size ? 0 : size - n;
		last = size - 1;
	} else {
		if (parse_pos(spec, (size_t)(dash - spec), &first) < 0 ||
		    (has_last && parse_pos(dash + 1, strlen(dash + 1), &last) < 0))
			return -ENODATA;
		if (has_last && last < first)
			return -ENODATA; /* "bytes=5-2" is invalid syntax: ignored */
		if (first >= size)
			return -ERANGE;
		if (!has_last || last >= size)
			last = size - 1;
	}
	*ret_first = first;
	*ret_last = last;
	return 0;
}
