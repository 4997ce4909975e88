/* SPDX-License-Identifier: MIT */
/*
 * Memory modules, slots and ECC from SMBIOS types 16 (Physical Memory Array) and 17 (Memory
 * Device), as the kernel shows each structure in /sys/firmware/dmi/entries/T-I/raw (root
 * only). Offsets and codes are those of the SMBIOS Reference Specification (DMTF DSP0134,
 * 3.7): a structure is a formatted area (type, length, handle, fields) and a string set
 * after it, NUL-separated and ending in a double NUL; a string field holds a 1-based index
 * into the set, 0 for none. Fields beyond the structure's length (older SMBIOS versions)
 * are unknown.
 *
 * The parser takes bytes and does no I/O, so tests and the fuzzer feed it canned structures;
 * hw_smbios_memory_detect() reads the files.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "hw-internal.h"

/* Largest raw structure accepted: 255 bytes of formatted area and a string set that no
 * firmware makes this long. */
#define SMBIOS_RAW_MAX (64u * 1024)
/* Bounds on what one machine describes (a large server has 96 memory device sockets). */
#define SMBIOS_MAX_DEVICES 1024
#define SMBIOS_MAX_ARRAYS  64

int hw_smbios_parse(const void *raw, size_t size, hw_smbios_struct *ret)
{
	const uint8_t *p = raw;

	if (!p || size < 4 || p[1] < 4 || p[1] > size)
		return -EBADMSG;
	*ret = (hw_smbios_struct){.data = p, .length = p[1], .size = size, .type = p[0]};
	ret->handle = (uint16_t)(p[2] | p[3] << 8);
	return 0;
}

bool hw_smbios_u8(const hw_smbios_struct *s, size_t offset, uint8_t *ret)
{
	if (offset + 1 > s->length)
		return false;
	*ret = s->data[offset];
	return true;
}

bool hw_smbios_u16(const hw_smbios_struct *s, size_t offset, uint16_t *ret)
{
	if (offset + 2 > s->length)
		return false;
	*ret = (uint16_t)(s->data[offset] | s->data[offset + 1] << 8);
	return true;
}

bool hw_smbios_u32(const hw_smbios_struct *s, size_t offset, uint32_t *ret)
{
	if (offset + 4 > s->length)
		return false;
	*ret = (uint32_t)s->data[offset] | (uint32_t)s->data[offset + 1] << 8 |
	       (uint32_t)s->data[offset + 2] << 16 | (uint32_t)s->data[offset + 3] << 24;
	return true;
}

/* Values firmware leaves in memory device strings for "nothing here", beyond the generic
 * list of hw_clean_ident(): empty sockets ("NO DIMM", "Empty"), the numbered fillers of
 * reference firmware ("SerNum0", "PartNum1", "Manufacturer00", "AssetTagNum3") and a
 * number of zeros in hex (Apple's serials, "0x00000000"). */
static bool module_placeholder(const char *s)
{
	static const char *const exact[] = {"NO DIMM",	 "Empty",	  "[Empty]",
					    "Undefined", "Not Installed", "No Module Installed"};
	static const char *const numbered[] = {"SerNum", "PartNum", "Manufacturer", "AssetTagNum",
					       "Array"};

	for (size_t i = 0; i < ELEMENTSOF(exact); i++)
		if (strcasecmp(s, exact[i]) == 0)
			return true;
	if (strncasecmp(s, "0x", 2) == 0 && s[2] && strspn(s + 2, "0") == strlen(s + 2))
		return true;
	for (size_t i = 0; i < ELEMENTSOF(numbered); i++) {
		size_t n = strlen(numbered[i]);
		const char *d = s + n;

		if (strncasecmp(s, numbered[i], n) != 0 || !*d)
			continue;
		while (isdigit((unsigned char)*d))
			d++;
		if (!*d)
			return true;
	}
	return false;
}

/* String number `index` of the set after the formatted area, or NULL when the index is 0,
 * names no string, or the string is not terminated inside the structure. */
static const char *string_at(const hw_smbios_struct *s, uint8_t index, size_t *ret_len)
{
	size_t pos = s->length;

	if (index == 0)
		return NULL;
	for (uint8_t i = 1;; i++) {
		const uint8_t *end;

		if (pos >= s->size)
			return NULL;
		end = memchr(s->data + pos, '\0', s->size - pos);
		if (!end)
			return NULL;
		/* an empty string ends the set: its NUL is the second of the double NUL */
		if (end == s->data + pos)
			return NULL;
		if (i == index) {
			*ret_len = (size_t)(end - (s->data + pos));
			return (const char *)s->data + pos;
		}
		pos = (size_t)(end - s->data) + 1;
	}
}

char *hw_smbios_string(const hw_smbios_struct *s, size_t offset)
{
	_cleanup_free_ char *clean = NULL;
	const char *str;
	size_t len = 0;
	uint8_t index;

	if (!hw_smbios_u8(s, offset, &index))
		return NULL;
	str = string_at(s, index, &len);
	if (!str)
		return NULL;
	clean = hw_clean_ident(str, len);
	if (!clean || module_placeholder(clean))
		return NULL;
	return TAKE_PTR(clean);
}

/* DSP0134 7.17.2, as dmidecode names the codes; 02h "Unknown" is no name. */
static const char *memory_type_name(uint8_t code)
{
	static const char *const names[] = {
	    [0x01] = "Other",	     [0x03] = "DRAM",	[0x04] = "EDRAM",
	    [0x05] = "VRAM",	     [0x06] = "SRAM",	[0x07] = "RAM",
	    [0x08] = "ROM",	     [0x09] = "Flash",	[0x0a] = "EEPROM",
	    [0x0b] = "FEPROM",	     [0x0c] = "EPROM",	[0x0d] = "CDRAM",
	    [0x0e] = "3DRAM",	     [0x0f] = "SDRAM",	[0x10] = "SGRAM",
	    [0x11] = "RDRAM",	     [0x12] = "DDR",	[0x13] = "DDR2",
	    [0x14] = "DDR2 FB-DIMM", [0x18] = "DDR3",	[0x19] = "FBD2",
	    [0x1a] = "DDR4",	     [0x1b] = "LPDDR",	[0x1c] = "LPDDR2",
	    [0x1d] = "LPDDR3",	     [0x1e] = "LPDDR4", [0x1f] = "Logical non-volatile device",
	    [0x20] = "HBM",	     [0x21] = "HBM2",	[0x22] = "DDR5",
	    [0x23] = "LPDDR5",	     [0x24] = "HBM3",
	};

	return code < ELEMENTSOF(names) ? names[code] : NULL;
}

/* DSP0134 7.17.1; 02h "Unknown" is no name. */
static const char *form_factor_name(uint8_t code)
{
	static const char *const names[] = {
	    [0x01] = "Other",
	    [0x03] = "SIMM",
	    [0x04] = "SIP",
	    [0x05] = "Chip",
	    [0x06] = "DIP",
	    [0x07] = "ZIP",
	    [0x08] = "Proprietary Card",
	    [0x09] = "DIMM",
	    [0x0a] = "TSOP",
	    [0x0b] = "Row of chips",
	    [0x0c] = "RIMM",
	    [0x0d] = "SODIMM",
	    [0x0e] = "SRIMM",
	    [0x0f] = "FB-DIMM",
	    [0x10] = "Die",
	};

	return code < ELEMENTSOF(names) ? names[code] : NULL;
}

/* DSP0134 7.7.3 (Memory Array Error Correction Types): the name, and whether it corrects */
static const char *ecc_name(uint8_t code, hw_tri *ret_corrects)
{
	static const struct {
		const char *name;
		hw_tri corrects;
	} types[] = {
	    [0x01] = {"other", HW_TRI_UNKNOWN},	  [0x02] = {NULL, HW_TRI_UNKNOWN},
	    [0x03] = {"none", HW_TRI_FALSE},	  [0x04] = {"parity", HW_TRI_FALSE},
	    [0x05] = {"single-bit", HW_TRI_TRUE}, [0x06] = {"multi-bit", HW_TRI_TRUE},
	    [0x07] = {"crc", HW_TRI_TRUE},
	};

	if (code >= ELEMENTSOF(types) || code == 0) {
		*ret_corrects = HW_TRI_UNKNOWN;
		return NULL;
	}
	*ret_corrects = types[code].corrects;
	return types[code].name;
}

int hw_smbios_read_memory_array(const hw_smbios_struct *s, hw_smbios_memory_array *ret)
{
	uint8_t use, ecc;
	uint16_t devices;

	if (s->type != 16)
		return -EINVAL;
	*ret = (hw_smbios_memory_array){
	    .handle = s->handle, .use = -1, .error_correction = -1, .devices = HW_UNKNOWN};
	if (hw_smbios_u8(s, 0x05, &use) && use != 0x02)
		ret->use = use;
	if (hw_smbios_u8(s, 0x06, &ecc) && ecc != 0x02)
		ret->error_correction = ecc;
	if (hw_smbios_u16(s, 0x0d, &devices))
		ret->devices = devices;
	return 0;
}

/* Size field 0x0C: 0 no module, FFFFh unknown, 7FFFh see the extended size at 1Ch (MiB,
 * bits 30:0), bit 15 set: KiB, else MiB. */
static void module_size(const hw_smbios_struct *s, hw_smbios_memory_device *d)
{
	uint16_t size;
	uint32_t ext;

	if (!hw_smbios_u16(s, 0x0c, &size))
		return;
	if (size == 0) {
		d->installed = HW_TRI_FALSE;
		return;
	}
	d->installed = HW_TRI_TRUE;
	if (size == 0xffff)
		return;
	if (size == 0x7fff) {
		if (hw_smbios_u32(s, 0x1c, &ext) && (ext & 0x7fffffff))
			d->module.size_bytes = (int64_t)(ext & 0x7fffffff) << 20;
		return;
	}
	/* 8000h would be a module of 0 KiB: a size not said */
	if (size & 0x8000) {
		if (size & 0x7fff)
			d->module.size_bytes = (int64_t)(size & 0x7fff) << 10;
	} else
		d->module.size_bytes = (int64_t)size << 20;
}

/* A speed word (MT/s): 0 unknown, FFFFh: the extended speed (bits 30:0) at ext_offset. */
static int64_t module_speed(const hw_smbios_struct *s, size_t offset, size_t ext_offset)
{
	uint16_t speed;
	uint32_t ext;

	if (!hw_smbios_u16(s, offset, &speed) || speed == 0)
		return HW_UNKNOWN;
	if (speed != 0xffff)
		return speed;
	if (!hw_smbios_u32(s, ext_offset, &ext) || (ext & 0x7fffffff) == 0)
		return HW_UNKNOWN;
	return ext & 0x7fffffff;
}

int hw_smbios_read_memory_device(const hw_smbios_struct *s, hw_smbios_memory_device *ret)
{
	hw_smbios_memory_device d = {.handle = s->handle, .installed = HW_TRI_UNKNOWN};
	hw_memory_module *m = &d.module;
	uint8_t code;

	if (s->type != 17)
		return -EINVAL;
	m->size_bytes = HW_UNKNOWN;
	d.has_array_handle = hw_smbios_u16(s, 0x04, &d.array_handle);
	module_size(s, &d);
	/* as elsewhere in hw/, a string that cannot be copied is an unknown value */
	if (hw_smbios_u8(s, 0x0e, &code))
		m->form_factor = hw_strdup(form_factor_name(code));
	if (hw_smbios_u8(s, 0x12, &code))
		m->type = hw_strdup(memory_type_name(code));
	m->speed_mts = module_speed(s, 0x15, 0x54);
	m->configured_speed_mts = module_speed(s, 0x20, 0x58);
	m->locator = hw_smbios_string(s, 0x10);
	m->bank_locator = hw_smbios_string(s, 0x11);
	m->manufacturer = hw_smbios_string(s, 0x17);
	m->serial = hw_smbios_string(s, 0x18);
	m->part_number = hw_smbios_string(s, 0x1a);
	*ret = d;
	return 0;
}

/* The array a device belongs to, NULL when its handle names none of them. */
static const hw_smbios_memory_array *array_of(const hw_smbios_memory_array *arrays, size_t n,
					      const hw_smbios_memory_device *d)
{
	for (size_t i = 0; d->has_array_handle && i < n; i++)
		if (arrays[i].handle == d->array_handle)
			return &arrays[i];
	return NULL;
}

static void memory_arrays(const hw_smbios_memory_array *arrays, size_t n, hw_memory *mem,
			  int64_t *ret_slots)
{
	bool have_ecc = false;

	*ret_slots = HW_UNKNOWN;
	for (size_t i = 0; i < n; i++) {
		const hw_smbios_memory_array *a = &arrays[i];

		if (a->use != 0x03)
			continue;
		if (a->devices != HW_UNKNOWN)
			*ret_slots = (*ret_slots == HW_UNKNOWN ? 0 : *ret_slots) + a->devices;
		/* one array a socket, all alike: the first that says is the machine's */
		if (!have_ecc && a->error_correction >= 0) {
			mem->ecc_type =
			    hw_strdup(ecc_name((uint8_t)a->error_correction, &mem->ecc));
			have_ecc = true;
		}
	}
}

int hw_smbios_memory(const hw_smbios_struct *structs, size_t n, hw_memory *mem)
{
	hw_smbios_memory_array arrays[SMBIOS_MAX_ARRAYS];
	hw_smbios_memory_device *devices = NULL;
	size_t n_arrays = 0, n_devices = 0, n_installed = 0;
	int64_t slots;

	devices = calloc(SMBIOS_MAX_DEVICES, sizeof(*devices));
	if (!devices)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (structs[i].type == 16 && n_arrays < ELEMENTSOF(arrays))
			n_arrays +=
			    hw_smbios_read_memory_array(&structs[i], &arrays[n_arrays]) == 0;
	}
	for (size_t i = 0; i < n && n_devices < SMBIOS_MAX_DEVICES; i++) {
		hw_smbios_memory_device *d = &devices[n_devices];
		const hw_smbios_memory_array *a;

		if (structs[i].type != 17 || hw_smbios_read_memory_device(&structs[i], d) < 0)
			continue;
		a = array_of(arrays, n_arrays, d);
		/* video memory, flash, cache: not the system's RAM; and a structure too short
		 * to say whether a module is there is no device */
		if ((a && a->use != 0x03 && a->use != -1) || d->installed == HW_TRI_UNKNOWN) {
			hw_memory_module_done(&d->module);
			continue;
		}
		n_devices++;
		n_installed += d->installed == HW_TRI_TRUE;
	}

	memory_arrays(arrays, n_arrays, mem, &slots);
	if (n_devices > 0 || slots != HW_UNKNOWN) {
		/* the sockets the arrays declare, or the devices listed where those are more */
		mem->slots_total =
		    slots == HW_UNKNOWN || slots < (int64_t)n_devices ? (int64_t)n_devices : slots;
	}
	if (n_devices > 0) {
		mem->modules = calloc(n_installed ? n_installed : 1, sizeof(*mem->modules));
		if (!mem->modules) {
			for (size_t i = 0; i < n_devices; i++)
				hw_memory_module_done(&devices[i].module);
			free(devices);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n_devices; i++) {
			if (devices[i].installed == HW_TRI_TRUE)
				mem->modules[mem->n_modules++] = devices[i].module;
			else
				hw_memory_module_done(&devices[i].module);
		}
		mem->slots_used = (int64_t)n_installed;
	}
	free(devices);
	return 0;
}

/*
 * Types 16 and 17 from /sys/firmware/dmi/entries. The raw files are root's (0400): without
 * permission the modules stay unknown and one warning says why. No entries directory (no
 * SMBIOS: arm64 boards with a device tree, Firecracker) is no warning.
 */
int hw_smbios_memory_detect(hw_ctx *ctx, hw_memory *mem)
{
	static const char dir[] = "sys/firmware/dmi/entries";
	_cleanup_(hw_strv_freep) char **names = NULL;
	hw_smbios_struct *structs = NULL;
	char **raws = NULL;
	size_t n = 0, n_names;
	int r;

	r = hw_read_dir(ctx, dir, &names);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		if (r != -ENOENT)
			hw_warn_errno(ctx, dir, r);
		return 0;
	}
	n_names = hw_strv_length(names);
	structs = calloc(n_names ? n_names : 1, sizeof(*structs));
	raws = calloc(n_names ? n_names : 1, sizeof(*raws));
	if (!structs || !raws) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_names; i++) {
		_cleanup_free_ char *path = NULL;
		size_t len = 0;

		if (strncmp(names[i], "16-", 3) != 0 && strncmp(names[i], "17-", 3) != 0)
			continue;
		path = hw_asprintf("%s/%s/raw", dir, names[i]);
		if (!path) {
			r = -ENOMEM;
			goto out;
		}
		r = hw_read_file(ctx, path, SMBIOS_RAW_MAX, &raws[n], &len);
		if (r == -ENOMEM)
			goto out;
		if (r == -EACCES || r == -EPERM) {
			hw_warn(ctx, path, "%s: memory modules are known to root only",
				strerror(-r));
			r = 0;
			goto out;
		}
		if (r < 0) {
			hw_warn_errno(ctx, path, r);
			continue;
		}
		if (hw_smbios_parse(raws[n], len, &structs[n]) < 0 ||
		    structs[n].type != (uint8_t)(names[i][1] == '6' ? 16 : 17)) {
			hw_warn(ctx, path, "not an SMBIOS type %.2s structure, ignored", names[i]);
			free(raws[n]);
			raws[n] = NULL;
			continue;
		}
		n++;
	}
	r = hw_smbios_memory(structs, n, mem);
out:
	for (size_t i = 0; raws && i < n_names; i++)
		free(raws[i]);
	free(raws);
	free(structs);
	return r;
}
