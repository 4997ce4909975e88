/* SPDX-License-Identifier: MIT */
/*
 * A stand-in libnvidia-ml.so.1 for tests (no NVIDIA driver can be installed here). It
 * exports the six NVML entry points hw/nvml.c uses, with nvml.h's signatures and return
 * codes, and answers from NVML_STUB_DEVICES:
 *     "0000:01:00.0=NVIDIA GeForce RTX 5070=12817793024=12.0;0000:02:00.0=...=..."
 * (bus id = name = total memory in bytes [= CUDA compute capability]). Unknown bus ids give
 * NVML_ERROR_NOT_FOUND; a device without a capability gives NVML_ERROR_NOT_SUPPORTED for it,
 * as a driver too old to know the GPU would.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7

typedef struct nvml_memory {
	unsigned long long total, free, used;
} nvml_memory;

typedef struct stub_device {
	char bus_id[32];
	char name[96];
	unsigned long long total;
	int cc_major, cc_minor; /* -1: not supported */
} stub_device;

static stub_device devices[8];
static int n_devices, initialized;

int nvmlInit_v2(void);
int nvmlShutdown(void);
int nvmlDeviceGetHandleByPciBusId_v2(const char *bus_id, void **device);
int nvmlDeviceGetName(void *device, char *name, unsigned length);
int nvmlDeviceGetMemoryInfo(void *device, nvml_memory *memory);
int nvmlDeviceGetCudaComputeCapability(void *device, int *major, int *minor);

int nvmlInit_v2(void)
{
	const char *spec = getenv("NVML_STUB_DEVICES");
	char *copy, *save = NULL;

	n_devices = 0;
	if (spec && (copy = strdup(spec))) {
		for (char *e = strtok_r(copy, ";", &save); e && n_devices < 8;
		     e = strtok_r(NULL, ";", &save)) {
			stub_device *d = &devices[n_devices];
			char *a = strchr(e, '='), *b = a ? strchr(a + 1, '=') : NULL;

			if (!b)
				continue;
			*a = *b = '\0';
			snprintf(d->bus_id, sizeof(d->bus_id), "%s", e);
			snprintf(d->name, sizeof(d->name), "%s", a + 1);
			d->total = strtoull(b + 1, NULL, 10);
			d->cc_major = d->cc_minor = -1;
			char *c = strchr(b + 1, '=');
			if (c && sscanf(c + 1, "%d.%d", &d->cc_major, &d->cc_minor) != 2)
				d->cc_major = d->cc_minor = -1;
			n_devices++;
		}
		free(copy);
	}
	initialized = 1;
	return NVML_SUCCESS;
}

int nvmlShutdown(void)
{
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	initialized = 0;
	return NVML_SUCCESS;
}

/* NVML accepts "domain:bus:device.function" with a 4- or 8-digit domain */
static const char *strip_domain(const char *s)
{
	const char *c = strchr(s, ':');
	return c && strchr(c + 1, ':') ? c + 1 : s;
}

int nvmlDeviceGetHandleByPciBusId_v2(const char *bus_id, void **device)
{
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	if (!bus_id || !device)
		return NVML_ERROR_INVALID_ARGUMENT;
	for (int i = 0; i < n_devices; i++)
		if (strcasecmp(strip_domain(devices[i].bus_id), strip_domain(bus_id)) == 0) {
			*device = &devices[i];
			return NVML_SUCCESS;
		}
	return NVML_ERROR_NOT_FOUND;
}

int nvmlDeviceGetName(void *device, char *name, unsigned length)
{
	stub_device *d = device;

	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	if (!d || !name)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (strlen(d->name) + 1 > length)
		return NVML_ERROR_INSUFFICIENT_SIZE;
	memcpy(name, d->name, strlen(d->name) + 1);
	return NVML_SUCCESS;
}

int nvmlDeviceGetMemoryInfo(void *device, nvml_memory *memory)
{
	stub_device *d = device;

	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	if (!d || !memory)
		return NVML_ERROR_INVALID_ARGUMENT;
	memory->total = d->total;
	memory->used = d->total / 16;
	memory->free = d->total - memory->used;
	return NVML_SUCCESS;
}

int nvmlDeviceGetCudaComputeCapability(void *device, int *major, int *minor)
{
	stub_device *d = device;

	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	if (!d || !major || !minor)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (d->cc_major < 0)
		return NVML_ERROR_NOT_SUPPORTED;
	*major = d->cc_major;
	*minor = d->cc_minor;
	return NVML_SUCCESS;
}
