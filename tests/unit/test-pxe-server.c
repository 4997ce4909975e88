/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of node-agent/serve/pxe-server.c on the loopback interface, ports of our own in
 * the high range, as TAP: a DISCOVER answered with a broadcast OFFER, a REQUEST on the proxy
 * port answered with a unicast ACK to where it came from (PXE 2.1 2.2.6; no firmware of
 * tests/98-pxe-lan.t used the proxy port, since option 43 tells it not to), a REQUEST on the
 * DHCP port left to the router, a malformed packet and an oversized one reported, a client
 * refused by the accept callback, another server's boot offer seen on the client port, and
 * the probe. The LAN with real firmware is tests/98-pxe-lan.t.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve/pxe-server.h"
#include "tap.h"

#define MAX_EVENTS 16

static pxe_event events[MAX_EVENTS];
static char boots[MAX_EVENTS][256];
static int n_events;
static uint16_t base_port;

static void on_event(void *userdata, const pxe_event *ev)
{
	if (n_events >= MAX_EVENTS)
		return;
	events[n_events] = *ev;
	snprintf(boots[n_events], sizeof(boots[0]), "%s", ev->boot ? ev->boot : "");
	events[n_events].boot = boots[n_events];
	events[n_events].req = NULL;
	events[n_events].raw = NULL;
	events[n_events].vendor_class = NULL;
	n_events++;
}

static bool refuse_odd_mac(void *userdata, const pxe_dhcp_request *req, const char **ret_reason)
{
	if (req->mac[5] & 1) {
		*ret_reason = "this machine boots from disk";
		return false;
	}
	return true;
}

static int udp(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {0, 300000};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* a packet: op, type, option 60, MAC's last byte, ciaddr */
static size_t build(uint8_t *p, uint8_t op, uint8_t type, const char *vc, uint8_t mac_last,
		    const char *ciaddr)
{
	size_t n = 240;

	memset(p, 0, 600);
	p[0] = op;
	p[1] = 1;
	p[2] = 6;
	memcpy(p + 4, "\xca\xfe\x00\x01", 4);
	memcpy(p + 28, "\x52\x54\x00\x00\x00", 5);
	p[33] = mac_last;
	if (ciaddr)
		inet_pton(AF_INET, ciaddr, p + 12);
	memcpy(p + 236, "\x63\x82\x53\x63", 4);
	p[n++] = 53;
	p[n++] = 1;
	p[n++] = type;
	if (vc) {
		p[n++] = 60;
		p[n++] = (uint8_t)strlen(vc);
		memcpy(p + n, vc, strlen(vc));
		n += strlen(vc);
	}
	p[n++] = 255;
	return n < 300 ? 300 : n;
}

static void send_to(int fd, const void *p, size_t n, uint16_t port)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	sendto(fd, p, n, 0, (struct sockaddr *)&to, sizeof(to));
}

static void pump(pxe_server *s, int want_events)
{
	for (int k = 0; k < 50 && n_events < want_events; k++) {
		struct pollfd p = {pxe_server_fd(s), POLLIN, 0};

		poll(&p, 1, 10);
		pxe_server_process(s);
	}
}

/* wait for a reply with our xid on fd */
static ssize_t reply(int fd, uint8_t *buf, size_t size, struct sockaddr_in *from)
{
	socklen_t fl = sizeof(*from);

	for (int k = 0; k < 5; k++) {
		ssize_t n = recvfrom(fd, buf, size, 0, (struct sockaddr *)from, &fl);

		if (n < 0)
			return n;
		if (n >= 240 && buf[0] == 2 && memcmp(buf + 4, "\xca\xfe\x00\x01", 4) == 0)
			return n;
	}
	return -1;
}

int main(void)
{
	pxe_server_options o = {
	    .ifname = "lo", .watch_foreign = true, .event = on_event, .accept = refuse_odd_mac};
	_cleanup_(pxe_server_freep) pxe_server *s = NULL;
	uint8_t p[PXE_DHCP_MAX_PACKET + 100], buf[2048];
	pxe_dhcp_request r;
	struct sockaddr_in from;
	const char *reason;
	int client, other;
	ssize_t n;

	o.boot.bios_file = "undionly.kpxe";
	o.boot.uefi_file = "ipxe.efi";
	o.boot.script_url = "http://127.0.0.1/boot.ipxe";
	inet_pton(AF_INET, "127.0.0.1", &o.boot.server_addr);
	for (int k = 0; k < 20 && !s; k++) {
		base_port = (uint16_t)(20000 + (getpid() * 13 + k * 97) % 40000);
		o.dhcp_port = base_port;
		o.proxy_port = base_port + 1;
		o.client_port = base_port + 2;
		if (pxe_server_new(&o, &s) < 0)
			s = NULL;
	}
	if (!s) {
		printf("1..0 # SKIP cannot bind the responder's sockets on lo\n");
		return 0;
	}
	client = udp(o.client_port);
	other = udp(0);
	ok(client >= 0 && other >= 0, "the responder's three sockets and a client bound on lo");

	/* DISCOVER on the DHCP port: OFFER broadcast to the client port */
	send_to(other, p,
		build(p, 1, PXE_DHCP_DISCOVER, "PXEClient:Arch:00000:UNDI:002001", 2, NULL),
		o.dhcp_port);
	pump(s, 1);
	n = reply(client, buf, sizeof(buf), &from);
	ok(n > 0 && pxe_dhcp_parse(buf, (size_t)n, &r, &reason) == 0 &&
	       r.msg_type == PXE_DHCP_OFFER && strcmp(r.file, "undionly.kpxe") == 0,
	   "DISCOVER: an OFFER of undionly.kpxe reaches the client port (broadcast)");
	ok(n_events == 1 && events[0].kind == PXE_EVENT_ANSWERED && events[0].port == o.dhcp_port &&
	       events[0].reply_type == PXE_DHCP_OFFER &&
	       strcmp(events[0].boot, "undionly.kpxe") == 0 && events[0].mac[5] == 2,
	   "... an ANSWERED event with the port, MAC and boot file");

	/* REQUEST on the proxy port (PXE 2.1 2.2.6): ACK back to the sender's address/port */
	n_events = 0;
	send_to(other, p,
		build(p, 1, PXE_DHCP_REQUEST, "PXEClient:Arch:00007:UNDI:003016", 4, "127.0.0.1"),
		o.proxy_port);
	pump(s, 1);
	n = reply(other, buf, sizeof(buf), &from);
	ok(n > 0 && ntohs(from.sin_port) == o.proxy_port &&
	       pxe_dhcp_parse(buf, (size_t)n, &r, &reason) == 0 && r.msg_type == PXE_DHCP_ACK &&
	       strcmp(r.file, "ipxe.efi") == 0,
	   "REQUEST on the proxy port: a unicast ACK of ipxe.efi from that port");

	/* REQUEST on 67: the router's */
	n_events = 0;
	send_to(other, p, build(p, 1, PXE_DHCP_REQUEST, "PXEClient:Arch:00007", 6, NULL),
		o.dhcp_port);
	pump(s, 1);
	ok(n_events == 1 && events[0].kind == PXE_EVENT_IGNORED && events[0].msg_type == 3,
	   "REQUEST on the DHCP port: IGNORED (the router's lease)");

	/* the caller refuses a machine */
	n_events = 0;
	send_to(other, p, build(p, 1, PXE_DHCP_DISCOVER, "PXEClient:Arch:00007", 7, NULL),
		o.dhcp_port);
	pump(s, 1);
	ok(n_events == 1 && events[0].kind == PXE_EVENT_IGNORED,
	   "a machine the accept callback refuses: IGNORED, no reply");

	/* malformed and oversized */
	n_events = 0;
	n = (ssize_t)build(p, 1, PXE_DHCP_DISCOVER, "PXEClient", 8, NULL);
	p[243] = 200; /* option 53's length runs past the packet... */
	send_to(other, p, 246, o.dhcp_port);
	memset(p, 0, sizeof(p));
	send_to(other, p, PXE_DHCP_MAX_PACKET + 50, o.dhcp_port);
	pump(s, 2);
	ok(n_events == 2 && events[0].kind == PXE_EVENT_MALFORMED && events[0].error == -EBADMSG &&
	       events[1].kind == PXE_EVENT_MALFORMED && events[1].error == -EMSGSIZE,
	   "a truncated option and a 1522-byte packet: MALFORMED, -EBADMSG and -EMSGSIZE");

	/* another server's OFFER with a boot file, broadcast to clients */
	n_events = 0;
	n = (ssize_t)build(p, 2, PXE_DHCP_OFFER, NULL, 10, NULL);
	memcpy(p + 108, "pxelinux.0", 10);
	p[20] = 192; /* siaddr 192.0.2.9 */
	p[21] = 0;
	p[22] = 2;
	p[23] = 9;
	send_to(other, p, (size_t)n, o.client_port);
	pump(s, 1);
	ok(n_events == 1 && events[0].kind == PXE_EVENT_FOREIGN_BOOT &&
	       events[0].port == o.client_port,
	   "another server's OFFER with a boot file on the client port: FOREIGN_BOOT");

	/* the probe: a DISCOVER from the client port that our own responder does not answer */
	n_events = 0;
	ok(pxe_server_probe(s, (const uint8_t *)"\x02\x00\x00\x00\x00\x01") == 0,
	   "the probe is sent");
	pump(s, 1);
	ok(n_events == 0, "our own probe is not answered nor reported");

	close(client);
	close(other);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
