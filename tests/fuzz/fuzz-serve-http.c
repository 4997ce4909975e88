/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what node-agent serve's HTTP side parses (`make fuzz-serve-http`,
 * node-agent/serve/): the first byte chooses
 *   0  the body of POST /reports through serve_report_parse(), as http.c's report() runs it
 *      before the database: JSON, the report envelope, the Idempotency-Key header (when the
 *      input has a line break, the line before it is the header, the rest the body), the
 *      machine's identity, node-agent's inventory reader, the acceptance rules of a serve.yaml
 *      with rules of every kind; then the machine's human code;
 *   1  a Range header (after 8 bytes of file size, little-endian) through serve_range_parse();
 *   2  a URL path through serve_mac_from_path() with the prefixes and suffixes http.c uses,
 *      and the whole input through serve_mac_normalize().
 * Besides what ASan/UBSan/LeakSanitizer catch, it checks what http.c relies on: an accepted
 * report has a 32-hex-digit key equal to the header's, an inventory object, an identity with
 * a UUID (lower case, not a placeholder), a serial or a MAC (each normalized), a rule of the
 * config or none; a range lies within the file; a MAC is "xx:xx:xx:xx:xx:xx" in lower case
 * and normalizes to itself.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules_yaml[] =
    "schema: node-agent/serve/v1\n"
    "address: 10.0.0.2\n"
    "image: {dir: /srv/pxe}\n"
    "node_config: /etc/node-agent/cluster.yaml\n"
    "accept:\n"
    "  - name: big\n"
    "    match: {min_memory_gib: 16, min_cpu_threads: 8}\n"
    "  - name: nvidia\n"
    "    match: {gpu_vendor: nvidia, min_gpus: 1, gpu_model: \"*RTX*\"}\n"
    "  - name: lab\n"
    "    match: {mac: [\"52:54:00:aa:00:01\"], serial: [\"PC1*\"]}\n"
    "  - name: healthy-qemu\n"
    "    match: {dmi_product: \"*q35*\", disk_health: [ok], "
    "memory_health: [ok, warning]}\n";

static void to_stderr(void *userdata, int prio, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

static const serve_config *rules(void)
{
	static serve_config *c;
	const na_log log = {.fn = to_stderr};

	if (!c && serve_config_parse("fuzz.yaml", rules_yaml, sizeof(rules_yaml) - 1, &log, &c) < 0)
		abort();
	return c;
}

static void check_mac(const char *mac)
{
	char again[18];

	for (size_t i = 0; i < 17; i++)
		if (i % 3 == 2
			? mac[i] != ':'
			: !isxdigit((unsigned char)mac[i]) || isupper((unsigned char)mac[i])) {
			fprintf(stderr, "not a normalized MAC: \"%s\"\n", mac);
			abort();
		}
	if (mac[17] != '\0' || serve_mac_normalize(mac, again) < 0 || strcmp(mac, again))
		abort();
}

static void fuzz_report(const char *in, size_t size)
{
	const serve_config *c = rules();
	const char *nl = memchr(in, '\n', size), *body = in, *why = NULL;
	_cleanup_free_ char *hdr = NULL;
	serve_report rep = {0};
	size_t len = size;
	char code[7];
	int r;

	if (nl) {
		hdr = strndup(in, (size_t)(nl - in));
		if (!hdr)
			return;
		body = nl + 1;
		len = size - (size_t)(nl - in) - 1;
	}
	r = serve_report_parse(c, body, len, hdr, &rep, &why);
	if (r < 0) {
		if (r != -EBADMSG || !why || rep.env)
			abort();
		return;
	}
	if (!rep.env || !rep.key || strlen(rep.key) != 32 ||
	    strspn(rep.key, "0123456789abcdef") != 32 || !rep.inventory ||
	    !json_object_is_type(rep.inventory, json_type_object))
		abort();
	if (hdr && (strlen(hdr) != 34 || strncmp(hdr + 1, rep.key, 32)))
		abort();
	if (!rep.id.uuid && !rep.id.serial && !rep.id.macs)
		abort();
	if (rep.id.uuid) {
		if (serve_uuid_is_placeholder(rep.id.uuid))
			abort();
		for (const char *s = rep.id.uuid; *s; s++)
			if (isupper((unsigned char)*s))
				abort();
	}
	if (rep.id.serial && serve_serial_is_placeholder(rep.id.serial))
		abort();
	for (char **m = rep.id.macs; m && *m; m++)
		check_mac(*m);
	if (rep.rule) {
		bool found = false;
		for (size_t i = 0; i < c->n_accept; i++)
			found = found || rep.rule == c->accept[i].name;
		if (!found)
			abort();
	}
	if (serve_machine_code(&rep.id, 0, code) < 0 || strlen(code) != 6 ||
	    strspn(code, "23456789ABCDEFGHJKMNPQRSTVWXYZ") != 6)
		abort();
	if (!json_object_to_json_string_ext(rep.inventory, JSON_C_TO_STRING_PLAIN))
		abort();
	serve_report_done(&rep);
}

static void fuzz_range(const uint8_t *data, size_t size)
{
	uint64_t file_size = 0, first = 0, last = 0;
	_cleanup_free_ char *hdr = NULL;
	int r;

	for (size_t i = 0; i < 8 && i < size; i++)
		file_size |= (uint64_t)data[i] << (8 * i);
	hdr = size > 8 ? strndup((const char *)data + 8, size - 8) : NULL;
	r = serve_range_parse(hdr, file_size, &first, &last);
	if (r == 0 && !(first <= last && last < file_size)) {
		fprintf(stderr, "range %llu-%llu of a %llu-byte file\n", (unsigned long long)first,
			(unsigned long long)last, (unsigned long long)file_size);
		abort();
	}
	if (r != 0 && r != -ERANGE && r != -ENODATA)
		abort();
	/* without a header, never a range */
	if (!hdr && r != -ENODATA)
		abort();
}

static void fuzz_mac(const char *in, size_t size)
{
	static const char *const forms[][2] = {
	    {"/config/", ".yaml"}, {"/boot/", ".ipxe"}, {"/", "/"}};
	_cleanup_free_ char *s = strndup(in, size);
	char mac[18];
	int r;

	if (!s)
		return;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		r = serve_mac_from_path(s, forms[i][0], forms[i][1], mac);
		if (r == 0)
			check_mac(mac);
		else if (r != -ENOENT && r != -EINVAL && r != -ENOMEM)
			abort();
	}
	r = serve_mac_normalize(s, mac);
	if (r == 0)
		check_mac(mac);
	else if (r != -EINVAL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_report((const char *)data + 1, size - 1);
		break;
	case 1:
		fuzz_range(data + 1, size - 1);
		break;
	default:
		fuzz_mac((const char *)data + 1, size - 1);
	}
	return 0;
}
