/* SPDX-License-Identifier: MIT */
/*
 * Network boot beside the home router: the proxy DHCP responder (pxe-server.c) and the TFTP
 * server (tftp.c) in one thread with its own poll loop. Every answer, refusal and transfer is
 * an event of the machine's boot timeline (serve_event_add), so that the API can say where a
 * boot stopped; what an operator must act on (a malformed packet, a refused TFTP name, a
 * router that hands out boot files too) is also a log line.
 *
 * Which machines are answered is the HTTP side's rule (serve_mac_boots): accepted and joined
 * ones, and in inventory mode the unknown and discovered ones; never a retired one. A
 * machine that is not answered is left to the router, so it boots from its disk.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "serve/pxe-server.h"
#include "serve/serve.h"
#include "serve/tftp.h"

/* a repeated warning (another DHCP server's boot offer) at most this often */
#define NETBOOT_WARN_EVERY_S 300

struct serve_netboot {
	serve_server *s;
	pxe_server *pxe;
	tftp_server *tftp;
	int stop_fd;
	pthread_t thread;
	bool running;
	char *script_url, *http_url;
	time_t foreign_warned;
};

bool serve_mac_boots(serve_server *s, const char *mac, const char **ret_reason)
{
	_cleanup_(serve_machine_freep) serve_machine *m = NULL;

	if (serve_machine_by_mac(s->db, mac, &m) < 0) {
		*ret_reason = "an unknown machine (allow-list mode: unknown_machines: ignore)";
		return s->c->unknown == SERVE_UNKNOWN_INVENTORY;
	}
	if (!strcmp(m->state, "accepted") || !strcmp(m->state, "joined"))
		return true;
	if (!strcmp(m->state, "retired")) {
		*ret_reason = "a retired machine (accept it again to boot it)";
		return false;
	}
	*ret_reason = "a machine not accepted (allow-list mode: unknown_machines: ignore)";
	return s->c->unknown == SERVE_UNKNOWN_INVENTORY;
}

static void mac_text(const uint8_t *m, char buf[static 18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int serve_neighbour_mac(struct in_addr addr, char ret[static 18])
{
	_cleanup_free_ char *text = NULL;
	char ip[INET_ADDRSTRLEN];
	size_t len;

	if (!inet_ntop(AF_INET, &addr, ip, sizeof(ip)) ||
	    read_full_file("/proc/net/arp", 1024 * 1024, &text, &len) < 0)
		return -ENOENT;
	/* IP address  HW type  Flags  HW address  Mask  Device */
	for (char *line = strchr(text, '\n'); line && *++line; line = strchr(line, '\n')) {
		char a[INET_ADDRSTRLEN + 1], hw[18], flags[8];

		if (sscanf(line, "%16s %*s %7s %17s", a, flags, hw) == 3 && !strcmp(a, ip) &&
		    strcmp(flags, "0x0") && strcmp(hw, "00:00:00:00:00:00")) {
			memcpy(ret, hw, 18);
			return 0;
		}
	}
	return -ENOENT;
}

static void timeline(serve_netboot *n, const char *mac, const char *kind, const char *fmt, ...)
    _printf_(4, 5);
static void timeline(serve_netboot *n, const char *mac, const char *kind, const char *fmt, ...)
{
	_cleanup_free_ char *detail = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&detail, fmt, ap) < 0)
		detail = NULL;
	va_end(ap);
	r = serve_event_add(n->s->db, mac, kind, detail);
	if (r < 0)
		na_logf(&n->s->log, LOG_WARNING, "event \"%s\" of %s not recorded: %s", kind,
			mac ? mac : "the LAN", strerror(-r));
}

static bool pxe_accept(void *userdata, const pxe_dhcp_request *req, const char **ret_reason)
{
	serve_netboot *n = userdata;
	char mac[18];

	mac_text(req->mac, mac);
	return serve_mac_boots(n->s, mac, ret_reason);
}

static const char *client_name(const pxe_event *ev)
{
	if (ev->ipxe)
		return "iPXE";
	if (ev->client_class == PXE_CLASS_HTTP)
		return "UEFI HTTP boot";
	return ev->arch == 0 ? "BIOS PXE" : "UEFI PXE";
}

static void on_pxe(void *userdata, const pxe_event *ev)
{
	serve_netboot *n = userdata;
	char mac[18] = "", from[INET_ADDRSTRLEN] = "?";

	if (ev->has_mac)
		mac_text(ev->mac, mac);
	inet_ntop(AF_INET, &ev->peer.sin_addr, from, sizeof(from));
	switch (ev->kind) {
	case PXE_EVENT_ANSWERED:
		timeline(n, mac,
			 ev->boot_kind == PXE_BOOT_SCRIPT ? "dhcp: script offered"
							  : "dhcp: boot program offered",
			 "%s (%s, arch %d, port %u): %s", client_name(ev),
			 pxe_dhcp_msg_type_name(ev->msg_type), ev->arch, ev->port, ev->boot);
		break;
	case PXE_EVENT_IGNORED:
		/* the router's business (no PXE class, a lease REQUEST) is not the timeline's */
		if (ev->has_mac && ev->client_class != PXE_CLASS_NONE &&
		    ev->msg_type == PXE_DHCP_DISCOVER)
			timeline(n, mac, "dhcp: not answered", "%s: %s", client_name(ev),
				 ev->reason ? ev->reason : "?");
		break;
	case PXE_EVENT_MALFORMED:
		na_logf(&n->s->log, LOG_WARNING,
			"DHCP: a malformed packet from %s (MAC %s) ignored: %s", from,
			ev->has_mac ? mac : "unknown", ev->reason ? ev->reason : "?");
		if (ev->has_mac)
			timeline(n, mac, "dhcp: malformed packet", "%s",
				 ev->reason ? ev->reason : "?");
		break;
	case PXE_EVENT_FOREIGN_BOOT:
		/* another DHCP server hands out boot files: machines may follow it instead */
		if (time(NULL) - n->foreign_warned >= NETBOOT_WARN_EVERY_S) {
			n->foreign_warned = time(NULL);
			na_logf(&n->s->log, LOG_WARNING,
				"DHCP: another server on the LAN, %s, offers boot options: %s; "
				"machines may boot from it instead (remove them from the router)",
				from, ev->reason ? ev->reason : "?");
			timeline(n, NULL, "lan: another DHCP server offers boot options", "%s: %s",
				 from, ev->reason ? ev->reason : "?");
		}
		break;
	case PXE_EVENT_SEND_FAILED:
		na_logf(&n->s->log, LOG_WARNING, "DHCP: answer to %s not sent: %s", mac,
			strerror(-ev->error));
		break;
	case PXE_EVENT_FOREIGN_OFFER:
		break;
	}
}

/* IN with every byte outside printable ASCII as '?', cut to SIZE - 1 */
static void printable(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

static void on_tftp(void *userdata, const tftp_event *ev)
{
	serve_netboot *n = userdata;
	char mac[18] = "", from[INET_ADDRSTRLEN] = "?";
	bool known = serve_neighbour_mac(ev->peer.sin_addr, mac) == 0;

	inet_ntop(AF_INET, &ev->peer.sin_addr, from, sizeof(from));
	switch (ev->kind) {
	case TFTP_EVENT_STARTED:
		break;
	case TFTP_EVENT_COMPLETED:
		timeline(n, known ? mac : NULL, "tftp: boot program fetched",
			 "%s, %" PRIu64 " bytes in %" PRIu64 " ms (blksize %u) by %s", ev->file,
			 ev->bytes, ev->duration_ms, ev->blksize, from);
		break;
	case TFTP_EVENT_ABORTED:
		if (ev->size_query) /* EDK2 asks the size, aborts, then fetches */
			break;
		/* fallthrough */
	case TFTP_EVENT_TIMED_OUT:
		timeline(n, known ? mac : NULL, "tftp: fetch failed",
			 "%s after %" PRIu64 " bytes: %s", ev->file, ev->bytes,
			 ev->reason ? ev->reason : "?");
		break;
	case TFTP_EVENT_REFUSED: {
		/* the client's bytes: nothing that could end a log line or forge a <N> priority */
		char name[128];

		printable(ev->file, name, sizeof(name));
		na_logf(&n->s->log, LOG_WARNING, "TFTP: %s asked for \"%s\": refused: %s", from,
			name, ev->reason ? ev->reason : strerror(-ev->error));
		timeline(n, known ? mac : NULL, "tftp: refused", "\"%s\": %s", name,
			 ev->reason ? ev->reason : strerror(-ev->error));
		break;
	}
	}
}

static void *loop(void *userdata)
{
	serve_netboot *n = userdata;

	for (;;) {
		struct pollfd fds[3] = {{n->stop_fd, POLLIN, 0},
					{n->pxe ? pxe_server_fd(n->pxe) : -1, POLLIN, 0},
					{tftp_server_fd(n->tftp), POLLIN, 0}};
		int r;

		if (poll(fds, 3, 1000) < 0 && errno != EINTR) {
			na_logf(&n->s->log, LOG_ERR, "network boot stopped: poll: %m");
			break;
		}
		if (fds[0].revents)
			break;
		if (n->pxe && (r = pxe_server_process(n->pxe)) < 0)
			na_logf(&n->s->log, LOG_WARNING, "DHCP: %s", strerror(-r));
		/* the TFTP server's timers (retransmission) run from its own fd */
		if ((r = tftp_server_process(n->tftp)) < 0)
			na_logf(&n->s->log, LOG_WARNING, "TFTP: %s", strerror(-r));
	}
	return NULL;
}

serve_netboot *serve_netboot_stop(serve_netboot *n)
{
	if (!n)
		return NULL;
	if (n->running) {
		uint64_t one = 1;

		(void)!write(n->stop_fd, &one, sizeof(one));
		pthread_join(n->thread, NULL);
	}
	pxe_server_free(n->pxe);
	tftp_server_free(n->tftp);
	if (n->stop_fd >= 0)
		close(n->stop_fd);
	free(n->script_url);
	free(n->http_url);
	free(n);
	return NULL;
}

int serve_netboot_start(serve_server *s, const char *address, serve_netboot **ret, char **ret_err)
{
	_cleanup_(serve_netboot_stopp) serve_netboot *n = calloc(1, sizeof(*n));
	const serve_config *c = s->c;
	pxe_server_options po = {
	    .ifname = c->interface, .watch_foreign = true, .accept = pxe_accept, .event = on_pxe};
	/* iPXE's three boot programs and nothing else: Debian links ipxe.efi to /boot */
	static const char *const programs[] = {"undionly.kpxe", "ipxe.efi", "snponly.efi", NULL};
	tftp_server_options to = {
	    .root = c->tftp_root, .ifname = c->interface, .names = programs, .event = on_tftp};
	int r;

	if (!n)
		return -ENOMEM;
	n->s = s;
	n->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->stop_fd < 0)
		return -errno;
	if (inet_pton(AF_INET, address, &po.boot.server_addr) != 1)
		return -EINVAL;
	to.addr = po.boot.server_addr;
	if (asprintf(&n->script_url, "%s/boot.ipxe", s->base_url) < 0 ||
	    asprintf(&n->http_url, "%s/%s", s->base_url, c->uefi_file) < 0)
		return -ENOMEM;
	po.boot.bios_file = "undionly.kpxe";
	po.boot.uefi_file = c->uefi_file;
	po.boot.uefi_http_url = n->http_url;
	po.boot.script_url = n->script_url;
	po.boot.script_url_mac = true;
	po.userdata = to.userdata = n;
	r = tftp_server_new(&to, &n->tftp);
	if (r < 0)
		return asprintf(ret_err, "TFTP on %s port 69 (root %s): %s", address, c->tftp_root,
				strerror(-r)) < 0
			   ? -ENOMEM
			   : r;
	if (c->proxy_dhcp) {
		r = pxe_server_new(&po, &n->pxe);
		if (r < 0)
			return asprintf(ret_err, "proxy DHCP on %s (ports 67 and 4011): %s%s",
					c->interface, strerror(-r),
					r == -EADDRINUSE ? ": another DHCP server on this machine "
							   "holds port 67 without SO_REUSEADDR"
							 : "") < 0
				   ? -ENOMEM
				   : r;
	}
	r = -pthread_create(&n->thread, NULL, loop, n);
	if (r < 0)
		return r;
	n->running = true;
	*ret = TAKE_PTR(n);
	return 0;
}
