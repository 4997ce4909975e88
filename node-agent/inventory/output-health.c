/* SPDX-License-Identifier: MIT */
/* The condition section of `inventory --format table`: a line per disk that reports its
 * health, the DIMMs, batteries, PCIe links below their maximum, platform, hot sensors. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "inventory/health.h"
#include "inventory/output.h"

/* ", 31200 h, 41 °C" and the like, for what is known */
static void disk_facts(FILE *f, const hw_disk *d)
{
	const hw_disk_health *h = &d->health;

	if (h->power_on_hours >= 0)
		fprintf(f, ", %" PRId64 " h powered on", h->power_on_hours);
	if (h->temperature_c >= 0)
		fprintf(f, ", %" PRId64 " °C", h->temperature_c);
	if (h->percentage_used >= 0)
		fprintf(f, ", %" PRId64 "%% of endurance used", h->percentage_used);
	if (h->available_spare >= 0)
		fprintf(f, ", spare %" PRId64 "%%", h->available_spare);
	if (h->unsafe_shutdowns >= 0)
		fprintf(f, ", %" PRId64 " unsafe shutdowns", h->unsafe_shutdowns);
	if (d->sata_speed)
		fprintf(f, ", link %s", d->sata_speed);
}

static void disks(FILE *f, const hw_inventory *inv, const health_problem *p, size_t n)
{
	bool any = false;

	for (size_t i = 0; i < inv->n_disks; i++) {
		const hw_disk *d = &inv->disks[i];
		const char *detail = NULL;
		size_t len = strlen(d->name);

		if (!d->health.known)
			continue;
		if (!any)
			fputs("\nDisk health\n", f);
		any = true;
		/* the problem text starts "disk NAME " */
		for (size_t k = 0; k < n && !detail; k++)
			if (!strncmp(p[k].text, "disk ", 5) &&
			    !strncmp(p[k].text + 5, d->name, len) &&
			    (p[k].text[5 + len] == ' ' || !p[k].text[5 + len]) &&
			    strchr(p[k].text, ':'))
				detail = strchr(p[k].text, ':') + 2;
		fprintf(f, "  %-10s %s (%s)%s%s", d->name,
			d->health.status ? d->health.status : "?",
			d->health.source ? d->health.source : "?", detail ? ": " : "",
			detail ? detail : "");
		disk_facts(f, d);
		fputc('\n', f);
	}
}

static void memory(FILE *f, const hw_memory *m)
{
	char size[32];

	if (!m->modules && m->slots_total < 0 && m->errors_corrected < 0)
		return;
	fprintf(f, "\nMemory modules");
	if (m->slots_total >= 0)
		fprintf(f, ": %" PRId64 " of %" PRId64 " slots used", m->slots_used,
			m->slots_total);
	if (m->ecc_type)
		fprintf(f, ", error correction %s", m->ecc_type);
	if (m->errors_corrected >= 0)
		fprintf(f, ", %" PRId64 " corrected / %" PRId64 " uncorrected errors since boot",
			m->errors_corrected, m->errors_uncorrected);
	fputc('\n', f);
	for (size_t i = 0; i < m->n_modules; i++) {
		const hw_memory_module *x = &m->modules[i];

		output_format_bytes(x->size_bytes, size, sizeof(size));
		fprintf(f, "  %-14s %s %s %s", x->locator ? x->locator : "?", size,
			x->type ? x->type : "?", x->form_factor ? x->form_factor : "");
		if (x->speed_mts > 0)
			fprintf(f, " %" PRId64 " MT/s", x->speed_mts);
		if (x->configured_speed_mts > 0 && x->configured_speed_mts != x->speed_mts)
			fprintf(f, " (runs at %" PRId64 ")", x->configured_speed_mts);
		fprintf(f, "  %s %s", x->manufacturer ? x->manufacturer : "-",
			x->part_number ? x->part_number : "-");
		if (x->serial)
			fprintf(f, "  serial %s", x->serial);
		fputc('\n', f);
	}
}

static void batteries(FILE *f, const hw_inventory *inv)
{
	if (inv->n_batteries == 0 && inv->ac_online == HW_TRI_UNKNOWN)
		return;
	fprintf(f, "\nPower: %s\n",
		inv->ac_online == HW_TRI_TRUE	 ? "on mains"
		: inv->ac_online == HW_TRI_FALSE ? "on battery"
						 : "mains unknown");
	for (size_t i = 0; i < inv->n_batteries; i++) {
		const hw_battery *b = &inv->batteries[i];

		fprintf(f, "  %-6s %s %s %s", b->name ? b->name : "?",
			b->manufacturer ? b->manufacturer : "", b->model ? b->model : "",
			b->technology ? b->technology : "");
		if (b->wear_percent >= 0)
			fprintf(f, "  wear %" PRId64 "%%", b->wear_percent);
		if (b->full >= 0 && b->full_design > 0 && b->capacity_unit)
			fprintf(f, " (full %" PRId64 " of %" PRId64 " m%s)", b->full / 1000,
				b->full_design / 1000, b->capacity_unit + 1);
		if (b->cycle_count >= 0)
			fprintf(f, "  %" PRId64 " cycles", b->cycle_count);
		if (b->status)
			fprintf(f, "  %s", b->status);
		if (b->capacity_percent >= 0)
			fprintf(f, " %" PRId64 "%%", b->capacity_percent);
		if (b->charge_start_threshold >= 0 || b->charge_end_threshold >= 0)
			fprintf(f, "  charges %" PRId64 "-%" PRId64 "%%",
				b->charge_start_threshold < 0 ? 0 : b->charge_start_threshold,
				b->charge_end_threshold < 0 ? 100 : b->charge_end_threshold);
		fputc('\n', f);
	}
}

static const char *tri_text(hw_tri t, const char *yes, const char *no)
{
	return t == HW_TRI_TRUE ? yes : t == HW_TRI_FALSE ? no : "unknown";
}

static void platform(FILE *f, const hw_platform *p)
{
	fprintf(f, "\nPlatform TPM %s, Secure Boot %s%s, lockdown %s, KVM %s, IOMMU %s",
		p->tpm == HW_TRI_TRUE ? (p->tpm_version ? p->tpm_version : "yes")
				      : tri_text(p->tpm, "yes", "none"),
		tri_text(p->secure_boot, "on", "off"),
		p->setup_mode == HW_TRI_TRUE ? " (setup mode)" : "",
		p->lockdown ? p->lockdown : "unknown", tri_text(p->kvm, "usable", "no"),
		tri_text(p->iommu, "on", "off"));
	if (p->iommu_groups >= 0)
		fprintf(f, " (%" PRId64 " groups)", p->iommu_groups);
	fputc('\n', f);
}

int output_health_table(FILE *f, const hw_inventory *inv)
{
	health_problem *p = NULL;
	int n = health_problems(inv, &p);

	if (n < 0)
		return n;
	disks(f, inv, p, (size_t)n);
	memory(f, &inv->memory);
	batteries(f, inv);
	platform(f, &inv->platform);
	if (n > 0) {
		fprintf(f, "\nProblems (%d)\n", n);
		for (int i = 0; i < n; i++)
			fprintf(f, "  %-8s %s\n", health_name(p[i].severity), p[i].text);
	}
	health_problems_free(p, (size_t)n);
	return ferror(f) ? -EIO : 0;
}
