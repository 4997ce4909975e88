/* SPDX-License-Identifier: MIT */
/* Unit tests of the capped growing buffer (node-agent/basic/capbuf.c) and of the bounded
 * whole-file read built on it (basic/fileio.c), as TAP. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/capbuf.h"
#include "basic/fileio.h"
#include "tap.h"

/* A pipe holding N bytes of 'x', read end returned (the writer is closed). */
static int pipe_of(size_t n)
{
	int p[2];
	char buf[4096];

	if (pipe(p) < 0)
		abort();
	memset(buf, 'x', sizeof(buf));
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);
		if (write(p[1], buf, k) != (ssize_t)k)
			abort();
		done += k;
	}
	close(p[1]);
	return p[0];
}

static void test_append(void)
{
	capbuf b = {.max = 10};
	size_t len = 99;
	char *s;

	ok(capbuf_append(&b, "hello", 5) == 0 && b.len == 5 && !strcmp(b.data, "hello"),
	   "append: 5 bytes, NUL-terminated");
	ok(capbuf_append(&b, "world", 5) == 0 && b.len == 10 && !strcmp(b.data, "helloworld"),
	   "append: up to max exactly");
	ok(capbuf_append(&b, "!", 1) == -EFBIG && b.len == 10 && !strcmp(b.data, "helloworld"),
	   "append: one byte past max is -EFBIG and appends nothing");
	ok(capbuf_append(&b, "", 0) == 0 && b.len == 10, "append: nothing is fine at max");
	s = capbuf_take(&b, &len);
	ok(s && !strcmp(s, "helloworld") && len == 10 && !b.data && b.len == 0 && b.max == 10,
	   "take: the data and its length, the buffer empty again with its cap");
	free(s);
	s = capbuf_take(&b, &len);
	ok(s && !strcmp(s, "") && len == 0, "take: an empty buffer gives an empty string");
	free(s);
	ok(capbuf_append(&b, "x", (size_t)-1) == -EFBIG, "append: a length that would overflow");
	capbuf_done(&b);
	ok(!b.data && b.len == 0, "done: released");
}

static void test_growth(void)
{
	capbuf b = {.max = 100000};
	char chunk[1000];
	unsigned reallocs = 0;
	size_t last_cap = 0;

	memset(chunk, 'y', sizeof(chunk));
	for (int i = 0; i < 100; i++) {
		if (capbuf_append(&b, chunk, sizeof(chunk)) < 0)
			break;
		if (b.cap != last_cap)
			reallocs++, last_cap = b.cap;
	}
	ok(b.len == 100000 && b.cap <= 100000, "growth: 100 kB appended, cap within max");
	ok(reallocs <= 6, "growth: geometric (at most 6 sizes for 100 kB from 4 kB)");
	capbuf_done(&b);

	b = (capbuf){.max = 5};
	ok(capbuf_grow(&b) == 0 && b.cap == 6, "grow: one byte past a small max, not 4 KiB");
	b.len = 6;
	ok(capbuf_grow(&b) == -EFBIG, "grow: -EFBIG once len is past max");
	capbuf_done(&b);
}

static void test_read_full_fd(void)
{
	char *s = NULL;
	size_t len = 0;
	int fd;

	fd = pipe_of(0);
	ok(read_full_fd(fd, 10, &s, &len) == 0 && s && len == 0 && !strcmp(s, ""),
	   "read_full_fd: an empty input is an empty string");
	close(fd);
	free(s);
	fd = pipe_of(10);
	ok(read_full_fd(fd, 10, &s, &len) == 0 && len == 10 && strlen(s) == 10,
	   "read_full_fd: exactly max bytes");
	close(fd);
	free(s);
	s = NULL;
	fd = pipe_of(11);
	ok(read_full_fd(fd, 10, &s, &len) == -EFBIG && !s, "read_full_fd: max + 1 is -EFBIG");
	close(fd);
	fd = pipe_of(50000);
	ok(read_full_fd(fd, 50000, &s, &len) == 0 && len == 50000 && s[49999] == 'x' &&
	       s[50000] == '\0',
	   "read_full_fd: 50000 bytes through several reads, NUL-terminated");
	close(fd);
	free(s);
	s = NULL;
	fd = pipe_of(60000);
	ok(read_full_fd(fd, 50000, &s, &len) == -EFBIG && !s,
	   "read_full_fd: 60000 bytes with max 50000 is -EFBIG");
	close(fd);
}

int main(void)
{
	test_append();
	test_growth();
	test_read_full_fd();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
