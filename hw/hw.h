/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * hw: hardware detection under a root prefix.
 *
 * Every read goes through a context that holds a directory fd for the root ("/" for the
 * live machine, or a captured sysfs/procfs tree). The library keeps no global state and
 * does not log: problems with individual attribute files are collected as warnings in
 * the inventory, each naming the file, and the field concerned becomes unknown.
 *
 * Functions that can fail return 0 on success and -errno on failure.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unknown integer values are HW_UNKNOWN; unknown strings are NULL. */
#define HW_UNKNOWN INT64_C(-1)

typedef enum hw_tri {
	HW_TRI_UNKNOWN = -1,
	HW_TRI_FALSE = 0,
	HW_TRI_TRUE = 1,
} hw_tri;

typedef struct hw_ctx hw_ctx;

typedef struct hw_boot {
	char *mode; /* "uefi" | "bios" */
	char *pxe_mac;
	int64_t uefi_bitness; /* 32 | 64: the firmware's, not the kernel's; HW_UNKNOWN */
} hw_boot;

typedef struct hw_system {
	char *vendor;
	char *product;
	char *version; /* product_version: Lenovo writes the model name here */
	char *family;  /* product_family */
	char *sku;     /* product_sku */
	char *serial;
	char *uuid;
	char *board_vendor;
	char *board_name;
	char *bios_version;
	char *bios_date;    /* ISO 8601 "YYYY-MM-DD" */
	char *bios_release; /* SMBIOS "major.minor" of the BIOS, e.g. "1.45" */
	char *chassis;
	hw_tri is_virtual;
} hw_system;

typedef struct hw_cpu {
	char *vendor;
	char *model;	  /* the model name */
	int64_t family;	  /* x86 "cpu family" */
	int64_t model_id; /* x86 "model": the number */
	int64_t stepping;
	char *microcode; /* the revision as the kernel prints it, "0xf0" */
	char *arch;
	char *microarch_level; /* x86-64-v1..v4, NULL elsewhere */
	int64_t sockets;
	int64_t cores;
	int64_t threads;
	char **flags; /* NULL-terminated, flags of interest only, fixed order */
} hw_cpu;

typedef struct hw_memory {
	int64_t total_bytes;	/* MemTotal: what the kernel can use (kubelet capacity) */
	int64_t physical_bytes; /* present memory blocks x block size: close to installed RAM */
} hw_memory;

typedef struct hw_pci_device {
	char *address;
	uint32_t class_code; /* 24 bits: class, subclass, prog-if */
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t subsystem_vendor_id;
	uint16_t subsystem_device_id;
	int16_t revision; /* 0..255, -1 when unknown */
	bool has_ids;
	char *vendor_name; /* from pci.ids */
	char *device_name;
	char *driver;
} hw_pci_device;

typedef struct hw_gpu {
	char *pci_address;
	char *vendor; /* "nvidia" | "amd" | "intel" | ... */
	uint16_t vendor_id;
	uint16_t device_id;
	char *model;
	char *model_source; /* where the name came from: nvidia-driver, nvml, amdgpu, ... */
	/* the name pci.ids (or the built-in table of newer models) gives, whether or not a
	 * driver names the model: the same on every boot; NULL when neither knows the device */
	char *pci_ids_model;
	char *chip; /* e.g. "GB205", "Navi 23": pci.ids' name before the bracket */
	int64_t memory_bytes;
	/* CUDA compute capability "major.minor" from NVML (NVIDIA, driver loaded), or NULL */
	char *compute_capability;
	char *driver;
	hw_tri boot_vga;
} hw_gpu;

typedef struct hw_filesystem {
	char *device;
	char *type;
	char *label;
	char *uuid;
} hw_filesystem;

typedef struct hw_disk {
	char *name;
	int64_t size_bytes;
	hw_tri rotational;
	hw_tri removable;
	char *transport;
	char *model;
	char *serial;
	char *wwn;
	char *firmware_rev;
	int64_t logical_block_size;  /* bytes */
	int64_t physical_block_size; /* bytes */
	char *pci_address;
	char *partition_table; /* "gpt" | "dos" | NULL */
	hw_filesystem *filesystems;
	size_t n_filesystems;
	char **signatures; /* every signature on the whole device, wipefs-style */
	hw_tri has_signatures;
} hw_disk;

typedef struct hw_nic {
	char *name;
	char *mac;
	char *driver;
	int64_t speed_mbps;
	char *duplex; /* "full" | "half" | NULL */
	char *link;   /* "up" | "down" | "unknown" */
	int64_t mtu;
	char *pci_address;
	bool wireless;
	bool is_virtual;
	hw_tri carrier;
	hw_tri default_route; /* carries an IPv4 or IPv6 default route (/proc/net/...) */
	char **addresses;     /* NULL when not known (root other than "/") */
} hw_nic;

typedef struct hw_inventory {
	char *collected_at;
	char *hostname;
	char *machine_id;
	hw_boot boot;
	hw_system system;
	hw_cpu cpu;
	hw_memory memory;
	hw_gpu *gpus;
	size_t n_gpus;
	hw_disk *disks;
	size_t n_disks;
	hw_nic *nics;
	size_t n_nics;
	hw_pci_device *pci_devices;
	size_t n_pci_devices;
	char **warnings; /* NULL-terminated, "PATH: problem" */
} hw_inventory;

/* root: "/" or NULL for the live machine, otherwise a directory holding sys/, proc/, ... */
int hw_ctx_new(const char *root, hw_ctx **ret);
hw_ctx *hw_ctx_free(hw_ctx *ctx);
/* True when the root is the running system: netlink, ioctls and NVML may be consulted. */
bool hw_ctx_is_live(const hw_ctx *ctx);
/* Use these instead of the root's own files (tests, benchmarks). NULL restores the default. */
int hw_ctx_set_pci_ids(hw_ctx *ctx, const char *host_path);
/* Allow NVML even when the root is not "/" (tests with a stand-in libnvidia-ml). */
void hw_ctx_set_nvml(hw_ctx *ctx, bool enable);

/* Detect everything. Individual problems become warnings; only allocation failure or an
 * unusable root fail the call. */
int hw_inventory_collect(hw_ctx *ctx, hw_inventory **ret);
hw_inventory *hw_inventory_free(hw_inventory *inv);

/* Name used in DMI chassis_type, or NULL for unknown codes. */
const char *hw_chassis_name(unsigned code);
