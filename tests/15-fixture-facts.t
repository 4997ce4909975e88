#!/bin/sh
# An oracle independent of the C code: key values recomputed by shell from each fixture's
# raw files, and compared with what node-agent reports for that fixture.
. "$(dirname "$0")/lib.sh"

trim() { sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }
jnull() { if [ -n "$1" ]; then printf '"%s"' "$1"; else printf 'null'; fi; }
# usb_device_of ROOT BLOCKDIR: the nearest USB device (the first directory with idVendor)
# above a block device's device, as a physical path; empty when the disk is not on USB
usb_device_of() {
	_top=$(cd -P "$1/sys/devices" 2>/dev/null && pwd) || return 0
	_d=$(cd -P "$2/device" 2>/dev/null && pwd) || return 0
	while [ "$_d" != "$_top" ] && [ "$_d" != / ]; do
		[ -f "$_d/idVendor" ] && { printf '%s\n' "$_d"; return 0; }
		_d=$(dirname "$_d")
	done
}

for root in "$FIXTURES"/*/; do
	root=${root%/}
	name=$(basename "$root")
	[ -d "$root/sys" ] || continue
	out=$("$NODE_AGENT" inventory --root "$root" --quiet)
	q() { printf '%s\n' "$out" | jq -c "$1"; }

	is "$(q '.hostname')" "$(jnull "$(cat "$root/proc/sys/kernel/hostname" 2>/dev/null)")" "$name: hostname"
	is "$(q '.machine_id')" "$(jnull "$(cat "$root/etc/machine-id" 2>/dev/null)")" "$name: machine-id"
	is "$(q '.cpu.threads')" "$(grep -c '^processor' "$root/proc/cpuinfo")" "$name: CPU threads = processor entries"
	is "$(q '.memory.total_bytes')" "$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' "$root/proc/meminfo")" "$name: MemTotal"
	bootif=$(tr ' ' '\n' < "$root/proc/cmdline" | sed -n 's/^BOOTIF=01-//p' | tr '-' ':')
	is "$(q '.boot.pxe_mac')" "$(jnull "$bootif")" "$name: PXE MAC from BOOTIF"
	if [ -d "$root/sys/class/dmi/id" ]; then
		for f in sys_vendor:vendor product_name:product product_serial:serial product_uuid:uuid; do
			is "$(q ".system.${f#*:}")" "$(jnull "$(trim < "$root/sys/class/dmi/id/${f%:*}")")" \
				"$name: system.${f#*:} = dmi ${f%:*}"
		done
	fi

	# PCI: count and IDs from the separate vendor/device files (the C code reads uevent)
	n=0
	for d in "$root"/sys/bus/pci/devices/*; do
		n=$((n + 1))
		a=$(basename "$d")
		v=$(sed 's/^0x//' "$d/vendor") dv=$(sed 's/^0x//' "$d/device")
		is "$(q ".pci_devices[] | select(.address == \"$a\") | [.vendor_id, .device_id]")" \
			"[\"$v\",\"$dv\"]" "$name: PCI $a ids"
	done
	is "$(q '.pci_devices | length')" "$n" "$name: every PCI device listed"

	# NICs: MAC and MTU as the attribute files say
	for l in "$root"/sys/class/net/*; do
		nic=$(basename "$l")
		[ "$(cat "$l/type")" = 772 ] && continue
		is "$(q ".nics[] | select(.name == \"$nic\") | [.mac, .mtu]")" \
			"[\"$(cat "$l/address")\",$(cat "$l/mtu")]" "$name: $nic MAC and MTU"
	done

	# Disks: size in 512-byte sectors; serials from NVMe attributes (of the controller, or
	# of the subsystem for a multipath head), the USB device, or VPD page 0x80. Hidden
	# block devices (NVMe multipath path nodes) are not disks.
	for b in "$root"/sys/block/*; do
		disk=$(basename "$b")
		if [ "$(cat "$b/hidden" 2>/dev/null)" = 1 ]; then
			is "$(q "[.disks[] | select(.name == \"$disk\")] | length")" 0 \
				"$name: hidden $disk is not a disk"
			continue
		fi
		case $(readlink "$b") in */virtual/nvme-subsystem/*) ;; */virtual/*) continue ;; esac
		is "$(q ".disks[] | select(.name == \"$disk\") | .size_bytes")" "$(($(cat "$b/size") * 512))" \
			"$name: $disk size"
		usb=$(usb_device_of "$root" "$b")
		serial=""
		if [ -f "$b/device/serial" ]; then
			serial=$(trim < "$b/device/serial")
		elif [ -n "$usb" ] && [ -f "$usb/serial" ]; then
			serial=$(trim < "$usb/serial")
		elif [ -f "$b/device/vpd_pg80" ]; then
			serial=$(tail -c +5 "$b/device/vpd_pg80" | tr -d '\000' | trim)
		elif [ -f "$b/serial" ]; then
			serial=$(trim < "$b/serial")
		fi
		is "$(q ".disks[] | select(.name == \"$disk\") | .serial")" "$(jnull "$serial")" "$name: $disk serial"
		if [ -n "$usb" ]; then
			is "$(q ".disks[] | select(.name == \"$disk\") | .transport")" '"usb"' "$name: $disk transport"
		fi
	done

	# GPUs: the NVIDIA driver's Model: line and amdgpu's VRAM, where present
	for d in "$root"/sys/bus/pci/devices/*; do
		case $(cat "$d/class") in 0x03*) ;; *) continue ;; esac
		a=$(basename "$d")
		info=$root/proc/driver/nvidia/gpus/$a/information
		if [ -f "$info" ]; then
			is "$(q ".gpus[] | select(.pci_address == \"$a\") | .model")" \
				"\"$(sed -n 's/^Model:[[:space:]]*//p' "$info")\"" "$name: GPU $a model = driver's Model: line"
		fi
		if [ -f "$d/mem_info_vram_total" ]; then
			is "$(q ".gpus[] | select(.pci_address == \"$a\") | .memory_bytes")" \
				"$(cat "$d/mem_info_vram_total")" "$name: GPU $a memory = mem_info_vram_total"
		fi
	done
done

# What tests/qemu-capture.sh gave QEMU for MACHINE=usb-nvme-subsys: a usb-storage disk with
# serial S5SXNG0R300117Z, and one namespace shared by two controllers (00:04.0, 00:05.0,
# serial DPSSD0001SN) of an nvme-subsys: one disk, the head nvme0n1, not its two paths.
root=$FIXTURES/qemu-q35-usb-nvme-subsys
out=$("$NODE_AGENT" inventory --root "$root" --quiet)
q() { printf '%s\n' "$out" | jq -c "$1"; }
is "$(q '[.disks[].name]')" '["nvme0n1","sda"]' "usb-nvme-subsys: disks are the NVMe head and the USB disk"
is "$(q '.disks[] | select(.name == "sda") | [.transport, .serial]')" '["usb","S5SXNG0R300117Z"]' \
	"usb-nvme-subsys: USB disk has the serial given to usb-storage"
is "$(q '.disks[] | select(.name == "nvme0n1") | [.transport, .model, .serial, .pci_address]')" \
	'["nvme","QEMU NVMe Ctrl","DPSSD0001SN","0000:00:04.0"]' \
	"usb-nvme-subsys: NVMe head has its controllers' model and serial, the first one's address"
is "$(q '[.disks[].name | select(test("^nvme[0-9]+c[0-9]+n[0-9]+$"))]')" '[]' \
	"usb-nvme-subsys: no hidden path node (nvme0c0n1, nvme0c1n1)"
done_testing
