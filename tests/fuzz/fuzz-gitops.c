/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the GitOps stage's parsers of outside input (`make fuzz-gitops`):
 * the install manifest (every document checked, Argo CD's namespace added) and the
 * credentials file. The first byte picks which. Besides what ASan/UBSan/LeakSanitizer
 * catch, it checks the contracts gitops_run() relies on: a rewritten manifest parses back
 * to as many objects, a second pass over it changes nothing, and a failure always comes
 * with a message.
 *
 * gitops.c is compiled into this file so its static parsers can be reached; the network
 * and file writes it would call are stubbed out below.
 */
#include "../../node-agent/gitops/gitops.c"

#include <assert.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int fetch_url(const char *url, const char *post_body, size_t post_len, const fetch_opts *o,
	      fetch_result *res)
{
	memset(res, 0, sizeof(*res));
	return -ENOSYS;
}

void fetch_result_done(fetch_result *res)
{
	free(res->body);
	res->body = NULL;
}

int write_atomic(const char *path, const char *content, unsigned mode)
{
	return -ENOSYS;
}

static void manifest(const char *in, size_t len, const char *ns)
{
	ctx x = { 0 };
	char *out = NULL, *again = NULL;
	size_t n = 0, n2 = 0;
	unsigned added = 0, added2 = 0;
	int r = install_prepare(&x, "fuzz", in, len, ns, &out, &n, &added);

	assert(r == 0 || r == -ENOMEM || x.error);
	if (r == 0 && out) {
		ctx y = { 0 };
		/* what is written parses back to the same objects, and is a fixed point */
		r = install_prepare(&y, "rewritten", out, strlen(out), ns, &again, &n2, &added2);
		if (r != -ENOMEM) {
			assert(r == 0);
			assert(n2 == n);
			assert(!again && added2 == 0);
		}
		free(again);
		free(y.error);
	}
	free(out);
	free(x.error);
}

static void credentials(const char *in, size_t len)
{
	ctx x = { 0 };
	creds c = { 0 };
	int r = creds_parse(&x, "fuzz", in, len, &c);

	assert(r == 0 || r == -ENOMEM || x.error);
	if (r == 0) {
		na_gitops g = { .engine = "flux", .repository = "https://example.com/r",
				.credentials_file = "fuzz" };
		char *secret = NULL;
		if (creds_check(&x, &g, &c) == 0 && render_secret(&g, &c, &secret) == 0) {
			ctx y = { 0 };
			static const char *const kinds[] = { "v1 Secret" };
			assert(check_written(&y, "secret", secret, 1, kinds) == 0);
			free(y.error);
			free(secret);
		}
	}
	creds_done(&c);
	free(x.error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in;

	if (size < 1)
		return 0;
	in = malloc(size);
	if (!in)
		return 0;
	memcpy(in, data + 1, size - 1); /* its own buffer, so ASan sees reads past the end */
	switch (data[0] % 3) {
	case 0:
		manifest(in, size - 1, "argocd");
		break;
	case 1:
		manifest(in, size - 1, NULL);
		break;
	default:
		credentials(in, size - 1);
	}
	free(in);
	return 0;
}
