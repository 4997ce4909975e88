/* SPDX-License-Identifier: MIT */
/*
 * Asking the disks of the running system about their health, from the kernel's own
 * interfaces (no smartctl): the NVMe SMART / Health Information log through
 * NVME_IOCTL_ADMIN_CMD, ATA SMART through SG_IO with ATA PASS-THROUGH (16), which libata
 * hands to the drive. smart.c parses what comes back. Only NVMe disks and disks behind
 * libata (transport "sata") are asked; USB bridges, SAS, virtio and MMC are not.
 *
 * Both need privileges (the NVMe admin command CAP_SYS_ADMIN, ATA PASS-THROUGH on a block
 * device CAP_SYS_RAWIO): without them the health stays null and the inventory gets one
 * warning, whatever the number of disks. A drive that does not do SMART (the command is
 * aborted) is not a problem: null, no warning. Every command has a 5 s timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/nvme_ioctl.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "hw-internal.h"

#define HEALTH_TIMEOUT_MS 5000

enum {
	NVME_ADMIN_GET_LOG_PAGE = 0x02,
	NVME_LOG_SMART = 0x02,
	NVME_NSID_ALL = 0xffffffffu,
	/* Retain Asynchronous Event: reading the log does not clear a SMART event that a
	 * monitoring daemon may be waiting for */
	NVME_LOG_RAE = 1u << 15,
};

enum {
	ATA_PASS_THROUGH_16 = 0x85,
	ATA_PROTOCOL_NON_DATA = 3,
	ATA_PROTOCOL_PIO_IN = 4,
	ATA_SMART = 0xb0,
	SMART_READ_DATA = 0xd0,
	SMART_READ_THRESHOLDS = 0xd1,
	SMART_RETURN_STATUS = 0xda,
	SCSI_CHECK_CONDITION = 0x02,
	SG_DRIVER_SENSE = 0x08, /* the driver status when sense data came back */
	SENSE_ILLEGAL_REQUEST = 0x05,
	SENSE_ABORTED_COMMAND = 0x0b,
};

static int nvme_read_smart_log(int fd, uint8_t *log)
{
	struct nvme_admin_cmd cmd = {
	    .opcode = NVME_ADMIN_GET_LOG_PAGE,
	    .nsid = NVME_NSID_ALL,
	    .addr = (uint64_t)(uintptr_t)log,
	    .data_len = HW_SMART_PAGE,
	    /* NUMDL, the number of dwords less one, in bits 31:16 */
	    .cdw10 = (HW_SMART_PAGE / 4 - 1) << 16 | NVME_LOG_RAE | NVME_LOG_SMART,
	    .timeout_ms = HEALTH_TIMEOUT_MS,
	};
	int r;

	r = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
	if (r < 0)
		return -errno;
	/* a positive answer is the NVMe status of a command the controller refused */
	return r == 0 ? 0 : -EOPNOTSUPP;
}

/* The sense key of fixed (70h/71h) or descriptor (72h/73h) sense data, -1 without one. */
static int sense_key(const uint8_t *sense, size_t len)
{
	unsigned code = len > 0 ? sense[0] & 0x7fu : 0;

	if ((code == 0x72 || code == 0x73) && len > 1)
		return sense[1] & 0x0f;
	if ((code == 0x70 || code == 0x71) && len > 2)
		return sense[2] & 0x0f;
	return -1;
}

/*
 * One SMART command through ATA PASS-THROUGH (16) (SAT-3): with `data` a PIO
 * data-in of one 512-byte sector, else non-data with CK_COND, so the registers the drive
 * returns come back in the sense data (*sense_len bytes of it).
 */
static int ata_smart_command(int fd, uint8_t feature, uint8_t *data, uint8_t *sense,
			     size_t *sense_len)
{
	uint8_t cdb[16] = {
	    [0] = ATA_PASS_THROUGH_16,
	    [1] = (data ? ATA_PROTOCOL_PIO_IN : ATA_PROTOCOL_NON_DATA) << 1,
	    /* data: T_DIR (from the device), BYT_BLOK (count in sectors), T_LENGTH (in the
	     * sector count field); non-data: CK_COND */
	    [2] = data ? 0x0e : 0x20,
	    [4] = feature,
	    [6] = data ? 1 : 0, /* sector count */
	    [10] = 0x4f,	/* LBA mid (7:0) and high (7:0): the SMART signature */
	    [12] = 0xc2,
	    [14] = ATA_SMART,
	};
	sg_io_hdr_t io = {
	    .interface_id = 'S',
	    .dxfer_direction = data ? SG_DXFER_FROM_DEV : SG_DXFER_NONE,
	    .cmd_len = sizeof(cdb),
	    .mx_sb_len = (unsigned char)*sense_len,
	    .dxfer_len = data ? HW_SMART_PAGE : 0,
	    .dxferp = data,
	    .cmdp = cdb,
	    .sbp = sense,
	    .timeout = HEALTH_TIMEOUT_MS,
	};
	int key;

	memset(sense, 0, *sense_len);
	if (ioctl(fd, SG_IO, &io) < 0)
		return -errno;
	*sense_len = io.sb_len_wr;
	if (io.host_status != 0 ||
	    ((io.driver_status & 0x0f) != 0 && (io.driver_status & 0x0f) != SG_DRIVER_SENSE))
		return -EIO;
	if (io.status == 0)
		return data && io.resid != 0 ? -EIO : 0;
	if (io.status != SCSI_CHECK_CONDITION)
		return -EIO;
	key = sense_key(sense, io.sb_len_wr);
	if (key == SENSE_ABORTED_COMMAND || key == SENSE_ILLEGAL_REQUEST)
		return -EOPNOTSUPP;
	/* CK_COND's answer: RECOVERED ERROR, "ATA pass-through information available" */
	return !data && key == 0x01 ? 0 : -EIO;
}

static int ata_read_health(int fd, hw_ctx *ctx, const char *path, hw_disk_health *h)
{
	_cleanup_free_ uint8_t *data = NULL, *thresholds = NULL;
	uint8_t sense[64];
	size_t sense_len = sizeof(sense);
	hw_tri passed = HW_TRI_UNKNOWN;
	int r;

	data = malloc(HW_SMART_PAGE);
	thresholds = malloc(HW_SMART_PAGE);
	if (!data || !thresholds)
		return -ENOMEM;
	r = ata_smart_command(fd, SMART_READ_DATA, data, sense, &sense_len);
	if (r < 0)
		return r;
	if (hw_smart_ata_check(data, HW_SMART_PAGE) < 0) {
		hw_warn(ctx, path, "SMART READ DATA: checksum mismatch, health unknown");
		return 0;
	}
	sense_len = sizeof(sense);
	r = ata_smart_command(fd, SMART_READ_THRESHOLDS, thresholds, sense, &sense_len);
	if (r == 0 && hw_smart_ata_check(thresholds, HW_SMART_PAGE) < 0)
		hw_warn(ctx, path, "SMART READ THRESHOLDS: checksum mismatch, thresholds unknown");
	else if (r < 0 && r != -EOPNOTSUPP)
		hw_warn(ctx, path, "SMART READ THRESHOLDS: %s", strerror(-r));
	if (r < 0) {
		free(thresholds);
		thresholds = NULL;
	}
	sense_len = sizeof(sense);
	r = ata_smart_command(fd, SMART_RETURN_STATUS, NULL, sense, &sense_len);
	if (r == 0)
		r = hw_smart_ata_return_status(sense, sense_len, &passed);
	if (r < 0 && r != -EOPNOTSUPP)
		hw_warn(ctx, path, "SMART RETURN STATUS: %s", strerror(-r));
	return hw_smart_ata_parse(data, HW_SMART_PAGE, thresholds, thresholds ? HW_SMART_PAGE : 0,
				  passed, h);
}

static int nvme_read_health(int fd, hw_ctx *ctx, const char *path, hw_disk_health *h)
{
	_cleanup_free_ uint8_t *log = calloc(1, HW_SMART_PAGE);
	int r;

	if (!log)
		return -ENOMEM;
	r = nvme_read_smart_log(fd, log);
	if (r == -EOPNOTSUPP)
		hw_warn(ctx, path, "the controller refused the SMART / Health Information log");
	if (r < 0)
		return r;
	return hw_smart_nvme_parse(log, HW_SMART_PAGE, h);
}

/* One disk: 0 (health filled, or unknown with a warning where that is a problem),
 * -EPERM/-EACCES (not permitted), -ENOMEM. */
static int disk_health(hw_ctx *ctx, hw_disk *d)
{
	_cleanup_close_ int fd = -1;
	char path[128];
	bool nvme = strcmp(d->transport, "nvme") == 0;
	int r;

	if (!nvme && strcmp(d->transport, "sata") != 0)
		return 0;
	snprintf(path, sizeof(path), "dev/%s", d->name);
	fd = openat(ctx->root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		r = -errno;
	else if (nvme)
		r = nvme_read_health(fd, ctx, path, &d->health);
	else
		r = ata_read_health(fd, ctx, path, &d->health);
	if (r == -ENOMEM || r == -EPERM || r == -EACCES)
		return r;
	if (r == -EBADMSG)
		hw_warn(ctx, path, "SMART data that does not parse, health unknown");
	else if (r < 0 && r != -EOPNOTSUPP && r != -ENOENT)
		hw_warn(ctx, path, "cannot read the disk's health: %s", strerror(-r));
	return 0;
}

int hw_disk_health_detect(hw_ctx *ctx, hw_disk *disks, size_t n)
{
	const char *first_denied = NULL;
	size_t denied = 0;
	int denied_errno = 0;

	if (!ctx->live)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int r = disk_health(ctx, &disks[i]);

		if (r == -ENOMEM)
			return r;
		if (r < 0 && !denied++) {
			first_denied = disks[i].name;
			denied_errno = -r;
		}
	}
	if (denied > 0) {
		char path[128];

		snprintf(path, sizeof(path), "dev/%s", first_denied);
		hw_warn(ctx, path,
			"disk health not read: %s (the NVMe health log needs CAP_SYS_ADMIN, ATA "
			"SMART CAP_SYS_RAWIO); health unknown for %zu disk%s",
			strerror(denied_errno), denied, denied == 1 ? "" : "s");
	}
	return 0;
}
