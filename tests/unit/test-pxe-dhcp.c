/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of node-agent/serve/pxe-dhcp.c, as TAP:
 *   - packets captured from real firmware on the LAN of tests/98-pxe-lan.t (QEMU's iPXE ROM
 *     under SeaBIOS, OVMF's PXE, OVMF's HTTP boot, ipxe.efi's own DHCP) in
 *     tests/fixtures/dhcp/NAME.bin, their decoding compared with NAME.expected beside them
 *     (PXE_DHCP_WRITE_EXPECTED=1 rewrites those), and the reply to each parsed back;
 *   - packets built here: truncated and malformed options, option overload (RFC 2132 9.3),
 *     split options (RFC 3396), malformed options 93 and 97, RFC 3004 user classes, sizes;
 *   - the boot decision for each client kind, and other servers' boot offers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "serve/pxe-dhcp.h"
#include "tap.h"

typedef struct pkt {
	uint8_t b[2048];
	size_t len;
} pkt;

static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static void pkt_init(pkt *p, uint8_t op)
{
	memset(p, 0, sizeof(*p));
	p->b[0] = op;
	p->b[1] = 1;
	p->b[2] = 6;
	memcpy(p->b + 4, "\x11\x22\x33\x44", 4);
	memcpy(p->b + 28, mac1, 6);
	memcpy(p->b + 236, "\x63\x82\x53\x63", 4);
	p->len = 240;
}

static void put(pkt *p, uint8_t code, const void *data, size_t n)
{
	p->b[p->len++] = code;
	p->b[p->len++] = (uint8_t)n;
	memcpy(p->b + p->len, data, n);
	p->len += n;
}

static void end(pkt *p)
{
	p->b[p->len++] = 255;
}

/* a client: message type, option 60, option 93 (arch < 0: none) */
static void client(pkt *p, uint8_t type, const char *vc, int arch)
{
	pkt_init(p, 1);
	put(p, 53, &type, 1);
	if (vc)
		put(p, 60, vc, strlen(vc));
	if (arch >= 0)
		put(p, 93, (uint8_t[]){(uint8_t)(arch >> 8), (uint8_t)arch}, 2);
}

static pxe_boot_config cfg(void)
{
	pxe_boot_config c = {
	    .bios_file = "undionly.kpxe",
	    .uefi_file = "ipxe.efi",
	    .uefi_http_url = "http://192.0.2.2:8080/ipxe.efi",
	    .script_url = "http://192.0.2.2:8080/boot.ipxe",
	    .script_url_mac = true,
	};

	inet_pton(AF_INET, "192.0.2.2", &c.server_addr);
	return c;
}

static int parse(const pkt *p, pxe_dhcp_request *r, const char **reason)
{
	*reason = NULL;
	return pxe_dhcp_parse(p->b, p->len, r, reason);
}

/* the decoding of a request as the .expected files hold it */
static void describe(const pxe_dhcp_request *r, char *out, size_t size)
{
	char uuid[40] = "-", prl[1024] = "", siaddr[INET_ADDRSTRLEN];
	const char *foreign = NULL;
	size_t n = 0;

	inet_ntop(AF_INET, &r->siaddr, siaddr, sizeof(siaddr));

	if (r->has_uuid) {
		for (int k = 0; k < 16; k++)
			snprintf(uuid + 2 * k, sizeof(uuid) - 2 * k, "%02x", r->uuid[k]);
	}
	for (size_t k = 0; k < r->prl_len && n + 5 < sizeof(prl); k++)
		n += (size_t)snprintf(prl + n, sizeof(prl) - n, "%s%u", k ? "," : "", r->prl[k]);
	snprintf(out, size,
		 "op=%u\nxid=%08x\nflags=%04x\nciaddr=%s\nmac=%02x:%02x:%02x:%02x:%02x:%02x\n"
		 "type=%s\nclass=%s\nvendor_class=%s\narch=%d (%s)\narch_malformed=%d\nuuid=%s\n"
		 "uuid_malformed=%d\nipxe=%d\nipxe_http=%d\nuser_class_len=%u\noverload=%u\n"
		 "prl=%s\nsiaddr=%s\nfile=%s\nbootfile_opt=%s\nforeign_boot=%s\n",
		 r->op, ntohl(r->xid), r->flags, inet_ntoa(r->ciaddr), r->mac[0], r->mac[1],
		 r->mac[2], r->mac[3], r->mac[4], r->mac[5], pxe_dhcp_msg_type_name(r->msg_type),
		 pxe_client_class_name(r->client_class), r->vendor_class, r->arch,
		 pxe_arch_name(r->arch), r->arch_malformed, uuid, r->uuid_malformed, r->ipxe,
		 r->ipxe_http, r->user_class.len, r->overload, prl, siaddr, r->file,
		 r->bootfile.present ? (const char *)r->bootfile.data : "-",
		 pxe_dhcp_foreign_boot(r, &foreign) == 1 ? foreign : "-");
}

/* the reply to r, parsed back: the proxy's promises of pxe-dhcp.h */
static void check_reply(const char *name, const pxe_dhcp_request *r, bool proxy_port)
{
	pxe_boot_config c = cfg();
	pxe_boot_decision d;
	pxe_dhcp_request back;
	const char *reason;
	uint8_t buf[PXE_DHCP_MAX_PACKET];
	char what[256];
	int n;

	if (pxe_dhcp_decide(r, proxy_port, &c, &d) <= 0)
		return;
	n = pxe_dhcp_build_reply(r, &c, &d, buf, sizeof(buf));
	snprintf(what, sizeof(what), "%.100s: the reply is built within 576 bytes (%d)", name, n);
	ok(n >= 300 && n <= PXE_DHCP_REPLY_SIZE, what);
	if (n < 0)
		return;
	snprintf(what, sizeof(what), "%.100s: the reply parses back", name);
	ok(pxe_dhcp_parse(buf, (size_t)n, &back, &reason) == 0, what);
	snprintf(what, sizeof(what),
		 "%.100s: op 2, same xid and MAC, yiaddr 0, siaddr and option 54 the server", name);
	ok(back.op == 2 && back.xid == r->xid && memcmp(back.mac, r->mac, 6) == 0 &&
	       back.yiaddr.s_addr == 0 && back.siaddr.s_addr == c.server_addr.s_addr &&
	       back.server_id.s_addr == c.server_addr.s_addr &&
	       back.msg_type == (proxy_port ? PXE_DHCP_ACK : PXE_DHCP_OFFER),
	   what);
	snprintf(what, sizeof(what), "%.100s: option 60 echoes the client's class", name);
	ok(back.client_class == r->client_class &&
	       strlen(back.vendor_class) == (r->client_class == PXE_CLASS_HTTP ? 10 : 9),
	   what);
	snprintf(what, sizeof(what), "%.100s: the boot file in option 67 and in the file field",
		 name);
	ok(strcmp((char *)back.bootfile.data, d.file) == 0 && strcmp(back.file, d.file) == 0, what);
	snprintf(what, sizeof(what), "%.100s: option 97 echoed as sent", name);
	ok(back.uuid_opt.present == r->uuid_opt.present && back.uuid_opt.len == r->uuid_opt.len &&
	       memcmp(back.uuid_opt.data, r->uuid_opt.data, r->uuid_opt.len) == 0,
	   what);
	snprintf(what, sizeof(what),
		 "%.100s: option 43 PXE_DISCOVERY_CONTROL 8 only for PXE firmware", name);
	ok(r->client_class == PXE_CLASS_PXE && !r->ipxe
	       ? back.vendor_opts.len == 4 &&
		     memcmp(back.vendor_opts.data, "\x06\x01\x08\xff", 4) == 0
	       : !back.vendor_opts.present,
	   what);
	snprintf(what, sizeof(what), "%.100s: option 66 exactly for TFTP", name);
	ok(back.tftp_server.present == (d.kind == PXE_BOOT_TFTP), what);
}

static void test_fixtures(void)
{
	const char *dir = getenv("NA_FIXTURES");
	bool write = getenv("PXE_DHCP_WRITE_EXPECTED") != NULL;
	char path[4096];
	struct dirent **ents;
	int n, seen = 0;

	snprintf(path, sizeof(path), "%s/dhcp", dir ? dir : "tests/fixtures");
	n = scandir(path, &ents, NULL, alphasort);
	ok(n > 0, "tests/fixtures/dhcp is readable");
	for (int k = 0; k < n; k++) {
		const char *name = ents[k]->d_name;
		size_t l = strlen(name);
		_cleanup_free_ char *raw = NULL, *want = NULL;
		pxe_dhcp_request *r = calloc(1, sizeof(*r));
		char file[8200], got[4096], what[512];
		const char *reason;
		size_t size = 0;
		int pr;

		if (l < 5 || strcmp(name + l - 4, ".bin") != 0 || !r) {
			free(r);
			continue;
		}
		seen++;
		snprintf(file, sizeof(file), "%s/%s", path, name);
		if (read_full_file(file, 65536, &raw, &size) < 0) {
			ok(0, file);
			free(r);
			continue;
		}
		/* malformed-*: captured on the LAN too, refused with a reason */
		snprintf(what, sizeof(what), "%s: %s", name,
			 strncmp(name, "malformed-", 10) == 0 ? "refused" : "parses");
		reason = NULL;
		pr = pxe_dhcp_parse((uint8_t *)raw, size, r, &reason);
		ok(strncmp(name, "malformed-", 10) == 0 ? pr == -EBADMSG : pr == 0, what);
		if (pr < 0)
			snprintf(got, sizeof(got), "error=%d\nreason=%s\n", pr, reason);
		else
			describe(r, got, sizeof(got));
		snprintf(file + strlen(file) - 4, sizeof(file) - strlen(file) + 4, ".expected");
		if (write) {
			FILE *f = fopen(file, "we");

			if (f) {
				fputs(got, f);
				fclose(f);
			}
		}
		snprintf(what, sizeof(what), "%.100s: decoded as %.100s says", name,
			 strrchr(file, '/') + 1);
		if (read_full_file(file, 65536, &want, &size) < 0)
			ok(0, what);
		else
			is_str(got, want, what);
		if (pr == 0)
			check_reply(name, r, r->msg_type == PXE_DHCP_REQUEST);
		free(r);
	}
	for (int k = 0; k < n; k++)
		free(ents[k]);
	if (n > 0)
		free(ents);
	ok(seen >= 4, "at least four captured client packets");
}

/* facts of the captures that matter, named here rather than only in golden files */
static void test_fixture_facts(void)
{
	static const struct {
		const char *file;
		pxe_boot_kind kind;
		const char *boot;
		int arch;
	} cases[] = {
	    {"seabios-ipxe-rom-discover.bin", PXE_BOOT_SCRIPT,
	     "http://192.0.2.2:8080/boot.ipxe?mac=52:54:00:77:00:11", 0},
	    {"ovmf-pxe-discover.bin", PXE_BOOT_TFTP, "ipxe.efi", 7},
	    {"ovmf-http-discover.bin", PXE_BOOT_HTTP, "http://192.0.2.2:8080/ipxe.efi", 16},
	    /* Debian's undionly.kpxe sends a bare "PXEClient" (no Arch:) and the broadcast
	     * flag, unlike QEMU's iPXE ROM of the same source; its arch is in option 93 */
	    {"undionly-kpxe-discover.bin", PXE_BOOT_SCRIPT,
	     "http://192.0.2.2:8080/boot.ipxe?mac=52:54:00:77:00:11", 0},
	    {"ipxe-efi-discover.bin", PXE_BOOT_SCRIPT,
	     "http://192.0.2.2:8080/boot.ipxe?mac=52:54:00:77:00:12", 7},
	};
	const char *dir = getenv("NA_FIXTURES");
	pxe_boot_config c = cfg();

	for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
		_cleanup_free_ char *raw = NULL;
		_cleanup_free_ pxe_dhcp_request *r = calloc(1, sizeof(*r));
		pxe_boot_decision d = {0};
		char path[4096], what[512];
		const char *reason;
		size_t size;

		snprintf(path, sizeof(path), "%s/dhcp/%s", dir ? dir : "tests/fixtures",
			 cases[k].file);
		snprintf(what, sizeof(what), "%s: arch %d, boots %s", cases[k].file, cases[k].arch,
			 cases[k].boot);
		if (!r || read_full_file(path, 65536, &raw, &size) < 0 ||
		    pxe_dhcp_parse((uint8_t *)raw, size, r, &reason) < 0) {
			ok(0, what);
			continue;
		}
		ok(r->arch == cases[k].arch && pxe_dhcp_decide(r, false, &c, &d) == 1 &&
		       d.kind == cases[k].kind && strcmp(d.file, cases[k].boot) == 0,
		   what);
	}
}

static void test_malformed(void)
{
	pxe_dhcp_request r;
	const char *reason;
	pkt p;

	client(&p, 1, "PXEClient:Arch:00000:UNDI:002001", 0);
	end(&p);
	ok(parse(&p, &r, &reason) == 0 && r.arch == 0 && r.client_class == PXE_CLASS_PXE,
	   "a well-formed DISCOVER parses");

	client(&p, 1, "PXEClient", -1);
	p.b[p.len++] = 60;
	p.b[p.len++] = 40; /* 40 bytes announced, 3 there */
	memcpy(p.b + p.len, "abc", 3);
	p.len += 3;
	ok(parse(&p, &r, &reason) == -EBADMSG && reason && strstr(reason, "past the end"),
	   "an option running past the packet: -EBADMSG, with a reason");

	client(&p, 1, "PXEClient", -1);
	p.b[p.len++] = 93; /* a code, no length byte */
	ok(parse(&p, &r, &reason) == -EBADMSG && reason && strstr(reason, "length byte"),
	   "an option without its length byte: -EBADMSG");

	pkt_init(&p, 1);
	put(&p, 53, "\x01\x01", 2);
	end(&p);
	ok(parse(&p, &r, &reason) == -EBADMSG && strstr(reason, "53"),
	   "option 53 of two bytes: -EBADMSG");
	pkt_init(&p, 1);
	put(&p, 53, "\x63", 1);
	end(&p);
	ok(parse(&p, &r, &reason) == -EBADMSG, "option 53 of an unknown type: -EBADMSG");

	ok(pxe_dhcp_parse(p.b, 100, &r, &reason) == -EBADMSG && strstr(reason, "shorter"),
	   "100 bytes: shorter than the BOOTP header");
	memset(p.b + 240, 0, 1300);
	p.len = PXE_DHCP_MAX_PACKET + 1;
	ok(pxe_dhcp_parse(p.b, p.len, &r, &reason) == -EMSGSIZE,
	   "1473 bytes: -EMSGSIZE (more than one Ethernet frame)");
	p.len = PXE_DHCP_MAX_PACKET;
	ok(pxe_dhcp_parse(p.b, p.len, &r, &reason) == 0, "1472 bytes of padding options: accepted");

	client(&p, 1, "PXEClient", 0);
	end(&p);
	p.b[2] = 17;
	ok(parse(&p, &r, &reason) == -EBADMSG, "hlen 17: -EBADMSG");
	p.b[2] = 6;
	p.b[0] = 3;
	ok(parse(&p, &r, &reason) == -EBADMSG, "op 3: -EBADMSG");

	client(&p, 1, "PXEClient", 0);
	end(&p);
	memcpy(p.b + 236, "\x63\x82\x53\x64", 4);
	ok(parse(&p, &r, &reason) == 0 && r.msg_type == 0 && r.client_class == PXE_CLASS_NONE,
	   "no magic cookie: plain BOOTP, no options, not a PXE client");

	/* no end option at all: the options fill the packet exactly */
	client(&p, 1, "PXEClient:Arch:00007", -1);
	ok(parse(&p, &r, &reason) == 0 && r.arch == 7, "options without an end option: accepted");
}

static void test_overload(void)
{
	pxe_dhcp_request r;
	const char *reason;
	pkt p;

	/* RFC 2132 9.3: option 60 and 93 carried in the file field, 97 in sname */
	client(&p, 1, NULL, -1);
	put(&p, 52, "\x03", 1);
	end(&p);
	memcpy(p.b + 108, "\x3c\x09PXEClient\x5d\x02\x00\x07\xff", 15);
	memcpy(p.b + 44, "\x61\x11\x00", 3);
	memset(p.b + 47, 0xab, 16);
	p.b[63] = 255;
	ok(parse(&p, &r, &reason) == 0 && r.overload == 3 && r.client_class == PXE_CLASS_PXE &&
	       r.arch == 7 && r.has_uuid && r.uuid[15] == 0xab && r.file[0] == 0 && r.sname[0] == 0,
	   "overload 3: options read from file and sname, the fields not taken for names");

	client(&p, 1, NULL, -1);
	put(&p, 52, "\x01", 1);
	end(&p);
	memcpy(p.b + 108, "\x34\x01\x01\xff", 4);
	ok(parse(&p, &r, &reason) == -EBADMSG && strstr(reason, "52"),
	   "option 52 inside the overloaded file field: -EBADMSG");

	client(&p, 1, NULL, -1);
	put(&p, 52, "\x01", 1);
	end(&p);
	memcpy(p.b + 108, "\x3c\x7f", 2); /* 127 bytes announced, 126 left in the field */
	ok(parse(&p, &r, &reason) == -EBADMSG, "an option running past the file field: -EBADMSG");

	client(&p, 1, NULL, -1);
	put(&p, 52, "\x04", 1);
	end(&p);
	ok(parse(&p, &r, &reason) == -EBADMSG, "option 52 of value 4: -EBADMSG");

	/* RFC 3396: option 60 in two pieces is one option */
	client(&p, 1, NULL, -1);
	put(&p, 60, "PXECl", 5);
	put(&p, 60, "ient:Arch:00009", 15);
	end(&p);
	ok(parse(&p, &r, &reason) == 0 && strcmp(r.vendor_class, "PXEClient:Arch:00009") == 0 &&
	       r.arch == 9,
	   "option 60 split in two instances is joined (RFC 3396)");
}

static void test_quirks(void)
{
	pxe_dhcp_request r;
	const char *reason;
	pkt p;

	client(&p, 1, "PXEClient:Arch:00007:UNDI:003016", -1);
	put(&p, 93, "\x00", 1);
	end(&p);
	ok(parse(&p, &r, &reason) == 0 && r.arch_malformed && r.arch == 7,
	   "option 93 of one byte: kept as malformed, the arch from option 60");

	client(&p, 1, "PXEClient", -1);
	put(&p, 93, "\x00\x0b\x00\x07", 4);
	end(&p);
	ok(parse(&p, &r, &reason) == 0 && r.arch == 11,
	   "option 93 with two types: the first is the one in use (RFC 4578 2.1)");

	client(&p, 1, "PXEClient", 7);
	put(&p, 97, "0123456789abcdef", 16);
	end(&p);
	ok(parse(&p, &r, &reason) == 0 && !r.has_uuid && r.uuid_malformed && r.uuid_opt.len == 16,
	   "option 97 without its type byte: malformed, kept raw for the echo");

	client(&p, 1, "PXEClient", 7);
	put(&p, 77, "\x04iPXE", 5);
	end(&p);
	ok(parse(&p, &r, &reason) == 0 && r.ipxe, "user class as RFC 3004 instances: iPXE seen");

	client(&p, 1, "PXEClient", 7);
	put(&p, 77, "\x09iPXE", 5);
	end(&p);
	ok(parse(&p, &r, &reason) == 0 && !r.ipxe,
	   "a broken RFC 3004 user class (UEFI's): tolerated, not iPXE");

	client(&p, 1, "PXEClient", 7);
	put(&p, 175, "\x13\x01\x01\xb1\x05\x01\x80\x86\x10\x0e", 10);
	end(&p);
	ok(parse(&p, &r, &reason) == 0 && r.ipxe && r.ipxe_http,
	   "option 175 alone: iPXE, with HTTP (175.19)");

	client(&p, 1, "PXEClient\0garbage", 0);
	end(&p);
	ok(parse(&p, &r, &reason) == 0 && strcmp(r.vendor_class, "PXEClient") == 0,
	   "option 60 with a NUL inside: cut at the NUL");
}

static void decide(pkt *p, bool proxy, pxe_boot_decision *d, int *ret)
{
	pxe_boot_config c = cfg();
	pxe_dhcp_request r;
	const char *reason;

	end(p);
	*ret = parse(p, &r, &reason) < 0 ? -999 : pxe_dhcp_decide(&r, proxy, &c, d);
}

static void test_decide(void)
{
	pxe_boot_decision d;
	int r;
	pkt p;

	client(&p, 1, "PXEClient:Arch:00000:UNDI:002001", 0);
	decide(&p, false, &d, &r);
	ok(r == 1 && d.kind == PXE_BOOT_TFTP && strcmp(d.file, "undionly.kpxe") == 0 &&
	       d.reply_type == PXE_DHCP_OFFER,
	   "BIOS PXE DISCOVER on 67: OFFER of undionly.kpxe over TFTP");
	client(&p, 1, "PXEClient:Arch:00009:UNDI:003016", 9);
	decide(&p, false, &d, &r);
	ok(r == 1 && d.kind == PXE_BOOT_TFTP && strcmp(d.file, "ipxe.efi") == 0,
	   "UEFI x64 (arch 9) DISCOVER: ipxe.efi");
	client(&p, 3, "PXEClient:Arch:00007:UNDI:003016", 7);
	decide(&p, true, &d, &r);
	ok(r == 1 && d.reply_type == PXE_DHCP_ACK && strcmp(d.file, "ipxe.efi") == 0,
	   "REQUEST on the proxy port 4011: ACK with the same boot file");
	client(&p, 3, "PXEClient:Arch:00007:UNDI:003016", 7);
	decide(&p, false, &d, &r);
	ok(r == 0 && strstr(d.reason, "router"), "REQUEST on 67: the router's, not answered");
	client(&p, 1, "PXEClient:Arch:00011:UNDI:003016", 11);
	decide(&p, false, &d, &r);
	ok(r == 0 && d.kind == PXE_BOOT_NONE && strstr(d.reason, "architecture"),
	   "arm64 UEFI (arch 11): no answer, the reason says the architecture");
	client(&p, 1, "PXEClient", -1);
	decide(&p, false, &d, &r);
	ok(r == 0 && strstr(d.reason, "option 93"), "no arch anywhere: no answer, and why");
	client(&p, 1, "MSFT 5.0", -1);
	decide(&p, false, &d, &r);
	ok(r == 0 && strstr(d.reason, "option 60"), "a Windows client: left to the router");
	client(&p, 1, NULL, -1);
	decide(&p, false, &d, &r);
	ok(r == 0, "no option 60: left to the router");
	client(&p, 1, "HTTPClient:Arch:00016:UNDI:003001", 16);
	decide(&p, false, &d, &r);
	ok(r == 1 && d.kind == PXE_BOOT_HTTP &&
	       strcmp(d.file, "http://192.0.2.2:8080/ipxe.efi") == 0,
	   "UEFI HTTP boot (arch 16): the URL of ipxe.efi");
	client(&p, 1, "HTTPClient:Arch:00019:UNDI:003001", 19);
	decide(&p, false, &d, &r);
	ok(r == 0 && strstr(d.reason, "HTTP"), "arm64 HTTP boot (arch 19): no answer");
	client(&p, 1, "PXEClient:Arch:00000:UNDI:002001", 0);
	put(&p, 77, "iPXE", 4);
	decide(&p, false, &d, &r);
	ok(r == 1 && d.kind == PXE_BOOT_SCRIPT &&
	       strcmp(d.file, "http://192.0.2.2:8080/boot.ipxe?mac=52:54:00:12:34:56") == 0,
	   "iPXE (user class): the script URL with the MAC");
	client(&p, 8, "PXEClient:Arch:00000:UNDI:002001", 0);
	decide(&p, false, &d, &r);
	ok(r == 0, "an INFORM on 67: not answered");
	pkt_init(&p, 2);
	put(&p, 53, "\x02", 1);
	put(&p, 60, "PXEClient", 9);
	decide(&p, false, &d, &r);
	ok(r == 0 && strstr(d.reason, "not a client"), "a BOOTREPLY is never answered");

	{
		pxe_boot_config c = cfg();
		pxe_dhcp_request req;
		const char *reason;
		char longurl[400];

		memset(longurl, 'a', sizeof(longurl) - 1);
		longurl[sizeof(longurl) - 1] = 0;
		c.script_url = "http://192.0.2.2/boot.ipxe?site=1";
		client(&p, 1, "PXEClient", 0);
		put(&p, 77, "iPXE", 4);
		end(&p);
		parse(&p, &req, &reason);
		ok(pxe_dhcp_decide(&req, false, &c, &d) == 1 &&
		       strcmp(d.file, "http://192.0.2.2/boot.ipxe?site=1&mac=52:54:00:12:34:56") ==
			   0,
		   "a script URL with a query: the MAC after '&'");
		c.script_url = longurl;
		ok(pxe_dhcp_decide(&req, false, &c, &d) == -ENAMETOOLONG,
		   "a script URL longer than 255 bytes: -ENAMETOOLONG");
	}
}

static void test_reply(void)
{
	pxe_boot_config c = cfg();
	pxe_boot_decision d = {.kind = PXE_BOOT_HTTP, .reply_type = PXE_DHCP_OFFER};
	pxe_dhcp_request r, back;
	const char *reason;
	uint8_t buf[PXE_DHCP_MAX_PACKET];
	pkt p;
	int n;

	client(&p, 1, "HTTPClient:Arch:00016:UNDI:003001", 16);
	put(&p, 97,
	    "\x00"
	    "0123456789abcdef",
	    17);
	end(&p);
	parse(&p, &r, &reason);
	memset(d.file, 'u', 200);
	memcpy(d.file, "http://", 7);
	d.file[200] = 0;
	n = pxe_dhcp_build_reply(&r, &c, &d, buf, sizeof(buf));
	ok(n > 0 && n <= PXE_DHCP_REPLY_SIZE &&
	       pxe_dhcp_parse(buf, (size_t)n, &back, &reason) == 0 && back.file[0] == 0 &&
	       back.bootfile.len == 200,
	   "a 200-byte URL: in option 67 only (the file field holds 127)");
	ok(pxe_dhcp_build_reply(&r, &c, &d, buf, 300) == -ENOBUFS,
	   "a buffer too small for the reply: -ENOBUFS");
	d.kind = PXE_BOOT_NONE;
	ok(pxe_dhcp_build_reply(&r, &c, &d, buf, sizeof(buf)) == -EINVAL,
	   "no decision to answer: -EINVAL");
}

static void test_foreign(void)
{
	pxe_dhcp_request r;
	const char *reason, *what = NULL;
	pkt p;

	pkt_init(&p, 2);
	put(&p, 53, "\x02", 1);
	put(&p, 54, "\xc0\x00\x02\x01", 4);
	end(&p);
	memcpy(p.b + 20, "\xc0\x00\x02\x01", 4); /* siaddr = the server itself */
	parse(&p, &r, &reason);
	ok(pxe_dhcp_foreign_boot(&r, &what) == 0,
	   "a router's plain OFFER with siaddr its own address: no boot offer (dnsmasq's default)");
	memcpy(p.b + 108, "pxelinux.0", 10);
	parse(&p, &r, &reason);
	ok(pxe_dhcp_foreign_boot(&r, &what) == 1 && strstr(what, "boot file") &&
	       strstr(what, "next-server"),
	   "an OFFER with a file field and siaddr: a boot file and next-server");
	pkt_init(&p, 2);
	put(&p, 53, "\x05", 1);
	put(&p, 66, "192.0.2.9", 9);
	end(&p);
	parse(&p, &r, &reason);
	ok(pxe_dhcp_foreign_boot(&r, &what) == 1 && strstr(what, "next-server") &&
	       !strstr(what, "boot file"),
	   "an ACK with option 66: the router sets next-server");
	client(&p, 1, "PXEClient", 0);
	put(&p, 67, "x", 1);
	end(&p);
	parse(&p, &r, &reason);
	ok(pxe_dhcp_foreign_boot(&r, &what) == 0, "a client's request is never a boot offer");
}

int main(void)
{
	test_fixtures();
	test_fixture_facts();
	test_malformed();
	test_overload();
	test_quirks();
	test_decide();
	test_reply();
	test_foreign();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
