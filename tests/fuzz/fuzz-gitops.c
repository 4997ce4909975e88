/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the GitOps stage's parsers of outside input (`make fuzz-gitops`):
 * the install manifest (every document checked, Argo CD's namespace added) and the
 * credentials file. The first byte picks which. Besides what ASan/UBSan/LeakSanitizer
 * catch, it checks the contracts gitops_run() relies on: a rewritten manifest parses back
 * to as many objects, a second pass over it changes nothing, and a failure always comes
 * with a message.
 *
 * It reaches the stage's parsers through gitops-internal.h and links build/fuzz/libagent.a
 * like every fuzz target; nothing here fetches or writes files.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitops/gitops-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void manifest(const char *in, size_t len, const char *ns)
{
	char *err = NULL, *out = NULL, *again = NULL;
	size_t n = 0, n2 = 0;
	unsigned added = 0, added2 = 0;
	int r = gitops_manifest_prepare("fuzz", in, len, ns, &out, &n, &added, &err);

	assert(r == 0 || r == -ENOMEM || err);
	if (r == 0 && out) {
		char *err2 = NULL;
		/* what is written parses back to the same objects, and is a fixed point */
		r = gitops_manifest_prepare("rewritten", out, strlen(out), ns, &again, &n2, &added2,
					    &err2);
		if (r != -ENOMEM) {
			assert(r == 0);
			assert(n2 == n);
			assert(!again && added2 == 0);
		}
		free(again);
		free(err2);
	}
	free(out);
	free(err);
}

/* Credentials that suit ENGINE make a Secret that parses back as one. */
static void secret(const gitops_engine *engine, const gitops_creds *c)
{
	static const char *const kinds[] = { "v1 Secret" };
	na_gitops g = { .engine = (char *)engine->name, .repository = (char *)"https://example.com/r",
			.credentials_file = (char *)"fuzz" };
	const char *note = NULL;
	char *err = NULL, *text = NULL;
	int r = gitops_creds_check(&g, c, &note, &err);

	assert(r == 0 || err);
	if (r == 0 && engine->render_secret(&g, c, &text) == 0) {
		char *err2 = NULL;
		assert(gitops_check_written("secret", text, 1, kinds, &err2) == 0);
		free(err2);
		free(text);
	}
	free(err);
}

static void credentials(const char *in, size_t len)
{
	gitops_creds c = { 0 };
	char *err = NULL;
	int r = gitops_creds_parse("fuzz", in, len, &c, &err);

	assert(r == 0 || r == -ENOMEM || err);
	if (r == 0) {
		secret(&gitops_engine_flux, &c);
		secret(&gitops_engine_argocd, &c);
	}
	gitops_creds_done(&c);
	free(err);
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
