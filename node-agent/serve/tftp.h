/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A read-only TFTP server for the boot program (RFC 1350, option negotiation RFC 2347,
 * blksize RFC 2348, timeout and tsize RFC 2349). Only regular files beneath the root
 * directory are served: names are opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS),
 * and absolute names or ".." components are refused before that. Each transfer has its own
 * ephemeral socket (RFC 1350 section 4, the TID), a bounded number of retransmissions and a
 * bounded number of transfers at once.
 *
 * Driven by the caller's poll loop like pxe-server.h: tftp_server_fd() is one epoll fd over
 * the listening socket, every transfer's socket and a timerfd for retransmissions;
 * tftp_server_process() does what is due and never blocks. Every transfer is reported in
 * events; the module does not log.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "basic/macro.h"

typedef enum tftp_event_kind {
	TFTP_EVENT_STARTED,   /* a file is being sent: size, blksize */
	TFTP_EVENT_COMPLETED, /* the last block was acknowledged: bytes, duration_ms */
	TFTP_EVENT_ABORTED,   /* the client sent an ERROR (EDK2 does after a tsize query) */
	TFTP_EVENT_TIMED_OUT, /* no ACK after max_tries sends: the client went away */
	TFTP_EVENT_REFUSED,   /* a request answered with an ERROR: reason, error */
} tftp_event_kind;

typedef struct tftp_event {
	tftp_event_kind kind;
	struct sockaddr_in peer;
	const char *file;     /* the name the client asked for, "" when unreadable */
	uint64_t size;	      /* the file's size (0 for REFUSED) */
	uint64_t bytes;	      /* bytes acknowledged by the client */
	uint64_t duration_ms; /* since the request */
	unsigned blksize;
	bool size_query;    /* ABORTED after the OACK, before any data: a tsize query */
	const char *reason; /* REFUSED/ABORTED/TIMED_OUT: why, static or the client's text */
	int error;	    /* REFUSED: -errno of the open, or -EINVAL/-EPERM/-EBUSY */
} tftp_event;

/* ev, its file and reason are valid during the call only */
typedef void (*tftp_event_fn)(void *userdata, const tftp_event *ev);

typedef struct tftp_server_options {
	const char *root;	/* directory served */
	const char *ifname;	/* NULL: every interface */
	struct in_addr addr;	/* 0: any */
	uint16_t port;		/* 0: 69 */
	unsigned max_transfers; /* 0: 32 */
	unsigned max_tries;	/* sends of one packet before giving up, 0: 5 */
	unsigned timeout_ms;	/* before a retransmission, 0: 1000 (a client's timeout wins) */
	/* NULL: any regular file beneath root, no symlink followed. Else only these exact names
	 * (NULL-terminated; no '/'), each opened in root following symlinks: the names are the
	 * caller's, not the client's, so an administrator's link is followed (Debian's
	 * /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi) and no other file can be asked for. */
	const char *const *names;
	tftp_event_fn event;
	void *userdata;
} tftp_server_options;

typedef struct tftp_server tftp_server;

int tftp_server_new(const tftp_server_options *opts, tftp_server **ret);
tftp_server *tftp_server_free(tftp_server *s);
/* an epoll fd over all sockets and the retransmission timer: poll it for POLLIN */
int tftp_server_fd(const tftp_server *s);
/* handle waiting packets and due retransmissions; 0 or -errno (epoll failure) */
int tftp_server_process(tftp_server *s);
unsigned tftp_server_transfers(const tftp_server *s);

DEFINE_TRIVIAL_CLEANUP_FUNC(tftp_server *, tftp_server_free)

/* The request parsing, for tests and fuzzing: an RRQ (opcode 1) of len bytes. Returns 0 and
 * the file name (pointing into buf), the accepted options (blksize 0 when not asked, tsize
 * and timeout likewise), or -EINVAL (not an RRQ, fields not NUL-terminated, mode not
 * octet: netascii is refused, boot programs are binary) and -EPERM (a name that is absolute, has a
 * ".." component or is empty) with a static reason. */
typedef struct tftp_request {
	const char *file;
	unsigned blksize; /* 8..65464 as asked (RFC 2348), 0 when not asked */
	bool tsize;	  /* RFC 2349: the client wants the size */
	unsigned timeout; /* 1..255 seconds (RFC 2349), 0 when not asked */
} tftp_request;

int tftp_parse_request(const uint8_t *buf, size_t len, tftp_request *ret, const char **ret_reason);
