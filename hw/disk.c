/* SPDX-License-Identifier: MIT */
/*
 * Disks: /sys/block for what the kernel knows, libblkid on DIR/dev/NAME for what is on
 * them. The signature list is the safety input of disk preparation, so it is gathered the
 * way wipefs does (every magic libblkid recognises, ambiguous ones included), and an
 * unreadable device gives "unknown", never "blank".
 */
#define _GNU_SOURCE
#include <blkid.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

#include "hw-internal.h"

typedef struct blkid_struct_probe *blkid_probe_t;

static void probe_freep(blkid_probe *pr)
{
	if (*pr)
		blkid_free_probe(*pr);
}

static char *transport_from_path(const char *name, const char *target)
{
	if (strncmp(name, "nvme", 4) == 0 || strstr(target, "/nvme"))
		return hw_strdup("nvme");
	if (strncmp(name, "mmcblk", 6) == 0 || strstr(target, "/mmc_host/"))
		return hw_strdup("mmc");
	if (strstr(target, "/usb"))
		return hw_strdup("usb");
	if (strstr(target, "/virtio"))
		return hw_strdup("virtio");
	if (strstr(target, "/ata"))
		return hw_strdup("sata");
	if (strstr(target, "/vbd-"))
		return hw_strdup("xen");
	if (strncmp(name, "loop", 4) == 0)
		return hw_strdup("loop");
	return hw_strdup("scsi");
}

/* A SCSI VPD page as raw bytes: 4-byte header, then the payload. */
static int read_vpd(hw_ctx *ctx, const char *path, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = hw_read_file(ctx, path, 8192, &buf, &len);
	if (r < 0) {
		if (r != -ENOENT)
			hw_warn_errno(ctx, path, r);
		return r;
	}
	if (len < 4) {
		hw_warn(ctx, path, "truncated VPD page (%zu bytes)", len);
		free(buf);
		return -EBADMSG;
	}
	size_t page_len = ((size_t)(unsigned char)buf[2] << 8) | (unsigned char)buf[3];
	if (4 + page_len > len) {
		hw_warn(ctx, path, "VPD page length %zu exceeds the %zu bytes read", page_len, len);
		page_len = len - 4;
	}
	*ret = buf;
	*ret_len = 4 + page_len;
	return 0;
}

/* Unit Serial Number page (0x80): the serial as ASCII after the header. */
static char *serial_from_vpd80(hw_ctx *ctx, const char *path)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (read_vpd(ctx, path, &buf, &len) < 0)
		return NULL;
	if ((unsigned char)buf[1] != 0x80) {
		hw_warn(ctx, path, "not VPD page 0x80");
		return NULL;
	}
	return hw_clean_ident(buf + 4, strnlen(buf + 4, len - 4));
}

/* An ATA string of IDENTIFY DEVICE: two characters per 16-bit word, high byte first. */
static char *ata_string(const char *identify, size_t offset, size_t n)
{
	char v[41];

	if (n >= sizeof(v) || n % 2)
		return NULL;
	for (size_t i = 0; i < n; i += 2) {
		v[i] = identify[offset + i + 1];
		v[i + 1] = identify[offset + i];
	}
	v[n] = '\0';
	return hw_clean_ident(v, strnlen(v, n));
}

/*
 * ATA Information page (0x89): libata fills it with the drive's IDENTIFY DEVICE data
 * (from byte 60). The model there (words 27-46) is the full 40-character name, the
 * firmware revision (words 23-26) the full 8 characters; the SCSI INQUIRY model in
 * device/model is cut to 16 characters, the revision in device/rev to the last 4.
 */
static char *model_from_vpd89(hw_ctx *ctx, const char *path, char **ret_firmware)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (read_vpd(ctx, path, &buf, &len) < 0)
		return NULL;
	if ((unsigned char)buf[1] != 0x89 || len < 60 + 94) {
		hw_warn(ctx, path, "not a complete VPD page 0x89");
		return NULL;
	}
	*ret_firmware = ata_string(buf + 60, 46, 8);
	return ata_string(buf + 60, 54, 40);
}

/* lsblk spells SCSI NAA identifiers as 0x..., NVMe EUI-64/NGUID as eui.... */
static char *wwn_from_wwid(const char *wwid)
{
	if (!wwid)
		return NULL;
	if (strncmp(wwid, "naa.", 4) == 0 && wwid[4])
		return hw_asprintf("0x%s", wwid + 4);
	if (strncmp(wwid, "eui.", 4) == 0 && wwid[4]) {
		char *s = hw_strdup(wwid);
		for (char *p = s; p && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		return s;
	}
	return NULL; /* t10.* and nvme.* are vendor/model/serial strings, not world-wide names */
}

/*
 * USB mass storage: the serial is the USB device's own (udev's ID_SERIAL_SHORT), not VPD
 * page 0x80: usb-storage never asks for VPD pages, and a bridge that answers them (UAS) may
 * give its own serial. It is the `serial` of the nearest USB device above the disk in
 * sysfs, the first ancestor with idVendor (the USB interface, SCSI host, target and LUN in
 * between have none). The walk stops there: higher up are hubs and the root hub, whose
 * serial is the host controller's PCI address. No USB serial: VPD page 0x80 as for SCSI.
 */
static char *serial_from_usb_device(hw_ctx *ctx, const char *target)
{
	_cleanup_free_ char *dir = NULL;

	/* sys/block/NAME -> ../devices/...; anything else is not a kernel layout */
	if (strncmp(target, "../devices/", 11) != 0 || strstr(target, "/../") ||
	    strstr(target, "/./"))
		return NULL;
	dir = hw_asprintf("sys/%s", target + 3);
	if (!dir)
		return NULL;
	for (unsigned depth = 0; depth < 64; depth++) {
		_cleanup_free_ char *id_vendor = NULL, *serial_path = NULL, *serial = NULL;
		char *slash = strrchr(dir, '/');

		if (!slash)
			return NULL;
		*slash = '\0';
		if (strcmp(dir, "sys/devices") == 0)
			return NULL;
		id_vendor = hw_asprintf("%s/idVendor", dir);
		if (!id_vendor)
			return NULL;
		if (!hw_exists(ctx, id_vendor))
			continue;
		serial_path = hw_asprintf("%s/serial", dir);
		if (!serial_path)
			return NULL;
		serial = hw_attr(ctx, serial_path, 0);
		return serial ? hw_clean_ident(serial, strlen(serial)) : NULL;
	}
	return NULL;
}

/*
 * A native NVMe multipath head (its device is the nvme-subsystem) has no PCI path of its
 * own: take the lowest-numbered controller of the subsystem that has one. The subsystem
 * directory links its controllers as nvme<N>; nvme<N>n<M> there are head disks.
 */
static char *pci_address_of_nvme_subsystem(hw_ctx *ctx, const char *subsys)
{
	char **names = NULL;
	char *addr = NULL;

	if (hw_list_dir(ctx, subsys, &names) < 0)
		return NULL;
	for (char **nm = names; *nm && !addr; nm++) {
		_cleanup_free_ char *link = NULL, *ctrl = NULL;

		if (strncmp(*nm, "nvme", 4) != 0 || !(*nm)[4] ||
		    strspn(*nm + 4, "0123456789") != strlen(*nm + 4))
			continue;
		link = hw_asprintf("%s/%s", subsys, *nm);
		ctrl = link ? hw_readlink(ctx, link) : NULL;
		if (ctrl)
			addr = hw_pci_address_in_path(ctrl);
	}
	hw_strv_free(names);
	return addr;
}

static int fs_push(hw_disk *d, const char *device, blkid_probe pr)
{
	const char *type = NULL, *label = NULL, *uuid = NULL;
	hw_filesystem *nf;

	if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0 || !type)
		return 0;
	blkid_probe_lookup_value(pr, "LABEL", &label, NULL);
	blkid_probe_lookup_value(pr, "UUID", &uuid, NULL);
	nf = reallocarray(d->filesystems, d->n_filesystems + 1, sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	d->filesystems = nf;
	nf = &d->filesystems[d->n_filesystems++];
	nf->device = hw_strdup(device);
	nf->type = hw_strdup(type);
	nf->label = label && *label ? hw_strdup(label) : NULL;
	nf->uuid = uuid && *uuid ? hw_strdup(uuid) : NULL;
	return 0;
}

/* Every signature on the whole device, like `wipefs --no-act`. */
static int probe_signatures(int fd, hw_disk *d)
{
	_cleanup_(probe_freep) blkid_probe pr = blkid_new_probe();

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
		return -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC | BLKID_SUBLKS_TYPE |
						  BLKID_SUBLKS_BADCSUM);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	d->signatures = calloc(1, sizeof(char *));
	if (!d->signatures)
		return -ENOMEM;
	for (unsigned i = 0; i < 64 && blkid_do_probe(pr) == 0; i++) {
		const char *type = NULL;

		if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0 &&
		    blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL) < 0)
			continue;
		if (type && !hw_strv_contains(d->signatures, type) &&
		    hw_strv_push(&d->signatures, hw_strdup(type)) < 0)
			return -ENOMEM;
		/* a dry-run wipe steps the probe back so the same chain looks further
		 * (GPT, then its protective MBR), as wipefs --no-act does; nothing is written */
		blkid_do_wipe(pr, 1);
	}
	return 0;
}

static char *partition_name(const char *disk, int partno)
{
	size_t n = strlen(disk);

	/* nvme0n1 -> nvme0n1p1, mmcblk0 -> mmcblk0p1, sda -> sda1 */
	if (n > 0 && isdigit((unsigned char)disk[n - 1]))
		return hw_asprintf("%sp%d", disk, partno);
	return hw_asprintf("%s%d", disk, partno);
}

static int probe_filesystems(int fd, hw_disk *d)
{
	_cleanup_(probe_freep) blkid_probe pr = blkid_new_probe();
	blkid_partlist ls;
	int r;

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
		return -EIO;
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	ls = blkid_probe_get_partitions(pr);
	d->filesystems = calloc(1, sizeof(*d->filesystems));
	if (!d->filesystems)
		return -ENOMEM;
	if (!ls || blkid_partlist_numof_partitions(ls) <= 0) {
		blkid_parttable tab = ls ? blkid_partlist_get_table(ls) : NULL;

		if (tab && blkid_parttable_get_type(tab))
			d->partition_table = hw_strdup(blkid_parttable_get_type(tab));
		/* no partitions: a filesystem may sit on the whole disk */
		_cleanup_(probe_freep) blkid_probe whole = blkid_new_probe();
		if (!whole)
			return -ENOMEM;
		if (blkid_probe_set_device(whole, fd, 0, 0) < 0)
			return -EIO;
		blkid_probe_enable_superblocks(whole, 1);
		blkid_probe_set_superblocks_flags(whole, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID |
							     BLKID_SUBLKS_TYPE);
		if (blkid_do_safeprobe(whole) == 0)
			return fs_push(d, d->name, whole);
		return 0;
	}
	blkid_parttable tab = blkid_partlist_get_table(ls);
	if (tab && blkid_parttable_get_type(tab))
		d->partition_table = hw_strdup(blkid_parttable_get_type(tab));

	int n = blkid_partlist_numof_partitions(ls);
	for (int i = 0; i < n && i < 256; i++) {
		blkid_partition par = blkid_partlist_get_partition(ls, i);
		_cleanup_free_ char *pname = NULL;
		blkid_loff_t start, size;

		if (!par)
			continue;
		start = blkid_partition_get_start(par);
		size = blkid_partition_get_size(par);
		if (start < 0 || size <= 0)
			continue;
		_cleanup_(probe_freep) blkid_probe pp = blkid_new_probe();
		if (!pp)
			return -ENOMEM;
		if (blkid_probe_set_device(pp, fd, start * 512, size * 512) < 0)
			continue;
		blkid_probe_enable_superblocks(pp, 1);
		blkid_probe_set_superblocks_flags(pp, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID |
							  BLKID_SUBLKS_TYPE);
		if (blkid_do_safeprobe(pp) != 0)
			continue;
		pname = partition_name(d->name, blkid_partition_get_partno(par));
		if (!pname)
			return -ENOMEM;
		r = fs_push(d, pname, pp);
		if (r < 0)
			return r;
	}
	return 0;
}

static void disk_probe_contents(hw_ctx *ctx, hw_disk *d)
{
	_cleanup_close_ int fd = -1;
	char path[128];
	int r;

	d->has_signatures = HW_TRI_UNKNOWN;
	snprintf(path, sizeof(path), "dev/%s", d->name);
	fd = openat(ctx->root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		/* a captured tree normally has no device contents: unknown, not a problem */
		if (errno != ENOENT || ctx->live)
			hw_warn(ctx, path, "cannot probe: %s", strerror(errno));
		return;
	}
	r = probe_signatures(fd, d);
	if (r < 0) {
		hw_warn(ctx, path, "signature probe failed: %s", strerror(-r));
		d->signatures = hw_strv_free(d->signatures);
		return;
	}
	r = probe_filesystems(fd, d);
	if (r < 0)
		hw_warn(ctx, path, "partition probe failed: %s", strerror(-r));
	d->has_signatures = d->signatures[0] || d->partition_table ? HW_TRI_TRUE : HW_TRI_FALSE;
}

/*
 * The negotiated speed of the SATA link a libata disk hangs off: sata_spd of
 * /sys/class/ata_link/linkN (port N, the "ataN" in the disk's path), or linkN.C behind a
 * port multiplier, whose port C libata makes the SCSI channel (H:C:T:L). The kernel writes
 * "1.5 Gbps", "3.0 Gbps", "6.0 Gbps" or "<unknown>" (no link, PATA).
 */
static char *sata_speed(hw_ctx *ctx, const char *target)
{
	_cleanup_free_ char *speed = NULL;
	unsigned port = 0, host, channel, id, lun;
	const char *block = strstr(target, "/block/");
	char link[64], path[128];
	bool found = false;
	int n;

	/* the last "/ataN/" component: the port */
	for (const char *p = strstr(target, "/ata"); p; p = strstr(p + 1, "/ata")) {
		unsigned v;

		n = 0;
		if (sscanf(p, "/ata%u/%n", &v, &n) == 1 && n > 0) {
			port = v;
			found = true;
		}
	}
	if (!found || !block)
		return NULL;
	while (block > target && block[-1] != '/')
		block--;
	if (sscanf(block, "%u:%u:%u:%u/", &host, &channel, &id, &lun) != 4)
		return NULL;
	snprintf(link, sizeof(link), "link%u.%u", port, channel);
	snprintf(path, sizeof(path), "sys/class/ata_link/%s", link);
	if (!hw_exists(ctx, path))
		snprintf(link, sizeof(link), "link%u", port);
	snprintf(path, sizeof(path), "sys/class/ata_link/%s/sata_spd", link);
	speed = hw_attr(ctx, path, 0);
	if (!speed || speed[0] == '<')
		return NULL;
	n = 0;
	if (!isdigit((unsigned char)speed[0]) || sscanf(speed, "%*u.%*u Gbps%n", &n) != 0 ||
	    n == 0 || speed[n]) {
		hw_warn(ctx, path, "not a SATA link speed: %s", speed);
		return NULL;
	}
	return TAKE_PTR(speed);
}

static int disk_read(hw_ctx *ctx, const char *name, const char *target, hw_disk *d)
{
	char base[128], path[192];
	uint64_t sectors, block;
	bool is_nvme, is_virtio;

	snprintf(base, sizeof(base), "sys/block/%s", name);
	d->name = hw_strdup(name);
	d->transport = transport_from_path(name, target);
	d->pci_address = hw_pci_address_in_path(target);
	if (!d->name || !d->transport)
		return -ENOMEM;
	is_nvme = strcmp(d->transport, "nvme") == 0;
	is_virtio = strcmp(d->transport, "virtio") == 0;

	d->size_bytes = HW_UNKNOWN;
	snprintf(path, sizeof(path), "%s/size", base);
	/* the block layer always counts 512-byte sectors here */
	if (hw_attr_u64(ctx, path, 10, HW_READ_WARN_MISSING, &sectors) &&
	    sectors <= (uint64_t)INT64_MAX / 512)
		d->size_bytes = (int64_t)(sectors * 512);
	snprintf(path, sizeof(path), "%s/queue/rotational", base);
	d->rotational = hw_attr_bool(ctx, path, 0);
	snprintf(path, sizeof(path), "%s/removable", base);
	d->removable = hw_attr_bool(ctx, path, 0);
	d->logical_block_size = d->physical_block_size = HW_UNKNOWN;
	snprintf(path, sizeof(path), "%s/queue/logical_block_size", base);
	if (hw_attr_u64(ctx, path, 10, 0, &block) && block > 0 && block <= INT32_MAX)
		d->logical_block_size = (int64_t)block;
	snprintf(path, sizeof(path), "%s/queue/physical_block_size", base);
	if (hw_attr_u64(ctx, path, 10, 0, &block) && block > 0 && block <= INT32_MAX)
		d->physical_block_size = (int64_t)block;

	if (is_nvme) {
		_cleanup_free_ char *model = NULL, *serial = NULL, *wwid = NULL, *fw = NULL;

		snprintf(path, sizeof(path), "%s/device/model", base);
		model = hw_attr(ctx, path, 0);
		d->model = model ? hw_clean_ident(model, strlen(model)) : NULL;
		snprintf(path, sizeof(path), "%s/device/serial", base);
		serial = hw_attr(ctx, path, 0);
		d->serial = serial ? hw_clean_ident(serial, strlen(serial)) : NULL;
		snprintf(path, sizeof(path), "%s/device/firmware_rev", base);
		fw = hw_attr(ctx, path, 0);
		d->firmware_rev = fw ? hw_clean_ident(fw, strlen(fw)) : NULL;
		snprintf(path, sizeof(path), "%s/wwid", base);
		wwid = hw_attr(ctx, path, HW_READ_QUIET_EINVAL);
		d->wwn = wwn_from_wwid(wwid);
		if (!d->pci_address && strstr(target, "/devices/virtual/nvme-subsystem/")) {
			snprintf(path, sizeof(path), "%s/device", base);
			d->pci_address = pci_address_of_nvme_subsystem(ctx, path);
		}
	} else if (is_virtio) {
		_cleanup_free_ char *serial = NULL;

		snprintf(path, sizeof(path), "%s/serial", base);
		serial = hw_attr(ctx, path, 0);
		d->serial = serial ? hw_clean_ident(serial, strlen(serial)) : NULL;
	} else if (strcmp(d->transport, "loop") != 0) {
		_cleanup_free_ char *model = NULL, *wwid = NULL, *rev = NULL;

		snprintf(path, sizeof(path), "%s/device/vpd_pg89", base);
		if (hw_exists(ctx, path))
			d->model = model_from_vpd89(ctx, path, &d->firmware_rev);
		if (!d->model) {
			snprintf(path, sizeof(path), "%s/device/model", base);
			model = hw_attr(ctx, path, 0);
			d->model = model ? hw_clean_ident(model, strlen(model)) : NULL;
		}
		/* the SCSI INQUIRY revision (of a USB disk, often the bridge's); fillers such
		 * as "0000" and libata's "n/a" are no value. An MMC card's `rev` is its
		 * EXT_CSD revision, not firmware. */
		if (!d->firmware_rev && strcmp(d->transport, "mmc") != 0) {
			snprintf(path, sizeof(path), "%s/device/rev", base);
			rev = hw_attr(ctx, path, 0);
			d->firmware_rev = rev ? hw_clean_ident(rev, strlen(rev)) : NULL;
		}
		if (strcmp(d->transport, "usb") == 0)
			d->serial = serial_from_usb_device(ctx, target);
		if (!d->serial) {
			snprintf(path, sizeof(path), "%s/device/vpd_pg80", base);
			d->serial = serial_from_vpd80(ctx, path);
		}
		snprintf(path, sizeof(path), "%s/device/wwid", base);
		wwid = hw_attr(ctx, path, HW_READ_QUIET_EINVAL);
		d->wwn = wwn_from_wwid(wwid);
		if (strcmp(d->transport, "sata") == 0)
			d->sata_speed = sata_speed(ctx, target);
	}
	disk_probe_contents(ctx, d);
	return 0;
}

/* Physical disks only: virtual block devices (dm, md, zram, ram, nbd) have no `device`;
 * loop devices count when they back a file; optical drives (SCSI type 5) never do.
 * Native NVMe multipath shows a namespace as the subsystem head (nvme0n1, under
 * /devices/virtual/nvme-subsystem/, the disk to use) and one hidden node per path
 * (nvme0c0n1, no /dev entry); the head is the disk, hidden nodes are not disks. */
static bool disk_wanted(hw_ctx *ctx, const char *name, const char *target)
{
	char path[160];
	uint64_t type;

	snprintf(path, sizeof(path), "sys/block/%s/hidden", name);
	if (hw_attr_bool(ctx, path, 0) == HW_TRI_TRUE)
		return false;
	if (strstr(target, "/devices/virtual/nvme-subsystem/"))
		return true;
	if (strstr(target, "/devices/virtual/")) {
		if (strncmp(name, "loop", 4) != 0)
			return false;
		snprintf(path, sizeof(path), "sys/block/%s/loop/backing_file", name);
		return hw_exists(ctx, path);
	}
	snprintf(path, sizeof(path), "sys/block/%s/device/type", name);
	if (strncmp(name, "sr", 2) == 0 ||
	    (hw_exists(ctx, path) && hw_attr_u64(ctx, path, 10, 0, &type) && type == 5))
		return false;
	return true;
}

int hw_disk_detect(hw_ctx *ctx, hw_disk **ret, size_t *ret_n)
{
	char **names = NULL;
	hw_disk *disks = NULL;
	size_t n = 0;
	int r;

	r = hw_list_dir(ctx, "sys/block", &names);
	if (r < 0)
		return r;
	for (char **nm = names; *nm; nm++) {
		_cleanup_free_ char *target = NULL;
		char link[160];
		hw_disk *nd;

		snprintf(link, sizeof(link), "sys/block/%s", *nm);
		target = hw_readlink(ctx, link);
		if (!target) {
			hw_warn(ctx, link, "not a symlink into /sys/devices, skipped");
			continue;
		}
		if (!hw_exists(ctx, link)) {
			hw_warn(ctx, link, "dangling symlink to %s, skipped", target);
			continue;
		}
		if (!disk_wanted(ctx, *nm, target))
			continue;
		nd = reallocarray(disks, n + 1, sizeof(*disks));
		if (!nd) {
			r = -ENOMEM;
			goto fail;
		}
		disks = nd;
		memset(&disks[n], 0, sizeof(disks[n]));
		hw_disk_health_init(&disks[n].health);
		hw_pcie_link_init(&disks[n].pcie_link);
		r = disk_read(ctx, *nm, target, &disks[n++]);
		if (r < 0)
			goto fail;
	}
	hw_strv_free(names);
	names = NULL;
	r = hw_disk_health_detect(ctx, disks, n);
	if (r < 0)
		goto fail;
	*ret = disks;
	*ret_n = n;
	return 0;
fail:
	hw_strv_free(names);
	for (size_t i = 0; i < n; i++)
		hw_disk_done(&disks[i]);
	free(disks);
	return r;
}

void hw_disk_done(hw_disk *d)
{
	HW_FREE_STRINGS(&d->name, &d->transport, &d->model, &d->serial, &d->wwn, &d->firmware_rev,
			&d->pci_address, &d->partition_table, &d->sata_speed);
	for (size_t i = 0; i < d->n_filesystems; i++) {
		free(d->filesystems[i].device);
		free(d->filesystems[i].type);
		free(d->filesystems[i].label);
		free(d->filesystems[i].uuid);
	}
	free(d->filesystems);
	hw_strv_free(d->signatures);
	hw_disk_health_done(&d->health);
	hw_pcie_link_done(&d->pcie_link);
}
