/* SPDX-License-Identifier: MIT */
/*
 * TEST DRIVER for tests/98-pxe-lan.t: the proxy DHCP responder (node-agent/serve/pxe-server.c)
 * and the TFTP server (node-agent/serve/tftp.c) in one poll loop, as `node-agent serve` will
 * run them, printing one line per event on stdout:
 *
 *   pxe-serve-test --ifname IF --addr A --tftp-root DIR --script-url URL
 *                  [--http-url URL] [--uefi-file NAME] [--dump DIR] [--probe-mac MAC]
 * [--ignore-pxe-mac MAC]
 *                  [--seconds N]
 *
 * --dump DIR writes every DHCP packet received, as captured, to DIR/NN-MAC-TYPE.bin (the
 * fixtures of tests/fixtures/dhcp/ were made so). --probe-mac sends one DISCOVER as a PXE
 * client a second after start, to see whether another DHCP server answers PXE clients.
 * Ends after --seconds (default 300) or on SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/parse-util.h"
#include "serve/pxe-server.h"
#include "serve/tftp.h"

static volatile sig_atomic_t stop;
static const char *dump_dir;
static unsigned n_dumped;

static void on_signal(int sig)
{
	stop = 1;
}

static const char *mac_str(const uint8_t *m, bool has, char *buf, size_t size)
{
	if (!has)
		return "-";
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static void dump(const pxe_event *ev, const char *mac)
{
	char path[4096];
	int fd;

	if (!dump_dir || !ev->raw)
		return;
	snprintf(path, sizeof(path), "%s/%02u-%s-%s-%s-arch%d%s.bin", dump_dir, n_dumped++, mac,
		 pxe_dhcp_msg_type_name(ev->msg_type), pxe_client_class_name(ev->client_class),
		 ev->arch, ev->ipxe ? "-ipxe" : "");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	(void)!write(fd, ev->raw, ev->raw_len);
	close(fd);
}

static void on_pxe(void *userdata, const pxe_event *ev)
{
	static const char *const kinds[] = {"answered",	    "ignored",	     "malformed",
					    "foreign-boot", "foreign-offer", "send-failed"};
	char buf[32], from[INET_ADDRSTRLEN];
	const char *mac = mac_str(ev->mac, ev->has_mac, buf, sizeof(buf));

	inet_ntop(AF_INET, &ev->peer.sin_addr, from, sizeof(from));
	dump(ev, mac);
	printf("dhcp %s port=%u from=%s mac=%s type=%s class=%s arch=%d ipxe=%d", kinds[ev->kind],
	       ev->port, from, mac, pxe_dhcp_msg_type_name(ev->msg_type),
	       pxe_client_class_name(ev->client_class), ev->arch, ev->ipxe);
	if (ev->kind == PXE_EVENT_ANSWERED)
		printf(" reply=%s boot=%s", pxe_dhcp_msg_type_name(ev->reply_type), ev->boot);
	if (ev->reason)
		printf(" reason=\"%s\"", ev->reason);
	if (ev->error)
		printf(" error=%s", strerror(-ev->error));
	printf("\n");
}

static void on_tftp(void *userdata, const tftp_event *ev)
{
	static const char *const kinds[] = {"started", "completed", "aborted", "timed-out",
					    "refused"};
	char from[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &ev->peer.sin_addr, from, sizeof(from));
	printf("tftp %s from=%s file=\"%s\" size=%llu bytes=%llu ms=%llu blksize=%u",
	       kinds[ev->kind], from, ev->file, (unsigned long long)ev->size,
	       (unsigned long long)ev->bytes, (unsigned long long)ev->duration_ms, ev->blksize);
	if (ev->size_query)
		printf(" size-query=1");
	if (ev->reason)
		printf(" reason=\"%s\"", ev->reason);
	printf("\n");
}

/* --ignore-pxe-mac: this machine's PXEClient requests are left unanswered (so OVMF goes on to
 * UEFI HTTP boot) */
static uint8_t ignore_mac[6];
static bool ignore_mac_set;

static bool accept_client(void *userdata, const pxe_dhcp_request *req, const char **ret_reason)
{
	if (ignore_mac_set && req->client_class == PXE_CLASS_PXE && !req->ipxe &&
	    memcmp(req->mac, ignore_mac, 6) == 0) {
		*ret_reason = "PXE ignored for this machine (--ignore-pxe-mac)";
		return false;
	}
	return true;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
		return -EINVAL;
	for (int k = 0; k < 6; k++) {
		if (v[k] > 255)
			return -EINVAL;
		mac[k] = (uint8_t)v[k];
	}
	return 0;
}

int main(int argc, char **argv)
{
	pxe_server_options po = {.watch_foreign = true, .event = on_pxe, .accept = accept_client};
	tftp_server_options to = {.event = on_tftp, .timeout_ms = 1000};
	_cleanup_(pxe_server_freep) pxe_server *pxe = NULL;
	_cleanup_(tftp_server_freep) tftp_server *tftp = NULL;
	uint64_t seconds = 300;
	uint8_t probe_mac[6];
	bool probe = false;
	time_t start, probe_at;
	int r;

	po.boot.bios_file = "undionly.kpxe";
	po.boot.uefi_file = "ipxe.efi";
	for (int k = 1; k + 1 < argc; k += 2) {
		const char *o = argv[k], *v = argv[k + 1];

		if (strcmp(o, "--ifname") == 0)
			po.ifname = to.ifname = v;
		else if (strcmp(o, "--addr") == 0 &&
			 inet_pton(AF_INET, v, &po.boot.server_addr) == 1)
			to.addr = po.boot.server_addr;
		else if (strcmp(o, "--tftp-root") == 0)
			to.root = v;
		else if (strcmp(o, "--script-url") == 0)
			po.boot.script_url = v;
		else if (strcmp(o, "--http-url") == 0)
			po.boot.uefi_http_url = v;
		else if (strcmp(o, "--uefi-file") == 0)
			po.boot.uefi_file = v;
		else if (strcmp(o, "--dump") == 0)
			dump_dir = v;
		else if (strcmp(o, "--ignore-pxe-mac") == 0 && parse_mac(v, ignore_mac) == 0)
			ignore_mac_set = true;
		else if (strcmp(o, "--probe-mac") == 0 && parse_mac(v, probe_mac) == 0)
			probe = true;
		else if (strcmp(o, "--seconds") == 0 && parse_uint64(v, 1, 3600, &seconds) == 0)
			;
		else {
			fprintf(stderr, "pxe-serve-test: bad option %s %s\n", o, v);
			return 2;
		}
	}
	po.boot.script_url_mac = true;
	/* the bound address of the TFTP listener must be the LAN's: broadcasts are not TFTP */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	r = pxe_server_new(&po, &pxe);
	if (r < 0) {
		fprintf(stderr, "pxe-serve-test: proxy DHCP: %s\n", strerror(-r));
		return 1;
	}
	r = tftp_server_new(&to, &tftp);
	if (r < 0) {
		fprintf(stderr, "pxe-serve-test: TFTP: %s\n", strerror(-r));
		return 1;
	}
	printf("ready\n");
	start = time(NULL);
	probe_at = start + 1;
	while (!stop && time(NULL) - start < (time_t)seconds) {
		struct pollfd fds[2] = {{pxe_server_fd(pxe), POLLIN, 0},
					{tftp_server_fd(tftp), POLLIN, 0}};

		if (poll(fds, 2, 200) < 0 && errno != EINTR)
			return 1;
		if (probe && time(NULL) >= probe_at) {
			probe = false;
			r = pxe_server_probe(pxe, probe_mac);
			printf("probe sent: %s\n", r < 0 ? strerror(-r) : "ok");
		}
		r = pxe_server_process(pxe);
		if (r < 0)
			fprintf(stderr, "pxe-serve-test: proxy DHCP: %s\n", strerror(-r));
		r = tftp_server_process(tftp);
		if (r < 0)
			fprintf(stderr, "pxe-serve-test: TFTP: %s\n", strerror(-r));
	}
	printf("stopped\n");
	return 0;
}
