/* SPDX-License-Identifier: MIT */
/*
 * PCIe links of GPUs and NVMe disks, from the kernel's link attributes of the device and of
 * every PCI device on its sysfs path to the root complex (its bridges: switch ports, the
 * root port): current_link_speed, current_link_width, max_link_speed, max_link_width.
 *
 * A device's data crosses each of those links, so what it gets is the slowest speed and
 * the narrowest width among them (path_*), and what it could get is the lowest of their
 * maximums. below_max compares the two; see hw_pcie_link_read().
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "hw-internal.h"

/* No PCI hierarchy is this deep (each switch adds two levels). */
#define PCIE_MAX_DEPTH 32

typedef struct pcie_attrs {
	unsigned speed; /* tenths of GT/s, 0 unknown */
	unsigned max_speed;
	int64_t width; /* lanes, 0 unknown */
	int64_t max_width;
} pcie_attrs;

/*
 * "8.0 GT/s PCIe" (since Linux 5.x), "8 GT/s" and "2.5 GT/s" (before): tenths of GT/s. 0 for
 * the kernel's "Unknown" (or "Unknown speed"): a root-complex integrated device, which has
 * no link, or a link the kernel cannot name. -EINVAL for anything else.
 */
int hw_pcie_parse_speed(const char *s, unsigned *ret)
{
	unsigned whole = 0, tenths = 0;
	size_t n = 0;

	if (strncmp(s, "Unknown", 7) == 0) {
		*ret = 0;
		return 0;
	}
	while (isdigit((unsigned char)*s) && n++ < 3)
		whole = whole * 10 + (unsigned)(*s++ - '0');
	if (n == 0 || n > 3)
		return -EINVAL;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		tenths = (unsigned)(*s++ - '0');
	}
	if (strcmp(s, " GT/s") != 0 && strcmp(s, " GT/s PCIe") != 0)
		return -EINVAL;
	*ret = whole * 10 + tenths;
	return 0;
}

static unsigned read_speed(hw_ctx *ctx, const char *addr, const char *attr)
{
	_cleanup_free_ char *path = hw_asprintf("sys/bus/pci/devices/%s/%s", addr, attr);
	_cleanup_free_ char *s = path ? hw_attr(ctx, path, 0) : NULL;
	unsigned v = 0;

	if (s && hw_pcie_parse_speed(s, &v) < 0)
		hw_warn(ctx, path, "not a link speed: \"%.32s\"", s);
	return v;
}

static int64_t read_width(hw_ctx *ctx, const char *addr, const char *attr)
{
	_cleanup_free_ char *path = hw_asprintf("sys/bus/pci/devices/%s/%s", addr, attr);
	uint64_t v;

	/* 0: no link (root-complex integrated); more than x32 the specification has not */
	if (!path || !hw_attr_u64(ctx, path, 10, 0, &v) || v > 32)
		return 0;
	return (int64_t)v;
}

static void read_link(hw_ctx *ctx, const char *addr, pcie_attrs *l)
{
	l->speed = read_speed(ctx, addr, "current_link_speed");
	l->width = read_width(ctx, addr, "current_link_width");
	l->max_speed = read_speed(ctx, addr, "max_link_speed");
	l->max_width = read_width(ctx, addr, "max_link_width");
}

static char *speed_string(unsigned tenths)
{
	return tenths ? hw_asprintf("%u.%u GT/s", tenths / 10, tenths % 10) : NULL;
}

/* The PCI addresses on the device's sysfs path, the root port first, the device last:
 * "../../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0". 0 when the link is unreadable. */
static size_t path_addresses(hw_ctx *ctx, const char *addr, char (*ret)[13])
{
	_cleanup_free_ char *path = hw_asprintf("sys/bus/pci/devices/%s", addr);
	_cleanup_free_ char *target = path ? hw_readlink(ctx, path) : NULL;
	size_t n = 0;

	for (const char *p = target; p && *p;) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (hw_is_pci_address(p, len) && n < PCIE_MAX_DEPTH) {
			memcpy(ret[n], p, 12);
			ret[n++][12] = '\0';
		}
		p = e ? e + 1 : NULL;
	}
	return n;
}

/*
 * The device's own link, and along its path: path_speed and path_width are the lowest
 * current speed and width among the device's link and its bridges' (bridges without link
 * attributes, such as conventional PCI ones, do not count); limited_by is the nearest
 * bridge whose link sets path_width below the device's own width, else the nearest that
 * sets path_speed below its own speed, NULL when neither is below the device's own link.
 * below_max is true when path_speed or path_width is below the path's capability: the
 * lowest max_link_speed and max_link_width of the device and its bridges (an x16 card in
 * an x4 slot runs at x4 and is not below it; one trained to x8 in an x16 slot is).
 * Unknown (known false) when the device tells no speed or width: no link attributes,
 * "Unknown", width 0.
 */
int hw_pcie_link_read(hw_ctx *ctx, const char *addr, hw_pcie_link *ret)
{
	char path[PCIE_MAX_DEPTH][13];
	const char *width_by = NULL, *speed_by = NULL;
	unsigned path_speed, cap_speed;
	int64_t path_width, cap_width;
	size_t n;
	pcie_attrs own;

	hw_pcie_link_done(ret);
	if (!addr)
		return 0;
	read_link(ctx, addr, &own);
	if (own.speed == 0 || own.width == 0)
		return 0;
	path_speed = own.speed;
	path_width = own.width;
	cap_speed = own.max_speed;
	cap_width = own.max_width;
	n = path_addresses(ctx, addr, path);
	/* nearest first; the last address is the device itself */
	for (size_t i = n > 0 ? n - 1 : 0; i-- > 0;) {
		pcie_attrs up;

		read_link(ctx, path[i], &up);
		if (up.speed == 0 || up.width == 0)
			continue;
		if (up.width < path_width) {
			path_width = up.width;
			width_by = path[i];
		}
		if (up.speed < path_speed) {
			path_speed = up.speed;
			speed_by = path[i];
		}
		if (up.max_speed && (cap_speed == 0 || up.max_speed < cap_speed))
			cap_speed = up.max_speed;
		if (up.max_width && (cap_width == 0 || up.max_width < cap_width))
			cap_width = up.max_width;
	}

	ret->known = true;
	ret->speed = speed_string(own.speed);
	ret->width = own.width;
	ret->max_speed = speed_string(own.max_speed);
	ret->max_width = own.max_width ? own.max_width : HW_UNKNOWN;
	ret->path_speed = speed_string(path_speed);
	ret->path_width = path_width;
	ret->limited_by = hw_strdup(width_by ? width_by : speed_by);
	if (own.max_speed && own.max_width)
		ret->below_max =
		    path_speed < cap_speed || path_width < cap_width ? HW_TRI_TRUE : HW_TRI_FALSE;
	if (!ret->speed || !ret->path_speed || (own.max_speed && !ret->max_speed) ||
	    ((width_by || speed_by) && !ret->limited_by)) {
		hw_pcie_link_done(ret);
		return -ENOMEM;
	}
	return 0;
}
