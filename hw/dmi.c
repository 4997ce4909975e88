/* SPDX-License-Identifier: MIT */
/* DMI/SMBIOS system information from /sys/class/dmi/id. */
#define _GNU_SOURCE
#include <errno.h>
#include <strings.h>

#include "hw-internal.h"

/* SMBIOS 3.x, 7.4.1 "System Enclosure or Chassis Types". */
static const char *const chassis_names[] = {
    [0x01] = "other",
    [0x03] = "desktop",
    [0x04] = "low-profile-desktop",
    [0x05] = "pizza-box",
    [0x06] = "mini-tower",
    [0x07] = "tower",
    [0x08] = "portable",
    [0x09] = "laptop",
    [0x0a] = "notebook",
    [0x0b] = "hand-held",
    [0x0c] = "docking-station",
    [0x0d] = "all-in-one",
    [0x0e] = "sub-notebook",
    [0x0f] = "space-saving",
    [0x10] = "lunch-box",
    [0x11] = "main-server-chassis",
    [0x12] = "expansion-chassis",
    [0x13] = "sub-chassis",
    [0x14] = "bus-expansion-chassis",
    [0x15] = "peripheral-chassis",
    [0x16] = "raid-chassis",
    [0x17] = "rack-mount-chassis",
    [0x18] = "sealed-case-pc",
    [0x19] = "multi-system-chassis",
    [0x1a] = "compact-pci",
    [0x1b] = "advanced-tca",
    [0x1c] = "blade",
    [0x1d] = "blade-enclosure",
    [0x1e] = "tablet",
    [0x1f] = "convertible",
    [0x20] = "detachable",
    [0x21] = "iot-gateway",
    [0x22] = "embedded-pc",
    [0x23] = "mini-pc",
    [0x24] = "stick-pc",
};

const char *hw_chassis_name(unsigned code)
{
	/* bit 7 is the "chassis lock present" flag, not part of the type */
	code &= 0x7f;
	return code < ELEMENTSOF(chassis_names) ? chassis_names[code] : NULL;
}

/* Vendors and products of hypervisors as they appear in DMI. */
static bool dmi_is_virtual(const hw_system *s)
{
	static const char *const vendors[] = {
	    "QEMU",
	    "VMware",
	    "innotek GmbH",
	    "Xen",
	    "Parallels",
	    "Bochs",
	    "KVM",
	    "oVirt",
	    "Red Hat",
	    "Nutanix",
	    "BHYVE",
	    "Google",
	    "OpenStack Foundation",
	};

	for (size_t i = 0; i < ELEMENTSOF(vendors); i++) {
		size_t n = strlen(vendors[i]);

		if (s->vendor && strncasecmp(s->vendor, vendors[i], n) == 0)
			return true;
		if (s->board_vendor && strncasecmp(s->board_vendor, vendors[i], n) == 0)
			return true;
	}
	if (s->product &&
	    (strstr(s->product, "Virtual Machine") || strstr(s->product, "KVM") ||
	     strstr(s->product, "VirtualBox") || strncmp(s->product, "Standard PC", 11) == 0))
		return true;
	return false;
}

/*
 * Firmware leaves the DMI strings it has no value for blank, or keeps the placeholder of
 * its vendor's template. Both are normal on many boards, so both become null WITHOUT a
 * warning (a warning means a file is broken: unreadable, NUL bytes, too large):
 *   - blank: empty, or nothing but whitespace;
 *   - placeholder: the whole value, ignoring case and surrounding whitespace, is one of
 *     the list in hw_clean_ident() (hw/util.c): "To Be Filled By O.E.M.", "Default
 *     string", "System Product Name", "Not Specified", "None", "0123456789", ...;
 *   - filler: one character repeated, "00000000", "FFFFFFFF", an all-zero UUID.
 * The rule is deliberately narrow (whole-value matches only): a real name that merely
 * contains such words is kept.
 */
static char *dmi_field(hw_ctx *ctx, const char *name)
{
	_cleanup_free_ char *raw = hw_attrf(ctx, HW_READ_EMPTY_OK, "sys/class/dmi/id/%s", name);

	return raw ? hw_clean_ident(raw, strlen(raw)) : NULL;
}

int hw_dmi_detect(hw_ctx *ctx, hw_system *sys)
{
	_cleanup_free_ char *date = NULL;
	uint64_t code;

	if (!hw_exists(ctx, "sys/class/dmi/id")) {
		sys->is_virtual = HW_TRI_UNKNOWN;
		return 0;
	}
	sys->vendor = dmi_field(ctx, "sys_vendor");
	sys->product = dmi_field(ctx, "product_name");
	sys->version = dmi_field(ctx, "product_version");
	sys->family = dmi_field(ctx, "product_family");
	sys->sku = dmi_field(ctx, "product_sku");
	sys->serial = dmi_field(ctx, "product_serial");
	sys->uuid = dmi_field(ctx, "product_uuid");
	sys->board_vendor = dmi_field(ctx, "board_vendor");
	sys->board_name = dmi_field(ctx, "board_name");
	sys->bios_version = dmi_field(ctx, "bios_version");
	sys->bios_release = dmi_field(ctx, "bios_release");
	date = dmi_field(ctx, "bios_date");
	/* "00/00/0000" is a blank date too */
	if (date && strspn(date, "0/-") != strlen(date)) {
		sys->bios_date = hw_date_iso(date);
		if (!sys->bios_date)
			hw_warn(ctx, "sys/class/dmi/id/bios_date",
				"not a date (MM/DD/YYYY): \"%.32s\"", date);
	}
	if (sys->uuid)
		for (char *p = sys->uuid; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
	if (hw_attr_u64(ctx, "sys/class/dmi/id/chassis_type", 10, 0, &code)) {
		const char *n = code <= 0xff ? hw_chassis_name((unsigned)code) : NULL;

		if (n)
			sys->chassis = hw_strdup(n);
	}
	sys->is_virtual = dmi_is_virtual(sys) ? HW_TRI_TRUE : HW_TRI_FALSE;
	return 0;
}

void hw_system_done(hw_system *s)
{
	free(s->vendor);
	free(s->product);
	free(s->version);
	free(s->family);
	free(s->sku);
	free(s->serial);
	free(s->uuid);
	free(s->board_vendor);
	free(s->board_name);
	free(s->bios_version);
	free(s->bios_date);
	free(s->bios_release);
	free(s->chassis);
}
