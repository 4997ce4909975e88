/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The proxy DHCP responder's sockets (PXE 2.1 section 2.2.5-2.2.6): UDP 67 for the clients'
 * broadcast DISCOVERs, UDP 4011 for their REQUESTs to the proxy, UDP 68 to see other DHCP
 * servers' broadcast replies; all bound to the LAN interface (SO_BINDTODEVICE) with
 * SO_REUSEADDR, so a DHCP server on the same host keeps its own sockets. Driven by the
 * caller's poll loop: pxe_server_fd() is one epoll fd over every socket, readable when a
 * packet waits; pxe_server_process() handles what waits and never blocks. Every packet
 * becomes one event (the caller's boot timeline); the module itself does not log.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "basic/macro.h"
#include "serve/pxe-dhcp.h"

typedef enum pxe_event_kind {
	PXE_EVENT_ANSWERED,	 /* a reply was sent: boot says what */
	PXE_EVENT_IGNORED,	 /* a request not answered: reason says why */
	PXE_EVENT_MALFORMED,	 /* a packet refused by the parser: reason, error */
	PXE_EVENT_FOREIGN_BOOT,	 /* another DHCP server's reply sets a boot file/next-server */
	PXE_EVENT_FOREIGN_OFFER, /* another DHCP server's reply without boot options */
	PXE_EVENT_SEND_FAILED,	 /* a reply could not be sent: error */
} pxe_event_kind;

typedef struct pxe_event {
	pxe_event_kind kind;
	uint16_t port;		 /* the local port it came in on: 67, 4011 or 68 */
	struct sockaddr_in peer; /* the sender */
	bool has_mac;
	uint8_t mac[6];
	uint32_t xid;	/* as on the wire */
	int msg_type;	/* option 53; 0 for BOOTP or malformed packets */
	int reply_type; /* what was sent, 0 for none */
	int arch;	/* -1 unknown */
	pxe_client_class client_class;
	bool ipxe;
	const char *vendor_class;    /* option 60, "" when absent */
	const pxe_dhcp_request *req; /* the whole parsed packet, NULL when malformed */
	pxe_boot_kind boot_kind;
	const char *boot;   /* the file or URL answered, NULL when none */
	const char *reason; /* why not answered / what was seen, NULL when answered */
	int error;	    /* -errno for MALFORMED and SEND_FAILED, else 0 */
	const uint8_t *raw; /* the packet's bytes, for captures */
	size_t raw_len;
} pxe_event;

/* ev and everything it points to (req, vendor_class, boot, reason, raw) are valid during the
 * call only: copy what the timeline keeps */
typedef void (*pxe_event_fn)(void *userdata, const pxe_event *ev);

typedef struct pxe_server_options {
	const char *ifname;   /* the LAN interface; required */
	pxe_boot_config boot; /* boot.server_addr: our address on that LAN */
	uint16_t dhcp_port;   /* 0: 67 */
	uint16_t client_port; /* 0: 68 */
	uint16_t proxy_port;  /* 0: 4011 */
	bool watch_foreign;   /* bind the client port too, to see other servers' broadcasts */
	/* asked before answering a client: false leaves it to the router (a machine that must
	 * boot from disk, one that is refused), *ret_reason the event's reason; NULL: all */
	bool (*accept)(void *userdata, const pxe_dhcp_request *req, const char **ret_reason);
	pxe_event_fn event;
	void *userdata;
} pxe_server_options;

typedef struct pxe_server pxe_server;

/* 0 and *ret, or -errno of the socket that failed: -EADDRINUSE when another program holds a
 * port without SO_REUSEADDR (dnsmasq sets it and coexists, tests/98-pxe-lan.t), -ENODEV for
 * an unknown interface, -EACCES/-EPERM without CAP_NET_BIND_SERVICE/CAP_NET_RAW */
int pxe_server_new(const pxe_server_options *opts, pxe_server **ret);
pxe_server *pxe_server_free(pxe_server *s);
/* an epoll fd over all sockets: poll it for POLLIN */
int pxe_server_fd(const pxe_server *s);
/* Handle every waiting packet (at most 64 per socket per call). Returns the number of
 * packets handled, or -errno of epoll/recv failures other than EAGAIN. */
int pxe_server_process(pxe_server *s);
/* Broadcast one DISCOVER as a PXE client with this MAC (needs watch_foreign), so that another
 * DHCP server that answers PXE clients shows itself in a FOREIGN_* event; our own responder
 * ignores the probe. 0 or -errno. */
int pxe_server_probe(pxe_server *s, const uint8_t mac[6]);

DEFINE_TRIVIAL_CLEANUP_FUNC(pxe_server *, pxe_server_free)
