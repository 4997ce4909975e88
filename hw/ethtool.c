/* SPDX-License-Identifier: MIT */
/*
 * A NIC as ethtool sees it, over the SIOCETHTOOL ioctl (live system only): the permanent
 * MAC, the supported link modes, driver and firmware versions, Wake-on-LAN.
 *
 * What each field is when the kernel does not tell:
 *   - link_modes and max_speed_mbps are null when the driver has no link settings (dummy:
 *     EOPNOTSUPP); a driver that has them but lists no mode (veth, bridge) gives [] and a
 *     null max_speed_mbps;
 *   - driver_version and firmware_version are null when empty or "N/A" (bridge);
 *   - wol_supported and wol_enabled are null when the driver has no Wake-on-LAN
 *     (EOPNOTSUPP: every virtual NIC) and without CAP_NET_ADMIN, which ETHTOOL_GWOL needs
 *     whatever the driver (the kernel checks before asking it): that gives one warning for
 *     the inventory, not one per interface.
 * EOPNOTSUPP and ENODEV (an interface gone meanwhile) are quiet; other errors are warnings
 * naming the interface and the command.
 *
 * Each NIC costs five ioctls: GPERMADDR, GLINKSETTINGS twice (the size handshake), GDRVINFO,
 * GWOL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "hw-internal.h"

typedef struct link_mode {
	const char *name;
	int32_t speed_mbps;
} link_mode;

static const link_mode link_modes[] = {
#include "ethtool-link-modes.inc"
};

/* The most 32-bit words of a link-mode mask: link_mode_masks_nwords is an __s8. */
#define MASK_WORDS_MAX 127

const char *hw_ethtool_link_mode_name(unsigned bit, int64_t *ret_speed_mbps)
{
	if (bit >= ELEMENTSOF(link_modes) || !link_modes[bit].name)
		return NULL;
	if (ret_speed_mbps)
		*ret_speed_mbps = link_modes[bit].speed_mbps;
	return link_modes[bit].name;
}

int hw_ethtool_link_modes(const uint32_t *mask, size_t n_words, char ***ret_modes,
			  int64_t *ret_max_speed_mbps)
{
	char **modes = calloc(1, sizeof(char *));
	int64_t max = HW_UNKNOWN;

	if (!modes)
		return -ENOMEM;
	for (size_t bit = 0; bit < n_words * 32; bit++) {
		const char *name;
		int64_t speed;

		if (!(mask[bit / 32] & (UINT32_C(1) << (bit % 32))))
			continue;
		/* a port, pause or FEC bit, or a mode newer than the table */
		name = hw_ethtool_link_mode_name(bit, &speed);
		if (!name)
			continue;
		if (hw_strv_push(&modes, hw_strdup(name)) < 0) {
			hw_strv_free(modes);
			return -ENOMEM;
		}
		if (speed > max)
			max = speed;
	}
	*ret_modes = modes;
	*ret_max_speed_mbps = max;
	return 0;
}

int hw_ethtool_wol_names(uint32_t bits, char ***ret)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} wol_modes[] = {
	    {WAKE_PHY, "phy"},
	    {WAKE_UCAST, "unicast"},
	    {WAKE_MCAST, "multicast"},
	    {WAKE_BCAST, "broadcast"},
	    {WAKE_ARP, "arp"},
	    {WAKE_MAGIC, "magic"},
	    {WAKE_MAGICSECURE, "magicsecure"},
	    {WAKE_FILTER, "filter"},
	};
	char **names = calloc(1, sizeof(char *));

	if (!names)
		return -ENOMEM;
	/* bits newer than WAKE_FILTER have no name yet: left out */
	for (size_t i = 0; i < ELEMENTSOF(wol_modes); i++)
		if ((bits & wol_modes[i].bit) &&
		    hw_strv_push(&names, hw_strdup(wol_modes[i].name)) < 0) {
			hw_strv_free(names);
			return -ENOMEM;
		}
	*ret = names;
	return 0;
}

char *hw_ethtool_string(const char *field, size_t size)
{
	char *s = hw_strip_dup(field, strnlen(field, size));

	if (s && strcmp(s, "N/A") == 0) {
		free(s);
		return NULL;
	}
	for (char *p = s; p && *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	return s;
}

static int ethtool_ioctl(int sock, const char *ifname, void *data)
{
	struct ifreq ifr = {0};
	size_t len = strnlen(ifname, sizeof(ifr.ifr_name));

	if (len >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	memcpy(ifr.ifr_name, ifname, len);
	ifr.ifr_data = data;
	return ioctl(sock, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

int hw_ethtool_open(hw_ethtool *e)
{
	*e = (hw_ethtool){.sock = -1};
	/* as ethtool does: any datagram socket will do, AF_UNIX where there is no IPv4 */
	e->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (e->sock < 0)
		e->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (e->sock < 0)
		return -errno;
	e->call = ethtool_ioctl;
	return 0;
}

void hw_ethtool_close(hw_ctx *ctx, hw_ethtool *e)
{
	if (e->n_wol_denied > 0)
		hw_warn(ctx, "sys/class/net",
			"ETHTOOL_GWOL not permitted (it needs CAP_NET_ADMIN) on %zu interface%s "
			"(%s%s): wol_supported and wol_enabled unknown",
			e->n_wol_denied, e->n_wol_denied > 1 ? "s" : "",
			e->wol_denied_first ? e->wol_denied_first : "?",
			e->n_wol_denied > 1 ? ", ..." : "");
	free(e->wol_denied_first);
	if (e->sock >= 0)
		close(e->sock);
	*e = (hw_ethtool){.sock = -1};
}

/* The address burnt into the NIC, which survives MAC changes made by bonding or users. */
char *hw_ethtool_permanent_mac(hw_ethtool *e, const char *ifname)
{
	struct {
		struct ethtool_perm_addr h;
		unsigned char data[32];
	} req = {.h = {.cmd = ETHTOOL_GPERMADDR, .size = 32}};
	char mac[18];

	if (!e->call || e->call(e->sock, ifname, &req) < 0 || req.h.size != 6)
		return NULL;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", req.h.data[0], req.h.data[1],
		 req.h.data[2], req.h.data[3], req.h.data[4], req.h.data[5]);
	return hw_mac_normalize(mac);
}

/* A command that failed: quiet when the driver does not have it or the interface is gone. */
static int failed(hw_ctx *ctx, const hw_nic *n, const char *cmd, int r)
{
	char path[64];

	if (r == -ENOMEM)
		return r;
	if (r == -EOPNOTSUPP || r == -ENODEV)
		return 0;
	snprintf(path, sizeof(path), "sys/class/net/%s", n->name);
	hw_warn(ctx, path, "%s: %s", cmd, strerror(-r));
	return 0;
}

typedef struct link_request {
	struct ethtool_link_settings s;
	/* supported, advertising, lp_advertising */
	uint32_t masks[3 * MASK_WORDS_MAX];
} link_request;

/* ETHTOOL_GLINKSETTINGS in its two steps: asked with no room for the masks, the kernel
 * answers with the number of 32-bit words each takes, negated; asked again with that
 * number, it fills them. Returns the number, or -EPROTO for a kernel that does not answer
 * so (before Linux 4.6), -errno for the driver's refusal. */
static int get_link_settings(hw_ethtool *e, const char *ifname, link_request *req)
{
	int r, n_words;

	memset(req, 0, sizeof(*req));
	req->s.cmd = ETHTOOL_GLINKSETTINGS;
	r = e->call(e->sock, ifname, req);
	if (r < 0)
		return r;
	n_words = -(int)req->s.link_mode_masks_nwords;
	if (req->s.cmd != ETHTOOL_GLINKSETTINGS || n_words <= 0 || n_words > MASK_WORDS_MAX)
		return -EPROTO;
	memset(req, 0, sizeof(*req));
	req->s.cmd = ETHTOOL_GLINKSETTINGS;
	req->s.link_mode_masks_nwords = (int8_t)n_words;
	r = e->call(e->sock, ifname, req);
	if (r < 0)
		return r;
	if (req->s.cmd != ETHTOOL_GLINKSETTINGS || req->s.link_mode_masks_nwords != n_words)
		return -EPROTO;
	return n_words;
}

static int read_link_modes(hw_ctx *ctx, hw_ethtool *e, hw_nic *n)
{
	link_request req;
	struct ethtool_cmd legacy = {.cmd = ETHTOOL_GSET};
	int r = get_link_settings(e, n->name, &req);

	if (r > 0) {
		e->have_glinksettings = true;
		return hw_ethtool_link_modes(req.masks, (size_t)r, &n->link_modes,
					     &n->max_speed_mbps);
	}
	/* The deprecated ETHTOOL_GSET, whose 32 bits of supported modes are the first 32 of
	 * the link-mode bits, where the kernel has no ETHTOOL_GLINKSETTINGS. A driver without
	 * link settings refuses both alike: once the kernel has answered GLINKSETTINGS for an
	 * interface, EOPNOTSUPP is the driver's and GSET is not tried. */
	if (r != -EPROTO && (r != -EOPNOTSUPP || e->have_glinksettings))
		return failed(ctx, n, "ETHTOOL_GLINKSETTINGS", r);
	r = e->call(e->sock, n->name, &legacy);
	if (r < 0)
		return failed(ctx, n, "ETHTOOL_GSET", r);
	return hw_ethtool_link_modes(&legacy.supported, 1, &n->link_modes, &n->max_speed_mbps);
}

static int read_drvinfo(hw_ctx *ctx, hw_ethtool *e, hw_nic *n)
{
	struct ethtool_drvinfo info = {.cmd = ETHTOOL_GDRVINFO};
	int r = e->call(e->sock, n->name, &info);

	if (r < 0)
		return failed(ctx, n, "ETHTOOL_GDRVINFO", r);
	n->driver_version = hw_ethtool_string(info.version, sizeof(info.version));
	n->firmware_version = hw_ethtool_string(info.fw_version, sizeof(info.fw_version));
	return 0;
}

static int read_wol(hw_ctx *ctx, hw_ethtool *e, hw_nic *n)
{
	struct ethtool_wolinfo wol = {.cmd = ETHTOOL_GWOL};
	int r = e->call(e->sock, n->name, &wol);

	/* the SecureOn password is not ours to keep */
	explicit_bzero(wol.sopass, sizeof(wol.sopass));
	if (r == -EPERM || r == -EACCES) {
		if (e->n_wol_denied++ == 0)
			e->wol_denied_first = hw_strdup(n->name);
		return 0;
	}
	if (r < 0)
		return failed(ctx, n, "ETHTOOL_GWOL", r);
	r = hw_ethtool_wol_names(wol.supported, &n->wol_supported);
	if (r >= 0)
		r = hw_ethtool_wol_names(wol.wolopts, &n->wol_enabled);
	return r;
}

int hw_ethtool_read(hw_ctx *ctx, hw_ethtool *e, hw_nic *n)
{
	int r;

	if (!e->call)
		return 0;
	r = read_link_modes(ctx, e, n);
	if (r >= 0)
		r = read_drvinfo(ctx, e, n);
	if (r >= 0)
		r = read_wol(ctx, e, n);
	return r;
}
