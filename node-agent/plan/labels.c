/* SPDX-License-Identifier: MIT */
/* Hardware-derived node labels; the formats and their upstream sources are in labels.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "inventory/health.h"
#include "kube/k8s.h"
#include "plan/labels.h"

#define NFD "feature.node.kubernetes.io/"

/* CUDA compute capability by chip (NVIDIA's "CUDA GPUs" table), for a GPU NVML has not
 * named yet (no driver at boot: the GPU Operator installs it after K3s starts). A chip
 * name matches an entry it starts with when no digit follows ("GA107M", "GA102GL"). */
static const struct {
	const char *chip;
	int major, minor;
} chip_compute[] = {
    {"GK104", 3, 0},  {"GK106", 3, 0},	{"GK107", 3, 0},  {"GK110", 3, 5},  {"GK208", 3, 5},
    {"GK210", 3, 7},  {"GM107", 5, 0},	{"GM108", 5, 0},  {"GM200", 5, 2},  {"GM204", 5, 2},
    {"GM206", 5, 2},  {"GP100", 6, 0},	{"GP102", 6, 1},  {"GP104", 6, 1},  {"GP106", 6, 1},
    {"GP107", 6, 1},  {"GP108", 6, 1},	{"GV100", 7, 0},  {"TU102", 7, 5},  {"TU104", 7, 5},
    {"TU106", 7, 5},  {"TU116", 7, 5},	{"TU117", 7, 5},  {"GA100", 8, 0},  {"GA102", 8, 6},
    {"GA103", 8, 6},  {"GA104", 8, 6},	{"GA106", 8, 6},  {"GA107", 8, 6},  {"AD102", 8, 9},
    {"AD103", 8, 9},  {"AD104", 8, 9},	{"AD106", 8, 9},  {"AD107", 8, 9},  {"GH100", 9, 0},
    {"GB100", 10, 0}, {"GB102", 10, 0}, {"GB202", 12, 0}, {"GB203", 12, 0}, {"GB205", 12, 0},
    {"GB206", 12, 0}, {"GB207", 12, 0},
};

/* The GPU's compute capability: NVML's, else the chip's; false when neither is known. */
static bool nvidia_compute(const hw_gpu *g, int *major, int *minor)
{
	if (g->compute_capability && sscanf(g->compute_capability, "%d.%d", major, minor) == 2)
		return true;
	for (size_t i = 0; g->chip && i < sizeof(chip_compute) / sizeof(chip_compute[0]); i++) {
		size_t n = strlen(chip_compute[i].chip);
		if (!strncmp(g->chip, chip_compute[i].chip, n) &&
		    !(g->chip[n] >= '0' && g->chip[n] <= '9')) {
			*major = chip_compute[i].major;
			*minor = chip_compute[i].minor;
			return true;
		}
	}
	return false;
}

/* GFD's family from the compute capability (k8s-device-plugin internal/lm/resource.go,
 * getArchFamily) */
static const char *nvidia_family(int major, int minor)
{
	switch (major) {
	case 1:
		return "tesla";
	case 2:
		return "fermi";
	case 3:
		return "kepler";
	case 5:
		return "maxwell";
	case 6:
		return "pascal";
	case 7:
		return minor < 5 ? "volta" : "turing";
	case 8:
		return minor < 9 ? "ampere" : "ada-lovelace";
	case 9:
		return "hopper";
	case 10:
	case 12:
		return "blackwell";
	case 13:
		return "rubin";
	default:
		return NULL;
	}
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

/* NFD on arm64 (source/cpu/cpuid_linux_arm64.go): the kernel's HWCAP and HWCAP2 bits, each
 * named as /proc/cpuinfo names it, in upper case; nothing filtered by default. Those of them
 * that matter for scheduling (the inventory keeps a subset). */
static const char *const arm64_hwcaps[] = {
    "fp",   "asimd",   "aes",	  "pmull",    "sha1", "sha2", "sha3", "sha512", "crc32", "atomics",
    "fphp", "asimdhp", "asimddp", "asimdfhm", "sve",  "sve2", "i8mm", "bf16",	"sm3",	 "sm4",
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

/* V under the key "FMT % NAME" */
__attribute__((format(printf, 3, 4))) static int set_int_f(na_kv_list *out, int64_t v,
							   const char *fmt, ...)
{
	_cleanup_free_ char *key = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&key, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	return set_int(out, key, v);
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

static int arm64_cpuid_labels(const hw_inventory *inv, na_kv_list *out)
{
	int r = 0;

	for (char **f = inv->cpu.flags; f && *f && r >= 0; f++)
		for (size_t i = 0; i < sizeof(arm64_hwcaps) / sizeof(arm64_hwcaps[0]); i++)
			if (!strcmp(*f, arm64_hwcaps[i])) {
				char upper[16];
				size_t n = 0;

				for (const char *c = *f; *c && n + 1 < sizeof(upper); c++)
					upper[n++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
				upper[n] = '\0';
				r = setf(out, "true", NFD "cpu-cpuid.%s", upper);
				break;
			}
	return r;
}

/* NFD: class (4 hex digits) and vendor of devices in classes 03, 0b40 and 12. */
static bool nfd_class(uint32_t class_code)
{
	return (class_code >> 16) == 0x03 || (class_code >> 8) == 0x0b40 ||
	       (class_code >> 16) == 0x12;
}

/* The GPU's 24-bit PCI class, 0 when its function is not in the inventory */
static uint32_t gpu_class(const hw_inventory *inv, const hw_gpu *g)
{
	for (size_t i = 0; g->pci_address && i < inv->n_pci_devices; i++)
		if (inv->pci_devices[i].address &&
		    !strcmp(inv->pci_devices[i].address, g->pci_address))
			return inv->pci_devices[i].class_code;
	return 0;
}

static bool is_nvidia(const hw_gpu *g)
{
	return g->vendor && !strcmp(g->vendor, "nvidia");
}

/* named as NVML names it (GFD's gpu.product): by NVML, or the driver's procfs Model: line,
 * which is the same driver's name */
static bool named_by_driver(const hw_gpu *g)
{
	return g->model && g->model_source &&
	       (!strcmp(g->model_source, "nvml") || !strcmp(g->model_source, "nvidia-driver"));
}

/* Whether GFD would count A and B as one model: its groups are NVML names; without the
 * driver, the same PCI device is the same name (different devices may or may not be). */
static bool same_model(const hw_gpu *a, const hw_gpu *b)
{
	if (named_by_driver(a) && named_by_driver(b))
		return !strcmp(a->model, b->model);
	return a->device_id == b->device_id;
}

/*
 * GPU Feature Discovery's labels, as GFD computes them (k8s-device-plugin internal/lm/), and
 * only those it would emit itself, so nothing changes when it takes over: gpu.product only
 * from NVML's name (a pci.ids name differs: "RTX 3050 8GB", "Tesla T4"), gpu.memory only from
 * NVML. On a node with two models GFD counts per model and publishes one model's values,
 * chosen anew at every pass (k8s-device-plugin#731): there, none of count, product, memory,
 * family or compute (gpu.node-agent.io/ says what each model is). gpu.present is the GPU
 * Operator's label, which it sets on the same nodes (PCI vendor 10de).
 */
static int nvidia_labels(const hw_inventory *inv, na_kv_list *out)
{
	const hw_gpu *first = NULL;
	int64_t n = 0;
	bool mixed = false, class_known = true;
	uint32_t cls = 0;
	int major, minor, r;

	for (size_t i = 0; i < inv->n_gpus; i++) {
		const hw_gpu *g = &inv->gpus[i];
		uint32_t c = gpu_class(inv, g);

		if (!is_nvidia(g))
			continue;
		if (!first) {
			first = g;
			cls = c;
		}
		mixed = mixed || !same_model(first, g);
		class_known = class_known && c;
		/* GFD: classes that differ make the mode "unknown" */
		if (c != cls)
			cls = 1;
		n++;
	}
	if (!first)
		return 0;
	r = setf(out, "true", "nvidia.com/gpu.present");
	if (r >= 0 && class_known)
		r = setf(out,
			 cls == 0x030000   ? "graphics"
			 : cls == 0x030200 ? "compute"
					   : "unknown",
			 "nvidia.com/gpu.mode");
	if (r >= 0 && inv->system.product)
		r = set_sanitized(out, "nvidia.com/gpu.machine", inv->system.product);
	if (r < 0 || mixed)
		return r;
	r = set_int(out, "nvidia.com/gpu.count", n);
	if (r >= 0 && named_by_driver(first))
		r = set_sanitized(out, "nvidia.com/gpu.product", first->model);
	if (r >= 0 && first->memory_bytes > 0)
		r = set_int(out, "nvidia.com/gpu.memory", first->memory_bytes / (1024 * 1024));
	if (r >= 0 && nvidia_compute(first, &major, &minor) && major > 0) {
		r = set_int(out, "nvidia.com/gpu.compute.major", major);
		if (r >= 0)
			r = set_int(out, "nvidia.com/gpu.compute.minor", minor);
		if (r >= 0 && nvidia_family(major, minor))
			r = setf(out, nvidia_family(major, minor), "nvidia.com/gpu.family");
	}
	return r;
}

/* A per-GPU value for the AMD labeller: 0 with *ret NULL when the GPU has none. */
typedef int (*amd_value_fn)(const hw_gpu *g, char **ret);

static bool is_amdgpu(const hw_gpu *g)
{
	return g->driver && !strcmp(g->driver, "amdgpu");
}

/* VALUE of the I-th GPU as the labeller would see it: NULL for a GPU amdgpu does not drive;
 * for one whose value we do not know, the value of another GPU of the same PCI device. */
static int amd_value(const hw_inventory *inv, size_t i, amd_value_fn value, char **ret)
{
	int r;

	*ret = NULL;
	if (!is_amdgpu(&inv->gpus[i]))
		return 0;
	r = value(&inv->gpus[i], ret);
	for (size_t j = 0; r >= 0 && !*ret && j < inv->n_gpus; j++)
		if (j != i && is_amdgpu(&inv->gpus[j]) &&
		    inv->gpus[j].device_id == inv->gpus[i].device_id)
			r = value(&inv->gpus[j], ret);
	return r;
}

/*
 * AMD's node labeller (ROCm k8s-device-plugin cmd/k8s-node-labeller, createLabels): every
 * GPU bound to amdgpu counts, APUs too. One value on all of them: amd.com/gpu.<kind>=<value>;
 * values that differ: amd.com/gpu.<kind>.<value>=<count> each, and the labeller deletes the
 * plain key. The form follows the GPUs amdgpu drives, not the ones whose value is known
 * here (the labeller's amdgpu.ids is newer than the distribution's): a GPU whose value is
 * unknown makes the values differ, and only the known ones are labelled.
 */
static int amd_kind(const hw_inventory *inv, na_kv_list *out, const char *kind, amd_value_fn value)
{
	_cleanup_free_ char *common = NULL;
	bool same = true;
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; i < inv->n_gpus && r >= 0; i++) {
		_cleanup_free_ char *v = NULL;

		if (!is_amdgpu(&inv->gpus[i]))
			continue;
		r = amd_value(inv, i, value, &v);
		if (n++ == 0)
			common = TAKE_PTR(v);
		else
			same = same && v && common && !strcmp(common, v);
	}
	if (r < 0 || n == 0)
		return r;
	if (same)
		return common ? setf(out, common, "amd.com/gpu.%s", kind) : 0;
	for (size_t i = 0; i < inv->n_gpus && r >= 0; i++) {
		_cleanup_free_ char *v = NULL;
		char buf[32];
		int64_t count = 0;

		r = amd_value(inv, i, value, &v);
		if (r < 0 || !v)
			continue;
		for (size_t j = 0; j < inv->n_gpus && r >= 0; j++) {
			_cleanup_free_ char *w = NULL;
			r = amd_value(inv, j, value, &w);
			count += w && !strcmp(w, v);
		}
		snprintf(buf, sizeof(buf), "%lld", (long long)count);
		if (r >= 0)
			r = setf(out, buf, "amd.com/gpu.%s.%s", kind, v);
	}
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

/*
 * Intel's NodeFeatureRules (intel-device-plugins-for-kubernetes deployments/nfd/overlays/
 * node-feature-rules/): device-id.<class>-<device>.present for every Intel display device,
 * and per class one device-id.<class>-<first device>.count=<devices of that class>, the
 * first in PCI address order; intel.feature.node.kubernetes.io/gpu when i915 or xe drives
 * one.
 */
static int intel_labels(const hw_inventory *inv, na_kv_list *out)
{
	static const unsigned classes[] = {0x0300, 0x0380};
	int r = 0;

	for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]) && r >= 0; c++) {
		const hw_pci_device *first = NULL;
		int64_t count = 0;
		char buf[32];

		for (size_t i = 0; i < inv->n_pci_devices && r >= 0; i++) {
			const hw_pci_device *d = &inv->pci_devices[i];

			if (d->vendor_id != 0x8086 || (d->class_code >> 8) != classes[c])
				continue;
			if (!first || (d->address && first->address &&
				       strcmp(d->address, first->address) < 0))
				first = d;
			count++;
			if (d->driver && (!strcmp(d->driver, "i915") || !strcmp(d->driver, "xe")))
				r = setf(out, "true", "intel.feature.node.kubernetes.io/gpu");
			if (r >= 0)
				r = setf(out, "true", "gpu.intel.com/device-id.%04x-%04x.present",
					 classes[c], d->device_id);
		}
		snprintf(buf, sizeof(buf), "%lld", (long long)count);
		if (r >= 0 && first)
			r = setf(out, buf, "gpu.intel.com/device-id.%04x-%04x.count", classes[c],
				 first->device_id);
	}
	return r;
}

/* The name a GPU's per-model labels use, the same whether or not the NVIDIA driver is loaded
 * at this boot (the GPU Operator loads it after K3s starts): for a GPU the driver or NVML
 * named, the catalog's (pci.ids) name; otherwise the model. */
static const char *model_key_name(const hw_gpu *g)
{
	return named_by_driver(g) && g->pci_ids_model ? g->pci_ids_model : g->model;
}

/*
 * node-agent's own per-model facts, which mean the same on a node with two models:
 * gpu.node-agent.io/<model>=<count>, and for NVIDIA <model>.family and <model>.compute
 * (capability), <model>.memory (MiB) where known.
 */
static int model_labels(const hw_inventory *inv, na_kv_list *out)
{
	int r = 0;

	for (size_t i = 0; i < inv->n_gpus && r >= 0; i++) {
		const hw_gpu *g = &inv->gpus[i];
		const char *m = model_key_name(g);
		_cleanup_free_ char *name = NULL;
		int64_t count = 0;
		int major, minor;
		char buf[32];

		if (!m || !g->vendor ||
		    (strcmp(g->vendor, "nvidia") && strcmp(g->vendor, "amd") &&
		     strcmp(g->vendor, "intel")))
			continue;
		for (size_t j = 0; j < inv->n_gpus; j++)
			count += model_key_name(&inv->gpus[j]) &&
				 !strcmp(model_key_name(&inv->gpus[j]), m);
		name = k8s_gfd_sanitize(m);
		if (!name)
			return -ENOMEM;
		if (!*name)
			continue;
		snprintf(buf, sizeof(buf), "%lld", (long long)count);
		r = setf(out, buf, "gpu.node-agent.io/%s", name);
		if (r >= 0 && g->memory_bytes > 0)
			r = set_int_f(out, g->memory_bytes / (1024 * 1024),
				      "gpu.node-agent.io/%s.memory", name);
		if (r < 0 || !is_nvidia(g) || !nvidia_compute(g, &major, &minor))
			continue;
		snprintf(buf, sizeof(buf), "%d.%d", major, minor);
		r = setf(out, buf, "gpu.node-agent.io/%s.compute", name);
		if (r >= 0 && nvidia_family(major, minor))
			r = setf(out, nvidia_family(major, minor), "gpu.node-agent.io/%s.family",
				 name);
	}
	return r;
}

const char *labels_owner(const char *key)
{
	static const struct {
		const char *prefix, *owner;
	} t[] = {
	    {"nvidia.com/", "gpu-feature-discovery"},
	    {NFD, "node-feature-discovery"},
	    /* Intel's labels come from NodeFeatureRules that nfd-master evaluates */
	    {"intel.feature.node.kubernetes.io/", "node-feature-discovery"},
	    {"gpu.intel.com/", "node-feature-discovery"},
	    {"amd.com/", "amd-node-labeller"},
	};

	/* not GFD's: the GPU Operator sets it on nodes with NFD's pci-10de label */
	if (!strcmp(key, "nvidia.com/gpu.present"))
		return "gpu-operator";
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strncmp(key, t[i].prefix, strlen(t[i].prefix)))
			return t[i].owner;
	return NULL;
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
	if (inv->cpu.arch && !strcmp(inv->cpu.arch, "aarch64"))
		r = arm64_cpuid_labels(inv, out);
	else
		for (size_t i = 0; i < sizeof(cpuid_names) / sizeof(cpuid_names[0]) && r >= 0; i++)
			for (char **f = inv->cpu.flags; f && *f && r >= 0; f++)
				if (!strcmp(*f, cpuid_names[i].flag))
					r = setf(out, "true", NFD "cpu-cpuid.%s",
						 cpuid_names[i].nfd);
	/* node-agent's own: the worst disk's own health report, the memory controller's
	 * errors; rules match them (match.disk_health) and can make them taints */
	if (r >= 0 && health_name(health_disks(inv)))
		r = setf(out, health_name(health_disks(inv)), "node-agent.io/disk-health");
	if (r >= 0 && health_name(health_memory(inv)))
		r = setf(out, health_name(health_memory(inv)), "node-agent.io/memory-health");
	for (size_t i = 0; i < inv->n_disks; i++)
		ssd = ssd || inv->disks[i].rotational == HW_TRI_FALSE;
	if (r >= 0 && ssd)
		r = setf(out, "true", NFD "storage-nonrotationaldisk");
	return r < 0 ? r : 0;
}
