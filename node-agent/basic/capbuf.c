/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/capbuf.h"

static int resize(capbuf *b, size_t cap)
{
	char *nb = realloc(b->data, cap + 1);

	if (!nb)
		return -ENOMEM;
	b->data = nb;
	b->cap = cap;
	b->data[b->len] = '\0';
	return 0;
}

int capbuf_append(capbuf *b, const void *p, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return -EFBIG;
	if (b->len + n > b->cap || !b->data) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n)
			cap = cap > b->max / 2 ? b->max : cap * 2;
		if (resize(b, cap) < 0)
			return -ENOMEM;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int capbuf_grow(capbuf *b)
{
	size_t cap;

	if (b->len > b->max)
		return -EFBIG;
	if (b->len < b->cap && b->data)
		return 0;
	size_t lim = b->max < SIZE_MAX ? b->max + 1 : b->max;

	cap = b->cap ? (b->cap > lim / 2 ? lim : b->cap * 2) : 4096;
	if (cap > lim)
		cap = lim;
	return resize(b, cap);
}

char *capbuf_take(capbuf *b, size_t *ret_len)
{
	char *d = b->data ? b->data : strdup("");

	if (d && ret_len)
		*ret_len = b->len;
	*b = (capbuf){.max = b->max};
	return d;
}

void capbuf_done(capbuf *b)
{
	free(b->data);
	*b = (capbuf){.max = b->max};
}
