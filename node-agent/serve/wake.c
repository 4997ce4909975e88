/* SPDX-License-Identifier: MIT */
/*
 * Wake-on-LAN: the magic packet (6 bytes 0xff, then the MAC 16 times; no SecureOn password)
 * of each MAC worth waking, sent as a UDP broadcast on serve's LAN interface.
 *
 * UDP port 9 (discard) only, as wakeonlan and most tools send by default: the NIC matches
 * the pattern anywhere in the frame whatever the port, so the port only matters to the
 * hosts that are awake, and discard makes none of them answer; port 7 (echo, which older
 * tools used) would make any host running an echo service send the packet back. The frame
 * goes to the interface's broadcast address and to 255.255.255.255 (SO_BINDTODEVICE keeps
 * the limited broadcast on the LAN), both an Ethernet broadcast: switches flood it to the
 * sleeping NIC, whose link has no address and no ARP entry any more.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "serve/serve.h"

int serve_wol_packet(const char *mac, uint8_t ret[static SERVE_WOL_PACKET_SIZE])
{
	char norm[18];
	uint8_t b[6];
	int r = serve_mac_normalize(mac, norm);

	if (r < 0)
		return r;
	for (size_t i = 0; i < 6; i++) {
		char hex[3] = {norm[i * 3], norm[i * 3 + 1], '\0'};
		b[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	memset(ret, 0xff, 6);
	for (size_t i = 0; i < 16; i++)
		memcpy(ret + 6 + i * 6, b, 6);
	return 0;
}

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}

/* Whether the list KEY of NIC names "magic": 1, 0, -1 when the inventory does not say. */
static int names_magic(json_object *nic, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(nic, key, &v) || !json_object_is_type(v, json_type_array))
		return -1;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (json_object_is_type(e, json_type_string) &&
		    !strcmp(json_object_get_string(e), "magic"))
			return 1;
	}
	return 0;
}

static bool mac_is_unicast(const char *mac)
{
	return !(strtoul(mac, NULL, 16) & 0x1) && strcmp(mac, "00:00:00:00:00:00");
}

static int add_target(serve_wake_target **t, size_t *n, const char *mac, const char *nic,
		      int supported, int enabled)
{
	serve_wake_target *nt;
	char norm[18];

	if (!mac || serve_mac_normalize(mac, norm) < 0 || !mac_is_unicast(norm))
		return 0;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*t)[i].mac, norm))
			return 0;
	nt = reallocarray(*t, *n + 1, sizeof(**t));
	if (!nt)
		return -ENOMEM;
	*t = nt;
	nt[*n] = (serve_wake_target){.wol_supported = supported, .wol_enabled = enabled};
	memcpy(nt[*n].mac, norm, sizeof(norm));
	if (nic && !(nt[*n].nic = strdup(nic)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

int serve_wake_targets(json_object *inventory, char *const *macs, serve_wake_target **ret,
		       size_t *ret_n)
{
	serve_wake_target *t = NULL;
	json_object *nics = NULL;
	size_t n = 0;
	int r = 0;

	if (inventory && json_object_object_get_ex(inventory, "nics", &nics) &&
	    json_object_is_type(nics, json_type_array))
		/* pass 0: the NICs the inventory does not rule out (wol_supported without
		 * magic); pass 1, when that leaves none: every physical NIC, as the inventory
		 * may be wrong and a magic packet costs nothing */
		for (int pass = 0; pass < 2 && r >= 0 && n == 0; pass++)
			for (size_t i = 0; r >= 0 && i < json_object_array_length(nics); i++) {
				json_object *nic = json_object_array_get_idx(nics, i), *v;
				int supported = names_magic(nic, "wol_supported");

				if (json_object_object_get_ex(nic, "virtual", &v) &&
				    json_object_get_boolean(v))
					continue;
				if (pass == 0 && supported == 0)
					continue;
				r = add_target(&t, &n, json_str(nic, "mac"), json_str(nic, "name"),
					       supported, names_magic(nic, "wol_enabled"));
			}
	/* no inventory, or no physical NIC in it: the MACs serve knows the machine by */
	for (size_t i = 0; r >= 0 && n == 0 && macs && macs[i]; i++)
		r = add_target(&t, &n, macs[i], NULL, -1, -1);
	if (r >= 0 && n == 0)
		r = -ENOENT;
	if (r < 0) {
		serve_wake_targets_free(t, n);
		return r;
	}
	*ret = t;
	*ret_n = n;
	return 0;
}

void serve_wake_targets_free(serve_wake_target *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		free(t[i].nic);
	free(t);
}

int serve_wake_warning(const serve_wake_target *t, char **ret)
{
	const char *nic = t->nic ? t->nic : "IF";
	int r = 0;

	*ret = NULL;
	if (t->wol_supported == 0)
		r = asprintf(ret,
			     "%s (%s) does not list magic packets in wol_supported: it may not "
			     "wake",
			     t->nic ? t->nic : "this NIC", t->mac);
	else if (t->wol_enabled == 0)
		r = asprintf(ret,
			     "WoL is off on this NIC (%s, %s): enable it in the BIOS/with "
			     "ethtool -s %s wol g",
			     t->nic ? t->nic : "?", t->mac, nic);
	if (r < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The IPv4 broadcast address of IFACE's first address, from its netmask (an address added
 * without "brd +" has no IFA_BROADCAST): 0, -ENOENT (none, or a /31 or /32). */
static int broadcast_address(const char *iface, struct in_addr *ret)
{
	struct ifaddrs *all;
	int r = -ENOENT;

	if (getifaddrs(&all) < 0)
		return -errno;
	for (struct ifaddrs *i = all; i && r == -ENOENT; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && i->ifa_netmask &&
		    (i->ifa_flags & IFF_BROADCAST) && !strcmp(i->ifa_name, iface)) {
			uint32_t a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
			uint32_t m = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);

			if (~m <= 1) /* /31, /32: no broadcast address */
				break;
			ret->s_addr = htonl(a | ~m);
			r = 0;
		}
	freeifaddrs(all);
	return r;
}

int serve_wol_send(const char *iface, const serve_wake_target *t, size_t n,
		   char ***ret_destinations)
{
	_cleanup_close_ int fd = -1;
	struct in_addr dest[2];
	size_t n_dest = 0;
	char **names = NULL;
	int one = 1, r;

	if (!iface || strlen(iface) >= IFNAMSIZ)
		return -EINVAL;
	if (broadcast_address(iface, &dest[0]) == 0)
		n_dest++;
	dest[n_dest++].s_addr = htonl(INADDR_BROADCAST);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* SO_BINDTODEVICE needs CAP_NET_RAW (the unit grants it, for DHCP) */
	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface, (socklen_t)strlen(iface) + 1) < 0)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		uint8_t pkt[SERVE_WOL_PACKET_SIZE];

		r = serve_wol_packet(t[i].mac, pkt);
		if (r < 0)
			return r;
		for (size_t j = 0; j < n_dest; j++) {
			struct sockaddr_in sa = {.sin_family = AF_INET,
						 .sin_port = htons(SERVE_WOL_PORT),
						 .sin_addr = dest[j]};
			ssize_t k =
			    sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&sa, sizeof(sa));
			if (k < 0)
				return -errno;
			if ((size_t)k != sizeof(pkt))
				return -EIO;
		}
	}
	for (size_t j = 0; ret_destinations && j < n_dest; j++) {
		char buf[INET_ADDRSTRLEN];

		if (!inet_ntop(AF_INET, &dest[j], buf, sizeof(buf)) || strv_add(&names, buf) < 0) {
			strv_free(names);
			return -ENOMEM;
		}
	}
	if (ret_destinations)
		*ret_destinations = names;
	return 0;
}
