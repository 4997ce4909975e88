/* SPDX-License-Identifier: MIT */
/* Rendering a JSON tree as JSON, as YAML (basic/yaml-emit.c), and an inventory as a table. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "basic/yaml-emit.h"
#include "inventory/output.h"

int output_json(FILE *f, json_object *o)
{
	const char *s = json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s)
		return -ENOMEM;
	/* json-c 0.16 pretty-prints an empty array as "[", newline, indent, "]": write "[]"
	 * (outside string values only) */
	bool in_string = false;
	for (const char *p = s; *p; p++) {
		if (in_string) {
			if (*p == '\\' && p[1]) {
				fputc(*p++, f);
			} else if (*p == '"')
				in_string = false;
		} else if (*p == '"') {
			in_string = true;
		} else if (*p == '[' || *p == '{') {
			const char *q = p + 1;
			while (*q == '\n' || *q == ' ')
				q++;
			if ((*p == '[' && *q == ']') || (*p == '{' && *q == '}')) {
				fputc(*p, f);
				p = q;
			}
		}
		fputc(*p, f);
	}
	if (fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}

/* --- YAML --- */

int output_yaml(FILE *f, json_object *o)
{
	return yaml_write_json(f, o);
}

/* --- table --- */

static const char *s_or(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return dflt;
	return json_object_get_string(v);
}

static int64_t i_or(json_object *o, const char *key, int64_t dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v ||
	    json_object_get_type(v) != json_type_int)
		return dflt;
	return json_object_get_int64(v);
}

/* An integer as text, "-" when unknown. */
static const char *int_text(json_object *o, const char *key, char *buf, size_t n)
{
	int64_t v = i_or(o, key, -1);

	if (v < 0)
		return "-";
	snprintf(buf, n, "%" PRId64, v);
	return buf;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static int tri_get(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v ? json_object_get_boolean(v) : -1;
}

/* Human size in binary units, as lsblk prints them. */
void output_format_bytes(int64_t b, char *buf, size_t n)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)b;
	size_t u = 0;

	if (b < 0) {
		snprintf(buf, n, "-");
		return;
	}
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%" PRId64 " B", b);
	else
		snprintf(buf, n, "%.1f %s", v, units[u]);
}

typedef struct table {
	size_t cols;
	size_t rows;
	char **cells; /* rows x cols, row 0 is the header */
} table;

static void table_add(table *t, const char *const *cells)
{
	char **nc = reallocarray(t->cells, (t->rows + 1) * t->cols, sizeof(char *));

	if (!nc)
		return;
	t->cells = nc;
	for (size_t c = 0; c < t->cols; c++)
		t->cells[t->rows * t->cols + c] = strdup(cells[c] ? cells[c] : "-");
	t->rows++;
}

static void table_print(FILE *f, table *t)
{
	size_t w[16] = {0};

	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->cols && c < 16; c++) {
			const char *s = t->cells[r * t->cols + c];
			size_t l = s ? strlen(s) : 0;
			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->rows; r++) {
		fputs("  ", f);
		for (size_t c = 0; c < t->cols; c++) {
			const char *s = t->cells[r * t->cols + c];
			if (c + 1 == t->cols)
				fprintf(f, "%s\n", s ? s : "");
			else
				fprintf(f, "%-*s  ", (int)w[c], s ? s : "");
		}
	}
	for (size_t i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = 0;
}

static const char *yes_no(int t)
{
	return t < 0 ? "unknown" : t ? "yes" : "no";
}

int output_inventory_table(FILE *f, json_object *inv, const hw_inventory *hw)
{
	json_object *sys = get(inv, "system"), *cpu = get(inv, "cpu"), *mem = get(inv, "memory");
	json_object *boot = get(inv, "boot"), *arr;
	char b1[32], b2[32], line[512];

	fprintf(f, "Host     %s  (machine-id %s)\n", s_or(inv, "hostname", "-"),
		s_or(inv, "machine_id", "-"));
	fprintf(f, "System   %s %s (%s)  serial %s  sku %s  chassis %s  virtual %s\n",
		s_or(sys, "vendor", "-"), s_or(sys, "product", "-"),
		s_or(sys, "family", s_or(sys, "version", "-")), s_or(sys, "serial", "-"),
		s_or(sys, "sku", "-"), s_or(sys, "chassis", "-"), yes_no(tri_get(sys, "virtual")));
	fprintf(f, "Board    %s %s  BIOS %s  date %s  release %s\n", s_or(sys, "board_vendor", "-"),
		s_or(sys, "board_name", "-"), s_or(sys, "bios_version", "-"),
		s_or(sys, "bios_date", "-"), s_or(sys, "bios_release", "-"));
	if (i_or(boot, "uefi_bitness", -1) > 0)
		snprintf(b1, sizeof(b1), " %" PRId64 "-bit", i_or(boot, "uefi_bitness", -1));
	else
		b1[0] = '\0';
	fprintf(f, "Boot     %s%s  PXE MAC %s\n", s_or(boot, "mode", "-"), b1,
		s_or(boot, "pxe_mac", "-"));
	fprintf(f,
		"CPU      %s  %s/%s  sockets %" PRId64 ", cores %" PRId64 ", threads %" PRId64 "\n",
		s_or(cpu, "model", s_or(cpu, "vendor", "-")), s_or(cpu, "arch", "-"),
		s_or(cpu, "microarch_level", "-"), i_or(cpu, "sockets", -1), i_or(cpu, "cores", -1),
		i_or(cpu, "threads", -1));
	fprintf(f, "CPU ID   family %s, model %s, stepping %s, microcode %s\n",
		int_text(cpu, "family", b1, sizeof(b1)), int_text(cpu, "model_id", b2, sizeof(b2)),
		int_text(cpu, "stepping", line, sizeof(line)), s_or(cpu, "microcode", "-"));
	line[0] = '\0';
	arr = get(cpu, "flags_of_interest");
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		size_t l = strlen(line);
		snprintf(line + l, sizeof(line) - l, "%s%s", l ? " " : "",
			 json_object_get_string(json_object_array_get_idx(arr, i)));
	}
	fprintf(f, "Flags    %s\n", line[0] ? line : "-");
	output_format_bytes(i_or(mem, "total_bytes", -1), b1, sizeof(b1));
	output_format_bytes(i_or(mem, "physical_bytes", -1), b2, sizeof(b2));
	fprintf(f, "Memory   %s usable, %s installed\n", b1, b2);

	table t = {.cols = 6};
	arr = get(inv, "gpus");
	fprintf(f, "\nGPUs (%zu)\n", arr ? json_object_array_length(arr) : 0);
	table_add(&t, (const char *[]){"PCI", "VENDOR", "MODEL", "MEMORY", "DRIVER", "BOOT-VGA"});
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *g = json_object_array_get_idx(arr, i);
		output_format_bytes(i_or(g, "memory_bytes", -1), b1, sizeof(b1));
		table_add(&t,
			  (const char *[]){s_or(g, "pci_address", NULL), s_or(g, "vendor", NULL),
					   s_or(g, "model", NULL), b1, s_or(g, "driver", NULL),
					   yes_no(tri_get(g, "boot_vga"))});
	}
	table_print(f, &t);

	t = (table){.cols = 10};
	arr = get(inv, "disks");
	fprintf(f, "\nDisks (%zu)\n", arr ? json_object_array_length(arr) : 0);
	/* SECTOR: logical/physical block size, as lsblk's LOG-SEC and PHY-SEC */
	table_add(&t, (const char *[]){"NAME", "SIZE", "TYPE", "TRAN", "MODEL", "SERIAL",
				       "FIRMWARE", "SECTOR", "WWN", "CONTENTS"});
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *d = json_object_array_get_idx(arr, i), *fs = get(d, "filesystems");
		int rot = tri_get(d, "rotational"), sig = tri_get(d, "has_signatures");
		char contents[256], sector[48], log[24], phy[24];

		output_format_bytes(i_or(d, "size_bytes", -1), b1, sizeof(b1));
		snprintf(sector, sizeof(sector), "%s/%s",
			 int_text(d, "logical_block_size", log, sizeof(log)),
			 int_text(d, "physical_block_size", phy, sizeof(phy)));
		if (sig < 0)
			snprintf(contents, sizeof(contents), "unknown (not probed)");
		else if (sig == 0)
			snprintf(contents, sizeof(contents), "blank");
		else {
			snprintf(contents, sizeof(contents), "%s", s_or(d, "partition_table", ""));
			for (size_t k = 0; fs && k < json_object_array_length(fs); k++) {
				json_object *x = json_object_array_get_idx(fs, k);
				size_t l = strlen(contents);
				snprintf(contents + l, sizeof(contents) - l, "%s%s:%s%s%s",
					 l ? " " : "", s_or(x, "device", "?"), s_or(x, "type", "?"),
					 get(x, "label") ? "=" : "", s_or(x, "label", ""));
			}
			if (!contents[0]) {
				json_object *sg = get(d, "signatures");
				snprintf(
				    contents, sizeof(contents), "signatures: %s",
				    sg ? json_object_to_json_string_ext(sg, JSON_C_TO_STRING_PLAIN)
				       : "?");
			}
		}
		table_add(&t,
			  (const char *[]){s_or(d, "name", NULL), b1,
					   rot < 0 ? "?"
					   : rot   ? "hdd"
						   : "ssd",
					   s_or(d, "transport", NULL), s_or(d, "model", NULL),
					   s_or(d, "serial", NULL), s_or(d, "firmware_rev", NULL),
					   sector, s_or(d, "wwn", NULL), contents});
	}
	table_print(f, &t);

	t = (table){.cols = 8};
	arr = get(inv, "nics");
	fprintf(f, "\nNetwork (%zu)\n", arr ? json_object_array_length(arr) : 0);
	table_add(&t, (const char *[]){"NAME", "MAC", "DRIVER", "SPEED", "DUPLEX", "LINK", "PCI",
				       "ADDRESSES"});
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *n = json_object_array_get_idx(arr, i), *ad = get(n, "addresses");
		int64_t sp = i_or(n, "speed_mbps", -1);
		char addrs[256] = "";

		if (sp > 0)
			snprintf(b1, sizeof(b1), "%" PRId64 " Mb/s", sp);
		else
			snprintf(b1, sizeof(b1), "-");
		for (size_t k = 0; ad && k < json_object_array_length(ad); k++) {
			size_t l = strlen(addrs);
			snprintf(addrs + l, sizeof(addrs) - l, "%s%s", l ? " " : "",
				 json_object_get_string(json_object_array_get_idx(ad, k)));
		}
		snprintf(line, sizeof(line), "%s%s%s", s_or(n, "link", "?"),
			 tri_get(n, "wireless") > 0 ? " wifi" : "",
			 tri_get(n, "virtual") > 0 ? " virtual" : "");
		table_add(&t, (const char *[]){s_or(n, "name", NULL), s_or(n, "mac", NULL),
					       s_or(n, "driver", NULL), b1, s_or(n, "duplex", NULL),
					       line, s_or(n, "pci_address", NULL),
					       ad ? (addrs[0] ? addrs : "none") : "-"});
	}
	table_print(f, &t);

	if (hw) {
		int r = output_health_table(f, hw);
		if (r < 0)
			return r;
	}
	arr = get(inv, "pci_devices");
	fprintf(f, "\nPCI devices: %zu\n", arr ? json_object_array_length(arr) : 0);
	arr = get(inv, "warnings");
	if (arr && json_object_array_length(arr) > 0) {
		fprintf(f, "\nWarnings (%zu)\n", json_object_array_length(arr));
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			fprintf(f, "  %s\n",
				json_object_get_string(json_object_array_get_idx(arr, i)));
	}
	return ferror(f) ? -EIO : 0;
}
