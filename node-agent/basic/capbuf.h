/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * A growing buffer with a cap, for input of unknown length (a file read to its end, an
 * HTTP body): it grows geometrically and never holds more than max bytes, so no input
 * can make the agent allocate more than it decided. data is NUL-terminated whenever it is
 * not NULL (len excludes the NUL).
 */
typedef struct capbuf {
	char *data;
	size_t len;
	size_t cap; /* bytes data can hold, besides the NUL */
	size_t max;
} capbuf;

/* Append n bytes: 0, -EFBIG (nothing appended) when len would pass max, -ENOMEM. */
int capbuf_append(capbuf *b, const void *p, size_t n);

/* Room to read into: cap > len afterwards, growing up to one byte past max so a reader
 * can see that its input is longer than allowed. 0, -EFBIG when len is past max already,
 * -ENOMEM. The reader writes at data + len, at most cap - len bytes, then adds to len. */
int capbuf_grow(capbuf *b);

/* Hand the data over (an empty string when nothing was appended): NULL only when out of
 * memory. The buffer is empty afterwards. */
char *capbuf_take(capbuf *b, size_t *ret_len);

void capbuf_done(capbuf *b);
