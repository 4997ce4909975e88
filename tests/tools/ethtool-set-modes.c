/* SPDX-License-Identifier: MIT */
/*
 * TEST TOOL (tests/31-ethtool.t): give a tun/tap device the supported link modes, speed and
 * duplex a test wants, through ETHTOOL_SLINKSETTINGS: the tun driver keeps the settings it
 * is given and answers ETHTOOL_GLINKSETTINGS with them, so a namespace can hold a virtual
 * NIC that "supports" 2.5GBASE-T or an 800G mode.
 *
 *   ethtool-set-modes IFNAME SPEED BIT...
 *
 * BIT: link-mode bit numbers (ETHTOOL_LINK_MODE_*_BIT), any up to the running kernel's
 * count. Prints the kernel's number of 32-bit words per mask. Needs CAP_NET_ADMIN.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static struct {
	struct ethtool_link_settings s;
	uint32_t masks[3 * 127];
} req;

static int call(int sock, const char *ifname)
{
	struct ifreq ifr = {0};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&req;
	return ioctl(sock, SIOCETHTOOL, &ifr);
}

int main(int argc, char **argv)
{
	int sock, n_words;
	char *end;

	if (argc < 3) {
		fprintf(stderr, "usage: ethtool-set-modes IFNAME SPEED BIT...\n");
		return 2;
	}
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	req.s.cmd = ETHTOOL_GLINKSETTINGS;
	if (sock < 0 || call(sock, argv[1]) < 0 || req.s.link_mode_masks_nwords >= 0) {
		fprintf(stderr, "ethtool-set-modes: %s: GLINKSETTINGS: %m\n", argv[1]);
		return 1;
	}
	n_words = -req.s.link_mode_masks_nwords;
	memset(&req, 0, sizeof(req));
	req.s.cmd = ETHTOOL_GLINKSETTINGS;
	req.s.link_mode_masks_nwords = (int8_t)n_words;
	if (call(sock, argv[1]) < 0) {
		fprintf(stderr, "ethtool-set-modes: %s: GLINKSETTINGS: %m\n", argv[1]);
		return 1;
	}
	req.s.speed = (uint32_t)strtoul(argv[2], &end, 10);
	req.s.duplex = DUPLEX_FULL;
	memset(req.masks, 0, sizeof(req.masks));
	for (int i = 3; i < argc; i++) {
		unsigned long bit = strtoul(argv[i], &end, 10);

		if (*end || bit >= (unsigned long)n_words * 32) {
			fprintf(stderr, "ethtool-set-modes: bit %s: not below %d\n", argv[i],
				n_words * 32);
			return 2;
		}
		req.masks[bit / 32] |= UINT32_C(1) << (bit % 32);
	}
	req.s.cmd = ETHTOOL_SLINKSETTINGS;
	if (call(sock, argv[1]) < 0) {
		fprintf(stderr, "ethtool-set-modes: %s: SLINKSETTINGS: %m\n", argv[1]);
		return 1;
	}
	printf("%d\n", n_words);
	close(sock);
	return 0;
}
