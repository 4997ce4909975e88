/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of hw/smart.c, as TAP: every dump in tests/fixtures/smart/ (README there: where
 * each comes from) through its parser, every field of the result written out one a line
 * and compared with NAME.expected beside it. A case is named by its expected file:
 *   nvme-NAME: NAME.bin is an NVMe SMART / Health Information log page;
 *   ata-NAME:  NAME.data.bin (SMART READ DATA), NAME.thresholds.bin (READ THRESHOLDS) and,
 *              when there is one, NAME.sense.bin (the sense data of SMART RETURN STATUS);
 *   sense-NAME: NAME.bin is sense data alone.
 * The fixture directory is $NA_FIXTURES/smart (tests/05-unit.t sets it), else
 * tests/fixtures/smart.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw-internal.h"
#include "tap.h"

static char *dir;

/* NAME's bytes (and a NUL after them), or NULL (and *len 0) when there is no such file */
static uint8_t *slurp(const char *name, size_t *len)
{
	char *path = hw_asprintf("%s/%s", dir, name), *buf = NULL;
	FILE *f = fopen(path, "re");
	size_t cap = 0;

	*len = 0;
	free(path);
	if (!f)
		return NULL;
	for (;;) {
		if (*len + 1 >= cap) {
			cap = cap ? cap * 2 : 1024;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t n = fread(buf + *len, 1, cap - *len, f);
		if (n == 0)
			break;
		*len += n;
	}
	buf[*len] = '\0';
	fclose(f);
	return (uint8_t *)buf;
}

static const char *errname(int r)
{
	switch (-r) {
	case EBADMSG:
		return "EBADMSG";
	case ENODATA:
		return "ENODATA";
	case EIO:
		return "EIO";
	case ENOMEM:
		return "ENOMEM";
	default:
		return "other";
	}
}

static const char *tri(hw_tri t)
{
	return t == HW_TRI_TRUE ? "true" : t == HW_TRI_FALSE ? "false" : "null";
}

static void put_int(FILE *f, const char *key, int64_t v)
{
	if (v == HW_UNKNOWN)
		fprintf(f, "%s=null\n", key);
	else
		fprintf(f, "%s=%lld\n", key, (long long)v);
}

static void put_health(FILE *f, const hw_disk_health *h)
{
	fprintf(f, "known=%s\n", h->known ? "true" : "false");
	fprintf(f, "status=%s\n", h->status ? h->status : "null");
	fprintf(f, "source=%s\n", h->source ? h->source : "null");
	put_int(f, "power_on_hours", h->power_on_hours);
	put_int(f, "temperature_c", h->temperature_c);
	if (!h->critical_warning) {
		fputs("critical_warning=null\n", f);
	} else {
		fputs("critical_warning=[", f);
		for (char **w = h->critical_warning; *w; w++)
			fprintf(f, "%s%s", w == h->critical_warning ? "" : ",", *w);
		fputs("]\n", f);
	}
	put_int(f, "percentage_used", h->percentage_used);
	put_int(f, "available_spare", h->available_spare);
	put_int(f, "available_spare_threshold", h->available_spare_threshold);
	put_int(f, "media_errors", h->media_errors);
	put_int(f, "unsafe_shutdowns", h->unsafe_shutdowns);
	put_int(f, "data_units_written", h->data_units_written);
	fprintf(f, "smart_passed=%s\n", tri(h->smart_passed));
	put_int(f, "reallocated_sectors", h->reallocated_sectors);
	put_int(f, "pending_sectors", h->pending_sectors);
	put_int(f, "offline_uncorrectable", h->offline_uncorrectable);
}

/* "return_status=..." of a sense file; *passed set when it says */
static void put_return_status(FILE *f, const char *name, hw_tri *passed)
{
	size_t len;
	_cleanup_free_ uint8_t *sense = slurp(name, &len);
	int r;

	if (!sense) {
		fputs("return_status=none\n", f);
		return;
	}
	r = hw_smart_ata_return_status(sense, len, passed);
	if (r < 0)
		fprintf(f, "return_status=%s\n", errname(r));
	else
		fprintf(f, "return_status=%s\n", tri(*passed));
}

static void run_case(const char *expected_name)
{
	size_t n = strlen(expected_name) - strlen(".expected"), got_len = 0, want_len, len, tlen;
	_cleanup_free_ char *name = hw_strndup(expected_name, n), *got = NULL, *file = NULL;
	_cleanup_free_ char *want = (char *)slurp(expected_name, &want_len);
	_cleanup_free_ uint8_t *data = NULL, *thresholds = NULL;
	hw_disk_health h;
	hw_tri passed = HW_TRI_UNKNOWN;
	FILE *f = open_memstream(&got, &got_len);
	int r = 0;

	hw_disk_health_init(&h);
	if (strncmp(name, "nvme-", 5) == 0) {
		file = hw_asprintf("%s.bin", name);
		data = slurp(file, &len);
		ok(data != NULL, file);
		r = hw_smart_nvme_parse(data, len, &h);
	} else if (strncmp(name, "ata-", 4) == 0) {
		file = hw_asprintf("%s.sense.bin", name);
		put_return_status(f, file, &passed);
		free(file);
		file = hw_asprintf("%s.thresholds.bin", name);
		thresholds = slurp(file, &tlen);
		free(file);
		file = hw_asprintf("%s.data.bin", name);
		data = slurp(file, &len);
		ok(data != NULL, file);
		r = hw_smart_ata_parse(data, len, thresholds, tlen, passed, &h);
	} else {
		file = hw_asprintf("%s.bin", name);
		put_return_status(f, file, &passed);
		fclose(f);
		is_str(got, want, name);
		return;
	}
	if (r < 0)
		fprintf(f, "error=%s\n", errname(r));
	put_health(f, &h);
	fclose(f);
	is_str(got, want, name);
	hw_disk_health_done(&h);
	ok(!h.known && !h.status && !h.critical_warning, "hw_disk_health_done() leaves it unknown");
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every dump belongs to a case: NAME.bin or NAME.{data,thresholds,sense}.bin with
 * NAME.expected beside it. */
static void check_every_dump_tested(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *nm = names[i], *dot = strstr(nm, ".");
		_cleanup_free_ char *base = NULL, *exp = NULL, *what = NULL;
		size_t len;

		if (!strstr(nm, ".bin"))
			continue;
		base = hw_strndup(nm, (size_t)(dot - nm));
		exp = hw_asprintf("%s.expected", base);
		_cleanup_free_ uint8_t *e = slurp(exp, &len);
		what = hw_asprintf("%s has a case (%s)", nm, exp);
		ok(e != NULL, what);
	}
}

static void test_edges(void)
{
	uint8_t page[HW_SMART_PAGE] = {0};
	hw_disk_health h;
	hw_tri t = HW_TRI_UNKNOWN;

	ok(hw_smart_nvme_parse(NULL, 512, &h) == -EBADMSG, "NVMe: no page");
	ok(hw_smart_ata_check(NULL, 512) == -EBADMSG, "ATA check: no page");
	ok(hw_smart_ata_check(page, 511) == -EBADMSG, "ATA check: 511 bytes");
	ok(hw_smart_ata_check(page, 512) == 0, "ATA check: all zero sums to zero");
	ok(hw_smart_ata_parse(page, 512, NULL, 0, HW_TRI_UNKNOWN, &h) == 0 && h.known &&
	       !strcmp(h.status, "ok") && h.power_on_hours == HW_UNKNOWN,
	   "ATA: an empty attribute table is known, ok, with nothing in it");
	hw_disk_health_done(&h);
	ok(hw_smart_ata_return_status(NULL, 0, &t) == -ENODATA, "sense: none");
	ok(hw_smart_ata_return_status(page, 7, &t) == -ENODATA, "sense: 7 bytes");
	ok(t == HW_TRI_UNKNOWN, "sense: *ret untouched on failure");
}

int main(void)
{
	const char *fixtures = getenv("NA_FIXTURES");
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	dir = hw_asprintf("%s/smart", fixtures && *fixtures ? fixtures : "tests/fixtures");
	d = opendir(dir);
	ok(d != NULL, dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(de->d_name);
	}
	if (d)
		closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		if (l > 9 && strcmp(names[i] + l - 9, ".expected") == 0)
			run_case(names[i]);
	}
	check_every_dump_tested(names, n);
	test_edges();
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
