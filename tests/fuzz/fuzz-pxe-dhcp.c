/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the network-boot parsers of node-agent serve (`make fuzz-pxe-dhcp`,
 * node-agent/serve/pxe-dhcp.c and tftp.c): the input is one UDP payload, as a DHCP packet
 * reaches port 67/4011/68 and as a TFTP request reaches port 69; it is copied to a buffer of
 * its own size, so ASan sees any read past the packet. Besides what ASan/UBSan catch:
 *   - a parse fails only with -EBADMSG or -EMSGSIZE, and then with a reason;
 *   - a parsed packet's strings are NUL-terminated and printable, the arch in 16 bits;
 *   - every reply decided for it (on port 67 and on 4011) is built within 576 bytes, parses
 *     back as an OFFER/ACK from the server with yiaddr 0 and the decided boot file;
 *   - a TFTP request accepted has a name inside the root (not absolute, no ".." component).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/pxe-dhcp.h"
#include "serve/tftp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-pxe-dhcp: %s\n", what);
	abort();
}

static void check_string(const char *s, size_t size, const char *what)
{
	size_t n = strnlen(s, size);

	if (n == size)
		fail(what);
	for (size_t k = 0; k < n; k++)
		if (s[k] < 0x20 || s[k] > 0x7e)
			fail(what);
}

static void check_reply(const pxe_dhcp_request *req, bool proxy_port, const pxe_boot_config *c)
{
	static pxe_dhcp_request back;
	pxe_boot_decision d;
	uint8_t buf[PXE_DHCP_MAX_PACKET];
	const char *reason = NULL;
	int r, n;

	r = pxe_dhcp_decide(req, proxy_port, c, &d);
	if (r < 0 && r != -ENAMETOOLONG)
		fail("decide: unexpected error");
	if (r == 0 && !d.reason)
		fail("decide: no answer without a reason");
	if (r <= 0)
		return;
	n = pxe_dhcp_build_reply(req, c, &d, buf, sizeof(buf));
	if (n < 0 || n > PXE_DHCP_REPLY_SIZE)
		fail("reply: not built within 576 bytes");
	if (pxe_dhcp_parse(buf, (size_t)n, &back, &reason) < 0)
		fail(reason ? reason : "reply: does not parse back");
	if (back.op != 2 || back.yiaddr.s_addr != 0 ||
	    back.server_id.s_addr != c->server_addr.s_addr ||
	    back.msg_type != (proxy_port ? PXE_DHCP_ACK : PXE_DHCP_OFFER) || back.xid != req->xid)
		fail("reply: header or options wrong");
	if (strcmp((const char *)back.bootfile.data, d.file) != 0)
		fail("reply: option 67 is not the decided boot file");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pxe_dhcp_request req;
	pxe_boot_config c = {.bios_file = "undionly.kpxe",
			     .uefi_file = "ipxe.efi",
			     .uefi_http_url = "http://192.0.2.2:8080/ipxe.efi",
			     .script_url = "http://192.0.2.2:8080/boot.ipxe",
			     .script_url_mac = true,
			     .server_addr.s_addr = htonl(0xc0000202)};
	uint8_t *copy = malloc(size ? size : 1);
	const char *reason = NULL, *what = NULL;
	tftp_request t;
	int r;

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	r = pxe_dhcp_parse(copy, size, &req, &reason);
	if (r < 0) {
		if ((r != -EBADMSG && r != -EMSGSIZE) || !reason)
			fail("parse: an error other than -EBADMSG/-EMSGSIZE, or no reason");
	} else {
		check_string(req.vendor_class, sizeof(req.vendor_class), "vendor class");
		check_string(req.file, sizeof(req.file), "file");
		check_string(req.sname, sizeof(req.sname), "sname");
		if (req.arch < -1 || req.arch > 0xffff || req.prl_len > 255)
			fail("arch or parameter list out of range");
		check_reply(&req, false, &c);
		check_reply(&req, true, &c);
		if (pxe_dhcp_foreign_boot(&req, &what) == 1 && !what)
			fail("foreign boot offer without a text");
	}

	reason = NULL;
	r = tftp_parse_request(copy, size, &t, &reason);
	if (r == 0) {
		size_t n = strlen(t.file);

		if (!n || t.file[0] == '/' || strcmp(t.file, "..") == 0 ||
		    strncmp(t.file, "../", 3) == 0 || strstr(t.file, "/../") ||
		    (n >= 3 && strcmp(t.file + n - 3, "/..") == 0))
			fail("tftp: a name outside the root accepted");
		if ((t.blksize && (t.blksize < 8 || t.blksize > 65464)) || t.timeout > 255)
			fail("tftp: an option out of range accepted");
	} else if ((r != -EINVAL && r != -EPERM) || !reason) {
		fail("tftp: an error other than -EINVAL/-EPERM, or no reason");
	}
	free(copy);
	return 0;
}
