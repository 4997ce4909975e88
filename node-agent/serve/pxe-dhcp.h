/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * DHCP/BOOTP packets as a proxy DHCP responder sees them (RFC 2131, options RFC 2132, PXE
 * 2.1 spec, RFC 4578 for options 93/94/97, UEFI 2.x "HTTP Boot" for HTTPClient): a pure,
 * bounded parser, the decision of what a network-booting client gets, and the builder of
 * the proxy's reply. No I/O here (pxe-server.c does the sockets), so captured packets can be
 * replayed in tests and fuzzed.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the largest UDP payload of a 1500-byte Ethernet frame: nothing bigger is parsed or sent */
#define PXE_DHCP_MAX_PACKET 1472
/* the size every DHCP client must accept (RFC 2131 section 2): our replies stay below */
#define PXE_DHCP_REPLY_SIZE 576
/* the fixed BOOTP header (RFC 951) and the magic cookie before the options */
#define PXE_DHCP_HEADER_SIZE 236
#define PXE_DHCP_MIN_PACKET  (PXE_DHCP_HEADER_SIZE + 4)

/* option 53 (RFC 2132 section 9.6) */
enum {
	PXE_DHCP_DISCOVER = 1,
	PXE_DHCP_OFFER = 2,
	PXE_DHCP_REQUEST = 3,
	PXE_DHCP_DECLINE = 4,
	PXE_DHCP_ACK = 5,
	PXE_DHCP_NAK = 6,
	PXE_DHCP_RELEASE = 7,
	PXE_DHCP_INFORM = 8,
};

/* who the client says it is, from option 60 */
typedef enum pxe_client_class {
	PXE_CLASS_NONE, /* no option 60, or another vendor's: the home router serves it */
	PXE_CLASS_PXE,	/* "PXEClient..." (PXE 2.1 spec, section 2.2.5) */
	PXE_CLASS_HTTP, /* "HTTPClient..." (UEFI 2.x, 24.7 HTTP Boot) */
} pxe_client_class;

/* An option's bytes (a string option is NUL-terminated besides: data[len] == 0). RFC 3396
 * splits are joined, so an option can hold more than 255 bytes, never more than a packet. */
typedef struct pxe_dhcp_opt {
	bool present;
	uint16_t len;
	uint8_t data[PXE_DHCP_MAX_PACKET + 1];
} pxe_dhcp_opt;

typedef struct pxe_dhcp_request {
	uint8_t op; /* 1 BOOTREQUEST, 2 BOOTREPLY */
	uint8_t htype, hlen, hops;
	uint32_t xid; /* as on the wire: compared and echoed, never interpreted */
	uint16_t secs, flags;
	struct in_addr ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[16];
	bool has_mac; /* htype 1 (Ethernet) and hlen 6 */
	uint8_t mac[6];
	char sname[65]; /* the BOOTP fields as strings, "" when overloaded with options */
	char file[129];

	int msg_type; /* option 53, 0 for plain BOOTP */
	pxe_client_class client_class;
	char vendor_class[256]; /* option 60, printable, up to its first NUL */
	int arch;		/* option 93's first value, else "Arch:NNNNN" of option 60; -1 */
	bool arch_malformed;	/* option 93 present but not a whole number of 16-bit values */
	bool has_uuid;		/* option 97 as RFC 4578 2.3 says: type 0 and 16 bytes */
	uint8_t uuid[16];
	bool uuid_malformed;
	bool ipxe;		  /* user class (77) "iPXE", or iPXE's encapsulated options (175) */
	bool ipxe_http;		  /* 175.19: the iPXE build can fetch over HTTP */
	uint8_t overload;	  /* option 52: 1 file, 2 sname, 3 both hold options */
	struct in_addr server_id; /* option 54, 0 when absent */
	uint8_t prl[256];	  /* option 55, parameter request list */
	uint16_t prl_len;
	/* the options replies carry that matter to a proxy: client UUID (97), user class (77),
	 * TFTP server (66), boot file (67), vendor options (43); raw bytes */
	pxe_dhcp_opt uuid_opt, user_class, tftp_server, bootfile, vendor_opts;
} pxe_dhcp_request;

/*
 * Parse one UDP payload. Returns 0 and fills *ret, or -EMSGSIZE (larger than
 * PXE_DHCP_MAX_PACKET), or -EBADMSG (too short, hlen above 16, an option running past its
 * field, a bad option 52 or 53, option 52 inside an overloaded field, a magic cookie missing
 * while options are needed) and a static reason in *ret_reason (may be NULL). Quirks of real
 * firmware are kept, not refused: a malformed option 93 or 97 (flags above), an option 77 that
 * is not RFC 3004, a missing end option.
 */
int pxe_dhcp_parse(const uint8_t *buf, size_t len, pxe_dhcp_request *ret, const char **ret_reason);

const char *pxe_dhcp_msg_type_name(int msg_type);
const char *pxe_client_class_name(pxe_client_class c);
/* the architecture's name from the IANA "Processor Architecture Types" registry (RFC 4578,
 * 2.1, and later additions): "x86 BIOS", "x64 UEFI", "x64 UEFI HTTP", ...; "unknown" */
const char *pxe_arch_name(int arch);

/* what the server hands out; every string is the caller's and outlives the decisions */
typedef struct pxe_boot_config {
	struct in_addr server_addr;
	const char *bios_file;	   /* TFTP, BIOS x86 (arch 0): "undionly.kpxe" */
	const char *uefi_file;	   /* TFTP, UEFI x86-64 (arch 7, 9): "ipxe.efi" or "snponly.efi" */
	const char *uefi_http_url; /* UEFI HTTP boot (arch 16): "http://ADDR:PORT/ipxe.efi" */
	const char *script_url;	   /* a client running iPXE: "http://ADDR:PORT/boot.ipxe" */
	bool script_url_mac;	   /* append "?mac=xx:xx:.." ("&mac=" when the URL has a '?') */
} pxe_boot_config;

typedef enum pxe_boot_kind {
	PXE_BOOT_NONE,
	PXE_BOOT_TFTP,	 /* file is a TFTP file name on server_addr */
	PXE_BOOT_HTTP,	 /* file is a URL for UEFI HTTP boot */
	PXE_BOOT_SCRIPT, /* file is the iPXE script's URL */
} pxe_boot_kind;

typedef struct pxe_boot_decision {
	pxe_boot_kind kind; /* PXE_BOOT_NONE: no answer, reason says why */
	int reply_type;	    /* PXE_DHCP_OFFER or PXE_DHCP_ACK */
	const char *reason; /* static text */
	char file[256];
} pxe_boot_decision;

/*
 * What to answer to a request received on port `port` (67 or the proxy port 4011, PXE 2.1
 * section 2.2.6): a DISCOVER on 67 gets an OFFER, a REQUEST on 4011 an ACK; anything else,
 * a client that is not PXEClient/HTTPClient, an architecture without a boot program, a
 * REQUEST on 67 (the router's lease) get none. Returns 1 to answer, 0 not to (reason set),
 * -ENAMETOOLONG when the configured name or URL does not fit.
 */
int pxe_dhcp_decide(const pxe_dhcp_request *req, bool proxy_port, const pxe_boot_config *cfg,
		    pxe_boot_decision *ret);

/*
 * The proxy's reply to req (PXE 2.1 section 2.2.5 and 2.2.6, as proxy responders send them):
 * yiaddr 0, siaddr the server, option 54 the server, option 60 "PXEClient" or "HTTPClient"
 * as the client sent, option 43 with PXE_DISCOVERY_CONTROL 8 (boot file from this offer, no
 * boot server discovery) for PXE clients, the boot file in `file` (when it fits) and option
 * 67, option 66 for TFTP, option 97 echoed. Writes at most size bytes and never more than
 * PXE_DHCP_REPLY_SIZE; returns the length, or -ENOBUFS, -EINVAL (no decision to answer).
 */
int pxe_dhcp_build_reply(const pxe_dhcp_request *req, const pxe_boot_config *cfg,
			 const pxe_boot_decision *d, uint8_t *buf, size_t size);

/*
 * A reply of another DHCP server (op 2, an OFFER or ACK) that tells clients where to boot:
 * options 66/67/43, siaddr or the `file` field. Returns 1 and a static text of what it sets,
 * 0 when it sets none of them.
 */
int pxe_dhcp_foreign_boot(const pxe_dhcp_request *reply, const char **ret_what);
