/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for node-agent serve's answer to a join request (`make fuzz-credentials`,
 * run/credentials.c run_credentials_parse()). Besides what ASan/UBSan/LeakSanitizer catch,
 * it checks what the credentials stage relies on: an accepted answer has a role, an https
 * server for every role but the server-init, one-line tokens, an agent token exactly for the
 * server-init, a 32-hex node password and a 64-hex machine key, and a machine and code fit
 * for a log line; a refused one says why in a message that quotes none of the secrets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/run-internal.h"

int LLVMFuzzerTestOneInput(const char *data, size_t len);

static bool printable(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return s != NULL;
}

static const char fixed_texts[] =
    "the answer is not a JSON object\n"
    "the answer's schema is not node-agent/join-credentials/v1\n"
    "the answer's role is not server-init, server or agent\n"
    "the answer gives role server-init no https:// server\n"
    "the answer gives role server no https:// server\n"
    "the answer gives role agent no https:// server\n"
    "the answer's token is missing or not one line of printable text\n"
    "the answer gives the server-init no agent_token\n"
    "the answer's node_password is not 32 lower-case hex digits\n"
    "the answer's machine_key is not 64 lower-case hex digits\n";

static bool quotes(const char *msg, const char *data, size_t len, const char *key)
{
	/* a secret of the input: the string value after "KEY":", up to the next quote */
	char pat[32];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = memmem(data, len, pat, strlen(pat));
	if (!p)
		return false;
	p += strlen(pat);
	e = memchr(p, '"', len - (size_t)(p - data));
	if (!e || e - p < 8)
		return false;
	/* every message is one of the parser's fixed texts, which an input may well repeat */
	return memmem(msg, strlen(msg), p, (size_t)(e - p)) &&
	       !memmem(fixed_texts, strlen(fixed_texts), p, (size_t)(e - p));
}

int LLVMFuzzerTestOneInput(const char *data, size_t len)
{
	static const char *const secrets[] = {"token", "agent_token", "node_password",
					      "machine_key"};
	char *body = strndup(data, len), *err = NULL;
	run_credentials c;
	int r;

	if (!body)
		return 0;
	r = run_credentials_parse(body, strlen(body), &c, &err);
	if (r == 0) {
		if (c.role == ROLE_UNSET || !printable(c.machine) || !printable(c.code) ||
		    !printable(c.token) || !c.node_password || strlen(c.node_password) != 32 ||
		    !c.machine_key || strlen(c.machine_key) != 64 ||
		    (c.role == ROLE_SERVER_INIT) != (c.agent_token != NULL) ||
		    (c.role == ROLE_SERVER_INIT) != (c.server == NULL) ||
		    (c.server && strncmp(c.server, "https://", 8)))
			abort();
		run_credentials_done(&c);
	} else if (r == -EBADMSG) {
		if (!err || !*err)
			abort();
		for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++)
			if (quotes(err, body, strlen(body), secrets[i])) {
				fprintf(stderr, "secret %s quoted in: %s\n", secrets[i], err);
				abort();
			}
	} else if (r != -ENOMEM)
		abort();
	free(err);
	free(body);
	return 0;
}
