/* SPDX-License-Identifier: MIT */
/*
 * Inventory JSON (schema node-agent/inventory/v1) -> hw_inventory, for `plan --inventory`
 * and fleet reports. Strict about types, lenient about absent optional keys (older or
 * newer writers); every problem names the file and the JSON path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inventory/inventory-json.h"

#define INVENTORY_MAX_BYTES (16 * 1024 * 1024)
/* Sizes and counts above 2^60 (1 EiB) are junk, and would overflow fleet totals. */
#define INVENTORY_MAX_INT (INT64_C(1) << 60)
/* Far above any machine (a PCI domain holds 65536 functions), and it keeps what reads
 * inventories (diff matches parts pairwise) fast on hostile input. */
#define INVENTORY_MAX_PARTS 4096
#define INVENTORY_MAX_PCI   65536

typedef struct reader {
	const char *file;
	const na_log *log;
	int n_errors;
} reader;

__attribute__((format(printf, 3, 4))) static void rerr(reader *r, const char *jpath,
						       const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int k;

	if (r->n_errors++ >= 20 || !r->log)
		return;
	va_start(ap, fmt);
	k = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (k >= 0)
		na_logf(r->log, LOG_ERR, "%s: %s: %s", r->file, jpath, msg);
}

static bool is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, key, &v);
	return v;
}

static char *rstr(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);

	if (!v)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		rerr(r, where, "\"%s\" must be a string or null", key);
		return NULL;
	}
	return strdup(json_object_get_string(v));
}

static int64_t rint64(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);

	if (!v) /* absent or null: json-c gives NULL for both */
		return HW_UNKNOWN;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
		rerr(r, where, "\"%s\" must be a non-negative integer or null", key);
		return HW_UNKNOWN;
	}
	if (json_object_get_int64(v) > INVENTORY_MAX_INT) {
		rerr(r, where, "\"%s\" is out of range", key);
		return HW_UNKNOWN;
	}
	return json_object_get_int64(v);
}

static hw_tri rtri(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);

	if (!v)
		return HW_TRI_UNKNOWN;
	if (!json_object_is_type(v, json_type_boolean)) {
		rerr(r, where, "\"%s\" must be true, false or null", key);
		return HW_TRI_UNKNOWN;
	}
	return json_object_get_boolean(v) ? HW_TRI_TRUE : HW_TRI_FALSE;
}

static uint16_t rhex4(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);
	const char *s;
	char *end;
	unsigned long x;

	if (!v)
		return 0;
	s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
	/* strtoul alone would take "+fff" or " fff" */
	if (strlen(s) != 4 || strspn(s, "0123456789abcdefABCDEF") != 4) {
		rerr(r, where, "\"%s\" must be 4 hex digits", key);
		return 0;
	}
	x = strtoul(s, &end, 16);
	if (*end || x > 0xffff) {
		rerr(r, where, "\"%s\" must be 4 hex digits", key);
		return 0;
	}
	return (uint16_t)x;
}

static char **rstrv(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);
	char **out;
	size_t n;

	if (!v)
		return NULL;
	if (!json_object_is_type(v, json_type_array)) {
		rerr(r, where, "\"%s\" must be a list of strings or null", key);
		return NULL;
	}
	n = json_object_array_length(v);
	out = calloc(n + 1, sizeof(char *));
	for (size_t i = 0, k = 0; out && i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string)) {
			rerr(r, where, "\"%s\"[%zu] must be a string", key, i);
			continue;
		}
		out[k] = strdup(json_object_get_string(e));
		if (!out[k]) {
			rerr(r, where, "out of memory");
			break;
		}
		k++;
	}
	return out;
}

/* An array of objects at o[key]; returns its length, 0 with an error for other types or
 * more than max entries. */
static size_t rarray(reader *r, json_object *o, const char *key, size_t max, json_object **ret)
{
	json_object *v = get(o, key);

	*ret = NULL;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_array)) {
		rerr(r, key, "must be a list");
		return 0;
	}
	if (json_object_array_length(v) > max) {
		rerr(r, key, "more than %zu entries", max);
		return 0;
	}
	*ret = v;
	return json_object_array_length(v);
}

static void read_gpu(reader *r, json_object *o, hw_gpu *g, const char *w)
{
	g->pci_address = rstr(r, o, "pci_address", w);
	g->vendor = rstr(r, o, "vendor", w);
	g->vendor_id = rhex4(r, o, "vendor_id", w);
	g->device_id = rhex4(r, o, "device_id", w);
	g->model = rstr(r, o, "model", w);
	g->model_source = rstr(r, o, "model_source", w);
	g->chip = rstr(r, o, "chip", w);
	g->memory_bytes = rint64(r, o, "memory_bytes", w);
	g->driver = rstr(r, o, "driver", w);
	g->boot_vga = rtri(r, o, "boot_vga", w);
}

static void read_disk(reader *r, json_object *o, hw_disk *d, const char *w)
{
	json_object *fs = get(o, "filesystems");

	d->name = rstr(r, o, "name", w);
	d->size_bytes = rint64(r, o, "size_bytes", w);
	d->rotational = rtri(r, o, "rotational", w);
	d->removable = rtri(r, o, "removable", w);
	d->transport = rstr(r, o, "transport", w);
	d->model = rstr(r, o, "model", w);
	d->serial = rstr(r, o, "serial", w);
	d->wwn = rstr(r, o, "wwn", w);
	d->firmware_rev = rstr(r, o, "firmware_rev", w);
	d->logical_block_size = rint64(r, o, "logical_block_size", w);
	d->physical_block_size = rint64(r, o, "physical_block_size", w);
	d->pci_address = rstr(r, o, "pci_address", w);
	d->partition_table = rstr(r, o, "partition_table", w);
	d->signatures = rstrv(r, o, "signatures", w);
	d->has_signatures = rtri(r, o, "has_signatures", w);
	if (fs && json_object_is_type(fs, json_type_array)) {
		size_t n = json_object_array_length(fs);
		d->filesystems = calloc(n + 1, sizeof(*d->filesystems));
		for (size_t i = 0; d->filesystems && i < n; i++) {
			json_object *f = json_object_array_get_idx(fs, i);
			hw_filesystem *x;

			if (!json_object_is_type(f, json_type_object)) {
				rerr(r, w, "\"filesystems\"[%zu] must be an object", i);
				continue;
			}
			x = &d->filesystems[d->n_filesystems++];
			x->device = rstr(r, f, "device", w);
			x->type = rstr(r, f, "type", w);
			x->label = rstr(r, f, "label", w);
			x->uuid = rstr(r, f, "uuid", w);
		}
	} else if (fs)
		rerr(r, w, "\"filesystems\" must be a list or null");
}

static void read_nic(reader *r, json_object *o, hw_nic *n, const char *w)
{
	n->name = rstr(r, o, "name", w);
	n->mac = rstr(r, o, "mac", w);
	n->driver = rstr(r, o, "driver", w);
	n->speed_mbps = rint64(r, o, "speed_mbps", w);
	n->duplex = rstr(r, o, "duplex", w);
	if (n->duplex && strcmp(n->duplex, "full") != 0 && strcmp(n->duplex, "half") != 0) {
		rerr(r, w, "\"duplex\" must be \"full\", \"half\" or null");
		free(n->duplex);
		n->duplex = NULL;
	}
	n->link = rstr(r, o, "link", w);
	n->carrier = rtri(r, o, "carrier", w);
	n->mtu = rint64(r, o, "mtu", w);
	n->pci_address = rstr(r, o, "pci_address", w);
	n->wireless = rtri(r, o, "wireless", w) == HW_TRI_TRUE;
	n->is_virtual = rtri(r, o, "virtual", w) == HW_TRI_TRUE;
	n->default_route = rtri(r, o, "default_route", w);
	n->addresses = rstrv(r, o, "addresses", w);
}

static void read_pci(reader *r, json_object *o, hw_pci_device *d, const char *w)
{
	const char *cls;
	json_object *c = get(o, "class"), *rev = get(o, "revision");

	d->address = rstr(r, o, "address", w);
	d->vendor_id = rhex4(r, o, "vendor_id", w);
	d->device_id = rhex4(r, o, "device_id", w);
	d->subsystem_vendor_id = rhex4(r, o, "subsystem_vendor_id", w);
	d->subsystem_device_id = rhex4(r, o, "subsystem_device_id", w);
	d->revision = -1;
	if (rev && json_object_is_type(rev, json_type_string) &&
	    strlen(json_object_get_string(rev)) == 2 &&
	    strspn(json_object_get_string(rev), "0123456789abcdef") == 2)
		d->revision = (int16_t)strtoul(json_object_get_string(rev), NULL, 16);
	else if (rev)
		rerr(r, w, "\"revision\" must be 2 lower-case hex digits or null");
	d->vendor_name = rstr(r, o, "vendor_name", w);
	d->device_name = rstr(r, o, "device_name", w);
	d->driver = rstr(r, o, "driver", w);
	d->has_ids = true;
	cls = c && json_object_is_type(c, json_type_string) ? json_object_get_string(c) : NULL;
	if (cls && strlen(cls) == 4 && strspn(cls, "0123456789abcdef") == 4)
		d->class_code = (uint32_t)strtoul(cls, NULL, 16) << 8;
	else if (c)
		rerr(r, w, "\"class\" must be 4 hex digits");
}

#define READ_ARRAY(key, field, count, fn, max)                                                     \
	do {                                                                                       \
		json_object *a;                                                                    \
		size_t n = rarray(&r, root, key, max, &a);                                         \
		inv->field = calloc(n + 1, sizeof(*inv->field));                                   \
		if (!inv->field)                                                                   \
			goto oom;                                                                  \
		for (size_t i = 0; i < n; i++) {                                                   \
			char w[64];                                                                \
			json_object *e = json_object_array_get_idx(a, i);                          \
			snprintf(w, sizeof(w), "%s[%zu]", key, i);                                 \
			if (!json_object_is_type(e, json_type_object)) {                           \
				rerr(&r, w, "must be an object");                                  \
				continue;                                                          \
			}                                                                          \
			fn(&r, e, &inv->field[inv->count++], w);                                   \
		}                                                                                  \
	} while (0)

/* A section such as "system": an object, or absent/null (unknown). */
static json_object *rsection(reader *r, json_object *root, const char *key)
{
	json_object *v = get(root, key);

	if (v && !json_object_is_type(v, json_type_object)) {
		rerr(r, key, "must be an object or null");
		return NULL;
	}
	return v;
}

int inventory_from_json(json_object *root, const char *file, const na_log *log, hw_inventory **ret)
{
	reader r = {.file = file, .log = log};
	hw_inventory *inv;
	json_object *x, *schema = get(root, "schema");

	if (!root || !json_object_is_type(root, json_type_object)) {
		rerr(&r, "$", "not a JSON object");
		return -EINVAL;
	}
	if (!schema || !json_object_is_type(schema, json_type_string) ||
	    strcmp(json_object_get_string(schema), INVENTORY_SCHEMA) != 0) {
		rerr(&r, "schema", "expected \"%s\"", INVENTORY_SCHEMA);
		return -EINVAL;
	}
	inv = calloc(1, sizeof(*inv));
	if (!inv)
		return -ENOMEM;
	inv->collected_at = rstr(&r, root, "collected_at", "$");
	inv->hostname = rstr(&r, root, "hostname", "$");
	inv->machine_id = rstr(&r, root, "machine_id", "$");
	x = rsection(&r, root, "boot");
	inv->boot.mode = rstr(&r, x, "mode", "boot");
	inv->boot.pxe_mac = rstr(&r, x, "pxe_mac", "boot");
	inv->boot.uefi_bitness = rint64(&r, x, "uefi_bitness", "boot");
	if (inv->boot.uefi_bitness != HW_UNKNOWN && inv->boot.uefi_bitness != 32 &&
	    inv->boot.uefi_bitness != 64) {
		rerr(&r, "boot", "\"uefi_bitness\" must be 32, 64 or null");
		inv->boot.uefi_bitness = HW_UNKNOWN;
	}
	x = rsection(&r, root, "system");
	inv->system.vendor = rstr(&r, x, "vendor", "system");
	inv->system.product = rstr(&r, x, "product", "system");
	inv->system.version = rstr(&r, x, "version", "system");
	inv->system.family = rstr(&r, x, "family", "system");
	inv->system.sku = rstr(&r, x, "sku", "system");
	inv->system.serial = rstr(&r, x, "serial", "system");
	inv->system.uuid = rstr(&r, x, "uuid", "system");
	inv->system.board_vendor = rstr(&r, x, "board_vendor", "system");
	inv->system.board_name = rstr(&r, x, "board_name", "system");
	inv->system.bios_version = rstr(&r, x, "bios_version", "system");
	inv->system.bios_date = rstr(&r, x, "bios_date", "system");
	inv->system.bios_release = rstr(&r, x, "bios_release", "system");
	inv->system.chassis = rstr(&r, x, "chassis", "system");
	inv->system.is_virtual = rtri(&r, x, "virtual", "system");
	x = rsection(&r, root, "cpu");
	inv->cpu.vendor = rstr(&r, x, "vendor", "cpu");
	inv->cpu.model = rstr(&r, x, "model", "cpu");
	inv->cpu.family = rint64(&r, x, "family", "cpu");
	inv->cpu.model_id = rint64(&r, x, "model_id", "cpu");
	inv->cpu.stepping = rint64(&r, x, "stepping", "cpu");
	inv->cpu.microcode = rstr(&r, x, "microcode", "cpu");
	inv->cpu.arch = rstr(&r, x, "arch", "cpu");
	inv->cpu.microarch_level = rstr(&r, x, "microarch_level", "cpu");
	inv->cpu.sockets = rint64(&r, x, "sockets", "cpu");
	inv->cpu.cores = rint64(&r, x, "cores", "cpu");
	inv->cpu.threads = rint64(&r, x, "threads", "cpu");
	inv->cpu.flags = rstrv(&r, x, "flags_of_interest", "cpu");
	x = rsection(&r, root, "memory");
	inv->memory.total_bytes = rint64(&r, x, "total_bytes", "memory");
	inv->memory.physical_bytes = rint64(&r, x, "physical_bytes", "memory");
	READ_ARRAY("gpus", gpus, n_gpus, read_gpu, INVENTORY_MAX_PARTS);
	READ_ARRAY("disks", disks, n_disks, read_disk, INVENTORY_MAX_PARTS);
	READ_ARRAY("nics", nics, n_nics, read_nic, INVENTORY_MAX_PARTS);
	READ_ARRAY("pci_devices", pci_devices, n_pci_devices, read_pci, INVENTORY_MAX_PCI);
	inv->warnings = rstrv(&r, root, "warnings", "$");
	if (r.n_errors > 0) {
		hw_inventory_free(inv);
		return -EINVAL;
	}
	*ret = inv;
	return 0;
oom:
	hw_inventory_free(inv);
	return -ENOMEM;
}

/* *ret may be NULL: the text was the JSON literal null. */
int inventory_parse_json(const char *file, const char *buf, size_t len, const na_log *log,
			 json_object **ret)
{
	json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	const char *nul;
	size_t off;

	if (len > INVENTORY_MAX_BYTES) {
		na_logf(log, LOG_ERR, "%s: larger than %d bytes", file, INVENTORY_MAX_BYTES);
		return -EINVAL;
	}
	/* JSON text never holds a raw NUL; json-c would stop reading at one */
	nul = memchr(buf, '\0', len);
	if (nul) {
		na_logf(log, LOG_ERR, "%s: not JSON text: NUL byte at byte %zu", file,
			(size_t)(nul - buf));
		return -EINVAL;
	}
	for (off = 0; off < len && is_json_space(buf[off]); off++)
		;
	if (off == len) {
		na_logf(log, LOG_ERR, "%s: empty file, expected a JSON object", file);
		return -EINVAL;
	}
	tok = json_tokener_new_ex(64);
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	off = (size_t)tok->char_offset;
	if (!root && jerr == json_tokener_continue) {
		/* a top-level number or literal ends only with the input: json-c wants a NUL
		 * to know; an object or array cut short stays incomplete */
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		off = len;
	}
	json_tokener_free(tok);
	/* a top-level JSON null parses to root == NULL with success: inventory_from_json()
	 * says "not a JSON object" */
	if (jerr != json_tokener_success) {
		if (jerr == json_tokener_continue)
			na_logf(log, LOG_ERR,
				"%s: invalid JSON: truncated (the file ends inside the value)",
				file);
		else
			na_logf(log, LOG_ERR, "%s: invalid JSON at byte %zu: %s", file, off,
				json_tokener_error_desc(jerr));
		json_object_put(root);
		return -EINVAL;
	}
	/* anything after the value must be whitespace */
	while (off < len && is_json_space(buf[off]))
		off++;
	if (off < len) {
		na_logf(log, LOG_ERR, "%s: invalid JSON at byte %zu: data after the value", file,
			off);
		json_object_put(root);
		return -EINVAL;
	}
	*ret = root;
	return 0;
}

int inventory_read_json(const char *file, const na_log *log, json_object **ret)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	ssize_t k;
	int fd, r;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	buf = malloc(INVENTORY_MAX_BYTES + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* bounded: a larger file (or /dev/zero) stops one byte past the limit */
	while ((k = read(fd, buf + len, INVENTORY_MAX_BYTES + 1 - len)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)k;
		if (len > INVENTORY_MAX_BYTES)
			break;
	}
	r = k < 0 ? -errno : 0;
	close(fd);
	if (r == 0)
		r = inventory_parse_json(file, buf, len, log, ret);
	free(buf);
	return r;
}

int inventory_load(const char *file, const na_log *log, hw_inventory **ret)
{
	json_object *root = NULL;
	int r;

	r = inventory_read_json(file, log, &root);
	if (r < 0)
		return r;
	r = inventory_from_json(root, file, log, ret);
	json_object_put(root);
	return r;
}
