/* SPDX-License-Identifier: MIT */
/*
 * GPUs: every display (class 03) and processing-accelerator (class 12) PCI function.
 *
 * The model name comes from the most authoritative source the machine offers, in order:
 * the loaded NVIDIA driver (/proc/driver/nvidia/gpus/ADDR/information), NVML, amdgpu's
 * FRU product name, libdrm's amdgpu.ids (exact device+revision), pci.ids, a small built-in
 * table of models newer than the pci.ids distributions ship, and finally a plain
 * "NVIDIA device 10de:2f04". A name is never guessed from a neighbouring ID.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "hw-internal.h"

static const struct {
	uint16_t id;
	const char *key;     /* inventory "vendor" */
	const char *display; /* prefix of model names */
} gpu_vendors[] = {
    {0x10de, "nvidia", "NVIDIA"},
    {0x1002, "amd", "AMD"},
    {0x1022, "amd", "AMD"},
    {0x8086, "intel", "Intel"},
    {0x1af4, "virtio", "Virtio"},
    {0x1234, "qemu", "QEMU"},
    {0x1b36, "redhat", "Red Hat"},
    {0x15ad, "vmware", "VMware"},
    {0x80ee, "virtualbox", "VirtualBox"},
    {0x1a03, "aspeed", "ASPEED"},
    {0x102b, "matrox", "Matrox"},
    {0x106b, "apple", "Apple"},
    {0x5143, "qualcomm", "Qualcomm"},
    {0x1e3e, "iluvatar", "Iluvatar"},
    {0x1da3, "habana", "Habana"},
    {0x1ed5, "moorethreads", "Moore Threads"},
};

/*
 * Models released after the pci.ids that stable distributions ship (Debian 12: 2023-04-10).
 * Each entry is an upstream pci.ids line (pciutils/pciids), kept as a comment beside it, named
 * the way names from pci.ids are (vendor + bracketed marketing name).
 */
static const struct {
	uint16_t vendor_id, device_id;
	const char *name;
	const char *chip;
} builtin_models[] = {
#include "gpu-models.inc"
};

bool hw_gpu_is_gpu_class(uint32_t class_code)
{
	return (class_code >> 16) == 0x03 || (class_code >> 16) == 0x12;
}

static size_t vendor_index(uint16_t id)
{
	for (size_t i = 0; i < ELEMENTSOF(gpu_vendors); i++)
		if (gpu_vendors[i].id == id)
			return i;
	return SIZE_MAX;
}

/* "GB205 [GeForce RTX 5070]" -> "NVIDIA GeForce RTX 5070"; "UHD Graphics 620" ->
 * "Intel UHD Graphics 620". The bracket holds the marketing name, the rest the chip. */
static char *name_from_pci_ids(const char *display, const char *device_name)
{
	const char *open = strchr(device_name, '[');
	const char *close = open ? strchr(open, ']') : NULL;
	_cleanup_free_ char *core = NULL;

	if (open && close && close > open + 1)
		core = hw_strip_dup(open + 1, (size_t)(close - open - 1));
	else
		core = hw_strip_dup(device_name, strlen(device_name));
	if (!core)
		return NULL;
	if (!display || strncasecmp(core, display, strlen(display)) == 0)
		return TAKE_PTR(core);
	return hw_asprintf("%s %s", display, core);
}

/* The "Model:" line of the NVIDIA driver's per-GPU procfs file. */
static char *nvidia_proc_model(hw_ctx *ctx, const char *addr)
{
	_cleanup_free_ char *buf = NULL;
	char path[128];
	int r;

	snprintf(path, sizeof(path), "proc/driver/nvidia/gpus/%s/information", addr);
	r = hw_read_file(ctx, path, 65536, &buf, NULL);
	if (r < 0) {
		if (r != -ENOENT)
			hw_warn_errno(ctx, path, r);
		return NULL;
	}
	for (char *l = buf; l && *l;) {
		char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);

		if (strncmp(l, "Model:", 6) == 0)
			return hw_clean_ident(l + 6, n - 6);
		l = nl ? nl + 1 : NULL;
	}
	hw_warn(ctx, path, "no Model: line");
	return NULL;
}

/* libdrm's amdgpu.ids: "DEVID,\tREV,\tName", matched on device and revision exactly, as
 * libdrm's amdgpu_get_marketing_name() does. */
static char *amdgpu_ids_name(hw_ctx *ctx, uint16_t device_id, uint32_t revision)
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = hw_read_file(ctx, "usr/share/libdrm/amdgpu.ids", HW_FILE_MAX, &buf, NULL);
	if (r < 0)
		return NULL;
	for (char *l = buf; l && *l;) {
		char *nl = strchr(l, '\n');
		unsigned dev, rev;
		int off = 0;

		if (nl)
			*nl = '\0';
		if (l[0] != '#' && sscanf(l, "%x,%x,%n", &dev, &rev, &off) == 2 && off > 0 &&
		    dev == device_id && rev == revision)
			return hw_strip_dup(l + off, strlen(l + off));
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* The chip is what pci.ids writes before the bracketed marketing name ("GB205",
 * "Navi 23", "CoffeeLake-S GT2"); a name without brackets tells no chip. */
static char *chip_from_pci_ids(const char *device_name)
{
	const char *open = device_name ? strstr(device_name, " [") : NULL;

	return open && open > device_name ? hw_strip_dup(device_name, (size_t)(open - device_name))
					  : NULL;
}

static void gpu_resolve_model(hw_ctx *ctx, hw_gpu *g, const hw_pci_device *d, size_t vi)
{
	const char *display = vi != SIZE_MAX ? gpu_vendors[vi].display : d->vendor_name;
	const __typeof__(builtin_models[0]) *builtin = NULL;
	char path[160];

	g->chip = chip_from_pci_ids(d->device_name);
	for (size_t i = 0; i < ELEMENTSOF(builtin_models) && !builtin; i++)
		if (builtin_models[i].vendor_id == g->vendor_id &&
		    builtin_models[i].device_id == g->device_id)
			builtin = &builtin_models[i];
	/* the chip and the catalog name, unlike the model, do not depend on the driver */
	if (!g->chip && builtin && builtin->chip)
		g->chip = hw_strdup(builtin->chip);
	if (d->device_name)
		g->pci_ids_model = name_from_pci_ids(display, d->device_name);
	else if (builtin)
		g->pci_ids_model = hw_strdup(builtin->name);

	if (g->vendor_id == 0x10de) {
		g->model = nvidia_proc_model(ctx, g->pci_address);
		if (g->model) {
			g->model_source = hw_strdup("nvidia-driver");
			return;
		}
	}
	if (g->driver && strcmp(g->driver, "amdgpu") == 0) {
		snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/product_name", g->pci_address);
		g->model = hw_attr(ctx, path, 0);
		if (g->model) {
			g->model_source = hw_strdup("amdgpu-fru");
			return;
		}
		if (d->revision >= 0) {
			g->model = amdgpu_ids_name(ctx, g->device_id, (uint32_t)d->revision);
			if (g->model) {
				g->model_source = hw_strdup("amdgpu.ids");
				return;
			}
		}
	}
	if (g->pci_ids_model) {
		g->model = hw_strdup(g->pci_ids_model);
		g->model_source = hw_strdup(d->device_name ? "pci.ids" : "builtin");
		return;
	}
	g->model = hw_asprintf("%s device %04x:%04x", display ? display : "PCI", g->vendor_id,
			       g->device_id);
	g->model_source = hw_strdup("ids");
}

int hw_gpu_detect(hw_ctx *ctx, const hw_pci_device *pci, size_t n_pci, hw_gpu **ret, size_t *ret_n)
{
	hw_gpu *gpus = NULL;
	size_t n = 0;
	bool any_nvidia = false;

	for (size_t i = 0; i < n_pci; i++) {
		const hw_pci_device *d = &pci[i];
		hw_gpu *g, *ng;
		size_t vi;
		char path[160];

		if (!hw_gpu_is_gpu_class(d->class_code))
			continue;
		ng = reallocarray(gpus, n + 1, sizeof(*gpus));
		if (!ng)
			goto oom;
		gpus = ng;
		g = &gpus[n++];
		memset(g, 0, sizeof(*g));
		hw_pcie_link_init(&g->pcie_link);
		vi = vendor_index(d->vendor_id);
		g->pci_address = hw_strdup(d->address);
		g->vendor_id = d->vendor_id;
		g->device_id = d->device_id;
		g->vendor = vi != SIZE_MAX ? hw_strdup(gpu_vendors[vi].key)
					   : hw_asprintf("%04x", d->vendor_id);
		g->driver = hw_strdup(d->driver);
		g->memory_bytes = HW_UNKNOWN;
		/* the kernel creates boot_vga only for VGA-class functions */
		if ((d->class_code >> 8) == 0x0300) {
			snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/boot_vga", d->address);
			g->boot_vga = hw_attr_bool(ctx, path, 0);
		} else
			g->boot_vga = HW_TRI_FALSE;
		if (!g->pci_address || !g->vendor)
			goto oom;
		if (d->vendor_id == 0x10de)
			any_nvidia = true;
		gpu_resolve_model(ctx, g, d, vi);
		if (g->driver && strcmp(g->driver, "amdgpu") == 0) {
			uint64_t vram;

			snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/mem_info_vram_total",
				 d->address);
			if (hw_attr_u64(ctx, path, 10, 0, &vram) && vram <= INT64_MAX)
				g->memory_bytes = (int64_t)vram;
		}
	}
	if (any_nvidia && ctx->nvml)
		hw_nvml_query(ctx, gpus, n);
	*ret = gpus;
	*ret_n = n;
	return 0;
oom:
	for (size_t i = 0; i < n; i++)
		hw_gpu_done(&gpus[i]);
	free(gpus);
	return -ENOMEM;
}

void hw_gpu_done(hw_gpu *g)
{
	free(g->pci_address);
	free(g->vendor);
	free(g->model);
	free(g->model_source);
	free(g->pci_ids_model);
	free(g->chip);
	free(g->compute_capability);
	hw_pcie_link_done(&g->pcie_link);
	free(g->driver);
}
