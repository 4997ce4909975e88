/* SPDX-License-Identifier: MIT */
/*
 * PCI devices from sysfs attribute files, names from pci.ids.
 *
 * Each device costs two reads: its `uevent` attribute carries the IDs, the class and the
 * bound driver, `revision` the one value uevent lacks (the kernel's copy, read at
 * enumeration). The `config` file is never read: in a VM every read of it traps to the
 * hypervisor (~3 ms a device). Separate attribute files are the fallback when uevent
 * lacks a key.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

#include "hw-internal.h"

static int parse_hex_field(const char *s, size_t n, uint32_t max, uint32_t *ret)
{
	char tmp[16];
	uint64_t v;

	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (hw_parse_u64(tmp, 16, &v) < 0 || v > max)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

/* "10DE:2F04" */
static int parse_id_pair(const char *s, uint16_t *a, uint16_t *b)
{
	const char *colon = strchr(s, ':');
	uint32_t x, y;

	if (!colon || parse_hex_field(s, (size_t)(colon - s), 0xffff, &x) < 0 ||
	    parse_hex_field(colon + 1, strlen(colon + 1), 0xffff, &y) < 0)
		return -EINVAL;
	*a = (uint16_t)x;
	*b = (uint16_t)y;
	return 0;
}

static void pci_from_attrs(hw_ctx *ctx, const char *base, hw_pci_device *d, bool *have_class)
{
	uint64_t v, dv, cl;
	char path[256];

	snprintf(path, sizeof(path), "%s/vendor", base);
	if (!hw_attr_u64(ctx, path, 16, HW_READ_WARN_MISSING, &v) || v > 0xffff)
		return;
	snprintf(path, sizeof(path), "%s/device", base);
	if (!hw_attr_u64(ctx, path, 16, HW_READ_WARN_MISSING, &dv) || dv > 0xffff)
		return;
	d->vendor_id = (uint16_t)v;
	d->device_id = (uint16_t)dv;
	d->has_ids = true;
	snprintf(path, sizeof(path), "%s/class", base);
	if (!*have_class && hw_attr_u64(ctx, path, 16, 0, &cl) && cl <= 0xffffff) {
		d->class_code = (uint32_t)cl;
		*have_class = true;
	}
	snprintf(path, sizeof(path), "%s/subsystem_vendor", base);
	if (hw_attr_u64(ctx, path, 16, 0, &v) && v <= 0xffff)
		d->subsystem_vendor_id = (uint16_t)v;
	snprintf(path, sizeof(path), "%s/subsystem_device", base);
	if (hw_attr_u64(ctx, path, 16, 0, &v) && v <= 0xffff)
		d->subsystem_device_id = (uint16_t)v;
}

static int pci_device_read(hw_ctx *ctx, const char *name, hw_pci_device *d)
{
	char base[128], path[160];
	_cleanup_free_ char *uevent = NULL;
	uint64_t rev;
	bool have_class = false, have_driver_key = false;

	snprintf(base, sizeof(base), "sys/bus/pci/devices/%s", name);
	d->address = hw_strdup(name);
	if (!d->address)
		return -ENOMEM;

	snprintf(path, sizeof(path), "%s/uevent", base);
	uevent = hw_attr(ctx, path, HW_READ_WARN_MISSING);
	if (uevent) {
		char *save = NULL;

		for (char *l = strtok_r(uevent, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			uint32_t cl;

			if (strncmp(l, "PCI_ID=", 7) == 0) {
				if (parse_id_pair(l + 7, &d->vendor_id, &d->device_id) == 0)
					d->has_ids = true;
				else
					hw_warn(ctx, path, "bad PCI_ID \"%.32s\"", l + 7);
			} else if (strncmp(l, "PCI_SUBSYS_ID=", 14) == 0) {
				parse_id_pair(l + 14, &d->subsystem_vendor_id,
					      &d->subsystem_device_id);
			} else if (strncmp(l, "PCI_CLASS=", 10) == 0) {
				if (parse_hex_field(l + 10, strlen(l + 10), 0xffffff, &cl) == 0) {
					d->class_code = cl;
					have_class = true;
				} else
					hw_warn(ctx, path, "bad PCI_CLASS \"%.32s\"", l + 10);
			} else if (strncmp(l, "DRIVER=", 7) == 0) {
				have_driver_key = true;
				if (l[7])
					d->driver = hw_strdup(l + 7);
			}
		}
	}
	if (!d->has_ids)
		pci_from_attrs(ctx, base, d, &have_class);
	/* a capture from before revision was collected has no file: unknown, no warning */
	d->revision = -1;
	snprintf(path, sizeof(path), "%s/revision", base);
	if (hw_attr_u64(ctx, path, 16, 0, &rev)) {
		if (rev <= 0xff)
			d->revision = (int16_t)rev;
		else
			hw_warn(ctx, path, "larger than 0xff");
	}
	/* uevent has DRIVER= only while a driver is bound; without uevent ask the link */
	if (!uevent && !have_driver_key) {
		snprintf(path, sizeof(path), "%s/driver", base);
		d->driver = hw_link_basename(ctx, path);
	}
	return 0;
}

int hw_pci_detect(hw_ctx *ctx, hw_pci_device **ret, size_t *ret_n)
{
	char **names = NULL;
	hw_pci_device *devs = NULL;
	size_t n = 0;
	int r;

	r = hw_list_dir(ctx, "sys/bus/pci/devices", &names);
	if (r < 0)
		return r;
	n = hw_strv_length(names);
	if (n > 0) {
		devs = calloc(n, sizeof(*devs));
		if (!devs) {
			hw_strv_free(names);
			return -ENOMEM;
		}
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!hw_is_pci_address(names[i], strlen(names[i]))) {
			hw_warn(ctx, "sys/bus/pci/devices", "unexpected entry \"%.64s\"", names[i]);
			continue;
		}
		r = pci_device_read(ctx, names[i], &devs[k]);
		if (r < 0) {
			hw_strv_free(names);
			for (size_t j = 0; j <= k; j++)
				hw_pci_device_done(&devs[j]);
			free(devs);
			return r;
		}
		if (!devs[k].has_ids) {
			hw_pci_device_done(&devs[k]);
			memset(&devs[k], 0, sizeof(devs[k]));
			continue;
		}
		k++;
	}
	hw_strv_free(names);
	*ret = devs;
	*ret_n = k;
	return 0;
}

void hw_pci_device_done(hw_pci_device *d)
{
	free(d->address);
	free(d->vendor_name);
	free(d->device_name);
	free(d->driver);
}

/* --- pci.ids --- */

static const char *const pci_ids_paths[] = {
    "usr/share/hwdata/pci.ids",
    "usr/share/misc/pci.ids",
    "usr/share/pci.ids",
};

typedef struct ids_reader {
	int fd;
	char buf[65536];
	size_t start, end;
	bool eof;
} ids_reader;

/* Next line without its newline; NULL at EOF. Lines longer than the buffer are skipped. */
static char *ids_next_line(ids_reader *r, size_t *ret_len)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);

		if (nl) {
			char *line = r->buf + r->start;

			*nl = '\0';
			*ret_len = (size_t)(nl - line);
			r->start = (size_t)(nl - r->buf) + 1;
			return line;
		}
		if (r->eof) {
			if (r->start < r->end) {
				char *line = r->buf + r->start;

				*ret_len = r->end - r->start;
				r->buf[r->end < sizeof(r->buf) ? r->end : sizeof(r->buf) - 1] =
				    '\0';
				r->start = r->end;
				return line;
			}
			return NULL;
		}
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->end >= sizeof(r->buf) - 1) {
			/* an absurdly long line: drop it */
			r->start = r->end = 0;
		}
		ssize_t k = read(r->fd, r->buf + r->end, sizeof(r->buf) - 1 - r->end);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			r->eof = true;
		else
			r->end += (size_t)k;
	}
}

static int open_pci_ids(hw_ctx *ctx)
{
	if (ctx->pci_ids_override)
		return open(ctx->pci_ids_override, O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i < ELEMENTSOF(pci_ids_paths); i++) {
		int fd = openat(ctx->root_fd, pci_ids_paths[i], O_RDONLY | O_CLOEXEC);

		if (fd >= 0 || errno != ENOENT)
			return fd;
	}
	return -1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "vvvv  Name": 4 hex digits, two spaces. Hand-rolled: this runs for every line of a
 * 1.3 MB file, where strtoul() was most of the inventory's CPU time. */
static bool ids_entry(const char *line, size_t len, uint32_t *id, const char **name)
{
	uint32_t v = 0;

	if (len < 7 || line[4] != ' ' || line[5] != ' ')
		return false;
	for (int i = 0; i < 4; i++) {
		int d = hex_digit(line[i]);
		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*id = v;
	*name = line + 6;
	return true;
}

/*
 * One pass over the file for all devices: pci.ids is sorted by vendor, so the scan stops
 * after the highest vendor we need, with a fixed 64 KiB buffer and no per-line allocation.
 */
int hw_pci_ids_lookup(hw_ctx *ctx, hw_pci_device *devs, size_t n)
{
	ids_reader *r;
	uint32_t max_vendor = 0, vendor = UINT32_MAX;
	size_t len;
	char *line;

	for (size_t i = 0; i < n; i++)
		if (devs[i].vendor_id > max_vendor)
			max_vendor = devs[i].vendor_id;
	if (n == 0)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = open_pci_ids(ctx);
	if (r->fd < 0) {
		free(r);
		return 0; /* no pci.ids: names stay unknown */
	}
	while ((line = ids_next_line(r, &len))) {
		uint32_t id;
		const char *name;

		if (line[0] == '#' || len == 0)
			continue;
		if (line[0] == 'C' && line[1] == ' ')
			break; /* the class section follows all vendors */
		if (line[0] != '\t') {
			if (!ids_entry(line, len, &id, &name)) {
				vendor = UINT32_MAX;
				continue;
			}
			if (id > max_vendor)
				break;
			/* device lines of vendors nobody asked for are skipped unparsed */
			vendor = UINT32_MAX;
			for (size_t i = 0; i < n; i++)
				if (devs[i].vendor_id == id) {
					vendor = id;
					if (!devs[i].vendor_name)
						devs[i].vendor_name = hw_strdup(name);
				}
			continue;
		}
		if (line[1] == '\t' || vendor == UINT32_MAX)
			continue; /* subsystem lines */
		if (!ids_entry(line + 1, len - 1, &id, &name))
			continue;
		for (size_t i = 0; i < n; i++)
			if (devs[i].vendor_id == vendor && devs[i].device_id == id &&
			    !devs[i].device_name)
				devs[i].device_name = hw_strdup(name);
	}
	close(r->fd);
	free(r);
	return 0;
}
