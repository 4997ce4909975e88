/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of hw/smbios.c on raw SMBIOS structures built here from the offsets of DSP0134
 * (type 16 Physical Memory Array, type 17 Memory Device), as TAP: every field, structures of
 * older versions (shorter), strings that are missing or placeholders, extended sizes and
 * speeds, KiB units, and the summary into slots and ECC.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hw-internal.h"
#include "tap.h"

/* One structure: its formatted area (up to 255 bytes) and string set. */
typedef struct raw {
	uint8_t b[512];
	size_t size;
} raw;

static void put16(raw *r, size_t off, uint16_t v)
{
	r->b[off] = (uint8_t)v;
	r->b[off + 1] = (uint8_t)(v >> 8);
}

static void put32(raw *r, size_t off, uint32_t v)
{
	put16(r, off, (uint16_t)v);
	put16(r, off + 2, (uint16_t)(v >> 16));
}

/* the string set after a formatted area of `length` bytes: the strings, NULL-terminated */
static void strings(raw *r, uint8_t length, ...)
{
	const char *s;
	size_t pos = length;
	va_list ap;

	r->b[1] = length;
	va_start(ap, length);
	while ((s = va_arg(ap, const char *))) {
		memcpy(r->b + pos, s, strlen(s) + 1);
		pos += strlen(s) + 1;
	}
	va_end(ap);
	if (pos == length)
		r->b[pos++] = '\0'; /* no strings: the double NUL alone */
	r->b[pos++] = '\0';
	r->size = pos;
}

/* Type 17 of SMBIOS 3.3 (0x5C bytes): an 8 GiB DDR4-2667 SODIMM run at 2400 MT/s, in
 * array 0x1000, with five strings */
static raw ddr4_sodimm(void)
{
	raw r = {{0}, 0};

	r.b[0] = 17;
	put16(&r, 0x02, 0x0040);
	put16(&r, 0x04, 0x1000);
	put16(&r, 0x06, 0xfffe);
	put16(&r, 0x08, 64);
	put16(&r, 0x0a, 64);
	put16(&r, 0x0c, 8192);
	r.b[0x0e] = 0x0d; /* SODIMM */
	r.b[0x10] = 1;
	r.b[0x11] = 2;
	r.b[0x12] = 0x1a; /* DDR4 */
	put16(&r, 0x13, 0x0080);
	put16(&r, 0x15, 2667);
	r.b[0x17] = 3;
	r.b[0x18] = 4;
	r.b[0x19] = 0;
	r.b[0x1a] = 5;
	put16(&r, 0x20, 2400);
	strings(&r, 0x5c, "ChannelA-DIMM0", "BANK 0", "Samsung", "12345678", "M471A1K43CB1-CRC    ",
		NULL);
	return r;
}

/* Type 16 (SMBIOS 2.7, 0x17 bytes): use, error correction, sockets */
static raw array16(uint16_t handle, uint8_t use, uint8_t ecc, uint16_t devices)
{
	raw r = {{0}, 0};

	r.b[0] = 16;
	put16(&r, 0x02, handle);
	r.b[0x04] = 0x03; /* system board */
	r.b[0x05] = use;
	r.b[0x06] = ecc;
	put32(&r, 0x07, 0x02000000); /* 32 GiB in KiB */
	put16(&r, 0x0b, 0xfffe);
	put16(&r, 0x0d, devices);
	strings(&r, 0x17, NULL);
	return r;
}

static hw_smbios_memory_device device_of(const raw *r, int *ret)
{
	hw_smbios_memory_device d;
	hw_smbios_struct s;

	memset(&d, 0, sizeof(d));
	*ret = hw_smbios_parse(r->b, r->size, &s);
	if (*ret == 0)
		*ret = hw_smbios_read_memory_device(&s, &d);
	return d;
}

static void is_int(int64_t got, int64_t want, const char *what)
{
	ok(got == want, what);
	if (got != want)
		printf("#   got: %lld\n#   expected: %lld\n", (long long)got, (long long)want);
}

static void test_full(void)
{
	raw r = ddr4_sodimm();
	int rc;
	hw_smbios_memory_device d = device_of(&r, &rc);
	hw_memory_module *m = &d.module;

	ok(rc == 0, "type 17 of SMBIOS 3.3 parses");
	is_int(d.handle, 0x0040, "handle");
	ok(d.has_array_handle && d.array_handle == 0x1000, "array handle 0x04");
	ok(d.installed == HW_TRI_TRUE, "a size: a module is installed");
	is_int(m->size_bytes, 8LL << 30, "size 0x0C in MiB: 8 GiB");
	is_str(m->form_factor, "SODIMM", "form factor 0x0E 0Dh: SODIMM");
	is_str(m->locator, "ChannelA-DIMM0", "device locator 0x10");
	is_str(m->bank_locator, "BANK 0", "bank locator 0x11");
	is_str(m->type, "DDR4", "memory type 0x12 1Ah: DDR4");
	is_int(m->speed_mts, 2667, "speed 0x15");
	is_str(m->manufacturer, "Samsung", "manufacturer 0x17");
	is_str(m->serial, "12345678", "serial 0x18");
	is_str(m->part_number, "M471A1K43CB1-CRC", "part number 0x1A, trailing blanks trimmed");
	is_int(m->configured_speed_mts, 2400, "configured speed 0x20");
	hw_memory_module_done(m);
}

static void test_codes(void)
{
	static const struct {
		uint8_t code;
		const char *name;
	} types[] = {{0x18, "DDR3"},   {0x1a, "DDR4"}, {0x1e, "LPDDR4"}, {0x22, "DDR5"},
		     {0x23, "LPDDR5"}, {0x02, NULL},   {0x15, NULL},	 {0xff, NULL}},
	  forms[] = {{0x09, "DIMM"}, {0x0b, "Row of chips"}, {0x02, NULL}, {0x40, NULL}};
	char what[64];

	for (size_t i = 0; i < ELEMENTSOF(types); i++) {
		raw r = ddr4_sodimm();
		int rc;

		r.b[0x12] = types[i].code;
		hw_smbios_memory_device d = device_of(&r, &rc);
		snprintf(what, sizeof(what), "memory type %02Xh: %s", types[i].code,
			 types[i].name ? types[i].name : "null");
		is_str(d.module.type, types[i].name, what);
		hw_memory_module_done(&d.module);
	}
	for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
		raw r = ddr4_sodimm();
		int rc;

		r.b[0x0e] = forms[i].code;
		hw_smbios_memory_device d = device_of(&r, &rc);
		snprintf(what, sizeof(what), "form factor %02Xh: %s", forms[i].code,
			 forms[i].name ? forms[i].name : "null");
		is_str(d.module.form_factor, forms[i].name, what);
		hw_memory_module_done(&d.module);
	}
}

/* size word, extended size: the bytes they mean (-1 unknown), and whether installed */
static void test_sizes(void)
{
	static const struct {
		uint16_t size;
		uint32_t ext;
		int64_t bytes;
		hw_tri installed;
		const char *what;
	} cases[] = {
	    {0, 0, -1, HW_TRI_FALSE, "size 0: no module installed"},
	    {0xffff, 0, -1, HW_TRI_TRUE, "size FFFFh: installed, size unknown"},
	    {0x8000 | 512, 0, 512LL << 10, HW_TRI_TRUE, "bit 15 set: 512 KiB"},
	    {32767 - 1, 0, 32766LL << 20, HW_TRI_TRUE, "7FFEh: 32766 MiB"},
	    {0x7fff, 65536, 64LL << 30, HW_TRI_TRUE, "7FFFh: extended size 1Ch, 64 GiB"},
	    {0x7fff, 0x80000000u | 131072, 128LL << 30, HW_TRI_TRUE,
	     "extended size: bit 31 is reserved"},
	    {0x7fff, 0, -1, HW_TRI_TRUE, "7FFFh, extended size 0: unknown"},
	    {0x8000, 0, -1, HW_TRI_TRUE, "8000h, 0 KiB: unknown (found by fuzz-smbios)"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		raw r = ddr4_sodimm();
		int rc;

		put16(&r, 0x0c, cases[i].size);
		put32(&r, 0x1c, cases[i].ext);
		hw_smbios_memory_device d = device_of(&r, &rc);
		ok(d.installed == cases[i].installed, cases[i].what);
		is_int(d.module.size_bytes, cases[i].bytes, cases[i].what);
		hw_memory_module_done(&d.module);
	}
}

static void test_extended_speed(void)
{
	raw r = ddr4_sodimm();
	int rc;

	r.b[0x12] = 0x22;
	put16(&r, 0x15, 0xffff);
	put32(&r, 0x54, 8800);
	put16(&r, 0x20, 0xffff);
	put32(&r, 0x58, 7200);
	hw_smbios_memory_device d = device_of(&r, &rc);
	is_int(d.module.speed_mts, 8800, "speed FFFFh: extended speed 0x54 (SMBIOS 3.3)");
	is_int(d.module.configured_speed_mts, 7200, "configured FFFFh: extended 0x58");
	hw_memory_module_done(&d.module);

	put16(&r, 0x15, 0);
	put16(&r, 0x20, 0);
	d = device_of(&r, &rc);
	is_int(d.module.speed_mts, -1, "speed 0: unknown");
	is_int(d.module.configured_speed_mts, -1, "configured speed 0: unknown");
	hw_memory_module_done(&d.module);
}

/* Older SMBIOS versions end the structure earlier: fields past the length are unknown,
 * and the strings start right after it. */
static void test_short(void)
{
	raw r = ddr4_sodimm();
	int rc;

	/* SMBIOS 2.3: 0x1B bytes, no extended size, no configured speed */
	put16(&r, 0x0c, 0x7fff);
	strings(&r, 0x1b, "DIMM 1", "BANK 1", "Kingston", "2A3B4C5D", "KVR16N11/8", NULL);
	hw_smbios_memory_device d = device_of(&r, &rc);
	ok(rc == 0 && d.installed == HW_TRI_TRUE, "SMBIOS 2.3 structure parses");
	is_int(d.module.size_bytes, -1, "7FFFh without the extended size field: unknown");
	is_int(d.module.configured_speed_mts, -1, "no configured speed field before 2.7");
	is_int(d.module.speed_mts, 2667, "speed 0x15 is there in 2.3");
	is_str(d.module.part_number, "KVR16N11/8", "strings follow the shorter area");
	hw_memory_module_done(&d.module);

	/* SMBIOS 2.1/2.2: 0x15 bytes, no speed, no manufacturer, serial or part number */
	put16(&r, 0x0c, 4096);
	strings(&r, 0x15, "DIMM0", "BANK0", NULL);
	d = device_of(&r, &rc);
	is_int(d.module.speed_mts, -1, "SMBIOS 2.1: no speed");
	is_str(d.module.manufacturer, NULL, "SMBIOS 2.1: no manufacturer");
	is_str(d.module.serial, NULL, "SMBIOS 2.1: no serial");
	is_str(d.module.part_number, NULL, "SMBIOS 2.1: no part number");
	is_str(d.module.locator, "DIMM0", "SMBIOS 2.1: locator");
	is_int(d.module.size_bytes, 4LL << 30, "SMBIOS 2.1: size");
	hw_memory_module_done(&d.module);

	/* cut before the size: whether a module is there is not said */
	strings(&r, 0x0c, NULL);
	d = device_of(&r, &rc);
	ok(rc == 0 && d.installed == HW_TRI_UNKNOWN, "no size field: installed unknown");
	hw_memory_module_done(&d.module);
	/* a size word cut in half */
	strings(&r, 0x0d, NULL);
	d = device_of(&r, &rc);
	ok(d.installed == HW_TRI_UNKNOWN, "half a size field: installed unknown");
	hw_memory_module_done(&d.module);
}

static void test_bad_headers(void)
{
	hw_smbios_struct s;
	raw r = ddr4_sodimm();

	ok(hw_smbios_parse(r.b, 3, &s) == -EBADMSG, "3 bytes: no header");
	ok(hw_smbios_parse(NULL, 0, &s) == -EBADMSG, "no bytes");
	r.b[1] = 3;
	ok(hw_smbios_parse(r.b, r.size, &s) == -EBADMSG, "length 3 < header");
	r.b[1] = 0x5c;
	ok(hw_smbios_parse(r.b, 0x5b, &s) == -EBADMSG, "length beyond the bytes");
	ok(hw_smbios_parse(r.b, 0x5c, &s) == 0, "formatted area without string set parses");
	ok(hw_smbios_string(&s, 0x10) == NULL, "... and its strings are missing");
	s.type = 16;
	hw_smbios_memory_device d;
	ok(hw_smbios_read_memory_device(&s, &d) == -EINVAL, "type 16 is not a memory device");
	hw_smbios_memory_array a;
	s.type = 17;
	ok(hw_smbios_read_memory_array(&s, &a) == -EINVAL, "type 17 is not a memory array");
}

static void test_strings(void)
{
	static const char *const placeholders[] = {
	    "Not Specified", "Unknown",	       "NO DIMM",    "    ",	"SerNum0",
	    "PartNum12",     "Manufacturer00", "Empty",	     "[Empty]", "00000000",
	    "FFFFFFFFFFFF",  "Undefined",      "0x00000000",
	};
	char what[64];
	int rc;

	for (size_t i = 0; i < ELEMENTSOF(placeholders); i++) {
		raw r = ddr4_sodimm();

		strings(&r, 0x5c, placeholders[i], "BANK 0", placeholders[i], placeholders[i],
			placeholders[i], NULL);
		hw_smbios_memory_device d = device_of(&r, &rc);
		snprintf(what, sizeof(what), "\"%s\" is no value", placeholders[i]);
		ok(!d.module.locator && !d.module.manufacturer && !d.module.serial &&
		       !d.module.part_number,
		   what);
		hw_memory_module_done(&d.module);
	}

	raw r = ddr4_sodimm();
	/* index 0: no string; an index past the set; an index into a set cut short */
	r.b[0x17] = 0;
	r.b[0x18] = 9;
	hw_smbios_memory_device d = device_of(&r, &rc);
	is_str(d.module.manufacturer, NULL, "string index 0: none");
	is_str(d.module.serial, NULL, "string index past the set: none");
	is_str(d.module.part_number, "M471A1K43CB1-CRC", "the others are still read");
	hw_memory_module_done(&d.module);

	/* Apple's JEDEC manufacturer and hex-encoded part number are values; its zero serial
	 * is not */
	r = ddr4_sodimm();
	strings(&r, 0x5c, "DIMM0", "BANK 0", "0x80CE", "0x00000000",
		"0x4B3445424533303445422D45474347202020", NULL);
	d = device_of(&r, &rc);
	is_str(d.module.manufacturer, "0x80CE", "a JEDEC id in hex is a manufacturer");
	is_str(d.module.serial, NULL, "\"0x00000000\" is no serial");
	is_str(d.module.part_number, "0x4B3445424533303445422D45474347202020",
	       "a part number in hex is kept as it is");
	hw_memory_module_done(&d.module);

	r = ddr4_sodimm();
	r.size -= 8; /* the last string loses its end, and the double NUL */
	d = device_of(&r, &rc);
	is_str(d.module.part_number, NULL, "an unterminated string: none");
	is_str(d.module.serial, "12345678", "the strings before it are read");
	hw_memory_module_done(&d.module);

	r = ddr4_sodimm();
	strings(&r, 0x5c, "DIMM\001A", "", NULL); /* an empty string ends the set */
	r.b[0x11] = 2;
	d = device_of(&r, &rc);
	is_str(d.module.locator, "DIMM?A", "control characters become '?'");
	is_str(d.module.bank_locator, NULL, "nothing after the double NUL");
	hw_memory_module_done(&d.module);
}

static void summarize(const raw *raws, size_t n, hw_memory *mem)
{
	hw_smbios_struct s[16];

	memset(mem, 0, sizeof(*mem));
	mem->slots_total = mem->slots_used = HW_UNKNOWN;
	mem->ecc = HW_TRI_UNKNOWN;
	for (size_t i = 0; i < n; i++)
		if (hw_smbios_parse(raws[i].b, raws[i].size, &s[i]) < 0)
			printf("# structure %zu does not parse\n", i);
	if (hw_smbios_memory(s, n, mem) < 0)
		printf("# hw_smbios_memory failed\n");
}

static void test_summary(void)
{
	raw raws[8];
	hw_memory mem;
	static const struct {
		uint8_t code;
		const char *name;
		hw_tri ecc;
	} eccs[] = {{0x03, "none", HW_TRI_FALSE},      {0x04, "parity", HW_TRI_FALSE},
		    {0x05, "single-bit", HW_TRI_TRUE}, {0x06, "multi-bit", HW_TRI_TRUE},
		    {0x07, "crc", HW_TRI_TRUE},	       {0x01, "other", HW_TRI_UNKNOWN},
		    {0x02, NULL, HW_TRI_UNKNOWN},      {0x09, NULL, HW_TRI_UNKNOWN}};

	/* a 4-socket board (array 0x1000, multi-bit ECC), two modules, two empty sockets,
	 * and a video memory array with a device of its own */
	raws[0] = array16(0x1000, 0x03, 0x06, 4);
	raws[1] = array16(0x2000, 0x04, 0x03, 1);
	for (int i = 2; i < 7; i++)
		raws[i] = ddr4_sodimm();
	put16(&raws[3], 0x0c, 16384);
	put16(&raws[4], 0x0c, 0);
	strings(&raws[4], 0x5c, "ChannelB-DIMM1", "BANK 3", "NO DIMM", "NO DIMM", "NO DIMM", NULL);
	put16(&raws[5], 0x0c, 0);
	put16(&raws[6], 0x04, 0x2000);
	summarize(raws, 7, &mem);
	is_int((int64_t)mem.n_modules, 2, "modules: the two installed");
	ok(mem.modules && mem.modules[1].size_bytes == 16LL << 30, "the second is 16 GiB");
	is_int(mem.slots_total, 4, "slots_total: type 16's number of devices");
	is_int(mem.slots_used, 2, "slots_used: the installed ones");
	ok(mem.ecc == HW_TRI_TRUE, "multi-bit ECC: ecc");
	is_str(mem.ecc_type, "multi-bit", "ecc_type multi-bit");
	hw_memory_done(&mem);

	for (size_t i = 0; i < ELEMENTSOF(eccs); i++) {
		char what[64];

		raws[0] = array16(0x1000, 0x03, eccs[i].code, 2);
		summarize(raws, 1, &mem);
		snprintf(what, sizeof(what), "error correction %02Xh: ecc_type %s", eccs[i].code,
			 eccs[i].name ? eccs[i].name : "null");
		is_str(mem.ecc_type, eccs[i].name, what);
		ok(mem.ecc == eccs[i].ecc, what);
		ok(mem.modules == NULL && mem.slots_total == 2, "type 16 alone: slots, no modules");
		hw_memory_done(&mem);
	}

	/* no type 16: the devices listed are the sockets; none installed: modules [] */
	raws[0] = ddr4_sodimm();
	raws[1] = ddr4_sodimm();
	put16(&raws[0], 0x0c, 0);
	put16(&raws[1], 0x0c, 0);
	summarize(raws, 2, &mem);
	ok(mem.modules && mem.n_modules == 0, "all sockets empty: modules [] (not null)");
	is_int(mem.slots_total, 2, "no type 16: slots_total = devices listed");
	is_int(mem.slots_used, 0, "slots_used 0");
	ok(mem.ecc == HW_TRI_UNKNOWN && !mem.ecc_type, "no type 16: ECC unknown");
	hw_memory_done(&mem);

	/* a type 16 that declares fewer sockets than the devices it has */
	raws[0] = array16(0x1000, 0x03, 0x03, 1);
	raws[1] = ddr4_sodimm();
	raws[2] = ddr4_sodimm();
	summarize(raws, 3, &mem);
	is_int(mem.slots_total, 2, "type 16 says 1 socket, 2 devices listed: 2");
	hw_memory_done(&mem);

	summarize(raws, 0, &mem);
	ok(!mem.modules && mem.slots_total == HW_UNKNOWN && mem.slots_used == HW_UNKNOWN,
	   "no structures: all unknown");
	hw_memory_done(&mem);
}

int main(void)
{
	test_full();
	test_codes();
	test_sizes();
	test_extended_speed();
	test_short();
	test_bad_headers();
	test_strings();
	test_summary();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
