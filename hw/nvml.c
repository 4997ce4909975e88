/* SPDX-License-Identifier: MIT */
/*
 * NVML, loaded with dlopen() only when an NVIDIA GPU is present: the library ships with
 * the driver, so the agent must run (and link) without it. Names and signatures follow
 * NVIDIA's nvml.h; only the handful of calls we need are declared here.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "hw-internal.h"

typedef int nvml_return; /* nvmlReturn_t; NVML_SUCCESS == 0 */
typedef struct nvml_device *nvml_device;
typedef struct nvml_memory {
	unsigned long long total;
	unsigned long long free;
	unsigned long long used;
} nvml_memory;

#define NVML_SUCCESS			0
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96

typedef struct nvml_api {
	nvml_return (*init)(void);
	nvml_return (*shutdown)(void);
	nvml_return (*by_bus_id)(const char *bus_id, nvml_device *dev);
	nvml_return (*name)(nvml_device dev, char *name, unsigned length);
	nvml_return (*memory)(nvml_device dev, nvml_memory *mem);
	/* optional: older drivers lack it */
	nvml_return (*compute)(nvml_device dev, int *major, int *minor);
} nvml_api;

static bool nvml_load(void *h, nvml_api *api)
{
	*(void **)&api->init = dlsym(h, "nvmlInit_v2");
	*(void **)&api->shutdown = dlsym(h, "nvmlShutdown");
	*(void **)&api->by_bus_id = dlsym(h, "nvmlDeviceGetHandleByPciBusId_v2");
	*(void **)&api->name = dlsym(h, "nvmlDeviceGetName");
	*(void **)&api->memory = dlsym(h, "nvmlDeviceGetMemoryInfo");
	*(void **)&api->compute = dlsym(h, "nvmlDeviceGetCudaComputeCapability");
	return api->init && api->shutdown && api->by_bus_id && api->name && api->memory;
}

int hw_nvml_query(hw_ctx *ctx, hw_gpu *gpus, size_t n)
{
	nvml_api api = {0};
	void *h;
	nvml_return rc;

	h = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return 0; /* no driver userspace: not a problem, just less detail */
	if (!nvml_load(h, &api)) {
		hw_warn(ctx, "libnvidia-ml.so.1", "missing NVML symbols, not used");
		dlclose(h);
		return 0;
	}
	rc = api.init();
	if (rc != NVML_SUCCESS) {
		hw_warn(ctx, "libnvidia-ml.so.1", "nvmlInit_v2 failed (%d)", rc);
		dlclose(h);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		hw_gpu *g = &gpus[i];
		char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = "";
		nvml_device dev = NULL;
		nvml_memory mem = {0};
		int major = 0, minor = 0;

		if (g->vendor_id != 0x10de)
			continue;
		if (api.by_bus_id(g->pci_address, &dev) != NVML_SUCCESS || !dev)
			continue;
		if (api.memory(dev, &mem) == NVML_SUCCESS && mem.total > 0 &&
		    mem.total <= (unsigned long long)INT64_MAX)
			g->memory_bytes = (int64_t)mem.total;
		/* what GPU Feature Discovery labels as nvidia.com/gpu.compute.major|minor */
		if (api.compute && api.compute(dev, &major, &minor) == NVML_SUCCESS && major > 0 &&
		    major < 100 && minor >= 0 && minor < 100) {
			free(g->compute_capability);
			g->compute_capability = hw_asprintf("%d.%d", major, minor);
		}
		/* the kernel driver's own Model: line wins; NVML beats every table */
		if (g->model_source && strcmp(g->model_source, "nvidia-driver") == 0)
			continue;
		if (api.name(dev, name, sizeof(name)) == NVML_SUCCESS) {
			char *m = hw_clean_ident(name, strnlen(name, sizeof(name)));

			if (m) {
				free(g->model);
				free(g->model_source);
				g->model = m;
				g->model_source = hw_strdup("nvml");
			}
		}
	}
	api.shutdown();
	dlclose(h);
	return 0;
}
