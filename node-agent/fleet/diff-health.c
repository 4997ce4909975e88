/* SPDX-License-Identifier: MIT */
/*
 * Changes of condition between two inventories (issue 16): a disk whose own health report
 * got worse, whose error counts grew or whose wear jumped; a battery that crossed a wear
 * step; a PCIe link that runs narrower than before. Each is a warning.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>

#include "fleet/diff-internal.h"
#include "inventory/health.h"

/* wear steps a battery is reported crossing, percent of its design capacity */
static const int64_t battery_steps[] = {20, HEALTH_BATTERY_WEAR_WARNING, 60, 80};
/* percentage_used growth worth a line between two inventories, and the marks that always are */
#define ENDURANCE_JUMP 10

void diff_disk_health(diff_changes *c, const hw_disk *x, const hw_disk *y)
{
	const char *name = diff_known(y->name) ? y->name : "?";
	const hw_disk_health *a = &x->health, *b = &y->health;
	na_health ha = health_disk(x), hb = health_disk(y);

	if (!a->known || !b->known)
		return;
	if (ha >= HEALTH_OK && hb > ha)
		diff_add(c, true, "disk-health", name, diff_jstr(health_name(ha)),
			 diff_jstr(health_name(hb)), "disk %s health worse: %s, was %s", name,
			 health_name(hb), health_name(ha));
	for (size_t i = 0; i < HEALTH_DISK_COUNTS; i++) {
		const health_count *k = &health_disk_counts[i];
		int64_t va = health_count_of(a, k), vb = health_count_of(b, k);

		if (va >= 0 && vb > va)
			diff_add(c, true, "disk-errors", name, diff_jint(va), diff_jint(vb),
				 "disk %s %s grew from %" PRId64 " to %" PRId64, name, k->what, va,
				 vb);
	}
	if (a->percentage_used >= 0 && b->percentage_used > a->percentage_used &&
	    (b->percentage_used - a->percentage_used >= ENDURANCE_JUMP ||
	     (a->percentage_used < 90 && b->percentage_used >= 90) ||
	     (a->percentage_used < 100 && b->percentage_used >= 100)))
		diff_add(c, true, "disk-wear", name, diff_jint(a->percentage_used),
			 diff_jint(b->percentage_used),
			 "disk %s rated endurance used: %" PRId64 "%%, was %" PRId64 "%%", name,
			 b->percentage_used, a->percentage_used);
}

void diff_link(diff_changes *c, const char *what, const char *subject, const hw_pcie_link *a,
	       const hw_pcie_link *b)
{
	int64_t wa = a->path_width > 0 ? a->path_width : a->width,
		wb = b->path_width > 0 ? b->path_width : b->width;
	const char *sa = a->path_speed ? a->path_speed : a->speed,
		   *sb = b->path_speed ? b->path_speed : b->speed;

	/* the width: a speed that drops can be a GPU or drive saving power when idle */
	if (!a->known || !b->known)
		return;
	if (wa > 0 && wb > 0 && wb < wa)
		diff_add(c, true, "link-slower", subject, NULL, NULL,
			 "%s %s link renegotiated lower: %s x%" PRId64 ", was %s x%" PRId64, what,
			 subject, sb ? sb : "?", wb, sa ? sa : "?", wa);
}

void diff_batteries(diff_changes *c, const hw_inventory *a, const hw_inventory *b)
{
	for (size_t i = 0; i < b->n_batteries; i++) {
		const hw_battery *y = &b->batteries[i], *x = NULL;

		for (size_t k = 0; !x && k < a->n_batteries; k++)
			if (diff_str_same(a->batteries[k].name, y->name))
				x = &a->batteries[k];
		if (!x || x->wear_percent < 0 || y->wear_percent <= x->wear_percent)
			continue;
		for (size_t s = sizeof(battery_steps) / sizeof(battery_steps[0]); s-- > 0;)
			if (x->wear_percent < battery_steps[s] &&
			    y->wear_percent >= battery_steps[s]) {
				diff_add(c, true, "battery-wear", y->name,
					 diff_jint(x->wear_percent), diff_jint(y->wear_percent),
					 "battery %s wear passed %" PRId64 "%%: %" PRId64
					 "%% of its design capacity lost, was %" PRId64 "%%",
					 y->name, battery_steps[s], y->wear_percent,
					 x->wear_percent);
				break;
			}
	}
}
