/* SPDX-License-Identifier: MIT */
/*
 * Network interfaces from /sys/class/net; on the live system also what ethtool tells
 * (ethtool.c: permanent MAC, link modes, driver and firmware versions, Wake-on-LAN) and,
 * through libnl's route caches, carrier and addresses.
 *
 * link and carrier follow one rule on every root, so that a live run and a capture of
 * the same machine agree:
 *   - link is "up" iff operstate is "up"; "down" for down, lowerlayerdown, notpresent
 *     and dormant; "unknown" otherwise (operstate "unknown", which drivers without
 *     link state such as dummy report, "testing", or no file);
 *   - carrier is null (unknown) while the interface is administratively down (IFF_UP
 *     clear), else the kernel's carrier (netif_carrier_ok()). Sysfs applies this rule
 *     itself: reading `carrier` of a down interface fails with EINVAL, and a capture
 *     has no file. Netlink's IFLA_CARRIER does not: it reports whatever the driver
 *     last set (a down dummy keeps its carrier on), so the live path checks IFF_UP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/socket.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "hw-internal.h"

/* ARPHRD_LOOPBACK from <net/if_arp.h>; the only interface type we leave out. */
#define TYPE_LOOPBACK 772

static char *link_state(const char *operstate)
{
	if (!operstate)
		return hw_strdup("unknown");
	if (strcmp(operstate, "up") == 0)
		return hw_strdup("up");
	if (strcmp(operstate, "down") == 0 || strcmp(operstate, "lowerlayerdown") == 0 ||
	    strcmp(operstate, "notpresent") == 0 || strcmp(operstate, "dormant") == 0)
		return hw_strdup("down");
	return hw_strdup("unknown");
}

static int nic_read(hw_ctx *ctx, const char *name, const char *target, hw_ethtool *eth, hw_nic *n)
{
	char base[128], path[192];
	_cleanup_free_ char *addr = NULL, *oper = NULL, *duplex = NULL;
	int64_t v;

	snprintf(base, sizeof(base), "sys/class/net/%s", name);
	n->name = hw_strdup(name);
	if (!n->name)
		return -ENOMEM;
	n->is_virtual = strstr(target, "/devices/virtual/") != NULL;
	n->pci_address = hw_pci_address_in_path(target);

	if (ctx->live)
		n->mac = hw_ethtool_permanent_mac(eth, name);
	if (!n->mac) {
		snprintf(path, sizeof(path), "%s/address", base);
		addr = hw_attr(ctx, path, HW_READ_WARN_MISSING);
		n->mac = addr ? hw_mac_normalize(addr) : NULL;
		if (addr && !n->mac && strlen(addr) != 17)
			hw_warn(ctx, path, "not an Ethernet MAC address");
	}
	snprintf(path, sizeof(path), "%s/device/driver", base);
	n->driver = hw_link_basename(ctx, path);

	n->speed_mbps = HW_UNKNOWN;
	snprintf(path, sizeof(path), "%s/speed", base);
	/* -1 (or EINVAL) while there is no link or the driver does not know */
	if (hw_attr_i64(ctx, path, HW_READ_QUIET_EINVAL, &v) && v > 0)
		n->speed_mbps = v;

	/* From the same ethtool link settings as speed, so only read when there is a speed:
	 * without one it is EINVAL too (down, or the driver has no settings) or "unknown"
	 * (no link). */
	snprintf(path, sizeof(path), "%s/duplex", base);
	duplex = n->speed_mbps > 0 ? hw_attr(ctx, path, HW_READ_QUIET_EINVAL) : NULL;
	if (duplex && (strcmp(duplex, "full") == 0 || strcmp(duplex, "half") == 0))
		n->duplex = TAKE_PTR(duplex);
	else if (duplex && strcmp(duplex, "unknown") != 0)
		hw_warn(ctx, path, "not full, half or unknown: \"%.32s\"", duplex);

	n->mtu = HW_UNKNOWN;
	snprintf(path, sizeof(path), "%s/mtu", base);
	if (hw_attr_i64(ctx, path, 0, &v) && v > 0)
		n->mtu = v;

	snprintf(path, sizeof(path), "%s/operstate", base);
	oper = hw_attr(ctx, path, 0);
	n->link = link_state(oper);
	/* EINVAL while administratively down: null, as the carrier rule says */
	snprintf(path, sizeof(path), "%s/carrier", base);
	n->carrier = hw_attr_bool(ctx, path, HW_READ_QUIET_EINVAL);

	snprintf(path, sizeof(path), "%s/wireless", base);
	n->wireless = hw_exists(ctx, path);
	if (!n->wireless) {
		snprintf(path, sizeof(path), "%s/phy80211", base);
		_cleanup_free_ char *phy = hw_readlink(ctx, path);
		n->wireless = phy != NULL;
	}
	if (!n->link)
		return -ENOMEM;
	return ctx->live ? hw_ethtool_read(ctx, eth, n) : 0;
}

/* Interfaces carrying a default route, from the kernel's route tables in procfs (root
 * prefixed, so captures keep them). Returns false when neither table can be read. */
static bool default_route_ifaces(hw_ctx *ctx, char ***ret)
{
	_cleanup_free_ char *v4 = NULL, *v6 = NULL;
	char **names = NULL;
	char *save = NULL;

	if (hw_read_file(ctx, "proc/net/route", 1u << 20, &v4, NULL) < 0)
		v4 = NULL;
	if (hw_read_file(ctx, "proc/net/ipv6_route", 1u << 20, &v6, NULL) < 0)
		v6 = NULL;
	if (!v4 && !v6)
		return false;
	names = calloc(1, sizeof(char *));
	/* "Iface Destination Gateway Flags RefCnt Use Metric Mask ...", header first */
	for (char *l = v4 ? strtok_r(v4, "\n", &save) : NULL; names && l;
	     l = strtok_r(NULL, "\n", &save)) {
		char ifname[IFNAMSIZ + 1], dst[9], mask[9];
		unsigned flags;

		if (sscanf(l, "%16s %8s %*s %x %*s %*s %*s %8s", ifname, dst, &flags, mask) == 4 &&
		    !strcmp(dst, "00000000") && !strcmp(mask, "00000000") && (flags & 1) &&
		    !hw_strv_contains(names, ifname))
			hw_strv_push(&names, hw_strdup(ifname));
	}
	/* "dst plen src plen nexthop metric refcnt use flags iface"; lo holds the unreachable
	 * default entries (RTF_REJECT) */
	for (char *l = v6 ? strtok_r(v6, "\n", &save) : NULL; names && l;
	     l = strtok_r(NULL, "\n", &save)) {
		char dst[33], plen[3], ifname[IFNAMSIZ + 1];
		unsigned flags;

		if (sscanf(l, "%32s %2s %*s %*s %*s %*s %*s %*s %x %16s", dst, plen, &flags,
			   ifname) == 4 &&
		    !strcmp(dst, "00000000000000000000000000000000") && !strcmp(plen, "00") &&
		    (flags & 1) && !(flags & 0x200) && strcmp(ifname, "lo") != 0 &&
		    !hw_strv_contains(names, ifname))
			hw_strv_push(&names, hw_strdup(ifname));
	}
	*ret = names;
	return names != NULL;
}

int hw_nic_detect(hw_ctx *ctx, hw_nic **ret, size_t *ret_n)
{
	char **names = NULL;
	hw_nic *nics = NULL;
	size_t n = 0;
	hw_ethtool eth = {.sock = -1};
	int r;

	r = hw_list_dir(ctx, "sys/class/net", &names);
	if (r < 0)
		return r;
	if (ctx->live && (r = hw_ethtool_open(&eth)) < 0)
		hw_warn(ctx, "sys/class/net", "no socket for ethtool: %s", strerror(-r));
	for (char **nm = names; *nm; nm++) {
		_cleanup_free_ char *target = NULL;
		char path[160];
		uint64_t type;
		hw_nic *nn;

		snprintf(path, sizeof(path), "sys/class/net/%s", *nm);
		target = hw_readlink(ctx, path);
		if (!target) {
			hw_warn(ctx, path, "not a symlink into /sys/devices, skipped");
			continue;
		}
		if (!hw_exists(ctx, path)) {
			hw_warn(ctx, path, "dangling symlink to %s, skipped", target);
			continue;
		}
		snprintf(path, sizeof(path), "sys/class/net/%s/type", *nm);
		if (hw_attr_u64(ctx, path, 10, 0, &type) && type == TYPE_LOOPBACK)
			continue;
		nn = reallocarray(nics, n + 1, sizeof(*nics));
		if (!nn) {
			r = -ENOMEM;
			goto fail;
		}
		nics = nn;
		memset(&nics[n], 0, sizeof(nics[n]));
		nics[n].max_speed_mbps = HW_UNKNOWN;
		r = nic_read(ctx, *nm, target, &eth, &nics[n++]);
		if (r < 0)
			goto fail;
	}
	hw_ethtool_close(ctx, &eth);
	hw_strv_free(names);
	names = NULL;
	bool have_routes = default_route_ifaces(ctx, &names);
	for (size_t i = 0; i < n; i++)
		nics[i].default_route = !have_routes				? HW_TRI_UNKNOWN
					: hw_strv_contains(names, nics[i].name) ? HW_TRI_TRUE
										: HW_TRI_FALSE;
	hw_strv_free(names);
	if (ctx->live)
		hw_nic_netlink(ctx, nics, n);
	*ret = nics;
	*ret_n = n;
	return 0;
fail:
	hw_ethtool_close(ctx, &eth);
	hw_strv_free(names);
	for (size_t i = 0; i < n; i++)
		hw_nic_done(&nics[i]);
	free(nics);
	return r;
}

typedef struct addr_walk {
	hw_nic *nics;
	size_t n;
	struct nl_cache *links;
} addr_walk;

static void addr_cb(struct nl_object *obj, void *data)
{
	addr_walk *w = data;
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct nl_addr *local = rtnl_addr_get_local(a);
	char ifname[IFNAMSIZ], buf[INET6_ADDRSTRLEN + 8];

	if (!local || !rtnl_link_i2name(w->links, rtnl_addr_get_ifindex(a), ifname, sizeof(ifname)))
		return;
	for (size_t i = 0; i < w->n; i++) {
		if (strcmp(w->nics[i].name, ifname) != 0 || !w->nics[i].addresses)
			continue;
		/* nl_addr2str appends the prefix length the kernel reported */
		if (nl_addr2str(local, buf, sizeof(buf)))
			hw_strv_push(&w->nics[i].addresses, hw_strdup(buf));
		return;
	}
}

/* Carrier and addresses from the kernel over rtnetlink: what sysfs cannot tell. */
int hw_nic_netlink(hw_ctx *ctx, hw_nic *nics, size_t n)
{
	struct nl_sock *sk;
	struct nl_cache *links = NULL, *addrs = NULL;
	int r;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		hw_warn(ctx, "netlink", "cannot connect: %s", nl_geterror(r));
		nl_socket_free(sk);
		return 0;
	}
	r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
	if (r >= 0)
		r = rtnl_addr_alloc_cache(sk, &addrs);
	if (r < 0) {
		hw_warn(ctx, "netlink", "dump failed: %s", nl_geterror(r));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct rtnl_link *l = rtnl_link_get_by_name(links, nics[i].name);

		nics[i].addresses = calloc(1, sizeof(char *));
		if (!l)
			continue;
		/* the carrier rule at the top of this file */
		if (rtnl_link_get_flags(l) & IFF_UP)
			nics[i].carrier = rtnl_link_get_carrier(l) ? HW_TRI_TRUE : HW_TRI_FALSE;
		else
			nics[i].carrier = HW_TRI_UNKNOWN;
		rtnl_link_put(l);
	}
	addr_walk w = {.nics = nics, .n = n, .links = links};
	nl_cache_foreach(addrs, addr_cb, &w);
out:
	if (addrs)
		nl_cache_free(addrs);
	if (links)
		nl_cache_free(links);
	nl_socket_free(sk);
	return 0;
}

void hw_nic_done(hw_nic *n)
{
	HW_FREE_STRINGS(&n->name, &n->mac, &n->driver, &n->duplex, &n->link, &n->pci_address,
			&n->driver_version, &n->firmware_version);
	hw_strv_free(n->addresses);
	hw_strv_free(n->link_modes);
	hw_strv_free(n->wol_supported);
	hw_strv_free(n->wol_enabled);
}
