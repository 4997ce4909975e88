/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for serve.yaml (`make fuzz-serve-config`, node-agent/serve/config.c):
 * arbitrary bytes into serve_config_parse(). Besides what ASan/UBSan/LeakSanitizer catch, it
 * checks what `node-agent serve` relies on: a file is accepted with no message, or refused
 * with -EINVAL and one LOG_ERR line "FILE:LINE:COLUMN: message" per problem, never a line
 * break or another control character inside a line; an accepted config has a state dir,
 * ports within 0..65535, an image dir and a node config, absolute paths, acceptance rules
 * and operators with names, operators' hashes of 64 lower-case hex digits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "serve/serve.h"

#define PATH "serve.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "serve.yaml:LINE:COLUMN: text" or the closing "serve.yaml: N more errors not shown" */
static bool line_ok(const char *line)
{
	const char *s = line + strlen(PATH);
	unsigned long n;
	char *end;

	if (strncmp(line, PATH ":", strlen(PATH) + 1) != 0)
		return false;
	s++;
	if (*s == ' ')
		return strstr(s, " more errors not shown") != NULL;
	for (int field = 0; field < 2; field++) {
		if (*s < '1' || *s > '9')
			return false;
		n = strtoul(s, &end, 10);
		if (n == 0 || *end != ':')
			return false;
		s = end + 1;
	}
	return *s == ' ' && s[1] != '\0';
}

static void check_line(void *userdata, int prio, const char *msg)
{
	size_t *n_lines = userdata;

	for (const char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			fprintf(stderr, "control character in an error line: %s\n", msg);
			abort();
		}
	if (prio != LOG_ERR || !line_ok(msg)) {
		fprintf(stderr, "malformed error line (priority %d): %s\n", prio, msg);
		abort();
	}
	(*n_lines)++;
}

static void check_path(const char *p, bool required, const char *what)
{
	if (!p ? required : p[0] != '/') {
		fprintf(stderr, "accepted config: %s is %s\n", what, p ? p : "missing");
		abort();
	}
}

static void check_config(const serve_config *c)
{
	check_path(c->state_dir, true, "state_dir");
	check_path(c->image_dir, true, "image.dir");
	check_path(c->node_config, true, "node_config");
	check_path(c->tftp_root, true, "netboot.tftp_root");
	check_path(c->https_cert, false, "https.cert");
	check_path(c->https_key, false, "https.key");
	if (c->http_port < 0 || c->http_port > 65535 || c->https_port < 0 || c->https_port > 65535)
		abort();
	if (!c->interface && !c->address)
		abort();
	if (!!c->https_cert != !!c->https_key || (c->netboot && !c->interface))
		abort();
	if (c->proxy_dhcp && !c->netboot)
		abort();
	if (!c->uefi_file ||
	    (strcmp(c->uefi_file, "ipxe.efi") && strcmp(c->uefi_file, "snponly.efi")))
		abort();
	for (size_t i = 0; i < c->n_accept; i++)
		if (!c->accept[i].name)
			abort();
	for (size_t i = 0; i < c->n_operators; i++) {
		const char *h = c->operators[i].token_sha256;
		if (!c->operators[i].name || !h || strlen(h) != 64 ||
		    strspn(h, "0123456789abcdef") != 64)
			abort();
	}
	/* no operator for an empty token, whatever the config says */
	if (serve_config_operator(c, ""))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n_lines = 0;
	const na_log sink = {.fn = check_line, .userdata = &n_lines};
	serve_config *c = NULL;
	int r = serve_config_parse(PATH, (const char *)data, size, &sink, &c);

	if (r == 0) {
		if (!c || n_lines != 0)
			abort(); /* accepted, yet no config or problems were reported */
		check_config(c);
		serve_config_free(c);
	} else if (c || (r != -EINVAL && r != -ENOMEM) || (r == -EINVAL && n_lines == 0))
		abort(); /* a config with an error, another error, or refused without saying why */
	return 0;
}
