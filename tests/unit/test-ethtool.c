/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of hw/ethtool.c, as TAP: the link-mode table and the Wake-on-LAN names, and
 * hw_ethtool_read() against a stand-in kernel (the ioctl hook) that answers as kernels and
 * drivers do: the GLINKSETTINGS handshake, a kernel without it (GSET), drivers without
 * link settings or Wake-on-LAN, GWOL without CAP_NET_ADMIN, a failing driver.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/ethtool.h>
#include <stdio.h>
#include <string.h>

#include "hw-internal.h"
#include "tap.h"

static void mode(unsigned bit, const char *want, int64_t want_speed)
{
	int64_t speed = -2;
	const char *name = hw_ethtool_link_mode_name(bit, &speed);
	char what[96];

	snprintf(what, sizeof(what), "link-mode bit %u is %s", bit, want ? want : "unnamed");
	is_str(name, want, what);
	if (want)
		ok(speed == want_speed, "  and its speed");
}

static char *join(char **v)
{
	static char buf[1024];
	size_t l = 0;

	if (!v)
		return NULL;
	buf[0] = '\0';
	for (; *v; v++)
		l += (size_t)snprintf(buf + l, sizeof(buf) - l, "%s%s", l ? "," : "", *v);
	return buf;
}

static void table(void)
{
	static const unsigned not_speeds[] = {6, 7, 8, 9, 10, 11, 13, 14, 16, 49, 50, 51, 74};
	unsigned named = 0, bad = 0;

	mode(ETHTOOL_LINK_MODE_10baseT_Half_BIT, "10baseT/Half", 10);
	mode(ETHTOOL_LINK_MODE_100baseT_Full_BIT, "100baseT/Full", 100);
	mode(ETHTOOL_LINK_MODE_1000baseT_Full_BIT, "1000baseT/Full", 1000);
	mode(ETHTOOL_LINK_MODE_2500baseT_Full_BIT, "2500baseT/Full", 2500);
	mode(ETHTOOL_LINK_MODE_2500baseX_Full_BIT, "2500baseX/Full", 2500);
	mode(ETHTOOL_LINK_MODE_5000baseT_Full_BIT, "5000baseT/Full", 5000);
	mode(ETHTOOL_LINK_MODE_10000baseT_Full_BIT, "10000baseT/Full", 10000);
	mode(ETHTOOL_LINK_MODE_1000baseKX_Full_BIT, "1000baseKX/Full", 1000);
	mode(ETHTOOL_LINK_MODE_10000baseKR_Full_BIT, "10000baseKR/Full", 10000);
	mode(ETHTOOL_LINK_MODE_10000baseSR_Full_BIT, "10000baseSR/Full", 10000);
	mode(ETHTOOL_LINK_MODE_10000baseLR_Full_BIT, "10000baseLR/Full", 10000);
	mode(ETHTOOL_LINK_MODE_10000baseR_FEC_BIT, "10000baseR_FEC", 10000);
	mode(ETHTOOL_LINK_MODE_25000baseCR_Full_BIT, "25000baseCR/Full", 25000);
	mode(ETHTOOL_LINK_MODE_25000baseSR_Full_BIT, "25000baseSR/Full", 25000);
	mode(ETHTOOL_LINK_MODE_40000baseLR4_Full_BIT, "40000baseLR4/Full", 40000);
	mode(ETHTOOL_LINK_MODE_50000baseCR2_Full_BIT, "50000baseCR2/Full", 50000);
	mode(ETHTOOL_LINK_MODE_100000baseLR4_ER4_Full_BIT, "100000baseLR4_ER4/Full", 100000);
	mode(ETHTOOL_LINK_MODE_100000baseCR4_Full_BIT, "100000baseCR4/Full", 100000);
	mode(ETHTOOL_LINK_MODE_10baseT1L_Full_BIT, "10baseT1L/Full", 10);
	/* beyond Debian 12's header: upstream's numbers */
	mode(93, "800000baseCR8/Full", 800000);
	mode(101, "10baseT1S_P2MP/Half", 10);
	mode(106, "200000baseDR_2/Full", 200000);
	mode(120, "800000baseVR4/Full", 800000);
	mode(ETHTOOL_LINK_MODE_Autoneg_BIT, NULL, 0);
	mode(ETHTOOL_LINK_MODE_TP_BIT, NULL, 0);
	mode(ETHTOOL_LINK_MODE_Pause_BIT, NULL, 0);
	mode(ETHTOOL_LINK_MODE_FEC_RS_BIT, NULL, 0);
	mode(ETHTOOL_LINK_MODE_FEC_LLRS_BIT, NULL, 0);
	mode(121, NULL, 0);
	mode(100000, NULL, 0);

	/* Every bit of the build machine's header: a speed mode is named, its name starts with
	 * its speed and "base"; the others are not. A newer header with modes the table lacks
	 * fails here. */
	for (unsigned bit = 0; bit < __ETHTOOL_LINK_MODE_MASK_NBITS; bit++) {
		int64_t speed = 0;
		const char *name = hw_ethtool_link_mode_name(bit, &speed);
		bool special = false;
		char prefix[32];

		for (size_t i = 0; i < ELEMENTSOF(not_speeds); i++)
			special |= not_speeds[i] == bit;
		snprintf(prefix, sizeof(prefix), "%lldbase", (long long)speed);
		if (special ? name != NULL : !name || strncmp(name, prefix, strlen(prefix)) != 0) {
			printf("# bit %u: %s, %lld Mb/s\n", bit, name ? name : "(none)",
			       (long long)speed);
			bad++;
		}
		named += name != NULL;
	}
	ok(bad == 0, "every bit of the header's enum: speed modes named after their speed");
	printf("# the header has %d link-mode bits, %u of them speed modes\n",
	       (int)__ETHTOOL_LINK_MODE_MASK_NBITS, named);
}

static void masks(void)
{
	uint32_t m[4] = {0};
	char **modes = NULL;
	int64_t max = 0;

	/* bit order, as ethtool lists them; ports, pause, FEC and unknown bits left out */
	m[0] = 1u << 5 | 1u << 6 | 1u << 7 | 1u << 12 | 1u << 13;
	m[1] = 1u << (47 - 32) | 1u << (49 - 32);
	m[2] = 1u << (93 - 64);
	m[3] = 1u << (121 - 96) | 1u << 31;
	ok(hw_ethtool_link_modes(m, 4, &modes, &max) == 0, "a four-word mask");
	is_str(join(modes), "1000baseT/Full,10000baseT/Full,2500baseT/Full,800000baseCR8/Full",
	       "  its speed modes in bit order, the rest left out");
	ok(max == 800000, "  the fastest is 800000 Mb/s");
	hw_strv_free(modes);

	ok(hw_ethtool_link_modes(m, 1, &modes, &max) == 0 && max == 10000,
	   "the same mask read as one word (GSET's): up to 10000 Mb/s");
	is_str(join(modes), "1000baseT/Full,10000baseT/Full", "  its modes");
	hw_strv_free(modes);

	m[0] = 1u << 6 | 1u << 7;
	ok(hw_ethtool_link_modes(m, 1, &modes, &max) == 0, "only Autoneg and TP");
	ok(modes && !modes[0] && max == HW_UNKNOWN, "  no mode, no fastest speed");
	hw_strv_free(modes);
}

static void wol(void)
{
	char **v = NULL;

	ok(hw_ethtool_wol_names(0, &v) == 0 && v && !v[0], "no Wake-on-LAN bit: []");
	hw_strv_free(v);
	ok(hw_ethtool_wol_names(WAKE_MAGIC | WAKE_PHY, &v) == 0, "WAKE_PHY | WAKE_MAGIC");
	is_str(join(v), "phy,magic", "  phy, magic");
	hw_strv_free(v);
	ok(hw_ethtool_wol_names(0x1ff, &v) == 0, "every bit and one unknown");
	is_str(join(v), "phy,unicast,multicast,broadcast,arp,magic,magicsecure,filter",
	       "  the eight names in bit order, the unknown bit left out");
	hw_strv_free(v);
}

static void string(const char *in, size_t size, const char *want, const char *what)
{
	char *s = hw_ethtool_string(in, size);

	is_str(s, want, what);
	free(s);
}

/* The stand-in kernel: which answers to give. */
static struct {
	int glinksettings; /* 0: the handshake; else -errno, or 1: no handshake (nwords kept) */
	int nwords;	   /* the kernel's words per mask */
	int nwords_second; /* what the second answer says (normally nwords) */
	uint32_t masks[4];
	int gset;
	int drvinfo;
	const char *version, *fw_version;
	int gwol;
	uint32_t wol_supported, wolopts;
	unsigned calls[5]; /* GLINKSETTINGS, GSET, GDRVINFO, GWOL, other */
} k;

static void kernel_reset(void)
{
	memset(&k, 0, sizeof(k));
	k.nwords = k.nwords_second = 4;
	k.version = "1.0";
	k.fw_version = "";
}

static int fake_call(int sock, const char *ifname, void *data)
{
	uint32_t cmd = *(uint32_t *)data;

	switch (cmd) {
	case ETHTOOL_GLINKSETTINGS: {
		struct ethtool_link_settings *s = data;
		uint32_t *m = (uint32_t *)(s + 1);

		k.calls[0]++;
		if (k.glinksettings < 0)
			return k.glinksettings;
		if (k.glinksettings == 1)
			return 0;
		if (s->link_mode_masks_nwords != k.nwords) {
			s->link_mode_masks_nwords = (int8_t)-k.nwords;
			return 0;
		}
		s->link_mode_masks_nwords = (int8_t)k.nwords_second;
		memcpy(m, k.masks, sizeof(k.masks));
		return 0;
	}
	case ETHTOOL_GSET:
		k.calls[1]++;
		if (k.gset < 0)
			return k.gset;
		((struct ethtool_cmd *)data)->supported = k.masks[0];
		return 0;
	case ETHTOOL_GDRVINFO: {
		struct ethtool_drvinfo *d = data;

		k.calls[2]++;
		if (k.drvinfo < 0)
			return k.drvinfo;
		snprintf(d->version, sizeof(d->version), "%s", k.version);
		snprintf(d->fw_version, sizeof(d->fw_version), "%s", k.fw_version);
		return 0;
	}
	case ETHTOOL_GWOL: {
		struct ethtool_wolinfo *w = data;

		k.calls[3]++;
		if (k.gwol < 0)
			return k.gwol;
		w->supported = k.wol_supported;
		w->wolopts = k.wolopts;
		memset(w->sopass, 'x', sizeof(w->sopass));
		return 0;
	}
	}
	k.calls[4]++;
	return -EOPNOTSUPP;
}

static hw_nic nic(const char *name)
{
	return (hw_nic){.name = strdup(name), .max_speed_mbps = HW_UNKNOWN};
}

static void reads(void)
{
	hw_ctx *ctx = NULL;
	hw_ethtool e = {.sock = -1, .call = fake_call};
	hw_nic n;

	if (hw_ctx_new("/", &ctx) < 0)
		return;

	kernel_reset();
	k.masks[0] = 1u << 5 | 1u << 6 | 1u << 12;
	k.masks[1] = 1u << (47 - 32);
	k.masks[3] = 1u << (115 - 96);
	k.fw_version = "0x80000d1e, 1.2839.0";
	k.wol_supported = WAKE_PHY | WAKE_MAGIC | WAKE_MAGICSECURE;
	k.wolopts = WAKE_MAGIC;
	n = nic("eth0");
	ok(hw_ethtool_read(ctx, &e, &n) == 0, "a NIC with everything");
	is_str(join(n.link_modes),
	       "1000baseT/Full,10000baseT/Full,2500baseT/Full,800000baseCR4/Full",
	       "  link modes through the handshake (4 words, as Linux 6.18)");
	ok(n.max_speed_mbps == 800000, "  max_speed_mbps");
	is_str(n.driver_version, "1.0", "  driver_version");
	is_str(n.firmware_version, "0x80000d1e, 1.2839.0", "  firmware_version");
	is_str(join(n.wol_supported), "phy,magic,magicsecure", "  wol_supported");
	is_str(join(n.wol_enabled), "magic", "  wol_enabled");
	ok(k.calls[0] == 2 && k.calls[1] == 0 && k.calls[2] == 1 && k.calls[3] == 1,
	   "  four ioctls: GLINKSETTINGS twice, GDRVINFO, GWOL");
	ok(e.have_glinksettings, "  the kernel has GLINKSETTINGS");
	hw_nic_done(&n);

	/* a driver without link settings or Wake-on-LAN (dummy), once the kernel has shown it
	 * knows GLINKSETTINGS: null, quietly, GSET not tried */
	kernel_reset();
	k.glinksettings = -EOPNOTSUPP;
	k.gset = -EOPNOTSUPP;
	k.gwol = -EOPNOTSUPP;
	n = nic("dum0");
	ok(hw_ethtool_read(ctx, &e, &n) == 0, "a driver without link settings nor Wake-on-LAN");
	ok(!n.link_modes && n.max_speed_mbps == HW_UNKNOWN, "  link_modes and max_speed null");
	ok(!n.wol_supported && !n.wol_enabled, "  wol_supported and wol_enabled null");
	ok(k.calls[0] == 1 && k.calls[1] == 0, "  GSET not tried");
	hw_nic_done(&n);

	/* a kernel before GLINKSETTINGS (4.6): the deprecated GSET */
	e.have_glinksettings = false;
	kernel_reset();
	k.glinksettings = -EOPNOTSUPP;
	k.masks[0] = 1u << 3 | 1u << 5 | 1u << 13;
	n = nic("eth1");
	ok(hw_ethtool_read(ctx, &e, &n) == 0, "a kernel without GLINKSETTINGS");
	is_str(join(n.link_modes), "100baseT/Full,1000baseT/Full", "  link modes from GSET");
	ok(n.max_speed_mbps == 1000 && k.calls[1] == 1, "  max_speed_mbps 1000, one GSET");
	hw_nic_done(&n);

	/* answers that are not the handshake: GSET as ethtool does */
	kernel_reset();
	k.glinksettings = 1;
	k.masks[0] = 1u << 5;
	n = nic("eth2");
	ok(hw_ethtool_read(ctx, &e, &n) == 0 && k.calls[1] == 1, "no handshake: GSET");
	is_str(join(n.link_modes), "1000baseT/Full", "  its modes");
	hw_nic_done(&n);
	kernel_reset();
	k.nwords_second = 3;
	k.masks[0] = 1u << 12;
	n = nic("eth3");
	ok(hw_ethtool_read(ctx, &e, &n) == 0 && k.calls[0] == 2 && k.calls[1] == 1,
	   "a second answer of another size: GSET");
	is_str(join(n.link_modes), "10000baseT/Full", "  its modes");
	hw_nic_done(&n);

	ok(ctx->n_warnings == 0, "none of these is a warning");

	/* without CAP_NET_ADMIN: GWOL is EPERM for every interface, one warning in all */
	kernel_reset();
	k.gwol = -EPERM;
	for (int i = 0; i < 3; i++) {
		n = nic(i == 0 ? "enp1s0" : "ve0");
		ok(hw_ethtool_read(ctx, &e, &n) == 0 && !n.wol_supported && !n.wol_enabled &&
		       n.driver_version && n.link_modes,
		   "GWOL not permitted: Wake-on-LAN null, the rest known");
		hw_nic_done(&n);
	}
	ok(ctx->n_warnings == 0, "  no warning before the end");
	/* a driver that fails: one warning naming interface and command */
	kernel_reset();
	k.drvinfo = -EIO;
	n = nic("eth9");
	ok(hw_ethtool_read(ctx, &e, &n) == 0 && !n.driver_version && n.link_modes,
	   "GDRVINFO failing with EIO: versions null");
	hw_nic_done(&n);
	hw_ethtool_close(ctx, &e);
	ok(ctx->n_warnings == 2, "two warnings in all");
	if (ctx->n_warnings == 2) {
		is_str(ctx->warnings[0],
		       "/sys/class/net/eth9: ETHTOOL_GDRVINFO: Input/output error",
		       "  the failing driver's");
		is_str(ctx->warnings[1],
		       "/sys/class/net: ETHTOOL_GWOL not permitted (it needs CAP_NET_ADMIN) on 3 "
		       "interfaces (enp1s0, ...): wol_supported and wol_enabled unknown",
		       "  one for the three interfaces without Wake-on-LAN");
	}
	ok(e.call == NULL && e.sock == -1, "closed");
	n = nic("eth0");
	ok(hw_ethtool_read(ctx, &e, &n) == 0 && !n.link_modes && !n.driver_version,
	   "a closed hw_ethtool asks nothing");
	hw_nic_done(&n);
	hw_ctx_free(ctx);
}

int main(void)
{
	table();
	masks();
	wol();

	string("1.0", 32, "1.0", "a version");
	string("", 32, NULL, "an empty version is null");
	string("N/A", 32, NULL, "\"N/A\" (bridge) is null");
	string("  7.10 \n", 32, "7.10", "trimmed");
	string("abcd", 4, "abcd", "a field filled to its end without a NUL");
	string("a\001\377b", 32, "a??b", "non-printable bytes as ?");

	reads();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
