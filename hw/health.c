/* SPDX-License-Identifier: MIT */
/* The condition of a machine's parts, shared by their detectors: unknown values to start
 * from, and freeing. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "hw-internal.h"

void hw_free_strings(char **const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(*v[i]);
		*v[i] = NULL;
	}
}

void hw_pcie_link_init(hw_pcie_link *l)
{
	*l = (hw_pcie_link){
	    .known = false,
	    .width = HW_UNKNOWN,
	    .max_width = HW_UNKNOWN,
	    .path_width = HW_UNKNOWN,
	    .below_max = HW_TRI_UNKNOWN,
	};
}

void hw_pcie_link_done(hw_pcie_link *l)
{
	free(l->speed);
	free(l->max_speed);
	free(l->path_speed);
	free(l->limited_by);
	hw_pcie_link_init(l);
}

void hw_disk_health_init(hw_disk_health *h)
{
	*h = (hw_disk_health){
	    .known = false,
	    .power_on_hours = HW_UNKNOWN,
	    .temperature_c = HW_UNKNOWN,
	    .percentage_used = HW_UNKNOWN,
	    .available_spare = HW_UNKNOWN,
	    .available_spare_threshold = HW_UNKNOWN,
	    .media_errors = HW_UNKNOWN,
	    .unsafe_shutdowns = HW_UNKNOWN,
	    .data_units_written = HW_UNKNOWN,
	    .smart_passed = HW_TRI_UNKNOWN,
	    .reallocated_sectors = HW_UNKNOWN,
	    .pending_sectors = HW_UNKNOWN,
	    .offline_uncorrectable = HW_UNKNOWN,
	};
}

void hw_disk_health_done(hw_disk_health *h)
{
	free(h->status);
	free(h->source);
	hw_strv_free(h->critical_warning);
	hw_disk_health_init(h);
}

void hw_memory_module_done(hw_memory_module *m)
{
	free(m->locator);
	free(m->bank_locator);
	free(m->type);
	free(m->form_factor);
	free(m->manufacturer);
	free(m->part_number);
	free(m->serial);
}

void hw_memory_done(hw_memory *m)
{
	for (size_t i = 0; i < m->n_modules; i++)
		hw_memory_module_done(&m->modules[i]);
	free(m->modules);
	m->modules = NULL;
	m->n_modules = 0;
	free(m->ecc_type);
	m->ecc_type = NULL;
}

void hw_battery_done(hw_battery *b)
{
	free(b->name);
	free(b->status);
	free(b->technology);
	free(b->manufacturer);
	free(b->model);
	free(b->capacity_unit);
}

void hw_thermal_done(hw_thermal *t)
{
	free(t->name);
	free(t->source);
	free(t->device);
}

void hw_platform_init(hw_platform *p)
{
	*p = (hw_platform){
	    .tpm = HW_TRI_UNKNOWN,
	    .secure_boot = HW_TRI_UNKNOWN,
	    .setup_mode = HW_TRI_UNKNOWN,
	    .kvm = HW_TRI_UNKNOWN,
	    .iommu = HW_TRI_UNKNOWN,
	    .iommu_groups = HW_UNKNOWN,
	};
}

void hw_platform_done(hw_platform *p)
{
	free(p->tpm_version);
	free(p->lockdown);
	hw_platform_init(p);
}

/* The memory controllers' error counts since boot, summed: EDAC's mc<N>/ce_count and
 * ue_count (Documentation/admin-guide/ras.rst). No controller: unknown. */
int hw_edac_detect(hw_ctx *ctx, hw_memory *mem)
{
	char **mcs = NULL;
	uint64_t ce = 0, ue = 0;
	bool any = false;
	int r;

	r = hw_list_dir(ctx, "sys/devices/system/edac/mc", &mcs);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	for (char **m = mcs; *m; m++) {
		char path[128];
		uint64_t c, u;

		if (strncmp(*m, "mc", 2) || (*m)[2] < '0' || (*m)[2] > '9')
			continue;
		snprintf(path, sizeof(path), "sys/devices/system/edac/mc/%s/ce_count", *m);
		if (!hw_attr_u64(ctx, path, 10, 0, &c))
			continue;
		snprintf(path, sizeof(path), "sys/devices/system/edac/mc/%s/ue_count", *m);
		if (!hw_attr_u64(ctx, path, 10, 0, &u))
			continue;
		/* saturate: counters of a dying module must not wrap into "fine" */
		ce = c > (uint64_t)INT64_MAX - ce ? (uint64_t)INT64_MAX : ce + c;
		ue = u > (uint64_t)INT64_MAX - ue ? (uint64_t)INT64_MAX : ue + u;
		any = true;
	}
	hw_strv_free(mcs);
	if (any) {
		mem->errors_corrected = (int64_t)ce;
		mem->errors_uncorrected = (int64_t)ue;
	}
	return 0;
}
