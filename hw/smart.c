/* SPDX-License-Identifier: MIT */
/*
 * What a disk says about its own health, parsed from the raw bytes it returns: the NVMe
 * SMART / Health Information log page and ATA SMART's data, thresholds and RETURN STATUS.
 * No I/O here (hw/disk-health.c asks the disks), so canned pages replay in tests and fuzzing.
 *
 * The status rule (README: disks[].health):
 *
 * NVMe (NVM Express Base Specification 2.0, Get Log Page, SMART / Health Information):
 *   failing  a critical warning bit that says the drive has lost something: available spare
 *            below its threshold (bit 0), reliability degraded by media or internal errors
 *            (bit 2), media read-only (bit 3), volatile memory backup failed (bit 4),
 *            persistent memory region read-only (bit 5); or available spare below a nonzero
 *            threshold even without bit 0. These are the conditions smartctl -H reports as
 *            FAILED for NVMe (nvmeprint.cpp), less the temperature bit.
 *   warning  the temperature bit (bit 1: a condition of the room or the airflow, not of
 *            the drive's wear); percentage used at 90 or more (the specification: 100 means
 *            the rated endurance is used up, "but may not indicate an NVM subsystem
 *            failure"); any media and data integrity error (unrecovered errors).
 * ATA (ACS-3 SMART; smartmontools' ataprint.cpp for the thresholds):
 *   failing  SMART RETURN STATUS says a threshold is exceeded; or a pre-fail attribute's
 *            normalised value is at or below its nonzero threshold (smartctl's FAILING_NOW,
 *            the drive's own failure criterion, also when RETURN STATUS was not readable).
 *   warning  an old-age attribute at or below its nonzero threshold; reallocated (5),
 *            pending (197) or offline uncorrectable (198) sectors above zero. These counts
 *            predict failure (Pinheiro et al., "Failure Trends in a Large Disk Drive
 *            Population", FAST '07: drives with a first reallocation were 14 times, with a
 *            first pending sector 16 times as likely to fail within 60 days; Backblaze's
 *            "What SMART Stats Tell Us About Hard Drives", 2016, watches 5, 187, 188, 197
 *            and 198 above zero; smartd reports 197 and 198 by default) but many drives run
 *            for years with a few: they ask for attention, not for replacement.
 *   ok       otherwise.
 */
#include <errno.h>

#include "hw-internal.h"

/* NVMe SMART / Health Information log (Log Identifier 02h): byte offsets. */
enum {
	NVME_CRITICAL_WARNING = 0,
	NVME_TEMPERATURE = 1, /* 2 bytes, Kelvin */
	NVME_AVAILABLE_SPARE = 3,
	NVME_SPARE_THRESHOLD = 4,
	NVME_PERCENTAGE_USED = 5,
	NVME_DATA_UNITS_WRITTEN = 48, /* 16 bytes each from here */
	NVME_POWER_ON_HOURS = 128,
	NVME_UNSAFE_SHUTDOWNS = 144,
	NVME_MEDIA_ERRORS = 160,
};

/* Critical Warning bits 0-5, by name; bits 6 and 7 are reserved. */
static const char *const nvme_warning_names[] = {
    "spare", "temperature", "reliability", "read_only", "volatile_backup", "pmr_read_only",
};
/* bits that make a drive "failing": all but the temperature */
#define NVME_FAILING_BITS 0x3du

/* ATA SMART data structures: 30 entries of 12 bytes from offset 2, checksum at 511. */
enum {
	ATA_ENTRIES = 30,
	ATA_ENTRY_SIZE = 12,
	ATA_FIRST_ENTRY = 2,
	ATA_PREFAIL = 1u << 0, /* attribute flags bit 0: pre-failure, else advisory (old age) */
	ATA_REALLOCATED = 5,
	ATA_POWER_ON_HOURS = 9,
	ATA_AIRFLOW_TEMPERATURE = 190,
	ATA_TEMPERATURE = 194,
	ATA_PENDING = 197,
	ATA_OFFLINE_UNCORRECTABLE = 198,
};

/* SMART RETURN STATUS (ACS-3): LBA mid and high. */
enum {
	ATA_STATUS_OK_MID = 0x4f,
	ATA_STATUS_OK_HIGH = 0xc2,
	ATA_STATUS_EXCEEDED_MID = 0xf4,
	ATA_STATUS_EXCEEDED_HIGH = 0x2c,
};

/* A little-endian counter of n <= 16 bytes, saturated to INT64_MAX. */
static int64_t le_counter(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 8; i--)
		if (p[i - 1])
			return INT64_MAX;
	for (size_t i = n < 8 ? n : 8; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static int set_verdict(hw_disk_health *h, const char *source, const char *status)
{
	h->source = hw_strdup(source);
	h->status = hw_strdup(status);
	if (!h->source || !h->status) {
		hw_disk_health_done(h);
		return -ENOMEM;
	}
	h->known = true;
	return 0;
}

int hw_smart_nvme_parse(const uint8_t *log, size_t len, hw_disk_health *h)
{
	unsigned warning, kelvin;
	const char *status = "ok";

	hw_disk_health_init(h);
	if (!log || len < HW_SMART_PAGE)
		return -EBADMSG;
	warning = log[NVME_CRITICAL_WARNING];
	h->critical_warning = calloc(1, sizeof(char *));
	if (!h->critical_warning)
		return -ENOMEM;
	for (unsigned bit = 0; bit < ELEMENTSOF(nvme_warning_names); bit++)
		if (warning & (1u << bit) &&
		    hw_strv_push(&h->critical_warning, hw_strdup(nvme_warning_names[bit])) < 0) {
			hw_disk_health_done(h);
			return -ENOMEM;
		}
	/* 0 K: the controller gives no composite temperature */
	kelvin = log[NVME_TEMPERATURE] | (unsigned)log[NVME_TEMPERATURE + 1] << 8;
	h->temperature_c = kelvin ? (int64_t)kelvin - 273 : HW_UNKNOWN;
	h->available_spare = log[NVME_AVAILABLE_SPARE];
	h->available_spare_threshold = log[NVME_SPARE_THRESHOLD];
	h->percentage_used = log[NVME_PERCENTAGE_USED];
	h->data_units_written = le_counter(log + NVME_DATA_UNITS_WRITTEN, 16);
	h->power_on_hours = le_counter(log + NVME_POWER_ON_HOURS, 16);
	h->unsafe_shutdowns = le_counter(log + NVME_UNSAFE_SHUTDOWNS, 16);
	h->media_errors = le_counter(log + NVME_MEDIA_ERRORS, 16);

	if (warning & NVME_FAILING_BITS ||
	    (h->available_spare_threshold > 0 && h->available_spare < h->available_spare_threshold))
		status = "failing";
	else if (warning & 0x02u || h->percentage_used >= 90 || h->media_errors > 0)
		status = "warning";
	return set_verdict(h, "nvme", status);
}

int hw_smart_ata_check(const uint8_t *page, size_t len)
{
	uint8_t sum = 0;

	if (!page || len < HW_SMART_PAGE)
		return -EBADMSG;
	for (size_t i = 0; i < HW_SMART_PAGE; i++)
		sum = (uint8_t)(sum + page[i]);
	return sum == 0 ? 0 : -EBADMSG;
}

/* The raw value of an attribute entry: 6 bytes, little-endian. */
static int64_t ata_raw48(const uint8_t *entry)
{
	return le_counter(entry + 5, 6);
}

/* The threshold of attribute `id` (entry `index` of the data): normally at the same index,
 * else anywhere in the table; 0 (never fails) when the table does not name it. */
static unsigned ata_threshold(const uint8_t *thresholds, unsigned index, unsigned id)
{
	const uint8_t *t;

	if (!thresholds)
		return 0;
	t = thresholds + ATA_FIRST_ENTRY;
	if (t[index * ATA_ENTRY_SIZE] == id)
		return t[index * ATA_ENTRY_SIZE + 1];
	for (unsigned i = 0; i < ATA_ENTRIES; i++)
		if (t[i * ATA_ENTRY_SIZE] == id)
			return t[i * ATA_ENTRY_SIZE + 1];
	return 0;
}

int hw_smart_ata_parse(const uint8_t *data, size_t len, const uint8_t *thresholds,
		       size_t thresholds_len, hw_tri passed, hw_disk_health *h)
{
	bool prefail_failing = false, oldage_failing = false;
	int64_t temperature = HW_UNKNOWN, airflow = HW_UNKNOWN;
	const char *status = "ok";

	hw_disk_health_init(h);
	if (hw_smart_ata_check(data, len) < 0)
		return -EBADMSG;
	/* a thresholds table that does not check out is as good as none */
	if (hw_smart_ata_check(thresholds, thresholds_len) < 0)
		thresholds = NULL;
	h->smart_passed = passed;
	for (unsigned i = 0; i < ATA_ENTRIES; i++) {
		const uint8_t *e = data + ATA_FIRST_ENTRY + i * ATA_ENTRY_SIZE;
		unsigned id = e[0], flags = e[1] | (unsigned)e[2] << 8, current = e[3];
		unsigned threshold;

		if (id == 0)
			continue;
		threshold = ata_threshold(thresholds, i, id);
		if (threshold && current <= threshold) {
			if (flags & ATA_PREFAIL)
				prefail_failing = true;
			else
				oldage_failing = true;
		}
		switch (id) {
		case ATA_REALLOCATED:
			h->reallocated_sectors = ata_raw48(e);
			break;
		case ATA_POWER_ON_HOURS:
			/* the low 32 bits: a few vendors count minutes or half-hours here, or
			 * pack more in the upper bytes; hours are what most write */
			h->power_on_hours = le_counter(e + 5, 4);
			break;
		case ATA_TEMPERATURE:
			/* the low byte is the temperature now; the others are min/max */
			temperature = e[5];
			break;
		case ATA_AIRFLOW_TEMPERATURE:
			airflow = e[5];
			break;
		case ATA_PENDING:
			h->pending_sectors = ata_raw48(e);
			break;
		case ATA_OFFLINE_UNCORRECTABLE:
			h->offline_uncorrectable = ata_raw48(e);
			break;
		}
	}
	h->temperature_c = temperature != HW_UNKNOWN ? temperature : airflow;

	if (passed == HW_TRI_FALSE || prefail_failing)
		status = "failing";
	else if (oldage_failing || h->reallocated_sectors > 0 || h->pending_sectors > 0 ||
		 h->offline_uncorrectable > 0)
		status = "warning";
	return set_verdict(h, "ata", status);
}

/*
 * Descriptor-format sense data (response code 72h/73h, SPC-4) holds the ATA Status Return
 * descriptor (09h, SAT-3): byte 3 error, 9 LBA mid (7:0), 11 LBA high (7:0),
 * 13 status. libata answers every CK_COND=1 pass-through that completed in this format
 * (ata_gen_passthru_sense(): "Always in descriptor format sense"); a fixed-format answer
 * comes only with an error, and kernels before 6.10 put its registers at the wrong offsets.
 */
int hw_smart_ata_return_status(const uint8_t *sense, size_t len, hw_tri *ret)
{
	size_t end, off;

	if (!sense || len < 8)
		return -ENODATA;
	if ((sense[0] & 0x7f) != 0x72 && (sense[0] & 0x7f) != 0x73)
		return (sense[0] & 0x7f) == 0x70 || (sense[0] & 0x7f) == 0x71 ? -EIO : -ENODATA;
	end = 8 + (size_t)sense[7];
	if (end > len)
		end = len;
	for (off = 8; off + 2 <= end; off += 2 + (size_t)sense[off + 1]) {
		const uint8_t *d = sense + off;
		uint8_t mid, high;

		if (d[0] != 0x09)
			continue;
		if (d[1] < 12 || off + 14 > end)
			return -EBADMSG;
		/* ERR or DF: the command failed (SMART disabled or not supported) */
		if (d[13] & 0x21)
			return -EIO;
		mid = d[9];
		high = d[11];
		if (mid == ATA_STATUS_OK_MID && high == ATA_STATUS_OK_HIGH)
			*ret = HW_TRI_TRUE;
		else if (mid == ATA_STATUS_EXCEEDED_MID && high == ATA_STATUS_EXCEEDED_HIGH)
			*ret = HW_TRI_FALSE;
		else
			return -EBADMSG;
		return 0;
	}
	return -ENODATA;
}
