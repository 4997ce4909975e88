/* SPDX-License-Identifier: MIT */
/* Hardware-derived node labels; the formats and their upstream sources are in labels.h. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/k8s.h"
#include "plan/labels.h"

#define NFD "feature.node.kubernetes.io/"

/* GFD's gpu.family from the chip name (compute capability is not known without NVML). */
static const char *nvidia_family(const char *chip)
{
	static const struct {
		const char *prefix, *family;
	} t[] = {
		{ "GB", "blackwell" }, { "GH", "hopper" }, { "AD", "ada-lovelace" },
		{ "GA", "ampere" },    { "TU", "turing" }, { "GV", "volta" },
		{ "GP", "pascal" },    { "GM", "maxwell" }, { "GK", "kepler" },
	};

	for (size_t i = 0; chip && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strncmp(chip, t[i].prefix, 2) && chip[2] >= '0' && chip[2] <= '9')
			return t[i].family;
	return NULL;
}

/* NFD's cpu-cpuid names (klauspost/cpuid) for our flags; its default blacklist (BMI2,
 * F16C, POPCNT, SSE42, ...) is left out, as NFD leaves it out. */
static const struct {
	const char *flag, *nfd;
} cpuid_names[] = {
	{ "avx", "AVX" },		{ "avx2", "AVX2" },		{ "fma", "FMA3" },
	{ "aes", "AESNI" },		{ "vaes", "VAES" },		{ "sha_ni", "SHA" },
	{ "avx512f", "AVX512F" },	{ "avx512bw", "AVX512BW" },	{ "avx512vl", "AVX512VL" },
	{ "avx512_vnni", "AVX512VNNI" }, { "avx512_bf16", "AVX512BF16" },
	{ "avx512_fp16", "AVX512FP16" }, { "avx_vnni", "AVXVNNI" },	{ "amx_tile", "AMXTILE" },
	{ "amx_bf16", "AMXBF16" },	{ "amx_int8", "AMXINT8" },	{ "vmx", "VMX" },
	{ "svm", "SVM" },		{ "hypervisor", "HYPERVISOR" },
};

__attribute__((format(printf, 3, 4))) static void setf(na_kv_list *out, const char *value,
						       const char *fmt, ...)
{
	char *key = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&key, fmt, ap) < 0)
		key = NULL;
	va_end(ap);
	if (key && k8s_label_key_valid(key, NULL) && k8s_label_value_valid(value, NULL))
		kv_set(out, key, value);
	free(key);
}

static void set_int(na_kv_list *out, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	setf(out, buf, "%s", key);
}

/* NFD: class (4 hex digits) and vendor of devices in classes 03, 0b40 and 12. */
static bool nfd_class(uint32_t class_code)
{
	return (class_code >> 16) == 0x03 || (class_code >> 8) == 0x0b40 || (class_code >> 16) == 0x12;
}

static void nvidia_labels(const hw_inventory *inv, na_kv_list *out)
{
	const hw_gpu *first = NULL;
	int64_t n = 0;

	for (size_t i = 0; i < inv->n_gpus; i++)
		if (inv->gpus[i].vendor && !strcmp(inv->gpus[i].vendor, "nvidia")) {
			if (!first)
				first = &inv->gpus[i];
			n++;
		}
	if (!first)
		return;
	setf(out, "true", "nvidia.com/gpu.present");
	set_int(out, "nvidia.com/gpu.count", n);
	/* GFD labels the node with its first device's properties */
	if (first->model) {
		char *v = k8s_gfd_sanitize(first->model);
		if (v && *v)
			setf(out, v, "nvidia.com/gpu.product");
		free(v);
	}
	if (first->memory_bytes > 0)
		set_int(out, "nvidia.com/gpu.memory", first->memory_bytes / (1024 * 1024));
	if (nvidia_family(first->chip))
		setf(out, nvidia_family(first->chip), "nvidia.com/gpu.family");
	if (inv->system.product) {
		char *v = k8s_gfd_sanitize(inv->system.product);
		if (v && *v)
			setf(out, v, "nvidia.com/gpu.machine");
		free(v);
	}
}

/* AMD's node labeller: one value for all GPUs as amd.com/gpu.<kind>, else per value. */
static void amd_kind(const hw_inventory *inv, na_kv_list *out, const char *kind,
		     char *(*value)(const hw_gpu *))
{
	char *common = NULL;
	bool same = true, any = false;

	for (size_t i = 0; i < inv->n_gpus; i++) {
		const hw_gpu *g = &inv->gpus[i];
		char *v;

		if (!g->driver || strcmp(g->driver, "amdgpu") || !(v = value(g)))
			continue;
		if (!any)
			common = strdup(v);
		else if (!common || strcmp(common, v))
			same = false;
		any = true;
		free(v);
	}
	if (any && same && common)
		setf(out, common, "amd.com/gpu.%s", kind);
	else if (any)
		for (size_t i = 0; i < inv->n_gpus; i++) {
			const hw_gpu *g = &inv->gpus[i];
			char *v;
			int64_t count = 0;
			if (!g->driver || strcmp(g->driver, "amdgpu") || !(v = value(g)))
				continue;
			for (size_t j = 0; j < inv->n_gpus; j++) {
				char *w = inv->gpus[j].driver && !strcmp(inv->gpus[j].driver, "amdgpu")
						  ? value(&inv->gpus[j])
						  : NULL;
				count += w && !strcmp(w, v);
				free(w);
			}
			char buf[32];
			snprintf(buf, sizeof(buf), "%lld", (long long)count);
			setf(out, buf, "amd.com/gpu.%s.%s", kind, v);
			free(v);
		}
	free(common);
}

static char *amd_device_id(const hw_gpu *g)
{
	char *s = NULL;
	return asprintf(&s, "%04x", g->device_id) < 0 ? NULL : s;
}

static char *amd_vram(const hw_gpu *g)
{
	char *s = NULL;

	/* round(MiB / 1024) "G", as the labeller computes it */
	if (g->memory_bytes <= 0)
		return NULL;
	return asprintf(&s, "%lldG", (long long)((g->memory_bytes / 1048576 + 512) / 1024)) < 0 ? NULL : s;
}

static char *amd_product(const hw_gpu *g)
{
	char *s;
	size_t n = 0;

	/* only the libdrm/FRU marketing name the labeller itself would read */
	if (!g->model || !g->model_source ||
	    (strcmp(g->model_source, "amdgpu.ids") && strcmp(g->model_source, "amdgpu-fru")))
		return NULL;
	s = malloc(strlen(g->model) + 1);
	if (!s)
		return NULL;
	for (const char *p = g->model; *p; p++) {
		if (*p == '(' || *p == ')')
			continue;
		s[n++] = *p == ' ' ? '_' : *p;
	}
	s[n] = '\0';
	if (!k8s_label_value_valid(s, NULL)) {
		free(s);
		return NULL;
	}
	return s;
}

static void intel_labels(const hw_inventory *inv, na_kv_list *out)
{
	for (size_t i = 0; i < inv->n_pci_devices; i++) {
		const hw_pci_device *d = &inv->pci_devices[i];
		unsigned cls = d->class_code >> 8;
		int64_t count = 0;

		if (d->vendor_id != 0x8086 || (cls != 0x0300 && cls != 0x0380))
			continue;
		/* intel.gpu NodeFeatureRule: the i915 or xe kernel driver must be in use */
		if (d->driver && (!strcmp(d->driver, "i915") || !strcmp(d->driver, "xe")))
			setf(out, "true", "intel.feature.node.kubernetes.io/gpu");
		for (size_t j = 0; j < inv->n_pci_devices; j++)
			count += inv->pci_devices[j].vendor_id == 0x8086 &&
				 inv->pci_devices[j].device_id == d->device_id &&
				 (inv->pci_devices[j].class_code >> 8) == cls;
		setf(out, "true", "gpu.intel.com/device-id.%04x-%04x.present", cls, d->device_id);
		char buf[32];
		snprintf(buf, sizeof(buf), "%lld", (long long)count);
		setf(out, buf, "gpu.intel.com/device-id.%04x-%04x.count", cls, d->device_id);
	}
}

static void model_labels(const hw_inventory *inv, na_kv_list *out)
{
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const hw_gpu *g = &inv->gpus[i];
		int64_t count = 0;
		char *name;

		if (!g->model || !g->vendor ||
		    (strcmp(g->vendor, "nvidia") && strcmp(g->vendor, "amd") && strcmp(g->vendor, "intel")))
			continue;
		for (size_t j = 0; j < inv->n_gpus; j++)
			count += inv->gpus[j].model && !strcmp(inv->gpus[j].model, g->model);
		name = k8s_gfd_sanitize(g->model);
		if (name && *name) {
			char buf[32];
			snprintf(buf, sizeof(buf), "%lld", (long long)count);
			setf(out, buf, "gpu.node-agent.io/%s", name);
		}
		free(name);
	}
}

void labels_from_hardware(const hw_inventory *inv, na_kv_list *out)
{
	bool ssd = false;

	nvidia_labels(inv, out);
	amd_kind(inv, out, "device-id", amd_device_id);
	amd_kind(inv, out, "vram", amd_vram);
	amd_kind(inv, out, "product-name", amd_product);
	intel_labels(inv, out);
	model_labels(inv, out);
	for (size_t i = 0; i < inv->n_pci_devices; i++) {
		const hw_pci_device *d = &inv->pci_devices[i];

		if (!nfd_class(d->class_code))
			continue;
		setf(out, "true", NFD "pci-%04x_%04x.present", d->class_code >> 8, d->vendor_id);
		/* the GPU Operator runs NFD with deviceLabelFields [vendor] */
		setf(out, "true", NFD "pci-%04x.present", d->vendor_id);
	}
	for (size_t i = 0; i < sizeof(cpuid_names) / sizeof(cpuid_names[0]); i++)
		for (char **f = inv->cpu.flags; f && *f; f++)
			if (!strcmp(*f, cpuid_names[i].flag))
				setf(out, "true", NFD "cpu-cpuid.%s", cpuid_names[i].nfd);
	for (size_t i = 0; i < inv->n_disks; i++)
		ssd = ssd || inv->disks[i].rotational == HW_TRI_FALSE;
	if (ssd)
		setf(out, "true", NFD "storage-nonrotationaldisk");
}
