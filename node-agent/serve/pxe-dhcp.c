/* SPDX-License-Identifier: MIT */
/*
 * DHCP for network boot beside a home router: parse what PXE/HTTP-boot firmware and iPXE
 * send, decide what they boot, build the proxy DHCP reply (see pxe-dhcp.h). The wire format
 * is RFC 2131 section 2 (the BOOTP header of RFC 951 and the options after the magic cookie),
 * options RFC 2132, long options RFC 3396, client options RFC 4578, the proxy exchange the PXE
 * 2.1 specification (Intel, 1999) sections 2.2.5-2.2.7 and UEFI 2.x section 24.7 (HTTP Boot).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pxe-dhcp.h"

/* RFC 2131 section 3: 99.130.83.99 */
static const uint8_t magic_cookie[4] = {99, 130, 83, 99};

/* offsets of the BOOTP header (RFC 2131 figure 1) */
enum {
	OFF_OP = 0,
	OFF_HTYPE = 1,
	OFF_HLEN = 2,
	OFF_HOPS = 3,
	OFF_XID = 4,
	OFF_SECS = 8,
	OFF_FLAGS = 10,
	OFF_CIADDR = 12,
	OFF_YIADDR = 16,
	OFF_SIADDR = 20,
	OFF_GIADDR = 24,
	OFF_CHADDR = 28,
	OFF_SNAME = 44,
	OFF_FILE = 108,
	OFF_COOKIE = 236,
	OFF_OPTIONS = 240,
	SNAME_SIZE = 64,
	FILE_SIZE = 128,
};

enum {
	OPT_PAD = 0,
	OPT_VENDOR = 43,      /* RFC 2132 8.4; PXE 2.1 table 2-1 for PXE clients */
	OPT_OVERLOAD = 52,    /* RFC 2132 9.3 */
	OPT_MSG_TYPE = 53,    /* RFC 2132 9.6 */
	OPT_SERVER_ID = 54,   /* RFC 2132 9.7 */
	OPT_PRL = 55,	      /* RFC 2132 9.8 */
	OPT_CLASS_ID = 60,    /* RFC 2132 9.13 */
	OPT_TFTP_SERVER = 66, /* RFC 2132 9.4 */
	OPT_BOOTFILE = 67,    /* RFC 2132 9.5 */
	OPT_USER_CLASS = 77,  /* RFC 3004 */
	OPT_CLIENT_ARCH = 93, /* RFC 4578 2.1 */
	OPT_CLIENT_UUID = 97, /* RFC 4578 2.3 */
	OPT_IPXE_ENCAP = 175, /* iPXE's site-specific encapsulated options */
	OPT_END = 255,
	PXE_DISCOVERY_CONTROL = 6, /* PXE 2.1 table 2-1, sub-option of 43 */
	IPXE_FEATURE_HTTP = 19,	   /* iPXE's 175.19 */
};

/* Walk the options of one area and check their framing; the overload option is taken from
 * the first area only (RFC 2132 9.3: it must not appear inside sname/file). */
static int validate_area(const uint8_t *p, size_t n, bool first, uint8_t *overload,
			 const char **ret_reason)
{
	size_t i = 0;

	while (i < n) {
		uint8_t code = p[i];

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return 0;
		if (i + 1 >= n) {
			*ret_reason = "an option's length byte is missing";
			return -EBADMSG;
		}
		if (i + 2 + p[i + 1] > n) {
			*ret_reason = "an option runs past the end of its field";
			return -EBADMSG;
		}
		if (code == OPT_OVERLOAD) {
			if (!first) {
				*ret_reason = "option 52 inside an overloaded field";
				return -EBADMSG;
			}
			if (p[i + 1] != 1 || p[i + 2] < 1 || p[i + 2] > 3) {
				*ret_reason = "option 52 (overload) is not one byte of 1, 2 or 3";
				return -EBADMSG;
			}
			*overload = p[i + 2];
		}
		i += 2 + (size_t)p[i + 1];
	}
	/* no end option: firmware that fills the packet exactly does this; tolerated */
	return 0;
}

/* Append every instance of `code` in an area to o (RFC 3396: split options are joined in
 * the order options, file, sname). The area has been validated. */
static void collect_area(const uint8_t *p, size_t n, uint8_t code, pxe_dhcp_opt *o)
{
	size_t i = 0;

	while (i < n && p[i] != OPT_END) {
		if (p[i] == OPT_PAD) {
			i++;
			continue;
		}
		if (p[i] == code) {
			size_t l = p[i + 1];

			/* the areas of one packet together are shorter than the buffer */
			if (o->len + l < sizeof(o->data)) {
				memcpy(o->data + o->len, p + i + 2, l);
				o->len += (uint16_t)l;
				o->data[o->len] = 0;
			}
			o->present = true;
		}
		i += 2 + (size_t)p[i + 1];
	}
}

typedef struct areas {
	const uint8_t *p[3];
	size_t n[3];
	size_t count;
} areas;

static void collect(const areas *a, uint8_t code, pxe_dhcp_opt *o)
{
	memset(o, 0, sizeof(*o));
	for (size_t k = 0; k < a->count; k++)
		collect_area(a->p[k], a->n[k], code, o);
}

/* bytes up to the first NUL, non-printable bytes as '?' */
static void copy_string(char *dst, size_t size, const uint8_t *src, size_t n)
{
	size_t k = 0;

	for (; k < n && k + 1 < size && src[k]; k++)
		dst[k] = (src[k] >= 0x20 && src[k] < 0x7f) ? (char)src[k] : '?';
	dst[k] = 0;
}

/* "PXEClient:Arch:00007:UNDI:003016" (PXE 2.1 section 2.2.5): the 5 decimal digits */
static int arch_from_class(const char *vc)
{
	const char *a = strstr(vc, ":Arch:");
	int v = 0;

	if (!a)
		return -1;
	a += 6;
	for (int k = 0; k < 5; k++) {
		if (a[k] < '0' || a[k] > '9')
			return -1;
		v = v * 10 + (a[k] - '0');
	}
	return v > 0xffff ? -1 : v;
}

/* option 77 is "iPXE" raw (iPXE), or RFC 3004 instances (length, data); firmware sends both */
static bool user_class_is_ipxe(const pxe_dhcp_opt *o)
{
	size_t i = 0;

	if (!o->present)
		return false;
	if (o->len == 4 && memcmp(o->data, "iPXE", 4) == 0)
		return true;
	while (i < o->len) {
		size_t l = o->data[i];

		if (l == 0 || i + 1 + l > o->len)
			return false;
		if (l == 4 && memcmp(o->data + i + 1, "iPXE", 4) == 0)
			return true;
		i += 1 + l;
	}
	return false;
}

/* iPXE's 175 carries sub-options; 19 (HTTP) with a non-zero value says the build has HTTP */
static bool ipxe_has_http(const pxe_dhcp_opt *o)
{
	size_t i = 0;

	while (i + 1 < o->len) {
		uint8_t code = o->data[i], l = o->data[i + 1];

		if (i + 2 + l > o->len)
			return false;
		if (code == IPXE_FEATURE_HTTP && l >= 1 && o->data[i + 2] != 0)
			return true;
		i += 2 + (size_t)l;
	}
	return false;
}

static void parse_client_options(const areas *a, pxe_dhcp_request *r)
{
	_Static_assert(sizeof(r->prl) > 255, "a PRL of one option");
	pxe_dhcp_opt o;

	collect(a, OPT_CLASS_ID, &o);
	copy_string(r->vendor_class, sizeof(r->vendor_class), o.data, o.len);
	if (strncmp(r->vendor_class, "PXEClient", 9) == 0)
		r->client_class = PXE_CLASS_PXE;
	else if (strncmp(r->vendor_class, "HTTPClient", 10) == 0)
		r->client_class = PXE_CLASS_HTTP;

	r->arch = arch_from_class(r->vendor_class);
	collect(a, OPT_CLIENT_ARCH, &o);
	if (o.present) {
		/* RFC 4578 2.1: a list of 16-bit types, the first the one in use */
		if (o.len >= 2 && o.len % 2 == 0)
			r->arch = o.data[0] << 8 | o.data[1];
		else
			r->arch_malformed = true;
	}

	collect(a, OPT_CLIENT_UUID, &r->uuid_opt);
	if (r->uuid_opt.present) {
		if (r->uuid_opt.len == 17 && r->uuid_opt.data[0] == 0) {
			r->has_uuid = true;
			memcpy(r->uuid, r->uuid_opt.data + 1, 16);
		} else {
			r->uuid_malformed = true;
		}
	}

	collect(a, OPT_USER_CLASS, &r->user_class);
	collect(a, OPT_IPXE_ENCAP, &o);
	r->ipxe = user_class_is_ipxe(&r->user_class) || o.present;
	r->ipxe_http = o.present && ipxe_has_http(&o);

	collect(a, OPT_SERVER_ID, &o);
	if (o.len == 4)
		memcpy(&r->server_id, o.data, 4);
	collect(a, OPT_PRL, &o);
	r->prl_len = o.len < sizeof(r->prl) ? o.len : (uint16_t)(sizeof(r->prl) - 1);
	memcpy(r->prl, o.data, r->prl_len);

	collect(a, OPT_TFTP_SERVER, &r->tftp_server);
	collect(a, OPT_BOOTFILE, &r->bootfile);
	collect(a, OPT_VENDOR, &r->vendor_opts);
}

int pxe_dhcp_parse(const uint8_t *buf, size_t len, pxe_dhcp_request *ret, const char **ret_reason)
{
	const char *reason = NULL, *dummy;
	pxe_dhcp_request r = {0};
	areas a = {{NULL}, {0}, 0};
	pxe_dhcp_opt o;
	int k;

	if (!ret_reason)
		ret_reason = &dummy;
	if (len > PXE_DHCP_MAX_PACKET) {
		*ret_reason = "larger than a DHCP packet in one Ethernet frame";
		return -EMSGSIZE;
	}
	if (len < PXE_DHCP_HEADER_SIZE) {
		*ret_reason = "shorter than the BOOTP header";
		return -EBADMSG;
	}
	r.op = buf[OFF_OP];
	if (r.op != 1 && r.op != 2) {
		*ret_reason = "op is neither BOOTREQUEST nor BOOTREPLY";
		return -EBADMSG;
	}
	r.htype = buf[OFF_HTYPE];
	r.hlen = buf[OFF_HLEN];
	r.hops = buf[OFF_HOPS];
	if (r.hlen > 16) {
		*ret_reason = "hardware address longer than chaddr";
		return -EBADMSG;
	}
	memcpy(&r.xid, buf + OFF_XID, 4);
	r.secs = (uint16_t)(buf[OFF_SECS] << 8 | buf[OFF_SECS + 1]);
	r.flags = (uint16_t)(buf[OFF_FLAGS] << 8 | buf[OFF_FLAGS + 1]);
	memcpy(&r.ciaddr, buf + OFF_CIADDR, 4);
	memcpy(&r.yiaddr, buf + OFF_YIADDR, 4);
	memcpy(&r.siaddr, buf + OFF_SIADDR, 4);
	memcpy(&r.giaddr, buf + OFF_GIADDR, 4);
	memcpy(r.chaddr, buf + OFF_CHADDR, 16);
	r.has_mac = r.htype == 1 && r.hlen == 6;
	if (r.has_mac)
		memcpy(r.mac, r.chaddr, 6);
	r.arch = -1;

	/* plain BOOTP (no cookie): no options, a reply of another server may still set a file */
	if (len < PXE_DHCP_MIN_PACKET || memcmp(buf + OFF_COOKIE, magic_cookie, 4) != 0) {
		copy_string(r.sname, sizeof(r.sname), buf + OFF_SNAME, SNAME_SIZE);
		copy_string(r.file, sizeof(r.file), buf + OFF_FILE, FILE_SIZE);
		*ret = r;
		return 0;
	}

	a.p[0] = buf + OFF_OPTIONS;
	a.n[0] = len - OFF_OPTIONS;
	a.count = 1;
	k = validate_area(a.p[0], a.n[0], true, &r.overload, &reason);
	if (k < 0)
		goto bad;
	if (r.overload & 1) {
		a.p[a.count] = buf + OFF_FILE;
		a.n[a.count++] = FILE_SIZE;
		k = validate_area(buf + OFF_FILE, FILE_SIZE, false, &r.overload, &reason);
		if (k < 0)
			goto bad;
	} else {
		copy_string(r.file, sizeof(r.file), buf + OFF_FILE, FILE_SIZE);
	}
	if (r.overload & 2) {
		a.p[a.count] = buf + OFF_SNAME;
		a.n[a.count++] = SNAME_SIZE;
		k = validate_area(buf + OFF_SNAME, SNAME_SIZE, false, &r.overload, &reason);
		if (k < 0)
			goto bad;
	} else {
		copy_string(r.sname, sizeof(r.sname), buf + OFF_SNAME, SNAME_SIZE);
	}

	collect(&a, OPT_MSG_TYPE, &o);
	if (o.present) {
		if (o.len != 1 || o.data[0] < 1 || o.data[0] > 18) {
			reason = "option 53 (message type) is not one byte of 1..18";
			goto bad;
		}
		r.msg_type = o.data[0];
	}
	parse_client_options(&a, &r);
	*ret = r;
	return 0;
bad:
	*ret_reason = reason;
	return -EBADMSG;
}

const char *pxe_dhcp_msg_type_name(int t)
{
	static const char *const names[] = {"BOOTP", "DISCOVER", "OFFER",   "REQUEST", "DECLINE",
					    "ACK",   "NAK",	 "RELEASE", "INFORM"};

	return t >= 0 && (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "other";
}

const char *pxe_client_class_name(pxe_client_class c)
{
	return c == PXE_CLASS_PXE ? "PXEClient" : c == PXE_CLASS_HTTP ? "HTTPClient" : "none";
}

const char *pxe_arch_name(int arch)
{
	/* IANA registry "Processor Architecture Types" (RFC 4578 2.1 and RFC 5970 updates) */
	static const struct {
		int arch;
		const char *name;
	} names[] = {
	    {-1, "none"},
	    {0, "x86 BIOS"},
	    {6, "x86 UEFI"},
	    {7, "x64 UEFI"},
	    {9, "x64 UEFI (EBC)"},
	    {10, "arm32 UEFI"},
	    {11, "arm64 UEFI"},
	    {15, "x86 UEFI HTTP"},
	    {16, "x64 UEFI HTTP"},
	    {18, "arm32 UEFI HTTP"},
	    {19, "arm64 UEFI HTTP"},
	};

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (names[k].arch == arch)
			return names[k].name;
	return "unknown";
}

static int set_file(pxe_boot_decision *d, const char *s, const uint8_t *mac, bool add_mac)
{
	int n;

	if (!s || !*s) {
		d->reason = "no boot program configured for this client";
		return 0;
	}
	if (add_mac && mac)
		n = snprintf(d->file, sizeof(d->file), "%s%cmac=%02x:%02x:%02x:%02x:%02x:%02x", s,
			     strchr(s, '?') ? '&' : '?', mac[0], mac[1], mac[2], mac[3], mac[4],
			     mac[5]);
	else
		n = snprintf(d->file, sizeof(d->file), "%s", s);
	if (n < 0 || (size_t)n >= sizeof(d->file))
		return -ENAMETOOLONG;
	return 1;
}

int pxe_dhcp_decide(const pxe_dhcp_request *req, bool proxy_port, const pxe_boot_config *cfg,
		    pxe_boot_decision *ret)
{
	pxe_boot_decision d = {.kind = PXE_BOOT_NONE};
	int k;

	if (req->op != 1)
		d.reason = "not a client request";
	else if (req->client_class == PXE_CLASS_NONE)
		d.reason = "not a network boot client (no PXEClient/HTTPClient in option 60)";
	else if (!req->has_mac)
		d.reason = "no Ethernet hardware address";
	else if (!proxy_port && req->msg_type == PXE_DHCP_REQUEST)
		d.reason = "a REQUEST on port 67 is for the router's lease";
	else if (!proxy_port && req->msg_type != PXE_DHCP_DISCOVER)
		d.reason = "only a DISCOVER is answered on port 67";
	else if (proxy_port && req->msg_type != PXE_DHCP_REQUEST &&
		 req->msg_type != PXE_DHCP_INFORM)
		d.reason = "only a REQUEST is answered on the proxy port";
	if (d.reason) {
		*ret = d;
		return 0;
	}
	d.reply_type = proxy_port ? PXE_DHCP_ACK : PXE_DHCP_OFFER;

	if (req->ipxe) {
		/* already iPXE (a NIC's ROM or the program we chained): the script over HTTP.
		 * Every iPXE build of Debian 12 has HTTP (175.19); one without fails loudly on
		 * the URL, and the event says which build it was (ipxe_http). */
		d.kind = PXE_BOOT_SCRIPT;
		k = set_file(&d, cfg->script_url, req->mac, cfg->script_url_mac);
	} else if (req->client_class == PXE_CLASS_HTTP) {
		/* 16 is x86-64 UEFI HTTP; 15 (32-bit x86) cannot run the x64 ipxe.efi */
		if (req->arch != 16) {
			d.reason = "UEFI HTTP boot for an architecture without a boot program";
			*ret = d;
			return 0;
		}
		d.kind = PXE_BOOT_HTTP;
		k = set_file(&d, cfg->uefi_http_url, NULL, false);
	} else if (req->arch == 0) {
		d.kind = PXE_BOOT_TFTP;
		k = set_file(&d, cfg->bios_file, NULL, false);
	} else if (req->arch == 7 || req->arch == 9) {
		d.kind = PXE_BOOT_TFTP;
		k = set_file(&d, cfg->uefi_file, NULL, false);
	} else {
		d.reason = req->arch < 0
			       ? "no client architecture (option 93 or Arch: in option 60)"
			       : "no boot program for this client architecture";
		*ret = d;
		return 0;
	}
	if (k < 0)
		return k;
	if (k == 0)
		d.kind = PXE_BOOT_NONE;
	*ret = d;
	return k;
}

typedef struct writer {
	uint8_t *p;
	size_t size, len;
	bool full;
} writer;

static void put_opt(writer *w, uint8_t code, const void *data, size_t n)
{
	/* one instance carries at most 255 bytes; longer data is split (RFC 3396) */
	const uint8_t *d = data;

	do {
		size_t l = n > 255 ? 255 : n;

		if (w->len + 2 + l + 1 > w->size) { /* + 1: room for the end option */
			w->full = true;
			return;
		}
		w->p[w->len++] = code;
		w->p[w->len++] = (uint8_t)l;
		if (l)
			memcpy(w->p + w->len, d, l);
		w->len += l;
		d += l;
		n -= l;
	} while (n > 0);
}

int pxe_dhcp_build_reply(const pxe_dhcp_request *req, const pxe_boot_config *cfg,
			 const pxe_boot_decision *d, uint8_t *buf, size_t size)
{
	writer w = {buf, size < PXE_DHCP_REPLY_SIZE ? size : PXE_DHCP_REPLY_SIZE, 0, false};
	uint8_t type = (uint8_t)d->reply_type;
	size_t flen = strlen(d->file);

	if (d->kind == PXE_BOOT_NONE || (type != PXE_DHCP_OFFER && type != PXE_DHCP_ACK))
		return -EINVAL;
	if (w.size < PXE_DHCP_MIN_PACKET + 1)
		return -ENOBUFS;
	memset(buf, 0, PXE_DHCP_MIN_PACKET);
	buf[OFF_OP] = 2;
	buf[OFF_HTYPE] = req->htype;
	buf[OFF_HLEN] = req->hlen;
	memcpy(buf + OFF_XID, &req->xid, 4);
	/* the broadcast flag as the client asked (RFC 2131 4.1); yiaddr stays 0: the proxy
	 * hands out no address (PXE 2.1 2.2.5) */
	buf[OFF_FLAGS] = (uint8_t)(req->flags >> 8);
	buf[OFF_FLAGS + 1] = (uint8_t)req->flags;
	memcpy(buf + OFF_CIADDR, &req->ciaddr, 4);
	memcpy(buf + OFF_SIADDR, &cfg->server_addr, 4);
	memcpy(buf + OFF_GIADDR, &req->giaddr, 4);
	memcpy(buf + OFF_CHADDR, req->chaddr, 16);
	/* U-Boot and some ROMs read only the BOOTP field: the name there too when it fits */
	if (flen < FILE_SIZE)
		memcpy(buf + OFF_FILE, d->file, flen);
	if (d->kind == PXE_BOOT_TFTP)
		inet_ntop(AF_INET, &cfg->server_addr, (char *)buf + OFF_SNAME, SNAME_SIZE);
	memcpy(buf + OFF_COOKIE, magic_cookie, 4);
	w.len = OFF_OPTIONS;

	put_opt(&w, OPT_MSG_TYPE, &type, 1);
	put_opt(&w, OPT_SERVER_ID, &cfg->server_addr, 4);
	/* the firmware takes the offer as PXE/HTTP boot only with its class echoed (PXE 2.1
	 * 2.2.5; UEFI 2.x 24.7.3 for HTTPClient) */
	if (req->client_class == PXE_CLASS_HTTP)
		put_opt(&w, OPT_CLASS_ID, "HTTPClient", 10);
	else
		put_opt(&w, OPT_CLASS_ID, "PXEClient", 9);
	if (req->client_class == PXE_CLASS_PXE && !req->ipxe) {
		/* PXE_DISCOVERY_CONTROL, bit 3: boot the file of this offer, no boot server
		 * discovery (PXE 2.1 table 2-1), as pixiecore and dnsmasq's proxy send it */
		static const uint8_t pxe_vendor[] = {PXE_DISCOVERY_CONTROL, 1, 8, OPT_END};

		put_opt(&w, OPT_VENDOR, pxe_vendor, sizeof(pxe_vendor));
	}
	if (d->kind == PXE_BOOT_TFTP) {
		char addr[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &cfg->server_addr, addr, sizeof(addr));
		put_opt(&w, OPT_TFTP_SERVER, addr, strlen(addr));
	}
	put_opt(&w, OPT_BOOTFILE, d->file, flen);
	/* RFC 4578 2.3 / PXE 2.1: the UUID goes back as the client sent it; a malformed one
	 * (up to a packet long) is not echoed: it could push the reply past its size */
	if (req->uuid_opt.present && req->has_uuid)
		put_opt(&w, OPT_CLIENT_UUID, req->uuid_opt.data, req->uuid_opt.len);
	if (w.full)
		return -ENOBUFS;
	buf[w.len++] = OPT_END;
	/* BOOTP relays and old clients expect at least 300 bytes (RFC 1542 2.1) */
	while (w.len < 300 && w.len < w.size)
		buf[w.len++] = OPT_PAD;
	return (int)w.len;
}

int pxe_dhcp_foreign_boot(const pxe_dhcp_request *r, const char **ret_what)
{
	static const char *const what[] = {
	    NULL,
	    "another DHCP server offers a boot file (option 67 or the file field)",
	    "the router sets next-server (siaddr or option 66)",
	    "another DHCP server offers a boot file and sets next-server",
	};
	bool file, next;

	if (r->op != 2 ||
	    (r->msg_type != PXE_DHCP_OFFER && r->msg_type != PXE_DHCP_ACK && r->msg_type != 0))
		return 0;
	file = r->bootfile.present || r->file[0];
	/* siaddr equal to the server's own id is many routers' default (dnsmasq's among them),
	 * not a boot hint by itself; beside a boot file it is where the file is fetched from */
	next = r->tftp_server.present ||
	       (r->siaddr.s_addr != 0 && (file || r->siaddr.s_addr != r->server_id.s_addr));
	if (!file && !next) {
		if (!r->vendor_opts.present || strcmp(r->vendor_class, "PXEClient") != 0)
			return 0;
		*ret_what = "another DHCP server answers PXE clients (option 43 with PXEClient)";
		return 1;
	}
	*ret_what = what[file | next << 1];
	return 1;
}
