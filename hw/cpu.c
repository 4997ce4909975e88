/* SPDX-License-Identifier: MIT */
/* CPU from /proc/cpuinfo (+ sysfs topology where cpuinfo lacks it) and memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>

#include "hw-internal.h"

/* Flags that matter for scheduling, in the order they are reported. */
static const char *const x86_flags[] = {
    "sse4_2",	"popcnt",      "avx",	      "avx2",	     "fma",	   "f16c",
    "bmi2",	"aes",	       "vaes",	      "sha_ni",	     "avx512f",	   "avx512bw",
    "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni",   "amx_tile",
    "amx_bf16", "amx_int8",    "vmx",	      "svm",	     "hypervisor",
};
static const char *const arm_flags[] = {
    "asimd", "aes", "sha2", "sha512", "crc32", "atomics", "asimddp", "i8mm", "bf16", "sve", "sve2",
};

/* x86-64 micro-architecture levels (psABI), as named in cpuinfo. */
static const char *const x86_v2[] = {"cx16",   "lahf_lm", "popcnt", "pni",
				     "sse4_1", "sse4_2",  "ssse3"};
static const char *const x86_v3[] = {"avx", "avx2", "bmi1",  "bmi2", "f16c",
				     "fma", "abm",  "movbe", "xsave"};
static const char *const x86_v4[] = {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"};

static const struct {
	unsigned id;
	const char *name;
} arm_implementers[] = {
    {0x41, "ARM"},    {0x42, "Broadcom"},  {0x43, "Cavium"},   {0x48, "HiSilicon"},
    {0x4e, "NVIDIA"}, {0x50, "APM"},	   {0x51, "Qualcomm"}, {0x53, "Samsung"},
    {0x61, "Apple"},  {0x6d, "Microsoft"}, {0xc0, "Ampere"},
};

typedef struct cpuinfo_state {
	hw_ctx *ctx;
	char *vendor;
	char *model;
	int64_t family, model_id, stepping;
	char *microcode;
	bool microcode_seen;
	char *flags_line;
	bool is_arm;
	bool has_lm;
	int64_t processors;
	/* distinct (physical id, core id) pairs */
	uint64_t *pairs;
	size_t n_pairs;
	int64_t cur_phys;
	uint64_t *pkgs;
	size_t n_pkgs;
} cpuinfo_state;

static bool u64_add_unique(uint64_t **v, size_t *n, uint64_t x)
{
	uint64_t *nv;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == x)
			return true;
	if (*n >= 65536)
		return false;
	nv = reallocarray(*v, *n + 1, sizeof(**v));
	if (!nv)
		return false;
	nv[(*n)++] = x;
	*v = nv;
	return true;
}

/* Does the space-separated list contain the word? */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; p && (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static bool has_all(const char *list, const char *const *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!has_word(list, w[i]))
			return false;
	return true;
}

/* A number of the first processor's entry (before any "processor" line too, as in the
 * cpuinfo of some architectures); "unknown" (a stepping the kernel does not know) is no
 * value, anything else that is not a number is junk worth a warning. */
static void cpuinfo_number(cpuinfo_state *st, const char *key, const char *val, int64_t *ret)
{
	uint64_t v;

	if (st->processors > 1)
		return;
	if (hw_parse_u64(val, 10, &v) == 0 && v <= INT32_MAX)
		*ret = (int64_t)v;
	else if (strcmp(val, "unknown") != 0)
		hw_warn(st->ctx, "proc/cpuinfo", "%s: not a number: \"%.32s\"", key, val);
}

/* "0x" and 1 to 16 hex digits, as the kernel prints the microcode revision. */
static bool is_hex_revision(const char *s)
{
	size_t n;

	if (s[0] != '0' || s[1] != 'x')
		return false;
	n = strlen(s + 2);
	return n >= 1 && n <= 16 && strspn(s + 2, "0123456789abcdefABCDEF") == n;
}

static void cpuinfo_line(cpuinfo_state *st, const char *key, const char *val)
{
	uint64_t v;

	if (strcmp(key, "processor") == 0) {
		st->processors++;
		st->cur_phys = -1;
	} else if (strcmp(key, "vendor_id") == 0 && !st->vendor) {
		st->vendor = hw_clean_ident(val, strlen(val));
	} else if (strcmp(key, "model name") == 0 && !st->model) {
		st->model = hw_strip_dup(val, strlen(val));
	} else if (strcmp(key, "cpu family") == 0) {
		cpuinfo_number(st, key, val, &st->family);
	} else if (strcmp(key, "model") == 0) {
		cpuinfo_number(st, key, val, &st->model_id);
	} else if (strcmp(key, "stepping") == 0) {
		cpuinfo_number(st, key, val, &st->stepping);
	} else if (strcmp(key, "microcode") == 0 && !st->microcode_seen) {
		st->microcode_seen = true;
		if (is_hex_revision(val))
			st->microcode = hw_strdup(val);
		else
			hw_warn(st->ctx, "proc/cpuinfo", "microcode: not a hex revision: \"%.32s\"",
				val);
	} else if ((strcmp(key, "flags") == 0 || strcmp(key, "Features") == 0) && !st->flags_line) {
		st->flags_line = hw_strdup(val);
		st->is_arm = strcmp(key, "Features") == 0;
	} else if (strcmp(key, "CPU implementer") == 0 && !st->vendor) {
		st->is_arm = true;
		if (hw_parse_u64(val, 16, &v) == 0)
			for (size_t i = 0; i < ELEMENTSOF(arm_implementers); i++)
				if (arm_implementers[i].id == v)
					st->vendor = hw_strdup(arm_implementers[i].name);
	} else if (strcmp(key, "physical id") == 0 && hw_parse_u64(val, 10, &v) == 0 &&
		   v < UINT32_MAX) {
		st->cur_phys = (int64_t)v;
		u64_add_unique(&st->pkgs, &st->n_pkgs, v);
	} else if (strcmp(key, "core id") == 0 && st->cur_phys >= 0 &&
		   hw_parse_u64(val, 10, &v) == 0 && v < UINT32_MAX) {
		u64_add_unique(&st->pairs, &st->n_pairs, ((uint64_t)st->cur_phys << 32) | v);
	}
}

static void parse_cpuinfo(char *buf, cpuinfo_state *st)
{
	char *save = NULL;

	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		char *k_end, *val, *v_end;

		if (!colon)
			continue;
		k_end = colon;
		while (k_end > line && (k_end[-1] == ' ' || k_end[-1] == '\t'))
			k_end--;
		*k_end = '\0';
		val = colon + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		v_end = val + strlen(val);
		while (v_end > val && (v_end[-1] == ' ' || v_end[-1] == '\t'))
			*--v_end = '\0';
		cpuinfo_line(st, line, val);
	}
}

/* Sockets and cores from sysfs topology, for architectures whose cpuinfo lacks them. */
static void topology_from_sysfs(hw_ctx *ctx, cpuinfo_state *st)
{
	char **cpus = NULL;

	if (hw_list_dir(ctx, "sys/devices/system/cpu", &cpus) < 0)
		return;
	for (char **c = cpus; *c; c++) {
		char path[128];
		uint64_t pkg, core;

		if (strncmp(*c, "cpu", 3) != 0 || (*c)[3] < '0' || (*c)[3] > '9')
			continue;
		snprintf(path, sizeof(path),
			 "sys/devices/system/cpu/%s/topology/physical_package_id", *c);
		if (!hw_attr_u64(ctx, path, 10, 0, &pkg) || pkg >= UINT32_MAX)
			continue;
		snprintf(path, sizeof(path), "sys/devices/system/cpu/%s/topology/core_id", *c);
		if (!hw_attr_u64(ctx, path, 10, 0, &core) || core >= UINT32_MAX)
			continue;
		u64_add_unique(&st->pkgs, &st->n_pkgs, pkg);
		u64_add_unique(&st->pairs, &st->n_pairs, (pkg << 32) | core);
	}
	hw_strv_free(cpus);
}

static void memory_detect(hw_ctx *ctx, hw_memory *mem)
{
	_cleanup_free_ char *buf = NULL;
	char **blocks = NULL;
	uint64_t block_size;
	int r;

	mem->total_bytes = HW_UNKNOWN;
	mem->physical_bytes = HW_UNKNOWN;
	mem->slots_total = HW_UNKNOWN;
	mem->slots_used = HW_UNKNOWN;
	mem->ecc = HW_TRI_UNKNOWN;
	mem->errors_corrected = mem->errors_uncorrected = HW_UNKNOWN;
	r = hw_read_file(ctx, "proc/meminfo", HW_FILE_MAX, &buf, NULL);
	if (r < 0)
		hw_warn_errno(ctx, "proc/meminfo", r);
	else {
		const char *p = strstr(buf, "MemTotal:");
		unsigned long long kb;

		if (p && sscanf(p, "MemTotal: %llu kB", &kb) == 1 && kb < (UINT64_MAX >> 11))
			mem->total_bytes = (int64_t)(kb * 1024);
		else
			hw_warn(ctx, "proc/meminfo", "no valid MemTotal line");
	}

	/* Counting the memory blocks only lists a directory: no per-block reads. */
	if (!hw_attr_u64(ctx, "sys/devices/system/memory/block_size_bytes", 16, 0, &block_size) ||
	    block_size == 0)
		return;
	if (hw_list_dir(ctx, "sys/devices/system/memory", &blocks) < 0)
		return;
	uint64_t n = 0;
	for (char **b = blocks; *b; b++)
		if (strncmp(*b, "memory", 6) == 0 && (*b)[6] >= '0' && (*b)[6] <= '9')
			n++;
	hw_strv_free(blocks);
	if (n > 0 && block_size <= (UINT64_MAX >> 1) / n)
		mem->physical_bytes = (int64_t)(n * block_size);
}

int hw_cpu_detect(hw_ctx *ctx, hw_cpu *cpu, hw_memory *mem)
{
	_cleanup_free_ char *buf = NULL;
	cpuinfo_state st = {.ctx = ctx,
			    .cur_phys = -1,
			    .family = HW_UNKNOWN,
			    .model_id = HW_UNKNOWN,
			    .stepping = HW_UNKNOWN};
	int r;

	cpu->sockets = cpu->cores = cpu->threads = HW_UNKNOWN;
	cpu->family = cpu->model_id = cpu->stepping = HW_UNKNOWN;
	memory_detect(ctx, mem);

	r = hw_read_file(ctx, "proc/cpuinfo", HW_FILE_MAX, &buf, NULL);
	if (r < 0) {
		hw_warn_errno(ctx, "proc/cpuinfo", r);
		return 0;
	}
	parse_cpuinfo(buf, &st);

	cpu->arch = hw_attr(ctx, "proc/sys/kernel/arch", 0);
	if (!cpu->arch) {
		if (st.is_arm)
			cpu->arch = hw_strdup("aarch64");
		else if (st.flags_line)
			cpu->arch = hw_strdup(has_word(st.flags_line, "lm") ? "x86_64" : "i686");
	}
	cpu->vendor = TAKE_PTR(st.vendor);
	cpu->model = TAKE_PTR(st.model);
	cpu->family = st.family;
	cpu->model_id = st.model_id;
	cpu->stepping = st.stepping;
	cpu->microcode = TAKE_PTR(st.microcode);
	if (st.processors > 0)
		cpu->threads = st.processors;
	if (st.n_pkgs == 0)
		topology_from_sysfs(ctx, &st);
	if (st.n_pkgs > 0)
		cpu->sockets = (int64_t)st.n_pkgs;
	if (st.n_pairs > 0)
		cpu->cores = (int64_t)st.n_pairs;

	if (st.flags_line) {
		const char *const *want = st.is_arm ? arm_flags : x86_flags;
		size_t n_want = st.is_arm ? ELEMENTSOF(arm_flags) : ELEMENTSOF(x86_flags);

		cpu->flags = calloc(1, sizeof(char *));
		for (size_t i = 0; cpu->flags && i < n_want; i++)
			if (has_word(st.flags_line, want[i]))
				hw_strv_push(&cpu->flags, hw_strdup(want[i]));
		if (!st.is_arm && has_word(st.flags_line, "lm")) {
			const char *level = "x86-64-v1";

			if (has_all(st.flags_line, x86_v2, ELEMENTSOF(x86_v2))) {
				level = "x86-64-v2";
				if (has_all(st.flags_line, x86_v3, ELEMENTSOF(x86_v3))) {
					level = "x86-64-v3";
					if (has_all(st.flags_line, x86_v4, ELEMENTSOF(x86_v4)))
						level = "x86-64-v4";
				}
			}
			cpu->microarch_level = hw_strdup(level);
		}
	} else
		hw_warn(ctx, "proc/cpuinfo", "no flags line");

	free(st.flags_line);
	free(st.pairs);
	free(st.pkgs);
	return 0;
}

void hw_cpu_done(hw_cpu *c)
{
	free(c->vendor);
	free(c->model);
	free(c->microcode);
	free(c->arch);
	free(c->microarch_level);
	hw_strv_free(c->flags);
}
