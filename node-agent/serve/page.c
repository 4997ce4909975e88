/* SPDX-License-Identifier: MIT */
/*
 * The operator's page of `node-agent serve`: page/index.html, page/app.css and page/app.js,
 * carried in the binary (the Makefile turns them into C with page/embed.pl) and served
 * with nothing from elsewhere, so the page works on a LAN without internet. The script
 * reads the JSON API with fetch() and relative URLs (the page is the same over HTTPS);
 * an operator's token is sent as Authorization: Bearer, never as a cookie.
 *
 * Every answer forbids what the page does not do: a Content-Security-Policy that allows
 * only this origin's script, style and API (no inline script or style, no framing, no
 * form posts), nosniff, no referrer. "no-cache" with an ETag: a browser asks again each
 * time and gets 304 until a new binary serves other bytes.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "basic/dl.h"
#include "serve/serve.h"

#define PAGE_CSP                                                                                   \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "                \
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "             \
	"frame-ancestors 'none'"

const serve_asset *serve_page_asset(const char *url)
{
	static const char prefix[] = "/machines/";

	/* the machine view (/machines/ID) is the page itself, which shows it */
	if (!strcmp(url, "/") || (!strncmp(url, prefix, strlen(prefix)) && url[strlen(prefix)] &&
				  !strchr(url + strlen(prefix), '/')))
		url = "/index.html";
	for (const serve_asset *a = serve_page_assets; a->path; a++)
		if (!strcmp(a->path, url))
			return a;
	return NULL;
}

/* FNV-1a, 64 bits: which bytes these are, for the ETag (not a secret) */
static uint64_t fnv1a(const char *data, size_t size)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < size; i++)
		h = (h ^ (unsigned char)data[i]) * UINT64_C(1099511628211);
	return h;
}

enum MHD_Result serve_page_send(struct MHD_Connection *con, const serve_asset *a)
{
	const char *inm =
	    sym_MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	bool same;
	char etag[24];
	struct MHD_Response *r;
	enum MHD_Result ret;

	snprintf(etag, sizeof(etag), "\"%016" PRIx64 "\"", fnv1a(a->data, a->size));
	same = inm && strstr(inm, etag);
	r = sym_MHD_create_response_from_buffer(same ? 0 : a->size, (void *)(same ? "" : a->data),
						MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	if (!same)
		sym_MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
	sym_MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	sym_MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	sym_MHD_add_response_header(r, "Content-Security-Policy", PAGE_CSP);
	sym_MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	sym_MHD_add_response_header(r, "X-Frame-Options", "DENY");
	sym_MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	ret = sym_MHD_queue_response(con, same ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
	sym_MHD_destroy_response(r);
	return ret;
}
