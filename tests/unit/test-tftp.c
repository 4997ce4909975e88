/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of node-agent/serve/tftp.c, as TAP: the request parser (RFC 1350 RRQ with RFC
 * 2347/2348/2349 options; names outside the root), then the server on 127.0.0.1 driven
 * by a client in this process: plain and option-negotiated transfers (a file of a multiple
 * of the block size ends with an empty block), names outside the root and symlinks
 * refused, an EDK2-style size query aborted after the OACK, a client that stops
 * acknowledging (retransmissions, then TIMED_OUT), the bound on transfers, duplicate ACKs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "serve/tftp.h"
#include "tap.h"

#define MAX_EVENTS 32

static tftp_event events[MAX_EVENTS];
static char event_files[MAX_EVENTS][64];
static int n_events;

static void on_event(void *userdata, const tftp_event *ev)
{
	if (n_events >= MAX_EVENTS)
		return;
	events[n_events] = *ev;
	snprintf(event_files[n_events], sizeof(event_files[0]), "%s", ev->file);
	events[n_events].file = event_files[n_events];
	events[n_events].reason = NULL; /* static or the client's buffer: not kept */
	n_events++;
}

static const tftp_event *last_event(tftp_event_kind kind)
{
	for (int k = n_events - 1; k >= 0; k--)
		if (events[k].kind == kind)
			return &events[k];
	return NULL;
}

static void test_parse(void)
{
	static const struct {
		const char *req;
		size_t len;
		int ret;
		const char *what;
	} cases[] = {
	    {"\0\1ipxe.efi\0octet\0", 17, 0, "a plain RRQ"},
	    {"\0\1ipxe.efi\0OCTET\0", 17, 0, "the mode in capitals"},
	    {"\0\1ipxe.efi\0netascii\0", 20, -EINVAL, "netascii refused"},
	    {"\0\2ipxe.efi\0octet\0", 17, -EINVAL, "a write request refused"},
	    {"\0\1ipxe.efi", 10, -EINVAL, "a name without its NUL"},
	    {"\0\1ipxe.efi\0octet", 16, -EINVAL, "a mode without its NUL"},
	    {"\0\1../etc/passwd\0octet\0", 22, -EPERM, "../ refused"},
	    {"\0\1a/../../b\0octet\0", 18, -EPERM, "/../ inside refused"},
	    {"\0\1a/..\0octet\0", 13, -EPERM, "a trailing /.. refused"},
	    {"\0\1/etc/passwd\0octet\0", 20, -EPERM, "an absolute name refused"},
	    {"\0\1\0octet\0", 9, -EPERM, "an empty name refused"},
	    {"\0\1a..b\0octet\0", 13, 0, "a name with .. inside a component is fine"},
	    {"\0\1f\0octet\0blksize\0", 18, -EINVAL, "an option without value"},
	    {"\0\1f\0octet\0blksize\0001468", 22, -EINVAL, "an option value without its NUL"},
	};
	tftp_request r;
	const char *reason;
	uint8_t opts[] = "\0\1f\0octet\0blksize\0001428\0tsize\0000\0timeout\0003\0x\0y\0";
	uint8_t bad[] = "\0\1f\0octet\0blksize\0007\0tsize\0005\0timeout\0000\0";

	for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
		reason = NULL;
		ok(tftp_parse_request((const uint8_t *)cases[k].req, cases[k].len, &r, &reason) ==
			   cases[k].ret &&
		       (cases[k].ret == 0 || reason),
		   cases[k].what);
	}
	ok(tftp_parse_request(opts, sizeof(opts) - 1, &r, &reason) == 0 && r.blksize == 1428 &&
	       r.tsize && r.timeout == 3 && strcmp(r.file, "f") == 0,
	   "blksize, tsize and timeout read, an unknown option skipped");
	ok(tftp_parse_request(bad, sizeof(bad) - 1, &r, &reason) == 0 && r.blksize == 0 &&
	       !r.tsize && r.timeout == 0,
	   "blksize 7, tsize 5 in a request, timeout 0: left out (RFC 2347)");
}

/* the server on 127.0.0.1 and a client socket */
typedef struct lab {
	char dir[64];
	tftp_server *s;
	int c;
	struct sockaddr_in srv;
} lab;

static int write_file(const char *dir, const char *name, size_t size)
{
	char path[256];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (size_t k = 0; k < size && r == 0; k++) {
		uint8_t b = (uint8_t)(k * 7 + 3);

		if (write(fd, &b, 1) != 1)
			r = -EIO;
	}
	close(fd);
	return r;
}

static int lab_start(lab *l, unsigned max_transfers, const char *const *names)
{
	tftp_server_options o = {.event = on_event,
				 .timeout_ms = 50,
				 .max_tries = 3,
				 .max_transfers = max_transfers,
				 .names = names};
	struct timeval tv = {0, 20000};

	snprintf(l->dir, sizeof(l->dir), "/tmp/na-tftp.XXXXXX");
	if (!mkdtemp(l->dir))
		return -errno;
	write_file(l->dir, "small", 1000);
	write_file(l->dir, "exact", 1024);
	write_file(l->dir, "../na-tftp-outside", 10);
	{
		char link[128];

		snprintf(link, sizeof(link), "%s/link", l->dir);
		(void)!symlink("small", link);
	}
	inet_pton(AF_INET, "127.0.0.1", &o.addr);
	o.root = l->dir;
	/* a port of our own in the high range, tried a few times */
	for (int k = 0; k < 20; k++) {
		o.port = (uint16_t)(20000 + (getpid() * 7 + k * 131) % 40000);
		if (tftp_server_new(&o, &l->s) == 0)
			break;
		l->s = NULL;
	}
	if (!l->s)
		return -EADDRINUSE;
	l->srv = (struct sockaddr_in){
	    .sin_family = AF_INET, .sin_port = htons(o.port), .sin_addr = o.addr};
	l->c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	setsockopt(l->c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

/* run the server for up to ms, returning early when the client has a packet */
static void pump(lab *l, int ms)
{
	for (int k = 0; k < ms / 5; k++) {
		struct pollfd p[2] = {{tftp_server_fd(l->s), POLLIN, 0}, {l->c, POLLIN, 0}};

		poll(p, 2, 5);
		tftp_server_process(l->s);
		if (poll(&p[1], 1, 0) > 0)
			return;
	}
}

static ssize_t recv_pkt(lab *l, uint8_t *buf, size_t size, struct sockaddr_in *from)
{
	socklen_t fl = sizeof(*from);

	pump(l, 500);
	return recvfrom(l->c, buf, size, MSG_DONTWAIT, (struct sockaddr *)from, &fl);
}

static void send_rrq(lab *l, const char *name, const char *opts, size_t opts_len)
{
	uint8_t buf[512] = {0, 1};
	size_t n = 2 + strlen(name) + 1;

	memcpy(buf + 2, name, strlen(name) + 1);
	memcpy(buf + n, "octet", 6);
	n += 6;
	memcpy(buf + n, opts, opts_len);
	n += opts_len;
	sendto(l->c, buf, n, 0, (struct sockaddr *)&l->srv, sizeof(l->srv));
}

static void send_ack(lab *l, const struct sockaddr_in *to, uint16_t block)
{
	uint8_t a[4] = {0, 4, (uint8_t)(block >> 8), (uint8_t)block};

	sendto(l->c, a, 4, 0, (const struct sockaddr *)to, sizeof(*to));
}

/* a whole transfer: returns the bytes received and checks the blocks */
static ssize_t fetch(lab *l, const char *name, const char *opts, size_t opts_len, size_t blksize,
		     bool dup_acks)
{
	uint8_t buf[2048];
	struct sockaddr_in from;
	ssize_t n, total = 0;
	uint16_t want = 1;

	send_rrq(l, name, opts, opts_len);
	for (int k = 0; k < 100; k++) {
		n = recv_pkt(l, buf, sizeof(buf), &from);
		if (n < 4)
			return -1;
		if (buf[1] == 6) { /* OACK */
			send_ack(l, &from, 0);
			continue;
		}
		if (buf[1] != 3 || (uint16_t)(buf[2] << 8 | buf[3]) != want)
			return -2;
		total += n - 4;
		send_ack(l, &from, want);
		if (dup_acks)
			send_ack(l, &from, want);
		if ((size_t)(n - 4) < blksize) {
			pump(l, 50);
			return total;
		}
		want++;
	}
	return -3;
}

static void lab_stop(lab *l)
{
	char cmd[128];

	tftp_server_free(l->s);
	close(l->c);
	snprintf(cmd, sizeof(cmd), "%s/../na-tftp-outside", l->dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", l->dir);
	(void)!system(cmd);
}

static void test_server(void)
{
	uint8_t buf[2048];
	struct sockaddr_in from;
	const tftp_event *ev;
	lab l;
	ssize_t n;

	if (lab_start(&l, 2, NULL) < 0) {
		ok(0, "the server starts on 127.0.0.1");
		return;
	}
	ok(fetch(&l, "small", "", 0, 512, false) == 1000, "small (1000 bytes) in two blocks");
	ev = last_event(TFTP_EVENT_COMPLETED);
	ok(ev && ev->bytes == 1000 && ev->size == 1000 && ev->blksize == 512 &&
	       strcmp(ev->file, "small") == 0,
	   "... a COMPLETED event with its bytes");
	ok(fetch(&l, "exact", "", 0, 512, true) == 1024,
	   "exact (1024 bytes): two full blocks and an empty one, duplicate ACKs ignored");
	ok(fetch(&l, "exact", "blksize\0001000\0", 13, 1000, false) == 1024,
	   "blksize 1000 negotiated in an OACK");
	ok(fetch(&l, "small", "blksize\00065464\0", 14, 1468, false) == 1000,
	   "blksize 65464 asked: 1468 given (one Ethernet frame)");

	send_rrq(&l, "../na-tftp-outside", "", 0);
	n = recv_pkt(&l, buf, sizeof(buf), &from);
	ev = last_event(TFTP_EVENT_REFUSED);
	ok(n > 4 && buf[1] == 5 && buf[3] == 2 && ev && ev->error == -EPERM,
	   "../ refused with an access violation and an event");
	send_rrq(&l, "link", "", 0);
	n = recv_pkt(&l, buf, sizeof(buf), &from);
	ev = last_event(TFTP_EVENT_REFUSED);
	ok(n > 4 && buf[1] == 5 && ev && strcmp(ev->file, "link") == 0 && ev->error == -ELOOP,
	   "a symlink, even to a file inside the root, refused (RESOLVE_NO_SYMLINKS)");
	send_rrq(&l, "missing", "", 0);
	n = recv_pkt(&l, buf, sizeof(buf), &from);
	ok(n > 4 && buf[1] == 5 && buf[3] == 1, "a missing file: error 1, file not found");
	send_rrq(&l, ".", "", 0);
	n = recv_pkt(&l, buf, sizeof(buf), &from);
	ok(n > 4 && buf[1] == 5 && last_event(TFTP_EVENT_REFUSED)->error == -EISDIR,
	   "the root directory itself: refused, not a regular file");

	/* EDK2: tsize asked, the OACK read, then an ERROR to end the transfer */
	send_rrq(&l, "small", "tsize\0000\0", 8);
	n = recv_pkt(&l, buf, sizeof(buf), &from);
	ok(n > 2 && buf[1] == 6 &&
	       memmem(buf, (size_t)n,
		      "tsize\0"
		      "1000",
		      10),
	   "tsize: the OACK carries the size");
	sendto(l.c, "\0\5\0\10size only\0", 15, 0, (struct sockaddr *)&from, sizeof(from));
	pump(&l, 50);
	ev = last_event(TFTP_EVENT_ABORTED);
	ok(ev && ev->size_query && tftp_server_transfers(l.s) == 0,
	   "the client's ERROR after the OACK: ABORTED as a size query");

	/* a client that goes away: 3 sends 50 ms apart, then TIMED_OUT */
	send_rrq(&l, "small", "", 0);
	n = recv_pkt(&l, buf, sizeof(buf), &from);
	pump(&l, 80);
	n = recvfrom(l.c, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
	ok(n == 516 && buf[3] == 1, "no ACK: block 1 is sent again");
	for (int k = 0; k < 10 && !last_event(TFTP_EVENT_TIMED_OUT); k++) {
		pump(&l, 100); /* returns at each retransmission: read it and go on */
		while (recvfrom(l.c, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL) > 0)
			;
	}
	ev = last_event(TFTP_EVENT_TIMED_OUT);
	ok(ev && ev->bytes == 0 && tftp_server_transfers(l.s) == 0,
	   "no ACK after 3 sends: TIMED_OUT, the transfer freed");
	while (recvfrom(l.c, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL) > 0)
		;

	/* two transfers at most: a third client is refused */
	{
		int c2 = l.c, c3 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		send_rrq(&l, "small", "", 0);
		pump(&l, 20);
		l.c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		send_rrq(&l, "small", "", 0);
		pump(&l, 20);
		close(l.c);
		l.c = c3;
		send_rrq(&l, "small", "", 0);
		n = recv_pkt(&l, buf, sizeof(buf), &from);
		ok(tftp_server_transfers(l.s) == 2 && n > 4 && buf[1] == 5 &&
		       last_event(TFTP_EVENT_REFUSED)->error == -EBUSY,
		   "a third transfer beyond max_transfers 2: refused, busy");
		close(c3);
		l.c = c2;
	}
	lab_stop(&l);
}

/* serve's way: only the names given, an administrator's symlink followed (Debian's
 * /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi) */
static void test_names(void)
{
	static const char *const names[] = {"link", "exact", NULL};
	uint8_t buf[2048];
	struct sockaddr_in from;
	lab l;
	ssize_t n;

	if (lab_start(&l, 2, names) < 0) {
		ok(0, "the server starts on 127.0.0.1 with a list of names");
		return;
	}
	ok(fetch(&l, "link", "", 0, 512, false) == 1000,
	   "a listed name that is a symlink (link -> small): served, the link followed");
	send_rrq(&l, "small", "", 0);
	n = recv_pkt(&l, buf, sizeof(buf), &from);
	ok(n > 4 && buf[1] == 5 && buf[3] == 1 && last_event(TFTP_EVENT_REFUSED) &&
	       !strcmp(last_event(TFTP_EVENT_REFUSED)->file, "small"),
	   "a file of the root that is not listed: refused, not found, with an event");
	send_rrq(&l, "../na-tftp-outside", "", 0);
	n = recv_pkt(&l, buf, sizeof(buf), &from);
	ok(n > 4 && buf[1] == 5, "../ still refused");
	lab_stop(&l);
}

/* one host cannot hold every slot: two transfers per address; a 255 s timeout is not taken */
static void test_per_host(void)
{
	uint8_t buf[2048];
	struct sockaddr_in from;
	lab l;
	ssize_t n;
	int c1;

	if (lab_start(&l, 8, NULL) < 0) {
		ok(0, "the server starts on 127.0.0.1 with 8 transfers");
		return;
	}
	send_rrq(&l, "small", "timeout\000255\0", 12);
	n = recv_pkt(&l, buf, sizeof(buf), &from);
	ok(n == 516 && buf[1] == 3,
	   "timeout 255 asked: not acknowledged (no OACK), block 1 sent with the server's own");
	c1 = l.c;
	l.c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	send_rrq(&l, "small", "", 0);
	pump(&l, 20);
	close(l.c);
	l.c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	send_rrq(&l, "small", "", 0);
	n = recv_pkt(&l, buf, sizeof(buf), &from);
	ok(tftp_server_transfers(l.s) == 2 && n > 4 && buf[1] == 5 &&
	       memmem(buf, (size_t)n, "from this address", 17) && last_event(TFTP_EVENT_REFUSED) &&
	       last_event(TFTP_EVENT_REFUSED)->error == -EBUSY,
	   "a third transfer from the same address, with 6 slots free: refused, busy");
	close(l.c);
	l.c = c1;
	lab_stop(&l);
}

int main(void)
{
	test_parse();
	test_server();
	test_names();
	test_per_host();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
