/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the parsers of what disks say about their health (hw/smart.c,
 * `make fuzz-smart`). The first byte chooses:
 *   byte % 3 == 0: the rest is an NVMe SMART / Health Information log page;
 *   byte % 3 == 1: the rest is ATA SMART READ DATA (512 bytes), READ THRESHOLDS (512) and
 *                  the sense data of RETURN STATUS (what is left); with bit 7 set the two
 *                  checksums are made to hold, so the attribute table is reached;
 *   byte % 3 == 2: the rest is sense data alone.
 * Besides what ASan/UBSan/LeakSanitizer catch, it checks the contracts: a parse that fails
 * leaves the health unknown; one that succeeds is known with every value in its range and a
 * status that follows the rule in smart.c, worked out again here from the raw bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "contract broken: %s\n", #cond);                           \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool is_status(const char *s)
{
	return s && (!strcmp(s, "ok") || !strcmp(s, "warning") || !strcmp(s, "failing"));
}

static void check_unknown(const hw_disk_health *h)
{
	CHECK(!h->known && !h->status && !h->source && !h->critical_warning);
	CHECK(h->power_on_hours == HW_UNKNOWN && h->temperature_c == HW_UNKNOWN);
	CHECK(h->smart_passed == HW_TRI_UNKNOWN && h->reallocated_sectors == HW_UNKNOWN);
}

static void fuzz_nvme(const uint8_t *log, size_t len)
{
	static const char *const names[] = {"spare",	 "temperature",	    "reliability",
					    "read_only", "volatile_backup", "pmr_read_only"};
	hw_disk_health h;
	size_t n = 0;
	int r = hw_smart_nvme_parse(log, len, &h);

	if (r < 0) {
		CHECK(r == -ENOMEM || (r == -EBADMSG && len < HW_SMART_PAGE));
		check_unknown(&h);
		return;
	}
	CHECK(len >= HW_SMART_PAGE && h.known && !strcmp(h.source, "nvme") && is_status(h.status));
	for (unsigned bit = 0; bit < 6; bit++)
		if (log[0] & (1u << bit)) {
			CHECK(h.critical_warning[n] && !strcmp(h.critical_warning[n], names[bit]));
			n++;
		}
	CHECK(h.critical_warning[n] == NULL);
	CHECK(h.percentage_used == log[5] && h.available_spare == log[3] &&
	      h.available_spare_threshold == log[4]);
	CHECK(h.temperature_c == HW_UNKNOWN ||
	      (h.temperature_c >= -272 && h.temperature_c <= 65262));
	CHECK(h.power_on_hours >= 0 && h.media_errors >= 0 && h.unsafe_shutdowns >= 0 &&
	      h.data_units_written >= 0);
	if ((log[0] & 0x3d) || (log[4] && log[3] < log[4]))
		CHECK(!strcmp(h.status, "failing"));
	else if ((log[0] & 0x02) || log[5] >= 90 || h.media_errors > 0)
		CHECK(!strcmp(h.status, "warning"));
	else
		CHECK(!strcmp(h.status, "ok"));
	hw_disk_health_done(&h);
	check_unknown(&h);
}

static void fix_checksum(uint8_t *page)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < HW_SMART_PAGE - 1; i++)
		sum = (uint8_t)(sum + page[i]);
	page[HW_SMART_PAGE - 1] = (uint8_t)-sum;
}

static hw_tri fuzz_sense(const uint8_t *sense, size_t len)
{
	hw_tri t = HW_TRI_UNKNOWN;
	int r = hw_smart_ata_return_status(sense, len, &t);

	if (r < 0) {
		CHECK(r == -ENODATA || r == -EIO || r == -EBADMSG);
		CHECK(t == HW_TRI_UNKNOWN); /* untouched */
		return HW_TRI_UNKNOWN;
	}
	CHECK(r == 0 && (t == HW_TRI_TRUE || t == HW_TRI_FALSE));
	return t;
}

static void fuzz_ata(const uint8_t *in, size_t len, bool fix)
{
	uint8_t page[2][HW_SMART_PAGE] = {{0}};
	size_t n[2];
	hw_disk_health h;
	hw_tri passed;
	int r;

	for (int i = 0; i < 2; i++) {
		size_t off = i * HW_SMART_PAGE;

		n[i] = len > off ? (len - off < HW_SMART_PAGE ? len - off : HW_SMART_PAGE) : 0;
		memcpy(page[i], in + (n[i] ? off : 0), n[i]);
		if (fix && n[i] == HW_SMART_PAGE)
			fix_checksum(page[i]);
	}
	passed = fuzz_sense(len > 2 * HW_SMART_PAGE ? in + 2 * HW_SMART_PAGE : NULL,
			    len > 2 * HW_SMART_PAGE ? len - 2 * HW_SMART_PAGE : 0);
	r = hw_smart_ata_parse(page[0], n[0], page[1], n[1], passed, &h);
	if (r < 0) {
		CHECK(r == -ENOMEM || (r == -EBADMSG && hw_smart_ata_check(page[0], n[0]) < 0));
		check_unknown(&h);
		return;
	}
	CHECK(hw_smart_ata_check(page[0], n[0]) == 0);
	CHECK(h.known && !strcmp(h.source, "ata") && is_status(h.status) && !h.critical_warning);
	CHECK(h.smart_passed == passed);
	CHECK(h.power_on_hours >= HW_UNKNOWN && h.power_on_hours <= INT64_C(0xffffffff));
	CHECK(h.temperature_c >= HW_UNKNOWN && h.temperature_c <= 255);
	CHECK(h.reallocated_sectors >= HW_UNKNOWN && h.reallocated_sectors < INT64_C(1) << 48);
	CHECK(h.pending_sectors >= HW_UNKNOWN && h.pending_sectors < INT64_C(1) << 48);
	CHECK(h.offline_uncorrectable >= HW_UNKNOWN && h.offline_uncorrectable < INT64_C(1) << 48);
	CHECK(h.percentage_used == HW_UNKNOWN && h.media_errors == HW_UNKNOWN);
	if (passed == HW_TRI_FALSE)
		CHECK(!strcmp(h.status, "failing"));
	if (h.reallocated_sectors > 0 || h.pending_sectors > 0 || h.offline_uncorrectable > 0)
		CHECK(strcmp(h.status, "ok") != 0);
	hw_disk_health_done(&h);
	check_unknown(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_nvme(data + 1, size - 1);
		break;
	case 1:
		fuzz_ata(data + 1, size - 1, data[0] & 0x80);
		break;
	default:
		fuzz_sense(data + 1, size - 1);
		break;
	}
	return 0;
}
