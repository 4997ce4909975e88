/* SPDX-License-Identifier: MIT */
/* Bounded HTTP(S) requests with libcurl; file:// read directly. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/capbuf.h"
#include "basic/dl.h"
#include "basic/fetch.h"
#include "basic/fileio.h"
#include "basic/parse-util.h"

/* Messages may be cut to fit; vsnprintf keeps GCC's truncation warning for literals away. */
__attribute__((format(printf, 2, 3))) void fetch_set_error(fetch_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
}

typedef struct sink {
	capbuf b;
	bool too_big;
} sink;

static size_t write_cb(char *data, size_t size, size_t n, void *userdata)
{
	sink *s = userdata;
	size_t add = size * n;
	int r = capbuf_append(&s->b, data, add);

	if (r == -EFBIG)
		s->too_big = true;
	return r < 0 ? 0 : add; /* 0 makes curl stop with CURLE_WRITE_ERROR */
}

static size_t header_cb(char *data, size_t size, size_t n, void *userdata)
{
	fetch_result *res = userdata;
	size_t len = size * n;

	if (len > 12 && !strncasecmp(data, "Retry-After:", 12)) {
		const char *v = data + 12, *e = data + len;
		char tmp[32];
		uint64_t s;

		/* "Retry-After: 120\r\n" (RFC 9110 10.2.3): the field value without the
		 * whitespace around it */
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		/* seconds only; an HTTP date, or more than a day, is treated as absent */
		if ((size_t)(e - v) < sizeof(tmp)) {
			memcpy(tmp, v, (size_t)(e - v));
			tmp[e - v] = '\0';
			if (parse_uint64(tmp, 0, 86400, &s) == 0)
				res->retry_after_s = (int)s;
		}
	}
	return len;
}

static int fetch_file(const char *path, size_t max, fetch_result *res)
{
	/* procfs files report size 0: read to EOF, never past max */
	int r = read_full_file_at(AT_FDCWD, path, O_NONBLOCK, max, &res->body, &res->len, NULL);

	if (r == -EFBIG)
		fetch_set_error(res, "%s: larger than %zu bytes", path, max);
	else if (r == -EISDIR || r == -EINVAL)
		fetch_set_error(res, "%s: not a regular file", path);
	else if (r < 0)
		fetch_set_error(res, "cannot open %s: %s", path, strerror(-r));
	return r;
}

static size_t max_bytes(const fetch_opts *o)
{
	return o->max_bytes ? o->max_bytes : 1024 * 1024;
}

/* The libcurl transport (see fetch_transport). */
static int fetch_curl(const char *url, const char *post_body, size_t post_len, const fetch_opts *o,
		      fetch_result *res)
{
	sink s = {.b.max = max_bytes(o)};
	CURL *c;
	CURLcode cc;
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	int r;

	r = dl_curl();
	if (r < 0) {
		fetch_set_error(res, "libcurl.so.4 cannot be loaded");
		return r;
	}
	c = sym_curl_easy_init();
	if (!c)
		return -ENOMEM;
	sym_curl_easy_setopt(c, CURLOPT_URL, url);
	sym_curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	sym_curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
			     o->connect_timeout_s ? o->connect_timeout_s : 10L);
	sym_curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout_s ? o->timeout_s : 30L);
	sym_curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, o->no_redirects ? 0L : 1L);
	sym_curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	/* a redirect must not downgrade https to http, nor leave http(s) */
	sym_curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
			     !strncmp(url, "https://", 8) ? "https" : "http,https");
	sym_curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	sym_curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	sym_curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	sym_curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	sym_curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
	sym_curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	sym_curl_easy_setopt(c, CURLOPT_USERAGENT, "node-agent/1");
	sym_curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
	sym_curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
	if (o->ca_file)
		sym_curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	if (o->ca_pem) {
		struct curl_blob blob = {
		    .data = (void *)o->ca_pem, .len = strlen(o->ca_pem), .flags = CURL_BLOB_COPY};
		sym_curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (o->client_cert_pem && o->client_key_pem) {
		struct curl_blob cb = {.data = (void *)o->client_cert_pem,
				       .len = strlen(o->client_cert_pem),
				       .flags = CURL_BLOB_COPY};
		struct curl_blob kb = {.data = (void *)o->client_key_pem,
				       .len = strlen(o->client_key_pem),
				       .flags = CURL_BLOB_COPY};
		sym_curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cb);
		sym_curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		sym_curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &kb);
		sym_curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (o->client_cert_file && o->client_key_file) {
		sym_curl_easy_setopt(c, CURLOPT_SSLCERT, o->client_cert_file);
		sym_curl_easy_setopt(c, CURLOPT_SSLKEY, o->client_key_file);
	}
	if (o->bearer_token) {
		char *auth = NULL;
		if (asprintf(&auth, "Authorization: Bearer %s", o->bearer_token) >= 0) {
			hdrs = sym_curl_slist_append(hdrs, auth);
			explicit_bzero(auth, strlen(auth));
		}
		free(auth);
	}
	if (o->method)
		sym_curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o->method);
	if (post_body) {
		char *ct = NULL;
		if (asprintf(&ct, "Content-Type: %s",
			     o->content_type ? o->content_type : "application/json") >= 0)
			hdrs = sym_curl_slist_append(hdrs, ct);
		free(ct);
		sym_curl_easy_setopt(c, CURLOPT_POST, 1L);
		sym_curl_easy_setopt(c, CURLOPT_POSTFIELDS, post_body);
		sym_curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len);
	}
	for (const char **h = o->headers; h && *h; h++)
		hdrs = sym_curl_slist_append(hdrs, *h);
	if (hdrs)
		sym_curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

	cc = sym_curl_easy_perform(c);
	sym_curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	if (cc != CURLE_OK) {
		const char *kind = "request failed";
		switch (cc) {
		case CURLE_COULDNT_RESOLVE_HOST:
			kind = "DNS lookup failed";
			r = -EHOSTUNREACH;
			break;
		case CURLE_COULDNT_CONNECT:
			kind = "cannot connect";
			r = -ECONNREFUSED;
			break;
		case CURLE_OPERATION_TIMEDOUT:
			kind = "timed out";
			r = -ETIMEDOUT;
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
			kind = "TLS verification failed";
			r = -EPERM;
			break;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
			kind = "TLS handshake failed";
			r = -EPROTO;
			break;
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
		case CURLE_PARTIAL_FILE:
		case CURLE_GOT_NOTHING:
			kind = "connection broken";
			r = -ECONNRESET;
			break;
		case CURLE_WRITE_ERROR:
			kind = s.too_big ? "response too large" : "write error";
			r = s.too_big ? -EFBIG : -EIO;
			break;
		default:
			r = -EIO;
		}
		fetch_set_error(res, "%s: %s (%s)", url, kind,
				errbuf[0] ? errbuf : sym_curl_easy_strerror(cc));
		res->status = 0;
	}
	if (hdrs)
		sym_curl_slist_free_all(hdrs);
	sym_curl_easy_cleanup(c);
	res->body = capbuf_take(&s.b, &res->len);
	return r;
}

int fetch_url(const char *url, const char *post_body, size_t post_len, const fetch_opts *o,
	      fetch_result *res)
{
	fetch_opts dflt = {0};
	int r;

	if (!o)
		o = &dflt;
	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
	if (!strncmp(url, "file://", 7) && !post_body)
		return fetch_file(url + 7, max_bytes(o), res);
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		fetch_set_error(res, "unsupported URL scheme in %s", url);
		return -EPROTONOSUPPORT;
	}
	r = (o->transport ? o->transport : fetch_curl)(url, post_body, post_len, o, res);
	if (r < 0)
		return r;
	if (res->len > max_bytes(o)) {
		fetch_set_error(res, "%s: response too large", url);
		return -EFBIG;
	}
	if (res->status < 200 || res->status >= 300) {
		fetch_set_error(res, "HTTP status %ld from %s", res->status, url);
		return -EBADMSG;
	}
	return 0;
}

void fetch_result_done(fetch_result *res)
{
	free(res->body);
	res->body = NULL;
}

bool fetch_retryable(int r, const fetch_result *res)
{
	if (r == 0)
		return false;
	if (res->status >= 500 || res->status == 429 || res->status == 408)
		return true;
	if (res->status >= 400)
		return res->status == 404; /* a config not published yet may appear */
	return r == -ECONNREFUSED || r == -ETIMEDOUT || r == -EHOSTUNREACH || r == -EIO ||
	       r == -ECONNRESET;
}
