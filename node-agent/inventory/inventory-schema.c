/* SPDX-License-Identifier: MIT */
/*
 * The tables of node-agent/inventory/v1 (DESIGN.md): one line a key, in output order. A
 * member of the wrong C type for its kind does not compile.
 */
#include <stdbool.h>

#include "basic/macro.h"
#include "inventory/inventory-schema.h"

/* offsetof(T, m), and a compile error ("negative size") unless T's m is of type `want` */
#define MEMBER(T, m, want)                                                                         \
	(offsetof(T, m) +                                                                          \
	 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((T *)0)->m), want) ? 1 : -1]))

#define FIELD(k, kind_, T, m, want) .key = k, .kind = kind_, .offset = MEMBER(T, m, want)

#define F_STRING(k, T, m) ((schema_field){FIELD(k, SCHEMA_STRING, T, m, char *)})
/* with the values allowed, which the reader's message names as they are written here */
#define F_STRING_OF(k, T, m, ...)                                                                  \
	((schema_field){FIELD(k, SCHEMA_STRING, T, m, char *), .values = STRINGS(__VA_ARGS__),     \
			.allowed = #__VA_ARGS__})
#define F_INT(k, T, m) ((schema_field){FIELD(k, SCHEMA_INT, T, m, int64_t)})
#define F_INT_OF(k, T, m, ...)                                                                     \
	((schema_field){FIELD(k, SCHEMA_INT, T, m, int64_t), .ints = INTS(__VA_ARGS__),            \
			.allowed = #__VA_ARGS__})
#define F_TRI(k, T, m)	     ((schema_field){FIELD(k, SCHEMA_TRI, T, m, hw_tri)})
#define F_BOOL(k, T, m)	     ((schema_field){FIELD(k, SCHEMA_BOOL, T, m, bool)})
#define F_HEX4(k, T, m)	     ((schema_field){FIELD(k, SCHEMA_HEX4, T, m, uint16_t)})
#define F_STRV(k, T, m)	     ((schema_field){FIELD(k, SCHEMA_STRV, T, m, char **)})
#define F_PCI_CLASS(k, T, m) ((schema_field){FIELD(k, SCHEMA_PCI_CLASS, T, m, uint32_t)})
#define F_REV2(k, T, m)	     ((schema_field){FIELD(k, SCHEMA_REV2, T, m, int16_t)})
#define F_OBJECT(k, T, m, ET, sub)                                                                 \
	((schema_field){FIELD(k, SCHEMA_OBJECT, T, m, ET), .object = TABLE(sub)})
/* an ET at T's m that starts with `bool known`: null when not known */
#define F_OPT_OBJECT(k, T, m, ET, sub)                                                             \
	((schema_field){FIELD(k, SCHEMA_OPT_OBJECT, T, m, ET), .object = TABLE(sub)})
#define STARTS_WITH_KNOWN(ET)                                                                      \
	_Static_assert(offsetof(ET, known) == 0 &&                                                 \
			   __builtin_types_compatible_p(__typeof__(((ET *)0)->known), bool),       \
		       #ET " starts with bool known")
STARTS_WITH_KNOWN(hw_pcie_link);
STARTS_WITH_KNOWN(hw_disk_health);
/* a list of ET at T's m, its count in T's n, at most mx entries; null: see schema_list */
#define F_LIST(k, T, m, n, ET, sub, mx, null)                                                      \
	((schema_field){FIELD(k, SCHEMA_LIST, T, m, ET *),                                         \
			.list = &(const schema_list){.table = TABLE(sub),                          \
						     .elem_size = sizeof(ET),                      \
						     .count_offset = MEMBER(T, n, size_t),         \
						     .max = (mx),                                  \
						     .nullable = (null)}})
#define STRINGS(...)  ((const char *const[]){__VA_ARGS__, NULL})
#define INTS(...)     ((const int64_t[]){__VA_ARGS__, HW_UNKNOWN})
#define TABLE(fields) (&(const schema_table){fields, ELEMENTSOF(fields)})

/* Far above any machine (a PCI domain holds 65536 functions), and it keeps what reads
 * inventories (diff matches parts pairwise) fast on hostile input. */
#define INVENTORY_MAX_PARTS 4096
#define INVENTORY_MAX_PCI   65536

/* One line a key: clang-format would lay some tables out in columns. */
/* clang-format off */
static const schema_field filesystem_fields[] = {
	F_STRING("device", hw_filesystem, device),
	F_STRING("type", hw_filesystem, type),
	F_STRING("label", hw_filesystem, label),
	F_STRING("uuid", hw_filesystem, uuid),
};

static const schema_field pcie_link_fields[] = {
	F_STRING("speed", hw_pcie_link, speed),
	F_INT("width", hw_pcie_link, width),
	F_STRING("max_speed", hw_pcie_link, max_speed),
	F_INT("max_width", hw_pcie_link, max_width),
	F_STRING("path_speed", hw_pcie_link, path_speed),
	F_INT("path_width", hw_pcie_link, path_width),
	F_STRING("limited_by", hw_pcie_link, limited_by),
	F_TRI("below_max", hw_pcie_link, below_max),
};

static const schema_field disk_health_fields[] = {
	F_STRING_OF("status", hw_disk_health, status, "ok", "warning", "failing"),
	F_STRING_OF("source", hw_disk_health, source, "nvme", "ata"),
	F_INT("power_on_hours", hw_disk_health, power_on_hours),
	F_INT("temperature_c", hw_disk_health, temperature_c),
	F_STRV("critical_warning", hw_disk_health, critical_warning),
	F_INT("percentage_used", hw_disk_health, percentage_used),
	F_INT("available_spare", hw_disk_health, available_spare),
	F_INT("available_spare_threshold", hw_disk_health, available_spare_threshold),
	F_INT("media_errors", hw_disk_health, media_errors),
	F_INT("unsafe_shutdowns", hw_disk_health, unsafe_shutdowns),
	F_INT("data_units_written", hw_disk_health, data_units_written),
	F_TRI("smart_passed", hw_disk_health, smart_passed),
	F_INT("reallocated_sectors", hw_disk_health, reallocated_sectors),
	F_INT("pending_sectors", hw_disk_health, pending_sectors),
	F_INT("offline_uncorrectable", hw_disk_health, offline_uncorrectable),
};

static const schema_field memory_module_fields[] = {
	F_STRING("locator", hw_memory_module, locator),
	F_STRING("bank_locator", hw_memory_module, bank_locator),
	F_INT("size_bytes", hw_memory_module, size_bytes),
	F_STRING("type", hw_memory_module, type),
	F_STRING("form_factor", hw_memory_module, form_factor),
	F_INT("speed_mts", hw_memory_module, speed_mts),
	F_INT("configured_speed_mts", hw_memory_module, configured_speed_mts),
	F_STRING("manufacturer", hw_memory_module, manufacturer),
	F_STRING("part_number", hw_memory_module, part_number),
	F_STRING("serial", hw_memory_module, serial),
};

static const schema_field battery_fields[] = {
	F_STRING("name", hw_battery, name),
	F_TRI("present", hw_battery, present),
	F_STRING("status", hw_battery, status),
	F_STRING("technology", hw_battery, technology),
	F_STRING("manufacturer", hw_battery, manufacturer),
	F_STRING("model", hw_battery, model),
	F_INT("capacity_percent", hw_battery, capacity_percent),
	F_INT("full", hw_battery, full),
	F_INT("full_design", hw_battery, full_design),
	F_STRING_OF("capacity_unit", hw_battery, capacity_unit, "uWh", "uAh"),
	F_INT("wear_percent", hw_battery, wear_percent),
	F_INT("cycle_count", hw_battery, cycle_count),
	F_INT("charge_start_threshold", hw_battery, charge_start_threshold),
	F_INT("charge_end_threshold", hw_battery, charge_end_threshold),
};

static const schema_field thermal_fields[] = {
	F_STRING("name", hw_thermal, name),
	F_STRING_OF("source", hw_thermal, source, "hwmon", "thermal_zone"),
	F_STRING("device", hw_thermal, device),
	F_INT("temperature_c", hw_thermal, temperature_c),
	F_INT("critical_c", hw_thermal, critical_c),
};

static const schema_field platform_fields[] = {
	F_TRI("tpm", hw_platform, tpm),
	F_STRING("tpm_version", hw_platform, tpm_version),
	F_TRI("secure_boot", hw_platform, secure_boot),
	F_TRI("setup_mode", hw_platform, setup_mode),
	F_STRING("lockdown", hw_platform, lockdown),
	F_TRI("kvm", hw_platform, kvm),
	F_TRI("iommu", hw_platform, iommu),
	F_INT("iommu_groups", hw_platform, iommu_groups),
};

static const schema_field gpu_fields[] = {
	F_STRING("pci_address", hw_gpu, pci_address),
	F_STRING("vendor", hw_gpu, vendor),
	F_HEX4("vendor_id", hw_gpu, vendor_id),
	F_HEX4("device_id", hw_gpu, device_id),
	F_STRING("model", hw_gpu, model),
	F_STRING("model_source", hw_gpu, model_source),
	F_STRING("pci_ids_model", hw_gpu, pci_ids_model),
	F_STRING("chip", hw_gpu, chip),
	F_INT("memory_bytes", hw_gpu, memory_bytes),
	F_STRING("compute_capability", hw_gpu, compute_capability),
	F_STRING("driver", hw_gpu, driver),
	F_OPT_OBJECT("pcie_link", hw_gpu, pcie_link, hw_pcie_link, pcie_link_fields),
	F_TRI("boot_vga", hw_gpu, boot_vga),
};

static const schema_field disk_fields[] = {
	F_STRING("name", hw_disk, name),
	F_INT("size_bytes", hw_disk, size_bytes),
	F_TRI("rotational", hw_disk, rotational),
	F_TRI("removable", hw_disk, removable),
	F_STRING("transport", hw_disk, transport),
	F_STRING("model", hw_disk, model),
	F_STRING("serial", hw_disk, serial),
	F_STRING("wwn", hw_disk, wwn),
	F_STRING("firmware_rev", hw_disk, firmware_rev),
	F_INT("logical_block_size", hw_disk, logical_block_size),
	F_INT("physical_block_size", hw_disk, physical_block_size),
	F_STRING("pci_address", hw_disk, pci_address),
	F_STRING("partition_table", hw_disk, partition_table),
	F_LIST("filesystems", hw_disk, filesystems, n_filesystems, hw_filesystem, filesystem_fields,
	       SIZE_MAX, true),
	F_STRV("signatures", hw_disk, signatures),
	F_TRI("has_signatures", hw_disk, has_signatures),
	F_OPT_OBJECT("health", hw_disk, health, hw_disk_health, disk_health_fields),
	F_STRING("sata_speed", hw_disk, sata_speed),
	F_OPT_OBJECT("pcie_link", hw_disk, pcie_link, hw_pcie_link, pcie_link_fields),
};

static const schema_field nic_fields[] = {
	F_STRING("name", hw_nic, name),
	F_STRING("mac", hw_nic, mac),
	F_STRING("driver", hw_nic, driver),
	F_INT("speed_mbps", hw_nic, speed_mbps),
	F_STRING_OF("duplex", hw_nic, duplex, "full", "half"),
	F_STRING("link", hw_nic, link),
	F_TRI("carrier", hw_nic, carrier),
	F_TRI("default_route", hw_nic, default_route),
	F_INT("mtu", hw_nic, mtu),
	F_STRING("pci_address", hw_nic, pci_address),
	F_BOOL("wireless", hw_nic, wireless),
	F_BOOL("virtual", hw_nic, is_virtual),
	F_STRV("addresses", hw_nic, addresses),
	F_STRV("link_modes", hw_nic, link_modes),
	F_INT("max_speed_mbps", hw_nic, max_speed_mbps),
	F_STRING("driver_version", hw_nic, driver_version),
	F_STRING("firmware_version", hw_nic, firmware_version),
	F_STRV("wol_supported", hw_nic, wol_supported),
	F_STRV("wol_enabled", hw_nic, wol_enabled),
};

static const schema_field pci_fields[] = {
	F_STRING("address", hw_pci_device, address),
	F_PCI_CLASS("class", hw_pci_device, class_code),
	F_HEX4("vendor_id", hw_pci_device, vendor_id),
	F_HEX4("device_id", hw_pci_device, device_id),
	F_HEX4("subsystem_vendor_id", hw_pci_device, subsystem_vendor_id),
	F_HEX4("subsystem_device_id", hw_pci_device, subsystem_device_id),
	F_REV2("revision", hw_pci_device, revision),
	F_STRING("vendor_name", hw_pci_device, vendor_name),
	F_STRING("device_name", hw_pci_device, device_name),
	F_STRING("driver", hw_pci_device, driver),
};

static const schema_field boot_fields[] = {
	F_STRING("mode", hw_boot, mode),
	F_STRING("pxe_mac", hw_boot, pxe_mac),
	F_INT_OF("uefi_bitness", hw_boot, uefi_bitness, 32, 64),
};

static const schema_field system_fields[] = {
	F_STRING("vendor", hw_system, vendor),
	F_STRING("product", hw_system, product),
	F_STRING("version", hw_system, version),
	F_STRING("family", hw_system, family),
	F_STRING("sku", hw_system, sku),
	F_STRING("serial", hw_system, serial),
	F_STRING("uuid", hw_system, uuid),
	F_STRING("board_vendor", hw_system, board_vendor),
	F_STRING("board_name", hw_system, board_name),
	F_STRING("bios_version", hw_system, bios_version),
	F_STRING("bios_date", hw_system, bios_date),
	F_STRING("bios_release", hw_system, bios_release),
	F_STRING("chassis", hw_system, chassis),
	F_TRI("virtual", hw_system, is_virtual),
};

static const schema_field cpu_fields[] = {
	F_STRING("vendor", hw_cpu, vendor),
	F_STRING("model", hw_cpu, model),
	F_INT("family", hw_cpu, family),
	F_INT("model_id", hw_cpu, model_id),
	F_INT("stepping", hw_cpu, stepping),
	F_STRING("microcode", hw_cpu, microcode),
	F_STRING("arch", hw_cpu, arch),
	F_STRING("microarch_level", hw_cpu, microarch_level),
	F_INT("sockets", hw_cpu, sockets),
	F_INT("cores", hw_cpu, cores),
	F_INT("threads", hw_cpu, threads),
	F_STRV("flags_of_interest", hw_cpu, flags),
};

static const schema_field memory_fields[] = {
	F_INT("total_bytes", hw_memory, total_bytes),
	F_INT("physical_bytes", hw_memory, physical_bytes),
	F_LIST("modules", hw_memory, modules, n_modules, hw_memory_module, memory_module_fields,
	       INVENTORY_MAX_PARTS, true),
	F_INT("slots_total", hw_memory, slots_total),
	F_INT("slots_used", hw_memory, slots_used),
	F_TRI("ecc", hw_memory, ecc),
	F_STRING("ecc_type", hw_memory, ecc_type),
	F_INT("errors_corrected", hw_memory, errors_corrected),
	F_INT("errors_uncorrected", hw_memory, errors_uncorrected),
};

static const schema_field inventory_fields[] = {
	F_STRING("collected_at", hw_inventory, collected_at),
	F_STRING("hostname", hw_inventory, hostname),
	F_STRING("machine_id", hw_inventory, machine_id),
	F_OBJECT("boot", hw_inventory, boot, hw_boot, boot_fields),
	F_OBJECT("system", hw_inventory, system, hw_system, system_fields),
	F_OBJECT("cpu", hw_inventory, cpu, hw_cpu, cpu_fields),
	F_OBJECT("memory", hw_inventory, memory, hw_memory, memory_fields),
	F_LIST("gpus", hw_inventory, gpus, n_gpus, hw_gpu, gpu_fields, INVENTORY_MAX_PARTS, false),
	F_LIST("disks", hw_inventory, disks, n_disks, hw_disk, disk_fields, INVENTORY_MAX_PARTS, false),
	F_LIST("nics", hw_inventory, nics, n_nics, hw_nic, nic_fields, INVENTORY_MAX_PARTS, false),
	F_LIST("pci_devices", hw_inventory, pci_devices, n_pci_devices, hw_pci_device, pci_fields,
	       INVENTORY_MAX_PCI, false),
	F_LIST("batteries", hw_inventory, batteries, n_batteries, hw_battery, battery_fields,
	       INVENTORY_MAX_PARTS, true),
	F_TRI("ac_online", hw_inventory, ac_online),
	F_LIST("thermals", hw_inventory, thermals, n_thermals, hw_thermal, thermal_fields,
	       INVENTORY_MAX_PARTS, true),
	F_OBJECT("platform", hw_inventory, platform, hw_platform, platform_fields),
	F_STRV("warnings", hw_inventory, warnings),
};
/* clang-format on */
const schema_table inventory_schema = {inventory_fields, ELEMENTSOF(inventory_fields)};
