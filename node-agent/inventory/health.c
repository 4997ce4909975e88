/* SPDX-License-Identifier: MIT */
/* A machine's condition from its inventory: health.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "inventory/health.h"

const health_count health_disk_counts[HEALTH_DISK_COUNTS] = {
    {offsetof(hw_disk_health, media_errors), "media errors"},
    {offsetof(hw_disk_health, reallocated_sectors), "reallocated sectors"},
    {offsetof(hw_disk_health, pending_sectors), "pending sectors"},
    {offsetof(hw_disk_health, offline_uncorrectable), "offline uncorrectable sectors"},
};

const char *health_name(na_health h)
{
	switch (h) {
	case HEALTH_OK:
		return "ok";
	case HEALTH_NOTE:
		return "note";
	case HEALTH_WARNING:
		return "warning";
	case HEALTH_FAILING:
		return "failing";
	default:
		return NULL;
	}
}

na_health health_disk(const hw_disk *d)
{
	const char *s = d->health.known ? d->health.status : NULL;

	return !s		       ? HEALTH_UNKNOWN
	       : !strcmp(s, "failing") ? HEALTH_FAILING
	       : !strcmp(s, "warning") ? HEALTH_WARNING
	       : !strcmp(s, "ok")      ? HEALTH_OK
				       : HEALTH_UNKNOWN;
}

na_health health_disks(const hw_inventory *inv)
{
	na_health worst = HEALTH_UNKNOWN;

	for (size_t i = 0; i < inv->n_disks; i++) {
		na_health h = health_disk(&inv->disks[i]);
		if (h > worst)
			worst = h;
	}
	return worst;
}

na_health health_memory(const hw_inventory *inv)
{
	if (inv->memory.errors_uncorrected > 0)
		return HEALTH_FAILING;
	if (inv->memory.errors_corrected > 0)
		return HEALTH_WARNING;
	if (inv->memory.errors_uncorrected == 0 && inv->memory.errors_corrected == 0)
		return HEALTH_OK;
	return HEALTH_UNKNOWN;
}

typedef struct problems {
	health_problem *v;
	size_t n;
	bool oom;
} problems;

__attribute__((format(printf, 3, 4))) static void add(problems *ps, na_health sev, const char *fmt,
						      ...)
{
	health_problem *nv;
	char *text = NULL;
	va_list ap;
	int n;

	if (ps->oom)
		return;
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	nv = n < 0 ? NULL : reallocarray(ps->v, ps->n + 1, sizeof(*nv));
	if (!nv) {
		if (n >= 0)
			free(text);
		ps->oom = true;
		return;
	}
	ps->v = nv;
	ps->v[ps->n++] = (health_problem){sev, text};
}

/* What a disk's health report says is wrong, "critical warning spare, reliability; 12 media
 * errors" */
static char *disk_reasons(const hw_disk_health *h)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *sep = "";

	if (!f)
		return NULL;
	if (h->critical_warning && h->critical_warning[0]) {
		fputs("critical warning", f);
		for (char **w = h->critical_warning; *w; w++)
			fprintf(f, "%s %s", w == h->critical_warning ? "" : ",", *w);
		sep = "; ";
	}
	if (h->smart_passed == HW_TRI_FALSE) {
		fprintf(f, "%sSMART status: threshold exceeded", sep);
		sep = "; ";
	}
	if (h->percentage_used >= 90) {
		fprintf(f, "%s%lld%% of rated endurance used", sep, (long long)h->percentage_used);
		sep = "; ";
	}
	if (h->available_spare >= 0 && h->available_spare_threshold >= 0 &&
	    h->available_spare < h->available_spare_threshold) {
		fprintf(f, "%sspare %lld%% below its threshold %lld%%", sep,
			(long long)h->available_spare, (long long)h->available_spare_threshold);
		sep = "; ";
	}
	for (size_t i = 0; i < HEALTH_DISK_COUNTS; i++) {
		int64_t v = health_count_of(h, &health_disk_counts[i]);
		if (v > 0) {
			fprintf(f, "%s%lld %s", sep, (long long)v, health_disk_counts[i].what);
			sep = "; ";
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* A device whose link is narrower than it can do: in a narrower slot or riser, behind a
 * narrower switch (a note: how it is built), or trained below what its path allows (a
 * warning). Speed alone is not a problem: GPUs and drives slow their links when idle. */
static void link_problem(problems *ps, const char *what, const char *addr, const hw_pcie_link *l)
{
	int64_t w = l->path_width > 0 ? l->path_width : l->width;

	if (!l->known || l->max_width <= 0 || w <= 0 || w >= l->max_width)
		return;
	add(ps, l->below_max == HW_TRI_TRUE ? HEALTH_WARNING : HEALTH_NOTE,
	    "%s %s runs at x%lld (it can do x%lld)%s%s%s", what, addr, (long long)w,
	    (long long)l->max_width, l->below_max == HW_TRI_TRUE ? ", trained below its path" : "",
	    l->limited_by ? ", limited by the link of " : "", l->limited_by ? l->limited_by : "");
}

static int problem_cmp(const void *a, const void *b)
{
	const health_problem *x = a, *y = b;

	return y->severity - x->severity;
}

int health_problems(const hw_inventory *inv, health_problem **ret)
{
	problems ps = {0};

	for (size_t i = 0; i < inv->n_disks; i++) {
		const hw_disk *d = &inv->disks[i];
		na_health h = health_disk(d);
		_cleanup_free_ char *why = NULL;

		if (h < HEALTH_WARNING)
			continue;
		why = disk_reasons(&d->health);
		if (!why) {
			ps.oom = true;
			break;
		}
		add(&ps, h, "disk %s%s%s%s%s%s", d->name, d->model ? " (" : "",
		    d->model ? d->model : "", d->model ? ")" : "", *why ? ": " : "", why);
	}
	switch (health_memory(inv)) {
	case HEALTH_FAILING:
		add(&ps, HEALTH_FAILING, "memory: %lld uncorrected errors since boot",
		    (long long)inv->memory.errors_uncorrected);
		break;
	case HEALTH_WARNING:
		add(&ps, HEALTH_WARNING, "memory: %lld corrected errors since boot",
		    (long long)inv->memory.errors_corrected);
		break;
	default:
		break;
	}
	for (size_t i = 0; i < inv->n_batteries; i++) {
		const hw_battery *b = &inv->batteries[i];

		if (b->wear_percent >= HEALTH_BATTERY_WEAR_WARNING)
			add(&ps, HEALTH_WARNING,
			    "battery %s worn: %lld%% of its design capacity lost",
			    b->name ? b->name : "?", (long long)b->wear_percent);
	}
	for (size_t i = 0; i < inv->n_gpus; i++)
		link_problem(&ps, "GPU", inv->gpus[i].pci_address, &inv->gpus[i].pcie_link);
	for (size_t i = 0; i < inv->n_disks; i++)
		link_problem(&ps, "disk", inv->disks[i].name, &inv->disks[i].pcie_link);
	for (size_t i = 0; i < inv->n_thermals; i++) {
		const hw_thermal *t = &inv->thermals[i];

		if (t->critical_c > 0 && t->temperature_c >= 0 &&
		    t->temperature_c + 5 >= t->critical_c)
			add(&ps, HEALTH_WARNING, "%s at %lld °C, critical at %lld °C",
			    t->name ? t->name : "sensor", (long long)t->temperature_c,
			    (long long)t->critical_c);
	}
	if (inv->memory.slots_total > 0 && inv->memory.slots_used >= inv->memory.slots_total)
		add(&ps, HEALTH_NOTE, "no free DIMM slot (%lld of %lld used)",
		    (long long)inv->memory.slots_used, (long long)inv->memory.slots_total);
	if (ps.oom) {
		health_problems_free(ps.v, ps.n);
		return -ENOMEM;
	}
	/* worst first, in inventory order within a severity: an insertion sort (stable; a
	 * machine has few problems) */
	for (size_t i = 1; i < ps.n; i++)
		for (size_t j = i; j > 0 && problem_cmp(&ps.v[j - 1], &ps.v[j]) > 0; j--) {
			health_problem t = ps.v[j];
			ps.v[j] = ps.v[j - 1];
			ps.v[j - 1] = t;
		}
	*ret = ps.v;
	return (int)ps.n;
}

void health_problems_free(health_problem *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].text);
	free(p);
}

na_health health_worst(const hw_inventory *inv)
{
	health_problem *p = NULL;
	int n = health_problems(inv, &p);
	na_health w = n > 0 ? p[0].severity : n == 0 ? HEALTH_OK : HEALTH_UNKNOWN;

	if (n >= 0)
		health_problems_free(p, (size_t)n);
	return w;
}
