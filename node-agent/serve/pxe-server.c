/* SPDX-License-Identifier: MIT */
/*
 * Proxy DHCP on the wire (see pxe-server.h). Where replies go, as the PXE 2.1 specification
 * (section 2.2.5-2.2.6) and RFC 2131 section 4.1 say and real proxies (pixiecore, dnsmasq's
 * proxy mode) do: an OFFER to a client without an address is broadcast to port 68 (it cannot
 * receive unicast before it has an address, and its broadcast flag is often unset); through a
 * relay (giaddr) it goes to the relay's port 67; an ACK on the proxy port goes back to the
 * address and port the REQUEST came from (the client has its lease by then).
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve/pxe-server.h"

enum { SOCK_DHCP, SOCK_PROXY, SOCK_CLIENT, N_SOCKS };
#define MAX_PACKETS_PER_CALL 64

struct pxe_server {
	pxe_server_options opts;
	char ifname[IF_NAMESIZE];
	int epoll_fd;
	int fd[N_SOCKS];
	uint16_t port[N_SOCKS];
	uint32_t probe_xid;
	bool probing;
};

static int udp_socket(const char *ifname, uint16_t port, int *ret_fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) <
		0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

pxe_server *pxe_server_free(pxe_server *s)
{
	if (!s)
		return NULL;
	for (int k = 0; k < N_SOCKS; k++)
		if (s->fd[k] >= 0)
			close(s->fd[k]);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	free(s);
	return NULL;
}

int pxe_server_new(const pxe_server_options *opts, pxe_server **ret)
{
	_cleanup_(pxe_server_freep) pxe_server *s = NULL;
	int r;

	if (!opts->ifname || strlen(opts->ifname) >= IF_NAMESIZE || !opts->ifname[0])
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = *opts;
	memcpy(s->ifname, opts->ifname, strlen(opts->ifname) + 1);
	s->opts.ifname = s->ifname;
	s->epoll_fd = -1;
	for (int k = 0; k < N_SOCKS; k++)
		s->fd[k] = -1;
	s->port[SOCK_DHCP] = opts->dhcp_port ? opts->dhcp_port : 67;
	s->port[SOCK_PROXY] = opts->proxy_port ? opts->proxy_port : 4011;
	s->port[SOCK_CLIENT] = opts->client_port ? opts->client_port : 68;

	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0)
		return -errno;
	for (int k = 0; k < N_SOCKS; k++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)k};

		if (k == SOCK_CLIENT && !opts->watch_foreign)
			continue;
		r = udp_socket(s->ifname, s->port[k], &s->fd[k]);
		if (r < 0)
			return r;
		if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->fd[k], &ev) < 0)
			return -errno;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

int pxe_server_fd(const pxe_server *s)
{
	return s->epoll_fd;
}

static void emit(pxe_server *s, pxe_event *ev)
{
	if (s->opts.event)
		s->opts.event(s->opts.userdata, ev);
}

static void fill_from_request(pxe_event *ev, const pxe_dhcp_request *req)
{
	ev->req = req;
	ev->has_mac = req->has_mac;
	memcpy(ev->mac, req->mac, 6);
	ev->xid = req->xid;
	ev->msg_type = req->msg_type;
	ev->arch = req->arch;
	ev->client_class = req->client_class;
	ev->ipxe = req->ipxe;
	ev->vendor_class = req->vendor_class;
}

/* where the reply to req goes (see the top of the file) */
static struct sockaddr_in reply_address(const pxe_server *s, int sock, const pxe_dhcp_request *req,
					const struct sockaddr_in *peer)
{
	struct sockaddr_in to = {.sin_family = AF_INET};

	if (sock == SOCK_PROXY) {
		to = *peer;
	} else if (req->giaddr.s_addr != 0) {
		to.sin_addr = req->giaddr;
		to.sin_port = htons(s->port[SOCK_DHCP]);
	} else if (req->ciaddr.s_addr != 0) {
		to.sin_addr = req->ciaddr;
		to.sin_port = htons(s->port[SOCK_CLIENT]);
	} else {
		to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
		to.sin_port = htons(s->port[SOCK_CLIENT]);
	}
	return to;
}

static void answer(pxe_server *s, int sock, const pxe_dhcp_request *req, pxe_event *ev)
{
	uint8_t out[PXE_DHCP_REPLY_SIZE];
	pxe_boot_decision d;
	struct sockaddr_in to;
	int r, n;

	r = pxe_dhcp_decide(req, sock == SOCK_PROXY, &s->opts.boot, &d);
	if (r > 0 && s->opts.accept && !s->opts.accept(s->opts.userdata, req, &d.reason)) {
		r = 0;
		if (!d.reason)
			d.reason = "refused by the caller";
	}
	if (r <= 0) {
		ev->kind = r < 0 ? PXE_EVENT_SEND_FAILED : PXE_EVENT_IGNORED;
		ev->error = r;
		ev->reason = r < 0 ? "the configured boot file or URL is too long" : d.reason;
		emit(s, ev);
		return;
	}
	n = pxe_dhcp_build_reply(req, &s->opts.boot, &d, out, sizeof(out));
	ev->boot_kind = d.kind;
	ev->boot = d.file;
	ev->reply_type = d.reply_type;
	if (n < 0) {
		ev->kind = PXE_EVENT_SEND_FAILED;
		ev->error = n;
		ev->reason = "the reply does not fit in 576 bytes";
		emit(s, ev);
		return;
	}
	to = reply_address(s, sock, req, &ev->peer);
	if (sendto(s->fd[sock], out, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		ev->kind = PXE_EVENT_SEND_FAILED;
		ev->error = -errno;
		ev->reason = "sendto failed";
	} else {
		ev->kind = PXE_EVENT_ANSWERED;
	}
	emit(s, ev);
}

static void handle_packet(pxe_server *s, int sock, const uint8_t *buf, size_t len,
			  const struct sockaddr_in *peer)
{
	pxe_event ev = {.port = s->port[sock],
			.peer = *peer,
			.arch = -1,
			.vendor_class = "",
			.raw = buf,
			.raw_len = len};
	/* big (three 1.5 KB options): on the heap of this call only */
	_cleanup_free_ pxe_dhcp_request *req = malloc(sizeof(*req));
	const char *reason = NULL;
	int r;

	if (!req) {
		ev.kind = PXE_EVENT_MALFORMED;
		ev.error = -ENOMEM;
		ev.reason = "out of memory";
		emit(s, &ev);
		return;
	}
	r = pxe_dhcp_parse(buf, len, req, &reason);
	if (r < 0) {
		ev.kind = PXE_EVENT_MALFORMED;
		ev.error = r;
		ev.reason = reason;
		emit(s, &ev);
		return;
	}
	fill_from_request(&ev, req);
	if (s->probing && req->xid == s->probe_xid && req->op == 1)
		return; /* our own probe, looped back */
	if (req->op == 2) {
		/* another server's reply (on 68: broadcast to clients; on 67: a relay's) */
		ev.kind = pxe_dhcp_foreign_boot(req, &ev.reason) ? PXE_EVENT_FOREIGN_BOOT
								 : PXE_EVENT_FOREIGN_OFFER;
		if (req->siaddr.s_addr == s->opts.boot.server_addr.s_addr ||
		    req->server_id.s_addr == s->opts.boot.server_addr.s_addr)
			return; /* ours */
		emit(s, &ev);
		return;
	}
	if (sock == SOCK_CLIENT)
		return; /* another client's broadcast seen on 68: not for us */
	answer(s, sock, req, &ev);
}

static int drain(pxe_server *s, int sock)
{
	uint8_t buf[PXE_DHCP_MAX_PACKET + 1];
	int n = 0;

	for (; n < MAX_PACKETS_PER_CALL; n++) {
		struct sockaddr_in peer = {0};
		socklen_t plen = sizeof(peer);
		ssize_t l;

		/* one byte more than the largest packet parsed: an oversized one is seen as such
		 * (MSG_TRUNC returns the real length) */
		l = recvfrom(s->fd[sock], buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&peer,
			     &plen);
		if (l < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		handle_packet(s, sock, buf, (size_t)l > sizeof(buf) ? sizeof(buf) : (size_t)l,
			      &peer);
	}
	return n;
}

int pxe_server_process(pxe_server *s)
{
	struct epoll_event evs[N_SOCKS];
	int n, total = 0;

	n = epoll_wait(s->epoll_fd, evs, N_SOCKS, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int k = 0; k < n; k++) {
		int r = drain(s, (int)evs[k].data.u32);

		if (r < 0)
			return r;
		total += r;
	}
	return total;
}

int pxe_server_probe(pxe_server *s, const uint8_t mac[6])
{
	static const char vc[] = "PXEClient:Arch:00000:UNDI:002001";
	uint8_t p[300] = {1, 1, 6, 0};
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(s->port[SOCK_DHCP]),
				 .sin_addr.s_addr = htonl(INADDR_BROADCAST)};
	size_t i = PXE_DHCP_MIN_PACKET;
	uint32_t xid;

	if (s->fd[SOCK_CLIENT] < 0)
		return -EINVAL;
	/* any value will do: it only tells our probe from real clients */
	xid = (uint32_t)getpid() ^ 0x50584500u ^ (uint32_t)rand();
	memcpy(p + 4, &xid, 4);
	p[10] = 0x80; /* broadcast flag: the answer must reach port 68 of this host */
	memcpy(p + 28, mac, 6);
	memcpy(p + 236, (const uint8_t[]){99, 130, 83, 99}, 4);
	p[i++] = 53;
	p[i++] = 1;
	p[i++] = PXE_DHCP_DISCOVER;
	p[i++] = 60;
	p[i++] = sizeof(vc) - 1;
	memcpy(p + i, vc, sizeof(vc) - 1);
	i += sizeof(vc) - 1;
	p[i++] = 93;
	p[i++] = 2;
	p[i++] = 0;
	p[i++] = 0;
	p[i++] = 255;
	s->probe_xid = xid;
	s->probing = true;
	if (sendto(s->fd[SOCK_CLIENT], p, sizeof(p), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}
