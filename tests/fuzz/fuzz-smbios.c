/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the SMBIOS parser (`make fuzz-smbios`, hw/smbios.c): the input is
 * read as an SMBIOS table, structures one after the other as firmware lays them out (the
 * formatted area of the length its header says, then the string set up to its double NUL),
 * each copied to a buffer of its own size, as the kernel hands it out in
 * /sys/firmware/dmi/entries/T-I/raw, so ASan sees any read past a structure. Every structure
 * goes through hw_smbios_parse(), hw_smbios_read_memory_array() and
 * hw_smbios_read_memory_device(), and all of them through hw_smbios_memory(). Besides what
 * ASan/UBSan/LeakSanitizer catch, it checks what the inventory relies on:
 *   - a structure is accepted only when its header fits in its bytes;
 *   - every string is non-empty, printable, without surrounding blanks;
 *   - sizes and speeds are unknown or positive, sizes a whole number of KiB;
 *   - slots_used is the number of modules, slots_total at least that.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw-internal.h"

#define MAX_STRUCTS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_string(const char *s, const char *what)
{
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	if (n == 0 || isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1])) {
		fprintf(stderr, "%s: empty or untrimmed \"%s\"\n", what, s);
		abort();
	}
	for (size_t i = 0; i < n; i++)
		if (!isprint((unsigned char)s[i])) {
			fprintf(stderr, "%s: unprintable byte %02x\n", what, (unsigned char)s[i]);
			abort();
		}
}

static void check_module(const hw_memory_module *m)
{
	check_string(m->locator, "locator");
	check_string(m->bank_locator, "bank_locator");
	check_string(m->type, "type");
	check_string(m->form_factor, "form_factor");
	check_string(m->manufacturer, "manufacturer");
	check_string(m->part_number, "part_number");
	check_string(m->serial, "serial");
	if (m->size_bytes != HW_UNKNOWN && (m->size_bytes <= 0 || m->size_bytes % 1024))
		abort();
	if (m->speed_mts != HW_UNKNOWN && m->speed_mts <= 0)
		abort();
	if (m->configured_speed_mts != HW_UNKNOWN && m->configured_speed_mts <= 0)
		abort();
}

/* The end of the structure at data[pos]: after its string set's double NUL, or the input's. */
static size_t structure_end(const uint8_t *data, size_t size, size_t pos)
{
	size_t i = pos + data[pos + 1];

	for (; i + 1 < size; i++)
		if (data[i] == 0 && data[i + 1] == 0)
			return i + 2;
	return size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hw_smbios_struct structs[MAX_STRUCTS];
	uint8_t *copies[MAX_STRUCTS];
	size_t n = 0, pos = 0;
	hw_memory mem = {.slots_total = HW_UNKNOWN, .slots_used = HW_UNKNOWN,
			 .ecc = HW_TRI_UNKNOWN};

	while (pos + 4 <= size && n < MAX_STRUCTS) {
		size_t end = structure_end(data, size, pos), len = end - pos;
		hw_smbios_memory_device d;
		hw_smbios_memory_array a;
		int r;

		if (data[pos + 1] < 4 || pos + data[pos + 1] > size)
			break;
		copies[n] = malloc(len);
		if (!copies[n])
			break;
		memcpy(copies[n], data + pos, len);
		r = hw_smbios_parse(copies[n], len, &structs[n]);
		if (r < 0 || structs[n].length > len || structs[n].length < 4)
			abort();
		if (hw_smbios_read_memory_array(&structs[n], &a) == 0 && structs[n].type != 16)
			abort();
		if (hw_smbios_read_memory_device(&structs[n], &d) == 0) {
			if (structs[n].type != 17)
				abort();
			check_module(&d.module);
			hw_memory_module_done(&d.module);
		}
		n++;
		pos = end;
	}
	/* what cannot be a structure must be refused */
	if (size < 4) {
		hw_smbios_struct s;

		if (hw_smbios_parse(data, size, &s) == 0)
			abort();
	}

	if (hw_smbios_memory(structs, n, &mem) == 0) {
		for (size_t i = 0; i < mem.n_modules; i++)
			check_module(&mem.modules[i]);
		check_string(mem.ecc_type, "ecc_type");
		if (mem.modules && mem.slots_used != (int64_t)mem.n_modules)
			abort();
		if (!mem.modules && mem.n_modules)
			abort();
		if (mem.slots_used != HW_UNKNOWN && mem.slots_total < mem.slots_used)
			abort();
		if (mem.ecc == HW_TRI_TRUE && !mem.ecc_type)
			abort();
	}
	hw_memory_done(&mem);
	for (size_t i = 0; i < n; i++)
		free(copies[i]);
	return 0;
}
