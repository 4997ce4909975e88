/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of hw/disk.c on small sysfs trees built here, as TAP: the cases a QEMU capture
 * does not show (a USB disk whose USB device has no serial, under a root hub that has
 * one), beside the ones it does (USB serial, NVMe multipath head and hidden path nodes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "hw-internal.h"
#include "tap.h"

static char root[] = "/tmp/test-hw-disk.XXXXXX";

/* mkdir -p of PATH's parent, under the root */
static void mkparents(const char *path)
{
	char *p = hw_asprintf("%s/%s", root, path);

	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			printf("# mkdir %s: %s\n", p, strerror(errno));
		*s = '/';
	}
	free(p);
}

static char *vpath(const char *fmt, va_list ap)
{
	char *rel = NULL;

	if (vasprintf(&rel, fmt, ap) < 0)
		abort();
	mkparents(rel);
	return rel;
}

/* put(CONTENT, PATH_FMT, ...): write a file under the root */
static void _printf_(2, 3) put(const char *content, const char *fmt, ...)
{
	va_list ap;
	char *rel, *p;
	FILE *f;

	va_start(ap, fmt);
	rel = vpath(fmt, ap);
	va_end(ap);
	p = hw_asprintf("%s/%s", root, rel);
	f = fopen(p, "we");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0)
		printf("# cannot write %s\n", p);
	free(p);
	free(rel);
}

/* link_to(TARGET, PATH_FMT, ...): a relative symlink under the root */
static void _printf_(2, 3) link_to(const char *target, const char *fmt, ...)
{
	va_list ap;
	char *rel, *p;

	va_start(ap, fmt);
	rel = vpath(fmt, ap);
	va_end(ap);
	p = hw_asprintf("%s/%s", root, rel);
	if (symlink(target, p) < 0)
		printf("# symlink %s: %s\n", p, strerror(errno));
	free(p);
	free(rel);
}

/* A SCSI disk NAME, LUN 0 of SCSI host HOST below the USB interface directory IFACE. */
static void usb_scsi_disk(const char *iface, const char *name, int host)
{
	char *lun = hw_asprintf("devices/%s/host%d/target%d:0:0/%d:0:0:0", iface, host, host, host);
	char *up = hw_asprintf("../../../%d:0:0:0", host);
	char *blk = hw_asprintf("../%s/block/%s", lun, name);

	put("98304\n", "sys/%s/block/%s/size", lun, name);
	put("0\n", "sys/%s/block/%s/hidden", lun, name);
	put("Extreme Pro     \n", "sys/%s/model", lun);
	link_to(up, "sys/%s/block/%s/device", lun, name);
	link_to(blk, "sys/block/%s", name);
	free(blk);
	free(up);
	free(lun);
}

/* A libata disk NAME at SCSI H:C:0:0 of port PORT (ataPORT) of the AHCI controller at
 * 0000:00:17.0, on link LINK ("link1", "link2.1" behind a port multiplier) whose
 * sata_spd is SPEED. */
static void ata_disk(const char *name, int port, int host, int channel, const char *link,
		     const char *speed)
{
	char *port_dir = hw_asprintf("devices/pci0000:00/0000:00:17.0/ata%d", port);
	char *lun = hw_asprintf("%s/host%d/target%d:%d:0/%d:%d:0:0", port_dir, host, host, channel,
				host, channel);
	char *up = hw_asprintf("../../../%d:%d:0:0", host, channel);
	char *blk = hw_asprintf("../%s/block/%s", lun, name);
	char *cls = hw_asprintf("../../%s/%s/ata_link/%s", port_dir, link, link);

	put("1953525168\n", "sys/%s/block/%s/size", lun, name);
	put("WDC WD10EZEX-08W\n", "sys/%s/model", lun);
	link_to(up, "sys/%s/block/%s/device", lun, name);
	link_to(blk, "sys/block/%s", name);
	put(speed, "sys/%s/%s/ata_link/%s/sata_spd", port_dir, link, link);
	link_to(cls, "sys/class/ata_link/%s", link);
	free(cls);
	free(blk);
	free(up);
	free(lun);
	free(port_dir);
}

static const hw_disk *find(const hw_disk *disks, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(disks[i].name, name) == 0)
			return &disks[i];
	return NULL;
}

int main(void)
{
	const char *xhci = "pci0000:00/0000:00:14.0";
	const char *subsys = "sys/devices/virtual/nvme-subsystem/nvme-subsys0";
	const char *ctrl = "sys/devices/pci0000:00/0000:00:1d.0/0000:3b:00.0/nvme/nvme1";
	hw_ctx *ctx = NULL;
	hw_disk *disks = NULL;
	const hw_disk *d;
	size_t n = 0;
	char *p;

	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}

	/* xHCI root hub: a USB device too, its serial is the controller's PCI address */
	put("1d6b\n", "sys/devices/%s/usb2/idVendor", xhci);
	put("0000:00:14.0\n", "sys/devices/%s/usb2/serial", xhci);
	/* sda: a USB SSD with a serial of its own */
	put("0781\n", "sys/devices/%s/usb2/2-1/idVendor", xhci);
	put("  4C530001230920115452\n", "sys/devices/%s/usb2/2-1/serial", xhci);
	usb_scsi_disk("pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0", "sda", 6);
	/* sdb: a USB device without a serial string */
	put("152d\n", "sys/devices/%s/usb2/2-2/idVendor", xhci);
	usb_scsi_disk("pci0000:00/0000:00:14.0/usb2/2-2/2-2:1.0", "sdb", 7);

	/* nvme0n1: native multipath head of subsystem 0, its one path nvme0c1n1 (hidden)
	 * on controller nvme1 */
	put("Samsung SSD 980 PRO 1TB                 \n", "%s/model", subsys);
	put("S5GXNF0R123456A     \n", "%s/serial", subsys);
	link_to("../../../pci0000:00/0000:00:1d.0/0000:3b:00.0/nvme/nvme1", "%s/nvme1", subsys);
	put("1953525168\n", "%s/nvme0n1/size", subsys);
	put("0\n", "%s/nvme0n1/hidden", subsys);
	link_to("../../nvme-subsys0", "%s/nvme0n1/device", subsys);
	link_to("../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1", "sys/block/nvme0n1");
	put("Samsung SSD 980 PRO 1TB                 \n", "%s/model", ctrl);
	put("S5GXNF0R123456A     \n", "%s/serial", ctrl);
	put("1953525168\n", "%s/nvme0c1n1/size", ctrl);
	put("1\n", "%s/nvme0c1n1/hidden", ctrl);
	link_to("../../nvme1", "%s/nvme0c1n1/device", ctrl);
	link_to("../devices/pci0000:00/0000:00:1d.0/0000:3b:00.0/nvme/nvme1/nvme0c1n1",
		"sys/block/nvme0c1n1");
	/* sdc: a SATA disk on port 1 at 6 Gb/s; sdd: behind a port multiplier on port 2, its
	 * port 1 at 3 Gb/s (the host link at 6); sde: port 3 without a link speed */
	ata_disk("sdc", 1, 0, 0, "link1", "6.0 Gbps\n");
	ata_disk("sdd", 2, 1, 1, "link2.1", "3.0 Gbps\n");
	put("6.0 Gbps\n", "sys/devices/pci0000:00/0000:00:17.0/ata2/link2/ata_link/link2/sata_spd");
	link_to("../../devices/pci0000:00/0000:00:17.0/ata2/link2/ata_link/link2",
		"sys/class/ata_link/link2");
	ata_disk("sde", 3, 2, 0, "link3", "<unknown>\n");
	/* dm-0: still not a disk */
	put("2048\n", "sys/devices/virtual/block/dm-0/size");
	link_to("../devices/virtual/block/dm-0", "sys/block/dm-0");

	ok(hw_ctx_new(root, &ctx) == 0, "context on the constructed tree");
	if (!ctx) {
		printf("1..%d\n", n_tests);
		return 1;
	}
	ok(hw_disk_detect(ctx, &disks, &n) == 0, "hw_disk_detect succeeds");
	ok(n == 6, "six disks: sda, sdb, sdc, sdd, sde, nvme0n1");

	d = find(disks, n, "sda");
	ok(d != NULL, "sda listed");
	is_str(d ? d->transport : NULL, "usb", "sda transport is usb");
	is_str(d ? d->serial : NULL, "4C530001230920115452",
	       "sda serial is the USB device's serial");
	is_str(d ? d->model : NULL, "Extreme Pro", "sda model from the SCSI device");

	d = find(disks, n, "sdb");
	ok(d != NULL, "sdb listed");
	is_str(d ? d->serial : NULL, NULL, "sdb: no USB serial, not the root hub's");

	d = find(disks, n, "nvme0n1");
	ok(d != NULL, "NVMe multipath head nvme0n1 listed");
	is_str(d ? d->transport : NULL, "nvme", "nvme0n1 transport is nvme");
	is_str(d ? d->model : NULL, "Samsung SSD 980 PRO 1TB", "nvme0n1 model from the subsystem");
	is_str(d ? d->serial : NULL, "S5GXNF0R123456A", "nvme0n1 serial from the subsystem");
	is_str(d ? d->pci_address : NULL, "0000:3b:00.0", "nvme0n1 PCI address of its controller");
	ok(d && d->size_bytes == 1953525168LL * 512, "nvme0n1 size");

	d = find(disks, n, "sdc");
	is_str(d ? d->transport : NULL, "sata", "sdc transport is sata");
	is_str(d ? d->sata_speed : NULL, "6.0 Gbps", "sdc: sata_speed of link1");
	d = find(disks, n, "sdd");
	is_str(d ? d->sata_speed : NULL, "3.0 Gbps",
	       "sdd: sata_speed of its port multiplier link (link2.1), not the host link's");
	d = find(disks, n, "sde");
	is_str(d ? d->sata_speed : NULL, NULL, "sde: <unknown> is null");
	d = find(disks, n, "sda");
	is_str(d ? d->sata_speed : NULL, NULL, "sda (USB): no sata_speed");
	d = find(disks, n, "nvme0n1");
	ok(d && !d->health.known, "a captured tree has no disk health");

	ok(find(disks, n, "nvme0c1n1") == NULL, "hidden path node nvme0c1n1 not listed");
	ok(find(disks, n, "dm-0") == NULL, "dm-0 not listed");
	ok(ctx->n_warnings == 0, "no warnings");
	for (size_t i = 0; i < ctx->n_warnings; i++)
		printf("#   warning: %s\n", ctx->warnings[i]);

	for (size_t i = 0; i < n; i++)
		hw_disk_done(&disks[i]);
	free(disks);
	hw_ctx_free(ctx);
	p = hw_asprintf("rm -rf -- '%s'", root);
	if (system(p) != 0)
		printf("# could not remove %s\n", root);
	free(p);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
