/* SPDX-License-Identifier: MIT */
/*
 * Read-only TFTP (see tftp.h). Packets (RFC 1350 section 5): RRQ 1, DATA 3, ACK 4, ERROR 5,
 * OACK 6 (RFC 2347). A transfer is lock-step: block n is sent, the client's ACK n brings
 * block n + 1; a block shorter than blksize ends the file (an empty one when the size is a
 * multiple). Block numbers are 16 bits on the wire and roll over to 0 after 65535, as
 * iPXE, EDK2 and tftp-hpa do, so files above 32 MiB at 512 bytes still go through.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "serve/tftp.h"

enum { OP_RRQ = 1, OP_WRQ = 2, OP_DATA = 3, OP_ACK = 4, OP_ERROR = 5, OP_OACK = 6 };
/* RFC 1350 section 5 error codes */
enum { ERR_UNDEF = 0, ERR_NOT_FOUND = 1, ERR_ACCESS = 2, ERR_ILLEGAL = 4, ERR_OPTION = 8 };

/* a DATA packet in one 1500-byte Ethernet frame: 1500 - 20 (IP) - 8 (UDP) - 4 (header) */
#define MAX_BLKSIZE  1468
#define MAX_PACKET   1472
#define TAG_LISTEN   0
#define TAG_TIMER    1
#define TAG_TRANSFER 2

typedef struct transfer {
	bool used;
	int sock; /* connected to the client: the kernel drops other TIDs (RFC 1350 4) */
	int file_fd;
	struct sockaddr_in peer;
	char *name;
	uint64_t size;
	unsigned blksize, timeout_ms, tries;
	uint64_t block; /* the last block sent, 0 for the OACK */
	bool last_sent, oack_sent;
	uint64_t start_ms, deadline_ms;
	size_t pkt_len;
	uint8_t pkt[MAX_PACKET];
} transfer;

struct tftp_server {
	tftp_server_options opts;
	int root_fd, listen_fd, timer_fd, epoll_fd;
	char ifname[IF_NAMESIZE];
	transfer *xfers;
	unsigned n_active;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *find_nul(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *z = memchr(p, 0, (size_t)(end - p));

	return (const char *)z;
}

/* RFC 1350 5: opcode, name NUL, mode NUL, then RFC 2347 option/value NUL pairs */
int tftp_parse_request(const uint8_t *buf, size_t len, tftp_request *ret, const char **ret_reason)
{
	const uint8_t *end = buf + len, *p = buf + 2;
	tftp_request r = {0};
	const char *z, *mode;

	if (len < 4 || buf[0] != 0 || buf[1] != OP_RRQ) {
		*ret_reason = (len >= 2 && buf[0] == 0 && buf[1] == OP_WRQ)
				  ? "write requests are refused (read-only server)"
				  : "not a read request";
		return -EINVAL;
	}
	z = find_nul(p, end);
	if (!z) {
		*ret_reason = "file name not NUL-terminated";
		return -EINVAL;
	}
	r.file = (const char *)p;
	p = (const uint8_t *)z + 1;
	z = p < end ? find_nul(p, end) : NULL;
	if (!z) {
		*ret_reason = "mode not NUL-terminated";
		return -EINVAL;
	}
	mode = (const char *)p;
	if (strcasecmp(mode, "octet") != 0) {
		*ret_reason = strcasecmp(mode, "netascii") == 0
				  ? "netascii is not served (boot programs are binary)"
				  : "unknown transfer mode";
		return -EINVAL;
	}
	p = (const uint8_t *)z + 1;
	while (p < end) {
		const char *opt = (const char *)p, *val;
		char *e;
		unsigned long v;

		z = find_nul(p, end);
		if (!z || (const uint8_t *)z + 1 >= end) {
			*ret_reason = "option without value";
			return -EINVAL;
		}
		val = z + 1;
		z = find_nul((const uint8_t *)val, end);
		if (!z) {
			*ret_reason = "option value not NUL-terminated";
			return -EINVAL;
		}
		p = (const uint8_t *)z + 1;
		errno = 0;
		v = strtoul(val, &e, 10);
		/* unknown options and bad values are left out of the OACK (RFC 2347) */
		if (errno != 0 || e == val || *e || val[0] < '0' || val[0] > '9')
			continue;
		if (strcasecmp(opt, "blksize") == 0 && v >= 8 && v <= 65464)
			r.blksize = (unsigned)v;
		else if (strcasecmp(opt, "tsize") == 0 && v == 0)
			r.tsize = true;
		else if (strcasecmp(opt, "timeout") == 0 && v >= 1 && v <= 255)
			r.timeout = (unsigned)v;
	}
	/* checked here, not left to openat2 alone, so the refusal can say why */
	if (!r.file[0] || r.file[0] == '/' || r.file[0] == '\\' || strcmp(r.file, "..") == 0 ||
	    strncmp(r.file, "../", 3) == 0 || strstr(r.file, "/../") ||
	    (strlen(r.file) >= 3 && strcmp(r.file + strlen(r.file) - 3, "/..") == 0)) {
		*ret_reason = !r.file[0] ? "empty file name" : "file name outside the root";
		return -EPERM;
	}
	*ret = r;
	return 0;
}

static void emit(tftp_server *s, tftp_event *ev)
{
	if (s->opts.event)
		s->opts.event(s->opts.userdata, ev);
}

/* a UDP socket on our address: the listener on `port`, or a transfer's on an ephemeral port
 * connected to peer */
static int open_socket(const tftp_server *s, uint16_t port, const struct sockaddr_in *peer)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_addr = s->opts.addr, .sin_port = htons(port)};
	_cleanup_close_ int fd = -1;
	int one = 1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (port && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (s->ifname[0] && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, s->ifname,
				       (socklen_t)strlen(s->ifname) + 1) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (peer && connect(fd, (const struct sockaddr *)peer, sizeof(*peer)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static void send_error(int fd, const struct sockaddr_in *to, uint16_t code, const char *msg)
{
	uint8_t pkt[128] = {0, OP_ERROR, (uint8_t)(code >> 8), (uint8_t)code};
	size_t n = strnlen(msg, sizeof(pkt) - 5);

	memcpy(pkt + 4, msg, n);
	pkt[4 + n] = 0;
	(void)sendto(fd, pkt, 5 + n, 0, (const struct sockaddr *)to, to ? sizeof(*to) : 0);
}

static void rearm_timer(tftp_server *s)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	uint64_t first = UINT64_MAX, now = now_ms();

	for (unsigned k = 0; k < s->opts.max_transfers; k++)
		if (s->xfers[k].used && s->xfers[k].deadline_ms < first)
			first = s->xfers[k].deadline_ms;
	if (first != UINT64_MAX) {
		uint64_t d = first > now ? first - now : 1;

		its.it_value.tv_sec = (time_t)(d / 1000);
		its.it_value.tv_nsec = (long)(d % 1000) * 1000000;
	}
	(void)timerfd_settime(s->timer_fd, 0, &its, NULL);
}

static void transfer_end(tftp_server *s, transfer *t, tftp_event_kind kind, const char *reason)
{
	tftp_event ev = {.kind = kind,
			 .peer = t->peer,
			 .file = t->name,
			 .size = t->size,
			 .blksize = t->blksize,
			 .duration_ms = now_ms() - t->start_ms,
			 .reason = reason};

	/* what the client has acknowledged: everything when completed, else up to the block
	 * before the one in flight */
	if (kind == TFTP_EVENT_COMPLETED)
		ev.bytes = t->size;
	else
		ev.bytes = t->block > 1 ? (t->block - 1) * t->blksize : 0;
	ev.size_query = kind == TFTP_EVENT_ABORTED && t->block == 0;
	emit(s, &ev);
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, t->sock, NULL);
	close(t->sock);
	close(t->file_fd);
	free(t->name);
	t->used = false;
	s->n_active--;
}

static int send_packet(transfer *t)
{
	t->deadline_ms = now_ms() + t->timeout_ms;
	if (send(t->sock, t->pkt, t->pkt_len, 0) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int send_block(transfer *t, uint64_t block)
{
	ssize_t n;

	n = pread(t->file_fd, t->pkt + 4, t->blksize, (off_t)((block - 1) * t->blksize));
	if (n < 0)
		return -errno;
	t->block = block;
	t->tries = 1;
	t->pkt[0] = 0;
	t->pkt[1] = OP_DATA;
	t->pkt[2] = (uint8_t)(block >> 8);
	t->pkt[3] = (uint8_t)block;
	t->pkt_len = 4 + (size_t)n;
	t->last_sent = (size_t)n < t->blksize;
	return send_packet(t);
}

/* RFC 2347: the options accepted, with our values */
static int send_oack(transfer *t, const tftp_request *req)
{
	size_t n = 2;
	int k;

	t->pkt[0] = 0;
	t->pkt[1] = OP_OACK;
	if (req->blksize) {
		k = snprintf((char *)t->pkt + n, sizeof(t->pkt) - n, "blksize%c%u", 0, t->blksize);
		n += (size_t)k + 1;
	}
	if (req->tsize) {
		k = snprintf((char *)t->pkt + n, sizeof(t->pkt) - n, "tsize%c%llu", 0,
			     (unsigned long long)t->size);
		n += (size_t)k + 1;
	}
	if (req->timeout) {
		k = snprintf((char *)t->pkt + n, sizeof(t->pkt) - n, "timeout%c%u", 0,
			     req->timeout);
		n += (size_t)k + 1;
	}
	t->pkt_len = n;
	t->block = 0;
	t->tries = 1;
	t->oack_sent = true;
	return send_packet(t);
}

static void refuse(tftp_server *s, const struct sockaddr_in *peer, const char *file, uint16_t code,
		   int error, const char *reason)
{
	tftp_event ev = {.kind = TFTP_EVENT_REFUSED,
			 .peer = *peer,
			 .file = file ? file : "",
			 .reason = reason,
			 .error = error};

	send_error(s->listen_fd, peer, code, reason);
	emit(s, &ev);
}

static int open_beneath(int root_fd, const char *name)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
			       .resolve =
				   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	long fd = syscall(SYS_openat2, root_fd, name, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* One host may hold this many transfers (a machine fetches one file at a time; EDK2's size
 * query and the fetch overlap): a host that never ACKs cannot take every slot. */
#define TFTP_MAX_PER_HOST 2
/* The longest retransmission interval a client may ask for (RFC 2349 allows 255 s, which with
 * the tries would hold a slot for 20 minutes); a larger one is left out of the OACK. */
#define TFTP_MAX_TIMEOUT_S 5

static void start_transfer(tftp_server *s, const struct sockaddr_in *peer,
			   const tftp_request *asked)
{
	tftp_request capped = *asked, *req = &capped;
	tftp_event ev = {.kind = TFTP_EVENT_STARTED, .peer = *peer, .file = req->file};
	_cleanup_close_ int fd = -1;
	transfer *t = NULL;
	unsigned same_host = 0;
	struct stat st;
	int r;

	if (req->timeout > TFTP_MAX_TIMEOUT_S)
		req->timeout = 0;

	for (unsigned k = 0; k < s->opts.max_transfers; k++) {
		transfer *x = &s->xfers[k];

		if (x->used && x->peer.sin_addr.s_addr == peer->sin_addr.s_addr &&
		    x->peer.sin_port == peer->sin_port)
			return; /* the client's RRQ again: our first packet's retransmission answers
				 */
		if (x->used && x->peer.sin_addr.s_addr == peer->sin_addr.s_addr)
			same_host++;
		if (!x->used && !t)
			t = x;
	}
	if (same_host >= TFTP_MAX_PER_HOST)
		return refuse(s, peer, req->file, ERR_UNDEF, -EBUSY,
			      "too many transfers from this address");
	if (!t)
		return refuse(s, peer, req->file, ERR_UNDEF, -EBUSY, "too many transfers");
	if (s->opts.names) {
		const char *const *n = s->opts.names;

		while (*n && strcmp(*n, req->file))
			n++;
		if (!*n)
			return refuse(s, peer, req->file, ERR_NOT_FOUND, -ENOENT,
				      "not a boot program this server hands out");
		fd = openat(s->root_fd, *n, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			fd = -errno;
	} else
		fd = open_beneath(s->root_fd, req->file);
	if (fd < 0)
		return refuse(s, peer, req->file, fd == -ENOENT ? ERR_NOT_FOUND : ERR_ACCESS, fd,
			      fd == -ENOENT ? "file not found"
			      : fd == -EXDEV || fd == -ELOOP
				  ? "file name leaves the root or crosses a symlink"
				  : "file not readable");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return refuse(s, peer, req->file, ERR_ACCESS, -EISDIR, "not a regular file");

	memset(t, 0, offsetof(transfer, pkt));
	t->name = strdup(req->file);
	if (!t->name)
		return refuse(s, peer, req->file, ERR_UNDEF, -ENOMEM, "out of memory");
	r = open_socket(s, 0, peer);
	if (r < 0) {
		free(t->name);
		return refuse(s, peer, req->file, ERR_UNDEF, r, "no socket for the transfer");
	}
	t->sock = r;
	t->file_fd = TAKE_FD(fd);
	t->peer = *peer;
	t->size = (uint64_t)st.st_size;
	t->blksize = req->blksize ? (req->blksize > MAX_BLKSIZE ? MAX_BLKSIZE : req->blksize) : 512;
	t->timeout_ms = req->timeout ? req->timeout * 1000 : s->opts.timeout_ms;
	t->start_ms = now_ms();
	t->used = true;
	s->n_active++;
	epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, t->sock,
		  &(struct epoll_event){.events = EPOLLIN,
					.data.u64 = TAG_TRANSFER + (uint64_t)(t - s->xfers)});
	ev.size = t->size;
	ev.blksize = t->blksize;
	emit(s, &ev);
	r = req->blksize || req->tsize || req->timeout ? send_oack(t, req) : send_block(t, 1);
	if (r < 0)
		transfer_end(s, t, TFTP_EVENT_ABORTED, "sending failed");
}

static void handle_request(tftp_server *s)
{
	for (int n = 0; n < 64; n++) {
		uint8_t buf[MAX_PACKET + 1];
		struct sockaddr_in peer = {0};
		socklen_t plen = sizeof(peer);
		const char *reason = NULL;
		tftp_request req;
		ssize_t l;
		int r;

		l = recvfrom(s->listen_fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&peer,
			     &plen);
		if (l < 0)
			return;
		buf[l] = 0;
		r = tftp_parse_request(buf, (size_t)l, &req, &reason);
		if (r < 0) {
			/* the name for the event only when it is a terminated string */
			const char *name = l > 2 && memchr(buf + 2, 0, (size_t)l - 2)
					       ? (const char *)buf + 2
					       : NULL;

			refuse(s, &peer, name, r == -EPERM ? ERR_ACCESS : ERR_ILLEGAL, r, reason);
			continue;
		}
		start_transfer(s, &peer, &req);
	}
}

static void handle_transfer(tftp_server *s, transfer *t)
{
	for (int n = 0; n < 64 && t->used; n++) {
		uint8_t buf[MAX_PACKET];
		char msg[MAX_PACKET];
		ssize_t l;
		uint16_t block;

		l = recv(t->sock, buf, sizeof(buf), 0);
		if (l < 0) {
			if (errno == ECONNREFUSED)
				transfer_end(s, t, TFTP_EVENT_ABORTED,
					     "the client's port is closed (ICMP unreachable)");
			return;
		}
		if (l >= 4 && buf[0] == 0 && buf[1] == OP_ERROR) {
			size_t m = (size_t)l - 4;

			memcpy(msg, buf + 4, m);
			msg[m] = 0;
			transfer_end(s, t, TFTP_EVENT_ABORTED, msg[0] ? msg : "client error");
			return;
		}
		if (l < 4 || buf[0] != 0 || buf[1] != OP_ACK)
			continue;
		block = (uint16_t)(buf[2] << 8 | buf[3]);
		/* an old or duplicate ACK is not answered (the Sorcerer's Apprentice bug, RFC
		 * 1123 4.2.3.1): the timer retransmits when needed */
		if (block != (uint16_t)t->block)
			continue;
		if (t->last_sent && t->block > 0) {
			transfer_end(s, t, TFTP_EVENT_COMPLETED, NULL);
			return;
		}
		if (send_block(t, t->block + 1) < 0) {
			transfer_end(s, t, TFTP_EVENT_ABORTED, "reading or sending failed");
			return;
		}
	}
}

static void handle_timeouts(tftp_server *s)
{
	uint64_t now = now_ms(), expirations;

	(void)!read(s->timer_fd, &expirations, sizeof(expirations));
	for (unsigned k = 0; k < s->opts.max_transfers; k++) {
		transfer *t = &s->xfers[k];

		if (!t->used || t->deadline_ms > now)
			continue;
		if (t->tries >= s->opts.max_tries) {
			transfer_end(s, t, TFTP_EVENT_TIMED_OUT, "no acknowledgement: client gone");
			continue;
		}
		t->tries++;
		if (send_packet(t) < 0)
			transfer_end(s, t, TFTP_EVENT_ABORTED, "sending failed");
	}
}

int tftp_server_process(tftp_server *s)
{
	struct epoll_event evs[16];
	int n;

	n = epoll_wait(s->epoll_fd, evs, ELEMENTSOF(evs), 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int k = 0; k < n; k++) {
		uint64_t tag = evs[k].data.u64;

		if (tag == TAG_LISTEN)
			handle_request(s);
		else if (tag >= TAG_TRANSFER && tag - TAG_TRANSFER < s->opts.max_transfers &&
			 s->xfers[tag - TAG_TRANSFER].used)
			handle_transfer(s, &s->xfers[tag - TAG_TRANSFER]);
	}
	handle_timeouts(s);
	rearm_timer(s);
	return 0;
}

tftp_server *tftp_server_free(tftp_server *s)
{
	if (!s)
		return NULL;
	for (unsigned k = 0; s->xfers && k < s->opts.max_transfers; k++)
		if (s->xfers[k].used)
			transfer_end(s, &s->xfers[k], TFTP_EVENT_ABORTED, "server stopped");
	free(s->xfers);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s);
	return NULL;
}

int tftp_server_new(const tftp_server_options *opts, tftp_server **ret)
{
	_cleanup_(tftp_server_freep) tftp_server *s = NULL;
	int r;

	if (!opts->root || (opts->ifname && strlen(opts->ifname) >= IF_NAMESIZE))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = *opts;
	s->listen_fd = s->timer_fd = s->epoll_fd = -1;
	if (opts->ifname)
		memcpy(s->ifname, opts->ifname, strlen(opts->ifname) + 1);
	s->opts.ifname = NULL;
	s->opts.root = NULL;
	if (!s->opts.port)
		s->opts.port = 69;
	if (!s->opts.max_transfers)
		s->opts.max_transfers = 32;
	if (!s->opts.max_tries)
		s->opts.max_tries = 5;
	if (!s->opts.timeout_ms)
		s->opts.timeout_ms = 1000;
	s->root_fd = open(opts->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0)
		return -errno;
	s->xfers = calloc(s->opts.max_transfers, sizeof(*s->xfers));
	if (!s->xfers)
		return -ENOMEM;
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->epoll_fd < 0 || s->timer_fd < 0)
		return -errno;
	r = open_socket(s, s->opts.port, NULL);
	if (r < 0)
		return r;
	s->listen_fd = r;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd,
		      &(struct epoll_event){.events = EPOLLIN, .data.u64 = TAG_LISTEN}) < 0 ||
	    epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->timer_fd,
		      &(struct epoll_event){.events = EPOLLIN, .data.u64 = TAG_TIMER}) < 0)
		return -errno;
	*ret = TAKE_PTR(s);
	return 0;
}

int tftp_server_fd(const tftp_server *s)
{
	return s->epoll_fd;
}

unsigned tftp_server_transfers(const tftp_server *s)
{
	return s->n_active;
}
