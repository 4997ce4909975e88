/* SPDX-License-Identifier: MIT */
/* One inventory: every detector, run once, in an order where later ones can use earlier. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "hw-internal.h"

/* RFC 3339 UTC; SOURCE_DATE_EPOCH pins it for reproducible output (tests, golden files). */
static char *timestamp_now(void)
{
	const char *sde = secure_getenv("SOURCE_DATE_EPOCH");
	uint64_t epoch;
	time_t t;
	struct tm tm;
	char buf[32];

	if (sde && hw_parse_u64(sde, 10, &epoch) == 0 && epoch < (uint64_t)INT32_MAX * 4)
		t = (time_t)epoch;
	else
		t = time(NULL);
	if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return strdup(buf);
}

int hw_inventory_collect(hw_ctx *ctx, hw_inventory **ret)
{
	hw_inventory *inv;
	int r;

	inv = calloc(1, sizeof(*inv));
	if (!inv)
		return -ENOMEM;
	inv->ac_online = HW_TRI_UNKNOWN;
	hw_platform_init(&inv->platform);
	inv->collected_at = timestamp_now();
	if (!inv->collected_at) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = hw_host_detect(ctx, inv)) < 0 || (r = hw_dmi_detect(ctx, &inv->system)) < 0 ||
	    (r = hw_cpu_detect(ctx, &inv->cpu, &inv->memory)) < 0 ||
	    (r = hw_edac_detect(ctx, &inv->memory)) < 0 ||
	    (r = hw_smbios_memory_detect(ctx, &inv->memory)) < 0 ||
	    (r = hw_pci_detect(ctx, &inv->pci_devices, &inv->n_pci_devices)) < 0 ||
	    (r = hw_pci_ids_lookup(ctx, inv->pci_devices, inv->n_pci_devices)) < 0 ||
	    (r = hw_gpu_detect(ctx, inv->pci_devices, inv->n_pci_devices, &inv->gpus,
			       &inv->n_gpus)) < 0 ||
	    (r = hw_disk_detect(ctx, &inv->disks, &inv->n_disks)) < 0 ||
	    (r = hw_nic_detect(ctx, &inv->nics, &inv->n_nics)) < 0 ||
	    (r = hw_power_detect(ctx, inv)) < 0 || (r = hw_thermal_detect(ctx, inv)) < 0 ||
	    (r = hw_platform_detect(ctx, &inv->platform)) < 0)
		goto fail;

	/* the links of GPUs and of NVMe disks' controllers (a SATA disk's PCI function is its
	 * host adapter: not the disk's link) */
	for (size_t i = 0; i < inv->n_gpus; i++)
		if ((r = hw_pcie_link_read(ctx, inv->gpus[i].pci_address,
					   &inv->gpus[i].pcie_link)) < 0)
			goto fail;
	for (size_t i = 0; i < inv->n_disks; i++) {
		hw_disk *d = &inv->disks[i];

		if (d->transport && strcmp(d->transport, "nvme") == 0 &&
		    (r = hw_pcie_link_read(ctx, d->pci_address, &d->pcie_link)) < 0)
			goto fail;
	}

	/* A hypervisor announces itself in CPUID even when its DMI strings look like hardware. */
	if (hw_strv_contains(inv->cpu.flags, "hypervisor"))
		inv->system.is_virtual = HW_TRI_TRUE;
	else if (inv->system.is_virtual == HW_TRI_UNKNOWN && inv->cpu.flags && inv->cpu.arch &&
		 strcmp(inv->cpu.arch, "x86_64") == 0)
		inv->system.is_virtual = HW_TRI_FALSE;

	inv->warnings = calloc(ctx->n_warnings + 1, sizeof(char *));
	if (!inv->warnings) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < ctx->n_warnings; i++)
		inv->warnings[i] = TAKE_PTR(ctx->warnings[i]);
	free(ctx->warnings);
	ctx->warnings = NULL;
	ctx->n_warnings = 0;
	*ret = inv;
	return 0;
fail:
	hw_inventory_free(inv);
	return r;
}

hw_inventory *hw_inventory_free(hw_inventory *inv)
{
	if (!inv)
		return NULL;
	free(inv->collected_at);
	free(inv->hostname);
	free(inv->machine_id);
	free(inv->boot.mode);
	free(inv->boot.pxe_mac);
	hw_system_done(&inv->system);
	hw_cpu_done(&inv->cpu);
	hw_memory_done(&inv->memory);
	for (size_t i = 0; i < inv->n_batteries; i++)
		hw_battery_done(&inv->batteries[i]);
	free(inv->batteries);
	for (size_t i = 0; i < inv->n_thermals; i++)
		hw_thermal_done(&inv->thermals[i]);
	free(inv->thermals);
	hw_platform_done(&inv->platform);
	for (size_t i = 0; i < inv->n_gpus; i++)
		hw_gpu_done(&inv->gpus[i]);
	free(inv->gpus);
	for (size_t i = 0; i < inv->n_disks; i++)
		hw_disk_done(&inv->disks[i]);
	free(inv->disks);
	for (size_t i = 0; i < inv->n_nics; i++)
		hw_nic_done(&inv->nics[i]);
	free(inv->nics);
	for (size_t i = 0; i < inv->n_pci_devices; i++)
		hw_pci_device_done(&inv->pci_devices[i]);
	free(inv->pci_devices);
	hw_strv_free(inv->warnings);
	free(inv);
	return NULL;
}
