/* SPDX-License-Identifier: MIT */
/* Hardware-derived node labels; the formats and their upstream sources are in labels.h. */
#define _GNU_SOURCE
#include <errno.h>
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
	    {"GB", "blackwell"}, {"GH", "hopper"},  {"AD", "ada-lovelace"},
	    {"GA", "ampere"},	 {"TU", "turing"},  {"GV", "volta"},
	    {"GP", "pascal"},	 {"GM", "maxwell"}, {"GK", "kepler"},
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
    {"avx", "AVX"},
    {"avx2", "AVX2"},
    {"fma", "FMA3"},
    {"aes", "AESNI"},
    {"vaes", "VAES"},
    {"sha_ni", "SHA"},
    {"avx512f", "AVX512F"},
    {"avx512bw", "AVX512BW"},
    {"avx512vl", "AVX512VL"},
    {"avx512_vnni", "AVX512VNNI"},
    {"avx512_bf16", "AVX512BF16"},
    {"avx512_fp16", "AVX512FP16"},
    {"avx_vnni", "AVXVNNI"},
    {"amx_tile", "AMXTILE"},
    {"amx_bf16", "AMXBF16"},
    {"amx_int8", "AMXINT8"},
    {"vmx", "VMX"},
    {"svm", "SVM"},
    {"hypervisor", "HYPERVISOR"},
};

/* Set the label whose key FMT makes to VALUE; one that is not valid Kubernetes syntax is
 * left out (0), an allocation that fails is an error. */
__attribute__((format(printf, 3, 4))) static int setf(na_kv_list *out, const char *value,
						      const char *fmt, ...)
{
	char *key = NULL;
	va_list ap;
	int r, n;

	va_start(ap, fmt);
	n = vasprintf(&key, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	r = k8s_label_key_valid(key, NULL) && k8s_label_value_valid(value, NULL)
		? kv_set(out, key, value)
		: 0;
	free(key);
	return r;
}

static int set_int(na_kv_list *out, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return setf(out, buf, "%s", key);
}

/* KEY=sanitised NAME (GFD), unless nothing of NAME remains */
static int set_sanitized(na_kv_list *out, const char *key, const char *name)
{
	char *v = k8s_gfd_sanitize(name);
	int r;

	if (!v)
		return -ENOMEM;
	r = *v ? setf(out, v, "%s", key) : 0;
	free(v);
	return r;
}

/* NFD: class (4 hex digits) and vendor of devices in classes 03, 0b40 and 12. */
static bool nfd_class(uint32_t class_code)
{
	return (class_code >> 16) == 0x03 || (class_code >> 8) == 0x0b40 ||
	       (class_code >> 16) == 0x12;
}

static int nvidia_labels(const hw_inventory *inv, na_kv_list *out)
{
	const hw_gpu *first = NULL;
	int64_t n = 0;
	int r;

	for (size_t i = 0; i < inv->n_gpus; i++)
		if (inv->gpus[i].vendor && !strcmp(inv->gpus[i].vendor, "nvidia")) {
			if (!first)
				first = &inv->gpus[i];
			n++;
		}
	if (!first)
		return 0;
	r = setf(out, "true", "nvidia.com/gpu.present");
	if (r >= 0)
		r = set_int(out, "nvidia.com/gpu.count", n);
	/* GFD labels the node with its first device's properties */
	if (r >= 0 && first->model)
		r = set_sanitized(out, "nvidia.com/gpu.product", first->model);
	if (r >= 0 && first->memory_bytes > 0)
		r = set_int(out, "nvidia.com/gpu.memory", first->memory_bytes / (1024 * 1024));
	if (r >= 0 && nvidia_family(first->chip))
		r = setf(out, nvidia_family(first->chip), "nvidia.com/gpu.family");
	if (r >= 0 && inv->system.product)
		r = set_sanitized(out, "nvidia.com/gpu.machine", inv->system.product);
	return r;
}

/* A per-GPU value for the AMD labeller: 0 with *ret NULL when the GPU has none. */
typedef int (*amd_value_fn)(const hw_gpu *g, char **ret);

/* VALUE of the I-th GPU when it is driven by amdgpu, else NULL */
static int amd_value(const hw_inventory *inv, size_t i, amd_value_fn value, char **ret)
{
	const hw_gpu *g = &inv->gpus[i];

	*ret = NULL;
	if (!g->driver || strcmp(g->driver, "amdgpu"))
		return 0;
	return value(g, ret);
}

/* AMD's node labeller: one value for all GPUs as amd.com/gpu.<kind>, else per value. */
static int amd_kind(const hw_inventory *inv, na_kv_list *out, const char *kind, amd_value_fn value)
{
	char *common = NULL, *v = NULL;
	bool same = true, any = false;
	int r = 0;

	for (size_t i = 0; i < inv->n_gpus && r >= 0; i++) {
		r = amd_value(inv, i, value, &v);
		if (r < 0 || !v)
			continue;
		if (!any)
			common = v;
		else {
			same = same && !strcmp(common, v);
			free(v);
		}
		any = true;
		v = NULL;
	}
	if (r >= 0 && any && same)
		r = setf(out, common, "amd.com/gpu.%s", kind);
	else if (r >= 0 && any)
		for (size_t i = 0; i < inv->n_gpus && r >= 0; i++) {
			int64_t count = 0;
			char buf[32];

			r = amd_value(inv, i, value, &v);
			if (r < 0 || !v)
				continue;
			for (size_t j = 0; j < inv->n_gpus && r >= 0; j++) {
				char *w = NULL;
				r = amd_value(inv, j, value, &w);
				count += w && !strcmp(w, v);
				free(w);
			}
			snprintf(buf, sizeof(buf), "%lld", (long long)count);
			if (r >= 0)
				r = setf(out, buf, "amd.com/gpu.%s.%s", kind, v);
			free(v);
			v = NULL;
		}
	free(common);
	return r;
}

static int amd_device_id(const hw_gpu *g, char **ret)
{
	char *s;

	if (asprintf(&s, "%04x", g->device_id) < 0)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static int amd_vram(const hw_gpu *g, char **ret)
{
	char *s;

	/* round(MiB / 1024) "G", as the labeller computes it */
	if (g->memory_bytes <= 0)
		return 0;
	if (asprintf(&s, "%lldG", (long long)((g->memory_bytes / 1048576 + 512) / 1024)) < 0)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static int amd_product(const hw_gpu *g, char **ret)
{
	char *s;
	size_t n = 0;

	/* only the libdrm/FRU marketing name the labeller itself would read */
	if (!g->model || !g->model_source ||
	    (strcmp(g->model_source, "amdgpu.ids") && strcmp(g->model_source, "amdgpu-fru")))
		return 0;
	s = malloc(strlen(g->model) + 1);
	if (!s)
		return -ENOMEM;
	for (const char *p = g->model; *p; p++) {
		if (*p == '(' || *p == ')')
			continue;
		s[n++] = *p == ' ' ? '_' : *p;
	}
	s[n] = '\0';
	if (!k8s_label_value_valid(s, NULL)) {
		free(s);
		return 0;
	}
	*ret = s;
	return 0;
}

static int intel_labels(const hw_inventory *inv, na_kv_list *out)
{
	int r = 0;

	for (size_t i = 0; i < inv->n_pci_devices && r >= 0; i++) {
		const hw_pci_device *d = &inv->pci_devices[i];
		unsigned cls = d->class_code >> 8;
		int64_t count = 0;

		if (d->vendor_id != 0x8086 || (cls != 0x0300 && cls != 0x0380))
			continue;
		/* intel.gpu NodeFeatureRule: the i915 or xe kernel driver must be in use */
		if (d->driver && (!strcmp(d->driver, "i915") || !strcmp(d->driver, "xe")))
			r = setf(out, "true", "intel.feature.node.kubernetes.io/gpu");
		for (size_t j = 0; j < inv->n_pci_devices; j++)
			count += inv->pci_devices[j].vendor_id == 0x8086 &&
				 inv->pci_devices[j].device_id == d->device_id &&
				 (inv->pci_devices[j].class_code >> 8) == cls;
		if (r >= 0)
			r = setf(out, "true", "gpu.intel.com/device-id.%04x-%04x.present", cls,
				 d->device_id);
		char buf[32];
		snprintf(buf, sizeof(buf), "%lld", (long long)count);
		if (r >= 0)
			r = setf(out, buf, "gpu.intel.com/device-id.%04x-%04x.count", cls,
				 d->device_id);
	}
	return r;
}

static int model_labels(const hw_inventory *inv, na_kv_list *out)
{
	int r = 0;

	for (size_t i = 0; i < inv->n_gpus && r >= 0; i++) {
		const hw_gpu *g = &inv->gpus[i];
		int64_t count = 0;
		char *name;

		if (!g->model || !g->vendor ||
		    (strcmp(g->vendor, "nvidia") && strcmp(g->vendor, "amd") &&
		     strcmp(g->vendor, "intel")))
			continue;
		for (size_t j = 0; j < inv->n_gpus; j++)
			count += inv->gpus[j].model && !strcmp(inv->gpus[j].model, g->model);
		name = k8s_gfd_sanitize(g->model);
		if (!name)
			return -ENOMEM;
		if (*name) {
			char buf[32];
			snprintf(buf, sizeof(buf), "%lld", (long long)count);
			r = setf(out, buf, "gpu.node-agent.io/%s", name);
		}
		free(name);
	}
	return r;
}

int labels_from_hardware(const hw_inventory *inv, na_kv_list *out)
{
	bool ssd = false;
	int r;

	r = nvidia_labels(inv, out);
	if (r >= 0)
		r = amd_kind(inv, out, "device-id", amd_device_id);
	if (r >= 0)
		r = amd_kind(inv, out, "vram", amd_vram);
	if (r >= 0)
		r = amd_kind(inv, out, "product-name", amd_product);
	if (r >= 0)
		r = intel_labels(inv, out);
	if (r >= 0)
		r = model_labels(inv, out);
	for (size_t i = 0; i < inv->n_pci_devices && r >= 0; i++) {
		const hw_pci_device *d = &inv->pci_devices[i];

		if (!nfd_class(d->class_code))
			continue;
		r = setf(out, "true", NFD "pci-%04x_%04x.present", d->class_code >> 8,
			 d->vendor_id);
		/* the GPU Operator runs NFD with deviceLabelFields [vendor] */
		if (r >= 0)
			r = setf(out, "true", NFD "pci-%04x.present", d->vendor_id);
	}
	for (size_t i = 0; i < sizeof(cpuid_names) / sizeof(cpuid_names[0]) && r >= 0; i++)
		for (char **f = inv->cpu.flags; f && *f && r >= 0; f++)
			if (!strcmp(*f, cpuid_names[i].flag))
				r = setf(out, "true", NFD "cpu-cpuid.%s", cpuid_names[i].nfd);
	for (size_t i = 0; i < inv->n_disks; i++)
		ssd = ssd || inv->disks[i].rotational == HW_TRI_FALSE;
	if (r >= 0 && ssd)
		r = setf(out, "true", NFD "storage-nonrotationaldisk");
	return r < 0 ? r : 0;
}
