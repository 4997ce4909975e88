/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw-macro.h"
#include "hw.h"

/* Largest file we read whole; /proc/cpuinfo of a 512-thread machine is well below. */
#define HW_FILE_MAX (8u * 1024 * 1024)
/* Largest sysfs attribute we accept (the kernel caps them at one page). */
#define HW_ATTR_MAX 4096u

struct hw_ctx {
	int root_fd;
	char *root;
	bool live;
	bool nvml;
	char *pci_ids_override;
	char **warnings;
	size_t n_warnings;
};

/* Read flags. */
enum {
	/* EINVAL, ENODEV, ENXIO are a normal "no value" (speed of a down link, the wwid of a
	 * USB stick) */
	HW_READ_QUIET_EINVAL = 1 << 0,
	HW_READ_WARN_MISSING = 1 << 1, /* a missing file is worth a warning */
	HW_READ_RAW = 1 << 2,	       /* keep bytes as they are (binary VPD pages) */
	/* an empty or blank value is a normal "no value" (DMI strings firmware left blank) */
	HW_READ_EMPTY_OK = 1 << 3,
};

void hw_warn(hw_ctx *ctx, const char *path, const char *fmt, ...) _printf_(3, 4);
void hw_warn_errno(hw_ctx *ctx, const char *path, int err);

/* Read a whole file under the root. Returns the length, -errno on failure. Does not warn. */
int hw_read_file(hw_ctx *ctx, const char *path, size_t max, char **ret, size_t *ret_len);
/* Read an attribute, strip trailing whitespace. NULL when absent, unreadable or empty;
 * problems other than absence are recorded as warnings naming the file. */
char *hw_attr(hw_ctx *ctx, const char *path, unsigned flags);
char *hw_attrf(hw_ctx *ctx, unsigned flags, const char *fmt, ...) _printf_(3, 4);
/* Parse an attribute as a number; false (and a warning for junk) when it is not one. */
bool hw_attr_u64(hw_ctx *ctx, const char *path, int base, unsigned flags, uint64_t *ret);
bool hw_attr_i64(hw_ctx *ctx, const char *path, unsigned flags, int64_t *ret);
hw_tri hw_attr_bool(hw_ctx *ctx, const char *path, unsigned flags);
/* readlink() under the root; returns the target or NULL. */
char *hw_readlink(hw_ctx *ctx, const char *path);
/* Basename of a symlink's target (e.g. the driver of a device). */
char *hw_link_basename(hw_ctx *ctx, const char *path);
bool hw_exists(hw_ctx *ctx, const char *path);
/* Sorted (version order) directory entries, excluding "." and "..", NULL-terminated.
 * A missing directory gives an empty list. */
int hw_list_dir(hw_ctx *ctx, const char *path, char ***ret);
/* The same, without the warning and the empty list: -errno when the directory cannot be
 * read (-ENOENT: it is not there), for callers to whom that makes a difference. */
int hw_read_dir(hw_ctx *ctx, const char *path, char ***ret);

/* Strings. */
char *hw_strdup(const char *s);
char *hw_strndup(const char *s, size_t n);
char *hw_asprintf(const char *fmt, ...) _printf_(1, 2);
char **hw_strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, hw_strv_free)
/* free() the strings the N pointers point at; HW_FREE_STRINGS(&a->x, &a->y, ...) */
void hw_free_strings(char **const *v, size_t n);
#define HW_FREE_STRINGS(...)                                                                       \
	hw_free_strings((char **const[]){__VA_ARGS__},                                             \
			sizeof((char **const[]){__VA_ARGS__}) / sizeof(char **))
size_t hw_strv_length(char *const *v);
int hw_strv_push(char ***v, char *s); /* takes s */
bool hw_strv_contains(char *const *v, const char *s);
/* Copy with surrounding whitespace removed; NULL for an empty result. */
char *hw_strip_dup(const char *s, size_t n);
/* Printable, trimmed copy of an identifier from firmware/hardware; NULL for placeholders. */
char *hw_clean_ident(const char *s, size_t n);
/* A firmware date, "MM/DD/YYYY" or "MM/DD/YY" (SMBIOS) or already "YYYY-MM-DD", as
 * "YYYY-MM-DD"; NULL when it is none of these or not a calendar date. */
char *hw_date_iso(const char *s);
int hw_parse_u64(const char *s, int base, uint64_t *ret);
int hw_parse_i64(const char *s, int64_t *ret);
const char *hw_path_basename(const char *p);
/* Last component of a sysfs device path that looks like a PCI address, as a new string. */
char *hw_pci_address_in_path(const char *path);
bool hw_is_pci_address(const char *s, size_t n);
char *hw_mac_normalize(const char *s);

/* Collectors, one per module. */
int hw_host_detect(hw_ctx *ctx, hw_inventory *inv);
int hw_dmi_detect(hw_ctx *ctx, hw_system *sys);
int hw_cpu_detect(hw_ctx *ctx, hw_cpu *cpu, hw_memory *mem);
int hw_pci_detect(hw_ctx *ctx, hw_pci_device **ret, size_t *ret_n);
int hw_pci_ids_lookup(hw_ctx *ctx, hw_pci_device *devs, size_t n);
bool hw_gpu_is_gpu_class(uint32_t class_code);
int hw_gpu_detect(hw_ctx *ctx, const hw_pci_device *pci, size_t n_pci, hw_gpu **ret, size_t *ret_n);
int hw_nvml_query(hw_ctx *ctx, hw_gpu *gpus, size_t n);
int hw_disk_detect(hw_ctx *ctx, hw_disk **ret, size_t *ret_n);
/* disk-health.c: NVMe and ATA SMART of the disks (live root only; one warning when not
 * permitted); fails only for lack of memory */
int hw_disk_health_detect(hw_ctx *ctx, hw_disk *disks, size_t n);
int hw_nic_detect(hw_ctx *ctx, hw_nic **ret, size_t *ret_n);
int hw_nic_netlink(hw_ctx *ctx, hw_nic *nics, size_t n);

/* ethtool.c: the SIOCETHTOOL ioctl on the live system (the rules at the top of the file) */
typedef struct hw_ethtool {
	int sock;
	/* the ioctl for interface ifname with the command structure data: 0 or -errno (a
	 * unit test puts a stand-in kernel here); NULL: no socket, nothing is asked */
	int (*call)(int sock, const char *ifname, void *data);
	bool have_glinksettings; /* an interface has answered ETHTOOL_GLINKSETTINGS */
	size_t n_wol_denied;	 /* interfaces whose ETHTOOL_GWOL was not permitted */
	char *wol_denied_first;
} hw_ethtool;
/* A datagram socket (AF_INET, else AF_UNIX); -errno when there is none. */
int hw_ethtool_open(hw_ethtool *e);
/* The one warning for what was not permitted, then the socket closed. */
void hw_ethtool_close(hw_ctx *ctx, hw_ethtool *e);
char *hw_ethtool_permanent_mac(hw_ethtool *e, const char *ifname);
/* n's link_modes, max_speed_mbps, driver_version, firmware_version, wol_supported and
 * wol_enabled (NULL and HW_UNKNOWN before); fails only for -ENOMEM. */
int hw_ethtool_read(hw_ctx *ctx, hw_ethtool *e, hw_nic *n);
/* ethtool's name of link-mode bit (ETHTOOL_LINK_MODE_*_BIT) and its speed, NULL for the
 * bits that are not speed modes and those newer than the table. */
const char *hw_ethtool_link_mode_name(unsigned bit, int64_t *ret_speed_mbps);
/* The named modes of a link-mode mask in bit order, and the fastest one's speed
 * (HW_UNKNOWN when none). */
int hw_ethtool_link_modes(const uint32_t *mask, size_t n_words, char ***ret_modes,
			  int64_t *ret_max_speed_mbps);
/* Names of the WAKE_* bits set: "phy", "unicast", ..., "filter". */
int hw_ethtool_wol_names(uint32_t bits, char ***ret);
/* A string field of an ethtool reply (size bytes, NUL-terminated or not), trimmed,
 * non-printable bytes as '?'; NULL when empty or "N/A". */
char *hw_ethtool_string(const char *field, size_t size);

/* smbios.c: SMBIOS structures (DSP0134) as bytes; no I/O but hw_smbios_memory_detect() */
typedef struct hw_smbios_struct {
	const uint8_t *data;
	size_t length; /* of the formatted area, from the header */
	size_t size;   /* of the whole structure, strings included */
	uint8_t type;
	uint16_t handle;
} hw_smbios_struct;

typedef struct hw_smbios_memory_array {
	uint16_t handle;
	int use;	      /* 03h: system memory; -1 when not said */
	int error_correction; /* 03h none .. 07h CRC; -1 when not said */
	int64_t devices;      /* sockets, HW_UNKNOWN */
} hw_smbios_memory_array;

typedef struct hw_smbios_memory_device {
	uint16_t handle;
	uint16_t array_handle;
	bool has_array_handle;
	hw_tri installed; /* size 0: an empty socket */
	hw_memory_module module;
} hw_smbios_memory_device;

/* A structure's header checked against its size: -EBADMSG when it cannot be one. */
int hw_smbios_parse(const void *raw, size_t size, hw_smbios_struct *ret);
/* A field of the formatted area, little-endian; false when the structure is too short. */
bool hw_smbios_u8(const hw_smbios_struct *s, size_t offset, uint8_t *ret);
bool hw_smbios_u16(const hw_smbios_struct *s, size_t offset, uint16_t *ret);
bool hw_smbios_u32(const hw_smbios_struct *s, size_t offset, uint32_t *ret);
/* The string whose index is the byte at offset, trimmed; NULL for none and placeholders. */
char *hw_smbios_string(const hw_smbios_struct *s, size_t offset);
/* Type 16 and type 17 fields; -EINVAL for another type. */
int hw_smbios_read_memory_array(const hw_smbios_struct *s, hw_smbios_memory_array *ret);
int hw_smbios_read_memory_device(const hw_smbios_struct *s, hw_smbios_memory_device *ret);
/* Modules, slots and ECC of mem from any mix of structures (other types are ignored);
 * what they do not say stays unknown. */
int hw_smbios_memory(const hw_smbios_struct *structs, size_t n, hw_memory *mem);
int hw_smbios_memory_detect(hw_ctx *ctx, hw_memory *mem);

/* pcie.c: a link speed in tenths of GT/s (0: "Unknown"); a PCI function's link and path */
int hw_pcie_parse_speed(const char *s, unsigned *ret);
int hw_pcie_link_read(hw_ctx *ctx, const char *pci_address, hw_pcie_link *ret);

/* power.c: batteries and mains power; a battery's wear from its full and design capacity */
int hw_power_detect(hw_ctx *ctx, hw_inventory *inv);
int64_t hw_battery_wear_percent(int64_t full, int64_t design);

/* thermal.c: hwmon sensors and thermal zones; millidegrees to °C (HW_UNKNOWN beyond reason) */
int hw_thermal_detect(hw_ctx *ctx, hw_inventory *inv);
int64_t hw_thermal_celsius(int64_t milli);

/* platform.c: TPM, Secure Boot, lockdown, KVM, IOMMU */
int hw_platform_detect(hw_ctx *ctx, hw_platform *p);

void hw_system_done(hw_system *s);
void hw_cpu_done(hw_cpu *c);
void hw_pci_device_done(hw_pci_device *d);
void hw_gpu_done(hw_gpu *g);
void hw_disk_done(hw_disk *d);
void hw_nic_done(hw_nic *n);

/* health.c: unknown values to start from (known false), and freeing */
void hw_pcie_link_init(hw_pcie_link *l);
void hw_pcie_link_done(hw_pcie_link *l);
void hw_disk_health_init(hw_disk_health *h);
void hw_disk_health_done(hw_disk_health *h);
void hw_memory_module_done(hw_memory_module *m);
void hw_memory_done(hw_memory *m);
void hw_battery_done(hw_battery *b);
void hw_thermal_done(hw_thermal *t);
void hw_platform_init(hw_platform *p);
void hw_platform_done(hw_platform *p);
int hw_edac_detect(hw_ctx *ctx, hw_memory *mem);

/* smart.c: what a disk says about its health, from the raw bytes (no I/O). Each parser
 * fills an hw_disk_health that holds nothing yet (known, status by the rule in smart.c) or
 * leaves it unknown and returns -EBADMSG (not a page of that kind) or -ENOMEM. */
#define HW_SMART_PAGE 512u /* the NVMe log page and each ATA SMART structure */
int hw_smart_nvme_parse(const uint8_t *log, size_t len, hw_disk_health *h);
/* 0 when an ATA SMART data or thresholds structure has its size and its checksum holds */
int hw_smart_ata_check(const uint8_t *page, size_t len);
/* SMART READ DATA, with READ THRESHOLDS (NULL, or failing the check: unknown) and the
 * verdict of RETURN STATUS */
int hw_smart_ata_parse(const uint8_t *data, size_t len, const uint8_t *thresholds,
		       size_t thresholds_len, hw_tri passed, hw_disk_health *h);
/* SMART RETURN STATUS from the sense data of an ATA PASS-THROUGH with CK_COND: true (no
 * threshold exceeded), false (exceeded); -ENODATA no ATA status in it, -EIO the command
 * failed, -EBADMSG neither answer */
int hw_smart_ata_return_status(const uint8_t *sense, size_t len, hw_tri *ret);
