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

	cmdline = hw_attr(ctx, "proc/cmdline", 0);
	if (cmdline)
		inv->boot.pxe_mac = bootif_mac(cmdline);
	return 0;
}
