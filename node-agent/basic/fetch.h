/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* HTTP(S) through libcurl (loaded on first use), and file:// for local files. */

typedef struct fetch_opts fetch_opts;
typedef struct fetch_result fetch_result;

/*
 * What makes an http(s) request: it fills res->status, res->body (malloc'd and
 * NUL-terminated, or NULL), res->len and res->retry_after_s, and returns 0 when a response
 * came, whatever its status, or -errno with res->error set when none came. fetch_url()
 * turns a non-2xx status into its error and holds the body to opts->max_bytes. NULL in
 * fetch_opts means libcurl; tests and fuzz targets answer with canned responses instead.
 */
typedef int fetch_transport(const char *url, const char *post_body, size_t post_len,
			    const fetch_opts *opts, fetch_result *res);

struct fetch_opts {
	long connect_timeout_s; /* default 10 */
	long timeout_s;		/* whole transfer, default 30 */
	size_t max_bytes;	/* default 1 MiB */
	const char *ca_file;	/* trust only this CA bundle (PEM file) */
	const char *ca_pem;	/* ... or this PEM text */
	const char *content_type;
	const char **headers;	     /* extra "Name: value" headers, NULL-terminated */
	const char *method;	     /* "PATCH", "PUT", ...; default GET, or POST with a body */
	bool insecure;		     /* no certificate verification: only to fetch a CA whose hash
				      * is checked afterwards (K3s /cacerts), never with credentials */
	const char *client_cert_pem; /* TLS client certificate and key, PEM text ... */
	const char *client_key_pem;
	const char *client_cert_file; /* ... or files */
	const char *client_key_file;
	const char *bearer_token;   /* "Authorization: Bearer ..." (never logged) */
	bool no_redirects;	    /* an API client must not follow redirects with credentials */
	fetch_transport *transport; /* NULL: libcurl */
	void *transport_data;	    /* for the transport, which finds it in opts */
};

struct fetch_result {
	char *body;
	size_t len;
	long status;	   /* HTTP status; 0 when no response came */
	int retry_after_s; /* from a 429/503 Retry-After, or -1 */
	char error[256];   /* what failed, for people: DNS, connect, TLS, HTTP status, ... */
};

/* GET (body NULL) or POST (body given). Returns 0 for a 2xx response, -errno otherwise;
 * res->error says why in either case of failure. res->body is NUL-terminated. */
int fetch_url(const char *url, const char *post_body, size_t post_len, const fetch_opts *opts,
	      fetch_result *res);
void fetch_result_done(fetch_result *res);
void fetch_set_error(fetch_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether trying again may help (timeouts, connection failures, 5xx, 429). */
bool fetch_retryable(int r, const fetch_result *res);
