/* SPDX-License-Identifier: MIT */
/*
 * Batteries and mains power from /sys/class/power_supply (the kernel's power supply class,
 * Documentation/ABI/testing/sysfs-class-power): supplies of type "Battery" are batteries,
 * those of type "Mains" (AC, ADP1, ...) say whether the machine is on its charger. Supplies
 * whose scope is "Device" power a peripheral (a wireless mouse, a game pad), not the
 * machine: they are left out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>

#include "hw-internal.h"

/* More batteries than any laptop has (ThinkPads have two). */
#define MAX_BATTERIES 16

/* A string of the supply's; blank is no value (batteries that leave their maker empty) */
static char *supply_attr(hw_ctx *ctx, const char *name, const char *attr)
{
	return hw_attrf(ctx, HW_READ_QUIET_EINVAL | HW_READ_EMPTY_OK,
			"sys/class/power_supply/%s/%s", name, attr);
}

/* A number of the supply's within [0, max]; HW_UNKNOWN when absent, junk or out of range. */
static int64_t supply_number(hw_ctx *ctx, const char *name, const char *attr, uint64_t max)
{
	_cleanup_free_ char *path = hw_asprintf("sys/class/power_supply/%s/%s", name, attr);
	uint64_t v;

	if (!path || !hw_attr_u64(ctx, path, 10, HW_READ_QUIET_EINVAL, &v))
		return HW_UNKNOWN;
	if (v > max) {
		hw_warn(ctx, path, "%llu is out of range", (unsigned long long)v);
		return HW_UNKNOWN;
	}
	return (int64_t)v;
}

static bool supply_has(hw_ctx *ctx, const char *name, const char *attr)
{
	char path[160];

	snprintf(path, sizeof(path), "sys/class/power_supply/%s/%s", name, attr);
	return hw_exists(ctx, path);
}

static hw_tri supply_bool(hw_ctx *ctx, const char *name, const char *attr)
{
	char path[160];

	snprintf(path, sizeof(path), "sys/class/power_supply/%s/%s", name, attr);
	return hw_attr_bool(ctx, path, HW_READ_QUIET_EINVAL);
}

static char *supply_ident(hw_ctx *ctx, const char *name, const char *attr)
{
	_cleanup_free_ char *s = supply_attr(ctx, name, attr);

	return s ? hw_clean_ident(s, strlen(s)) : NULL;
}

/* Lost capacity: 100 - 100 * full / design, rounded half up, within [0, 100] (a new battery
 * can hold more than its design); unknown when the design capacity is. */
int64_t hw_battery_wear_percent(int64_t full, int64_t design)
{
	if (full < 0 || design <= 0)
		return HW_UNKNOWN;
	if (full >= design)
		return 0;
	return (int64_t)(100.0 - 100.0 * (double)full / (double)design + 0.5);
}

static int battery_read(hw_ctx *ctx, const char *name, hw_battery *b)
{
	_cleanup_free_ char *tech = NULL;
	/* energy in µWh where the battery reports it (ACPI batteries that count in mWh),
	 * else charge in µAh */
	bool energy =
	    supply_has(ctx, name, "energy_full_design") || supply_has(ctx, name, "energy_full");
	/* thinkpad_acpi before Linux 5.9 named the thresholds charge_start_threshold and
	 * charge_stop_threshold; later kernels have both names */
	const char *start = supply_has(ctx, name, "charge_control_start_threshold")
				? "charge_control_start_threshold"
				: "charge_start_threshold";
	const char *end = supply_has(ctx, name, "charge_control_end_threshold")
			      ? "charge_control_end_threshold"
			      : "charge_stop_threshold";

	b->name = hw_strdup(name);
	b->present = supply_bool(ctx, name, "present");
	b->status = supply_attr(ctx, name, "status");
	tech = supply_attr(ctx, name, "technology");
	if (tech && strcmp(tech, "Unknown") != 0)
		b->technology = TAKE_PTR(tech);
	b->manufacturer = supply_ident(ctx, name, "manufacturer");
	b->model = supply_ident(ctx, name, "model_name");
	b->capacity_percent = supply_number(ctx, name, "capacity", 100);
	b->full = supply_number(ctx, name, energy ? "energy_full" : "charge_full", INT64_MAX);
	b->full_design = supply_number(
	    ctx, name, energy ? "energy_full_design" : "charge_full_design", INT64_MAX);
	if (b->full != HW_UNKNOWN || b->full_design != HW_UNKNOWN)
		b->capacity_unit = hw_strdup(energy ? "uWh" : "uAh");
	b->wear_percent = hw_battery_wear_percent(b->full, b->full_design);
	/* 0 is what drivers report when they do not count (ACPI batteries without _BIX,
	 * Apple's): unknown, as a refurbished machine's battery has been charged before */
	b->cycle_count = supply_number(ctx, name, "cycle_count", INT32_MAX);
	if (b->cycle_count == 0)
		b->cycle_count = HW_UNKNOWN;
	b->charge_start_threshold = supply_number(ctx, name, start, 100);
	b->charge_end_threshold = supply_number(ctx, name, end, 100);
	return b->name ? 0 : -ENOMEM;
}

/*
 * inv->batteries: [] when the machine has none, NULL when the class cannot be read;
 * inv->ac_online: true when a mains supply is online, false when every one listed is
 * offline, unknown without one.
 */
int hw_power_detect(hw_ctx *ctx, hw_inventory *inv)
{
	static const char dir[] = "sys/class/power_supply";
	_cleanup_(hw_strv_freep) char **names = NULL;
	int r;

	r = hw_read_dir(ctx, dir, &names);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && r != -ENOENT) {
		hw_warn_errno(ctx, dir, r);
		return 0;
	}
	inv->batteries = calloc(MAX_BATTERIES, sizeof(*inv->batteries));
	if (!inv->batteries)
		return -ENOMEM;
	for (char **n = names; n && *n; n++) {
		_cleanup_free_ char *type = supply_attr(ctx, *n, "type");
		_cleanup_free_ char *scope = supply_attr(ctx, *n, "scope");
		hw_tri online;

		if (!type || (scope && strcmp(scope, "Device") == 0))
			continue;
		if (strcmp(type, "Mains") == 0) {
			online = supply_bool(ctx, *n, "online");
			if (online == HW_TRI_TRUE || inv->ac_online == HW_TRI_UNKNOWN)
				inv->ac_online = online;
		} else if (strcmp(type, "Battery") == 0 && inv->n_batteries < MAX_BATTERIES) {
			hw_battery *b = &inv->batteries[inv->n_batteries++];

			if (battery_read(ctx, *n, b) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}
