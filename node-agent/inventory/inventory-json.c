/* SPDX-License-Identifier: MIT */
/* hw_inventory -> JSON, schema node-agent/inventory/v1 (see DESIGN.md). */
#include <stdio.h>

#include "inventory/inventory-json.h"

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *int_or_null(int64_t v)
{
	return v == HW_UNKNOWN ? NULL : json_object_new_int64(v);
}

static json_object *tri(hw_tri t)
{
	return t == HW_TRI_UNKNOWN ? NULL : json_object_new_boolean(t == HW_TRI_TRUE);
}

static json_object *hex4(uint16_t v)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%04x", v);
	return json_object_new_string(buf);
}

static json_object *strv(char *const *v)
{
	json_object *a;

	if (!v)
		return NULL;
	a = json_object_new_array();
	for (; a && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

#define ADD(o, k, v) json_object_object_add((o), (k), (v))

static json_object *gpu_json(const hw_gpu *g)
{
	json_object *o = json_object_new_object();

	ADD(o, "pci_address", str_or_null(g->pci_address));
	ADD(o, "vendor", str_or_null(g->vendor));
	ADD(o, "vendor_id", hex4(g->vendor_id));
	ADD(o, "device_id", hex4(g->device_id));
	ADD(o, "model", str_or_null(g->model));
	ADD(o, "model_source", str_or_null(g->model_source));
	ADD(o, "chip", str_or_null(g->chip));
	ADD(o, "memory_bytes", int_or_null(g->memory_bytes));
	ADD(o, "driver", str_or_null(g->driver));
	ADD(o, "boot_vga", tri(g->boot_vga));
	return o;
}

static json_object *disk_json(const hw_disk *d)
{
	json_object *o = json_object_new_object(), *fs = NULL;

	ADD(o, "name", str_or_null(d->name));
	ADD(o, "size_bytes", int_or_null(d->size_bytes));
	ADD(o, "rotational", tri(d->rotational));
	ADD(o, "removable", tri(d->removable));
	ADD(o, "transport", str_or_null(d->transport));
	ADD(o, "model", str_or_null(d->model));
	ADD(o, "serial", str_or_null(d->serial));
	ADD(o, "wwn", str_or_null(d->wwn));
	ADD(o, "firmware_rev", str_or_null(d->firmware_rev));
	ADD(o, "logical_block_size", int_or_null(d->logical_block_size));
	ADD(o, "physical_block_size", int_or_null(d->physical_block_size));
	ADD(o, "pci_address", str_or_null(d->pci_address));
	ADD(o, "partition_table", str_or_null(d->partition_table));
	if (d->filesystems) {
		fs = json_object_new_array();
		for (size_t i = 0; i < d->n_filesystems; i++) {
			json_object *f = json_object_new_object();

			ADD(f, "device", str_or_null(d->filesystems[i].device));
			ADD(f, "type", str_or_null(d->filesystems[i].type));
			ADD(f, "label", str_or_null(d->filesystems[i].label));
			ADD(f, "uuid", str_or_null(d->filesystems[i].uuid));
			json_object_array_add(fs, f);
		}
	}
	ADD(o, "filesystems", fs);
	ADD(o, "signatures", strv(d->signatures));
	ADD(o, "has_signatures", tri(d->has_signatures));
	return o;
}

static json_object *nic_json(const hw_nic *n)
{
	json_object *o = json_object_new_object();

	ADD(o, "name", str_or_null(n->name));
	ADD(o, "mac", str_or_null(n->mac));
	ADD(o, "driver", str_or_null(n->driver));
	ADD(o, "speed_mbps", int_or_null(n->speed_mbps));
	ADD(o, "duplex", str_or_null(n->duplex));
	ADD(o, "link", str_or_null(n->link));
	ADD(o, "carrier", tri(n->carrier));
	ADD(o, "default_route", tri(n->default_route));
	ADD(o, "mtu", int_or_null(n->mtu));
	ADD(o, "pci_address", str_or_null(n->pci_address));
	ADD(o, "wireless", json_object_new_boolean(n->wireless));
	ADD(o, "virtual", json_object_new_boolean(n->is_virtual));
	ADD(o, "addresses", strv(n->addresses));
	return o;
}

static json_object *pci_json(const hw_pci_device *d)
{
	json_object *o = json_object_new_object();
	char cls[8];

	snprintf(cls, sizeof(cls), "%04x", (unsigned)(d->class_code >> 8));
	ADD(o, "address", str_or_null(d->address));
	ADD(o, "class", json_object_new_string(cls));
	ADD(o, "vendor_id", hex4(d->vendor_id));
	ADD(o, "device_id", hex4(d->device_id));
	ADD(o, "subsystem_vendor_id", hex4(d->subsystem_vendor_id));
	ADD(o, "subsystem_device_id", hex4(d->subsystem_device_id));
	if (d->revision >= 0) {
		char rev[8];

		snprintf(rev, sizeof(rev), "%02x", (unsigned)d->revision);
		ADD(o, "revision", json_object_new_string(rev));
	} else
		ADD(o, "revision", NULL);
	ADD(o, "vendor_name", str_or_null(d->vendor_name));
	ADD(o, "device_name", str_or_null(d->device_name));
	ADD(o, "driver", str_or_null(d->driver));
	return o;
}

json_object *inventory_to_json(const hw_inventory *inv)
{
	json_object *o = json_object_new_object(), *x, *a;

	if (!o)
		return NULL;
	ADD(o, "schema", json_object_new_string(INVENTORY_SCHEMA));
	ADD(o, "collected_at", str_or_null(inv->collected_at));
	ADD(o, "hostname", str_or_null(inv->hostname));
	ADD(o, "machine_id", str_or_null(inv->machine_id));

	x = json_object_new_object();
	ADD(x, "mode", str_or_null(inv->boot.mode));
	ADD(x, "pxe_mac", str_or_null(inv->boot.pxe_mac));
	ADD(x, "uefi_bitness", int_or_null(inv->boot.uefi_bitness));
	ADD(o, "boot", x);

	x = json_object_new_object();
	ADD(x, "vendor", str_or_null(inv->system.vendor));
	ADD(x, "product", str_or_null(inv->system.product));
	ADD(x, "version", str_or_null(inv->system.version));
	ADD(x, "family", str_or_null(inv->system.family));
	ADD(x, "sku", str_or_null(inv->system.sku));
	ADD(x, "serial", str_or_null(inv->system.serial));
	ADD(x, "uuid", str_or_null(inv->system.uuid));
	ADD(x, "board_vendor", str_or_null(inv->system.board_vendor));
	ADD(x, "board_name", str_or_null(inv->system.board_name));
	ADD(x, "bios_version", str_or_null(inv->system.bios_version));
	ADD(x, "bios_date", str_or_null(inv->system.bios_date));
	ADD(x, "bios_release", str_or_null(inv->system.bios_release));
	ADD(x, "chassis", str_or_null(inv->system.chassis));
	ADD(x, "virtual", tri(inv->system.is_virtual));
	ADD(o, "system", x);

	x = json_object_new_object();
	ADD(x, "vendor", str_or_null(inv->cpu.vendor));
	ADD(x, "model", str_or_null(inv->cpu.model));
	ADD(x, "family", int_or_null(inv->cpu.family));
	ADD(x, "model_id", int_or_null(inv->cpu.model_id));
	ADD(x, "stepping", int_or_null(inv->cpu.stepping));
	ADD(x, "microcode", str_or_null(inv->cpu.microcode));
	ADD(x, "arch", str_or_null(inv->cpu.arch));
	ADD(x, "microarch_level", str_or_null(inv->cpu.microarch_level));
	ADD(x, "sockets", int_or_null(inv->cpu.sockets));
	ADD(x, "cores", int_or_null(inv->cpu.cores));
	ADD(x, "threads", int_or_null(inv->cpu.threads));
	ADD(x, "flags_of_interest", strv(inv->cpu.flags));
	ADD(o, "cpu", x);

	x = json_object_new_object();
	ADD(x, "total_bytes", int_or_null(inv->memory.total_bytes));
	ADD(x, "physical_bytes", int_or_null(inv->memory.physical_bytes));
	ADD(o, "memory", x);

	a = json_object_new_array();
	for (size_t i = 0; i < inv->n_gpus; i++)
		json_object_array_add(a, gpu_json(&inv->gpus[i]));
	ADD(o, "gpus", a);
	a = json_object_new_array();
	for (size_t i = 0; i < inv->n_disks; i++)
		json_object_array_add(a, disk_json(&inv->disks[i]));
	ADD(o, "disks", a);
	a = json_object_new_array();
	for (size_t i = 0; i < inv->n_nics; i++)
		json_object_array_add(a, nic_json(&inv->nics[i]));
	ADD(o, "nics", a);
	a = json_object_new_array();
	for (size_t i = 0; i < inv->n_pci_devices; i++)
		json_object_array_add(a, pci_json(&inv->pci_devices[i]));
	ADD(o, "pci_devices", a);
	ADD(o, "warnings", strv(inv->warnings));
	return o;
}
