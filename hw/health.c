/* SPDX-License-Identifier: MIT */
/* The condition of a machine's parts, shared by their detectors: unknown values to start
 * from, and freeing. */
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
