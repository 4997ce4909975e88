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

/* One memory device (SMBIOS type 17) that holds a module. */
typedef struct hw_memory_module {
	char *locator;	    /* "DIMM 1", "ChannelA-DIMM0" */
	char *bank_locator; /* "BANK 0" */
	int64_t size_bytes;
	char *type;	   /* "DDR3" | "DDR4" | "DDR5" | "LPDDR4" | ... (SMBIOS memory type) */
	char *form_factor; /* "DIMM" | "SODIMM" | "Row of chips" | ... */
	int64_t speed_mts; /* the module's rated speed, MT/s */
	int64_t configured_speed_mts; /* what the memory controller runs it at */
	char *manufacturer;
	char *part_number;
	char *serial;
} hw_memory_module;

typedef struct hw_memory {
	int64_t total_bytes;	/* MemTotal: what the kernel can use (kubelet capacity) */
	int64_t physical_bytes; /* present memory blocks x block size: close to installed RAM */
	/* SMBIOS types 16/17 (root only): NULL modules when not readable */
	hw_memory_module *modules;
	size_t n_modules;
	int64_t slots_total; /* memory devices of the system memory arrays (type 16) */
	int64_t slots_used;  /* of them, those holding a module */
	hw_tri ecc;	     /* the array's error correction: single-bit, multi-bit or CRC */
	char *ecc_type;	     /* "none" | "parity" | "single-bit" | "multi-bit" | "crc" | ... */
	/* errors the memory controllers counted since boot (EDAC, /sys/devices/system/edac/mc):
	 * HW_UNKNOWN without an EDAC driver */
	int64_t errors_corrected;
	int64_t errors_uncorrected;
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

/*
 * A PCIe device's link: what it negotiated and could do, and the narrowest link on the way
 * to the root complex (its own or an upstream bridge's): a GPU behind an x1 riser runs at
 * x1 whatever its own port says. known is false (null) when the kernel does not tell
 * (root-complex integrated devices, not PCIe).
 */
typedef struct hw_pcie_link {
	bool known;
	char *speed; /* "8.0 GT/s": as the kernel writes current_link_speed, without "PCIe" */
	int64_t width;
	char *max_speed;
	int64_t max_width;
	char *path_speed;   /* the slowest speed on the path to the root complex */
	int64_t path_width; /* the narrowest width on that path */
	char *limited_by;   /* the PCI address whose link sets path_*, NULL: the device's own */
	hw_tri below_max;   /* runs below what it and its path could: slower or narrower */
} hw_pcie_link;

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
	hw_pcie_link pcie_link;
	char *driver;
	hw_tri boot_vga;
} hw_gpu;

typedef struct hw_filesystem {
	char *device;
	char *type;
	char *label;
	char *uuid;
} hw_filesystem;

/*
 * A disk's own account of its health: the NVMe SMART / Health Information log (Get Log Page
 * 02h) or ATA SMART (RETURN STATUS and the attribute table). known is false (null) when the
 * disk told nothing (no such interface, not permitted, a virtual disk).
 */
typedef struct hw_disk_health {
	bool known;
	char *status; /* "ok" | "warning" | "failing" (README: the rule) */
	char *source; /* "nvme" | "ata" */
	int64_t power_on_hours;
	int64_t temperature_c;
	/* NVMe */
	char *
	    *critical_warning;	 /* names of the bits set ([] none): "spare", "temperature",
				  * "reliability", "read_only", "volatile_backup", "pmr_read_only" */
	int64_t percentage_used; /* of the rated endurance; may exceed 100 */
	int64_t available_spare; /* percent */
	int64_t available_spare_threshold;
	int64_t media_errors;
	int64_t unsafe_shutdowns;
	int64_t data_units_written; /* units of 512,000 bytes, as the log counts */
	/* ATA */
	hw_tri smart_passed;	       /* SMART RETURN STATUS: no attribute past its threshold */
	int64_t reallocated_sectors;   /* attribute 5, raw */
	int64_t pending_sectors;       /* 197 */
	int64_t offline_uncorrectable; /* 198 */
} hw_disk_health;

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
	hw_disk_health health;
	char *sata_speed;	/* the negotiated SATA link ("6.0 Gbps"), NULL elsewhere */
	hw_pcie_link pcie_link; /* NVMe: its controller's link */
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
	/* ethtool (live system only; NULL / HW_UNKNOWN otherwise) */
	char **link_modes;	/* supported, as ethtool names them: "1000baseT/Full" */
	int64_t max_speed_mbps; /* the fastest of them */
	char *driver_version;
	char *firmware_version;
	char **wol_supported; /* "phy", "unicast", "multicast", "broadcast", "arp", "magic",
			       * "magicsecure", "filter" */
	char **wol_enabled;   /* NULL without CAP_NET_ADMIN */
} hw_nic;

/* A battery (/sys/class/power_supply/BAT*, Documentation/ABI/testing/sysfs-class-power). */
typedef struct hw_battery {
	char *name;
	hw_tri present;
	char *status; /* "Charging" | "Discharging" | "Full" | "Not charging" | "Unknown" */
	char *technology;
	char *manufacturer;
	char *model;
	int64_t capacity_percent; /* charge now */
	int64_t full;		  /* capacity when full now, in capacity_unit */
	int64_t full_design;
	char *capacity_unit;  /* "uWh" (energy_*) | "uAh" (charge_*) */
	int64_t wear_percent; /* 100 - full / full_design */
	int64_t cycle_count;
	int64_t charge_start_threshold; /* percent */
	int64_t charge_end_threshold;
} hw_battery;

/* A temperature sensor with its critical point (hwmon, thermal zones). */
typedef struct hw_thermal {
	char *name;   /* "coretemp/Package id 0", "nvme/Composite", "thermal_zone0/x86_pkg_temp" */
	char *source; /* "hwmon" | "thermal_zone" */
	char *device; /* the device it measures (PCI address, disk), or NULL */
	int64_t temperature_c;
	int64_t critical_c;
} hw_thermal;

/* Platform security and virtualization. */
typedef struct hw_platform {
	hw_tri tpm;	    /* a TPM is present (/sys/class/tpm) */
	char *tpm_version;  /* "2.0" | "1.2" */
	hw_tri secure_boot; /* efivarfs SecureBoot */
	hw_tri setup_mode;  /* efivarfs SetupMode: keys can be enrolled */
	char *lockdown;	    /* "none" | "integrity" | "confidentiality" */
	hw_tri kvm;	    /* /dev/kvm usable */
	hw_tri iommu;	    /* an IOMMU is enabled (/sys/class/iommu) */
	int64_t iommu_groups;
} hw_platform;

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
	hw_battery *batteries; /* [] none */
	size_t n_batteries;
	hw_tri ac_online; /* mains power (a laptop on its charger); unknown without a supply */
	hw_thermal *thermals;
	size_t n_thermals;
	hw_platform platform;
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
