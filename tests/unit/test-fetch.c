/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of fetch_url() around its transport seam, as TAP: what a transport answers
 * (canned here, libcurl in the agent) becomes fetch_url()'s result the same way for every
 * transport: a non-2xx status is an error naming it, a body over max_bytes is refused,
 * a transport's own failure comes through; file:// and unknown schemes never reach it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fetch.h"
#include "tap.h"

typedef struct canned {
	long status;
	const char *body;
	int error; /* returned instead of a response when < 0 */
	unsigned calls;
	const char *method;
	size_t post_len;
} canned;

static int answer(const char *url, const char *post_body, size_t post_len, const fetch_opts *o,
		  fetch_result *res)
{
	canned *c = o->transport_data;

	c->calls++;
	c->method = o->method;
	c->post_len = post_body ? post_len : 0;
	if (c->error < 0) {
		fetch_set_error(res, "%s: canned failure", url);
		return c->error;
	}
	res->status = c->status;
	res->body = strdup(c->body);
	res->len = res->body ? strlen(res->body) : 0;
	return res->body ? 0 : -ENOMEM;
}

static int get(canned *c, const char *url, size_t max, fetch_result *res)
{
	fetch_opts o = { .transport = answer, .transport_data = c, .max_bytes = max };

	return fetch_url(url, NULL, 0, &o, res);
}

int main(void)
{
	canned c = { .status = 200, .body = "{\"kind\":\"NodeList\"}" };
	fetch_opts o = { .transport = answer, .transport_data = &c, .method = "PATCH" };
	fetch_result res;
	char path[] = "/tmp/test-fetch.XXXXXX";
	char url[64];
	int r, fd;

	r = get(&c, "https://api.invalid:6443/api/v1/nodes", 0, &res);
	ok(r == 0 && c.calls == 1 && res.status == 200 && !strcmp(res.body, c.body) &&
		   res.len == strlen(c.body) && !res.error[0],
	   "2xx: 0, the body and its length, no error");
	fetch_result_done(&res);

	r = fetch_url("https://api.invalid:6443/api/v1/nodes/n1", "{}", 2, &o, &res);
	ok(r == 0 && c.calls == 2 && c.method && !strcmp(c.method, "PATCH") && c.post_len == 2,
	   "the transport gets the method and the body");
	fetch_result_done(&res);

	c.status = 404;
	c.body = "{\"kind\":\"Status\"}";
	r = get(&c, "https://api.invalid:6443/x", 0, &res);
	ok(r == -EBADMSG && res.status == 404 && res.body && !strcmp(res.body, c.body),
	   "non-2xx: -EBADMSG, the status and the body kept");
	ok(!strcmp(res.error, "HTTP status 404 from https://api.invalid:6443/x"),
	   "non-2xx: the error names the status and the URL, as for libcurl");
	fetch_result_done(&res);

	c.status = 200;
	c.body = "0123456789";
	r = get(&c, "http://big.invalid/", 4, &res);
	ok(r == -EFBIG && strstr(res.error, "too large"), "a body over max_bytes: -EFBIG");
	fetch_result_done(&res);

	c.error = -ECONNREFUSED;
	r = get(&c, "http://down.invalid/", 0, &res);
	ok(r == -ECONNREFUSED && !strcmp(res.error, "http://down.invalid/: canned failure") &&
		   res.status == 0,
	   "a transport's failure comes through with its message");
	ok(fetch_retryable(r, &res), "... and counts as retryable");
	fetch_result_done(&res);

	c.calls = 0;
	r = get(&c, "ftp://x.invalid/", 0, &res);
	ok(r == -EPROTONOSUPPORT && c.calls == 0, "an unknown scheme never reaches the transport");
	fetch_result_done(&res);

	fd = mkstemp(path);
	if (fd >= 0) {
		ok(write(fd, "local\n", 6) == 6, "scratch file written");
		close(fd);
	}
	snprintf(url, sizeof(url), "file://%s", path);
	r = get(&c, url, 0, &res);
	ok(r == 0 && c.calls == 0 && res.body && !strcmp(res.body, "local\n"),
	   "file:// is read directly, not through the transport");
	fetch_result_done(&res);
	unlink(path);

	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
