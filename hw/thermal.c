/* SPDX-License-Identifier: MIT */
/*
 * Temperatures and their critical points, from the kernel's two interfaces
 * (Documentation/hwmon/sysfs-interface.rst, Documentation/ABI/testing/sysfs-class-thermal):
 *  - hwmon: /sys/class/hwmon/hwmonN/name and tempK_input, tempK_label, tempK_crit;
 *  - thermal zones: /sys/class/thermal/thermal_zoneN/type and temp, and the temperature of
 *    the trip point whose type is "critical" (where the kernel shuts the machine down).
 * Both count millidegrees Celsius. The hwmon devices the thermal core makes for its own
 * zones (acpitz, ...) mirror a zone: they are listed once, as the zone.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "hw-internal.h"

/* A bound on the list (a dual-socket server's coretemp has a sensor per core). */
#define MAX_THERMALS 256
#define MAX_TRIPS    32
#define MILLI_C_MIN  (-273150)
#define MILLI_C_MAX  1000000

/* Millidegrees to degrees, rounded half away from zero. */
int64_t hw_thermal_celsius(int64_t milli)
{
	if (milli < MILLI_C_MIN || milli > MILLI_C_MAX)
		return HW_UNKNOWN;
	return milli >= 0 ? (milli + 500) / 1000 : -((-milli + 500) / 1000);
}

/* A temperature file in °C. A sensor that has no value now (a disk asleep, a GPU powered
 * off: ENODATA, EAGAIN, EIO, EINVAL) is unknown without a warning; junk warns. */
static int64_t read_celsius(hw_ctx *ctx, const char *path)
{
	_cleanup_free_ char *s = NULL;
	int64_t milli;
	size_t len;
	int r;

	r = hw_read_file(ctx, path, HW_ATTR_MAX, &s, &len);
	if (r < 0) {
		if (r != -ENOENT && r != -ENODATA && r != -EAGAIN && r != -EIO && r != -EINVAL &&
		    r != -ENODEV && r != -ENXIO)
			hw_warn_errno(ctx, path, r);
		return HW_UNKNOWN;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	if (hw_parse_i64(s, &milli) < 0) {
		hw_warn(ctx, path, "not a temperature: \"%.32s\"", s);
		return HW_UNKNOWN;
	}
	return hw_thermal_celsius(milli);
}

static int push(hw_inventory *inv, char *name, const char *source, char *device, int64_t temp,
		int64_t crit)
{
	hw_thermal *t;

	if (!name) {
		free(device);
		return -ENOMEM;
	}
	if (inv->n_thermals >= MAX_THERMALS) {
		free(name);
		free(device);
		return 0;
	}
	t = &inv->thermals[inv->n_thermals++];
	*t = (hw_thermal){.name = name,
			  .source = hw_strdup(source),
			  .device = device,
			  .temperature_c = temp,
			  .critical_c = crit > 0 ? crit : HW_UNKNOWN};
	return t->source ? 0 : -ENOMEM;
}

/* "nvme0": an NVMe controller's name */
static bool is_nvme_controller(const char *s)
{
	if (strncmp(s, "nvme", 4) != 0 || !s[4])
		return false;
	for (s += 4; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* "0:0:0:0": a SCSI device (host:channel:target:lun), which drivetemp's sensor belongs to */
static bool is_scsi_device(const char *s)
{
	for (int field = 0; field < 4; field++) {
		size_t n = strspn(s, "0123456789");

		if (n == 0 || s[n] != (field < 3 ? ':' : '\0'))
			return false;
		s += n + 1;
	}
	return true;
}

/*
 * What an hwmon device measures, from its place in /sys/devices (dir, relative to the
 * root): the disk below it (drivetemp's SCSI device holds block/sdX, an NVMe controller
 * nvmeN its namespace nvmeNnM, when not behind native multipath), else the PCI function it
 * belongs to (an NVMe controller, a GPU, a NIC, the CPU's k10temp); NULL for platform
 * sensors (coretemp).
 */
static char *hwmon_device(hw_ctx *ctx, const char *dir)
{
	_cleanup_(hw_strv_freep) char **block = NULL, **children = NULL;
	_cleanup_free_ char *path = hw_asprintf("%s/block", dir);
	const char *base = hw_path_basename(dir);

	if (is_scsi_device(base) && path && hw_read_dir(ctx, path, &block) == 0 && block[0])
		return hw_strdup(block[0]);
	if (is_nvme_controller(base) && hw_read_dir(ctx, dir, &children) == 0) {
		size_t n = strlen(base);

		for (char **c = children; *c; c++)
			if (strncmp(*c, base, n) == 0 && (*c)[n] == 'n' &&
			    isdigit((unsigned char)(*c)[n + 1]))
				return hw_strdup(*c);
	}
	return hw_pci_address_in_path(dir);
}

static int hwmon_read(hw_ctx *ctx, const char *hwmon, hw_inventory *inv)
{
	_cleanup_free_ char *link = NULL, *dir = NULL, *name = NULL, *device = NULL;
	_cleanup_(hw_strv_freep) char **files = NULL;
	char base[64], path[128], *slash;
	int r;

	snprintf(base, sizeof(base), "sys/class/hwmon/%s", hwmon);
	link = hw_readlink(ctx, base);
	/* the thermal core's mirror of a zone: listed as the zone */
	if (link && strstr(link, "/devices/virtual/thermal/"))
		return 0;
	/* drivers on the deprecated hwmon_device_register() keep their attributes on the
	 * parent device, not here: nothing to read */
	snprintf(path, sizeof(path), "%s/name", base);
	name = hw_attr(ctx, path, 0);
	if (!name)
		return 0;
	/* ../../devices/<the device>[/hwmon]/hwmonN: the device is what holds it */
	slash = link ? strrchr(link, '/') : NULL;
	if (slash) {
		*slash = '\0';
		if (strcmp(hw_path_basename(link), "hwmon") == 0 && (slash = strrchr(link, '/')))
			*slash = '\0';
		dir = hw_asprintf("sys/class/hwmon/%s", link);
		if (!dir)
			return -ENOMEM;
		device = hwmon_device(ctx, dir);
	}
	r = hw_read_dir(ctx, base, &files);
	if (r == -ENOMEM)
		return r;
	for (char **f = files; r == 0 && *f; f++) {
		_cleanup_free_ char *label = NULL;
		const char *idx = *f + 4;
		size_t n = strspn(idx, "0123456789");
		int64_t temp, crit;

		if (strncmp(*f, "temp", 4) != 0 || n == 0 || strcmp(idx + n, "_input") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, *f);
		temp = read_celsius(ctx, path);
		snprintf(path, sizeof(path), "%s/temp%.*s_crit", base, (int)n, idx);
		crit = read_celsius(ctx, path);
		snprintf(path, sizeof(path), "%s/temp%.*s_label", base, (int)n, idx);
		label = hw_attr(ctx, path, HW_READ_EMPTY_OK);
		r = push(inv,
			 label ? hw_asprintf("%s/%s", name, label)
			       : hw_asprintf("%s/temp%.*s", name, (int)n, idx),
			 "hwmon", hw_strdup(device), temp, crit);
	}
	return r;
}

static int zone_read(hw_ctx *ctx, const char *zone, hw_inventory *inv)
{
	_cleanup_free_ char *type = NULL;
	char base[64], path[128];
	int64_t crit = HW_UNKNOWN, temp;

	snprintf(base, sizeof(base), "sys/class/thermal/%s", zone);
	snprintf(path, sizeof(path), "%s/type", base);
	type = hw_attr(ctx, path, HW_READ_WARN_MISSING);
	if (!type)
		return 0;
	snprintf(path, sizeof(path), "%s/temp", base);
	temp = read_celsius(ctx, path);
	for (int i = 0; i < MAX_TRIPS; i++) {
		_cleanup_free_ char *trip = NULL;

		snprintf(path, sizeof(path), "%s/trip_point_%d_type", base, i);
		trip = hw_attr(ctx, path, 0);
		if (!trip)
			break;
		if (strcmp(trip, "critical") == 0) {
			snprintf(path, sizeof(path), "%s/trip_point_%d_temp", base, i);
			crit = read_celsius(ctx, path);
			break;
		}
	}
	return push(inv, hw_asprintf("%s/%s", zone, type), "thermal_zone", NULL, temp, crit);
}

/* inv->thermals: [] without sensors, NULL when neither class can be read. */
int hw_thermal_detect(hw_ctx *ctx, hw_inventory *inv)
{
	_cleanup_(hw_strv_freep) char **hwmons = NULL, **zones = NULL;
	int rh, rz, r = 0;

	rh = hw_read_dir(ctx, "sys/class/hwmon", &hwmons);
	rz = hw_read_dir(ctx, "sys/class/thermal", &zones);
	if (rh == -ENOMEM || rz == -ENOMEM)
		return -ENOMEM;
	if (rh < 0 && rh != -ENOENT)
		hw_warn_errno(ctx, "sys/class/hwmon", rh);
	if (rz < 0 && rz != -ENOENT)
		hw_warn_errno(ctx, "sys/class/thermal", rz);
	if ((rh < 0 && rh != -ENOENT) && (rz < 0 && rz != -ENOENT))
		return 0;
	inv->thermals = calloc(MAX_THERMALS, sizeof(*inv->thermals));
	if (!inv->thermals)
		return -ENOMEM;
	for (char **h = hwmons; r >= 0 && h && *h; h++)
		if (strncmp(*h, "hwmon", 5) == 0)
			r = hwmon_read(ctx, *h, inv);
	for (char **z = zones; r >= 0 && z && *z; z++)
		if (strncmp(*z, "thermal_zone", 12) == 0)
			r = zone_read(ctx, *z, inv);
	return r;
}
