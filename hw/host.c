/* SPDX-License-Identifier: MIT */
/* Host identity and boot: hostname, machine-id, UEFI or BIOS, the PXE MAC (BOOTIF=). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>

#include "hw-internal.h"

/* BOOTIF=01-aa-bb-cc-dd-ee-ff (pxelinux/iPXE: ARP hardware type 1, then the MAC). */
static char *bootif_mac(const char *cmdline)
{
	const char *p = cmdline;

	while ((p = strstr(p, "BOOTIF="))) {
		if (p == cmdline || isspace((unsigned char)p[-1])) {
			char mac[18];
			size_t n;

			p += strlen("BOOTIF=");
			n = strcspn(p, " \t\n");
			if (n == 20 && p[0] == '0' && p[1] == '1' && p[2] == '-')
				p += 3, n -= 3;
			if (n != 17)
				return NULL;
			memcpy(mac, p, 17);
			mac[17] = '\0';
			return hw_mac_normalize(mac);
		}
		p++;
	}
	return NULL;
}

static bool is_machine_id(const char *s)
{
	if (!s || strlen(s) != 32)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return false;
	return true;
}

/*
 * The firmware's word size (fw_platform_size; a 64-bit kernel also runs on 32-bit UEFI,
 * through the EFI stub's mixed mode). Missing in captures that predate it: unknown, no
 * warning. 32 is worth a warning although nothing is broken: such firmware (Atom tablets
 * and mini PCs) starts only 32-bit EFI programs, so neither the USB image's BOOTX64.EFI
 * nor UEFI PXE's x86-64 ipxe.efi can boot this machine again.
 */
static void uefi_bitness(hw_ctx *ctx, hw_boot *boot)
{
	static const char path[] = "sys/firmware/efi/fw_platform_size";
	uint64_t v;

	if (!hw_attr_u64(ctx, path, 10, 0, &v))
		return;
	if (v != 32 && v != 64) {
		hw_warn(ctx, path, "not 32 or 64: %llu", (unsigned long long)v);
		return;
	}
	boot->uefi_bitness = (int64_t)v;
	if (v == 32)
		hw_warn(ctx, path,
			"32-bit UEFI: cannot start the 64-bit EFI programs of the USB image and "
			"of UEFI PXE (BOOTX64.EFI, ipxe.efi); boot this machine in BIOS (CSM) "
			"mode or through a 32-bit EFI loader");
}

int hw_host_detect(hw_ctx *ctx, hw_inventory *inv)
{
	_cleanup_free_ char *cmdline = NULL;

	inv->hostname = hw_attr(ctx, "proc/sys/kernel/hostname", 0);
	if (!inv->hostname)
		inv->hostname = hw_attr(ctx, "etc/hostname", 0);

	inv->machine_id = hw_attr(ctx, "etc/machine-id", 0);
	if (inv->machine_id && !is_machine_id(inv->machine_id)) {
		hw_warn(ctx, "etc/machine-id", "not 32 lower-case hex digits, ignored");
		free(inv->machine_id);
		inv->machine_id = NULL;
	}

	inv->boot.mode = hw_strdup(hw_exists(ctx, "sys/firmware/efi") ? "uefi" : "bios");
	if (!inv->boot.mode)
		return -ENOMEM;
	inv->boot.uefi_bitness = HW_UNKNOWN;
	if (strcmp(inv->boot.mode, "uefi") == 0)
		uefi_bitness(ctx, &inv->boot);

	cmdline = hw_attr(ctx, "proc/cmdline", 0);
	if (cmdline)
		inv->boot.pxe_mac = bootif_mac(cmdline);
	return 0;
}
