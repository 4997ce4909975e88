#!/bin/sh
# An oracle independent of the C code: key values recomputed by shell from each fixture's
# raw files, and compared with what node-agent reports for that fixture.
. "$(dirname "$0")/lib.sh"

trim() { sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }
trim_file() { if [ -f "$1" ]; then trim < "$1"; fi; }
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
	# family, model number, stepping and microcode of the first processor, as cpuinfo says
	first_cpu() { awk -F '\t*: ' -v k="$1" '$1 == k { print $2; exit }' "$root/proc/cpuinfo"; }
	is "$(q '[.cpu.family, .cpu.model_id, .cpu.stepping]')" \
		"[$(first_cpu 'cpu family'),$(first_cpu model),$(first_cpu stepping)]" \
		"$name: CPU family, model, stepping = cpuinfo"
	is "$(q '.cpu.microcode')" "$(jnull "$(first_cpu microcode)")" "$name: CPU microcode = cpuinfo"
	is "$(q '.memory.total_bytes')" "$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' "$root/proc/meminfo")" "$name: MemTotal"
	bootif=$(tr ' ' '\n' < "$root/proc/cmdline" | sed -n 's/^BOOTIF=01-//p' | tr '-' ':')
	is "$(q '.boot.pxe_mac')" "$(jnull "$bootif")" "$name: PXE MAC from BOOTIF"
	bits=null
	[ -f "$root/sys/firmware/efi/fw_platform_size" ] && bits=$(cat "$root/sys/firmware/efi/fw_platform_size")
	is "$(q '.boot.uefi_bitness')" "$bits" "$name: UEFI bitness = fw_platform_size"
	if [ -d "$root/sys/class/dmi/id" ]; then
		for f in sys_vendor:vendor product_name:product product_serial:serial product_uuid:uuid \
			product_sku:sku bios_release:bios_release; do
			is "$(q ".system.${f#*:}")" "$(jnull "$(trim_file "$root/sys/class/dmi/id/${f%:*}")")" \
				"$name: system.${f#*:} = dmi ${f%:*}"
		done
		# MM/DD/YYYY as the kernel passes it on, ISO 8601 in the inventory
		is "$(q '.system.bios_date')" \
			"$(jnull "$(sed -n 's#^\([0-9][0-9]\)/\([0-9][0-9]\)/\([0-9]\{4\}\)$#\3-\1-\2#p' \
				"$root/sys/class/dmi/id/bios_date")")" "$name: system.bios_date = dmi bios_date"
	fi

	# PCI: count and IDs from the separate vendor/device files (the C code reads uevent);
	# the revision file, where the tree has one
	n=0
	for d in "$root"/sys/bus/pci/devices/*; do
		n=$((n + 1))
		a=$(basename "$d")
		v=$(sed 's/^0x//' "$d/vendor") dv=$(sed 's/^0x//' "$d/device")
		rev=$(jnull "$(if [ -f "$d/revision" ]; then sed 's/^0x//' "$d/revision"; fi)")
		is "$(q ".pci_devices[] | select(.address == \"$a\") | [.vendor_id, .device_id, .revision]")" \
			"[\"$v\",\"$dv\",$rev]" "$name: PCI $a ids and revision"
	done
	is "$(q '.pci_devices | length')" "$n" "$name: every PCI device listed"

	# NICs: MAC, MTU and duplex as the attribute files say
	for l in "$root"/sys/class/net/*; do
		nic=$(basename "$l")
		[ "$(cat "$l/type")" = 772 ] && continue
		is "$(q ".nics[] | select(.name == \"$nic\") | [.mac, .mtu]")" \
			"[\"$(cat "$l/address")\",$(cat "$l/mtu")]" "$name: $nic MAC and MTU"
		duplex=$(if [ -f "$l/duplex" ]; then grep -x -e full -e half "$l/duplex"; fi)
		is "$(q ".nics[] | select(.name == \"$nic\") | .duplex")" "$(jnull "$duplex")" \
			"$name: $nic duplex (\"unknown\" or no file: null)"
	done

	# Disks: size in 512-byte sectors; serials from NVMe attributes (of the controller, or
	# of the subsystem for a multipath head), the USB device, or VPD page 0x80. Hidden
	# block devices (NVMe multipath path nodes) are not disks.
	for b in "$root"/sys/block/*; do
		[ -e "$b" ] || continue # a diskless machine
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
		# firmware: NVMe controller attribute, else the ATA IDENTIFY words 23-26 in VPD page
		# 0x89 (byte 60 + 46, two characters a word, swapped), else the SCSI revision
		fw=""
		if [ -f "$b/device/firmware_rev" ]; then
			fw=$(trim < "$b/device/firmware_rev")
		elif [ -f "$b/device/vpd_pg89" ]; then
			fw=$(dd if="$b/device/vpd_pg89" bs=1 skip=106 count=8 conv=swab 2>/dev/null | trim)
		elif [ -f "$b/device/rev" ]; then
			fw=$(trim < "$b/device/rev")
		fi
		is "$(q ".disks[] | select(.name == \"$disk\") | .firmware_rev")" "$(jnull "$fw")" \
			"$name: $disk firmware revision"
		bs() { if [ -f "$b/queue/$1" ]; then cat "$b/queue/$1"; else echo null; fi; }
		is "$(q ".disks[] | select(.name == \"$disk\") | [.logical_block_size, .physical_block_size]")" \
			"[$(bs logical_block_size),$(bs physical_block_size)]" "$name: $disk block sizes"
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

# A SCSI (or USB) disk has no VPD page 0x89: model and firmware come from the INQUIRY
# strings, device/model and device/rev; libata's "n/a" is no revision.
root=$(scratch_copy qemu-q35)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
sdadev=$root/sys/block/sda/device
rm "$sdadev/vpd_pg89"
printf '1.0 \n' > "$sdadev/rev"
is "$("$NODE_AGENT" inventory --root "$root" --quiet | jq -c '.disks[] | select(.name == "sda") | [.model, .firmware_rev]')" \
	'["WDC WD10EZEX-08W","1.0"]' "sda without VPD 0x89: model and firmware from the INQUIRY data"
printf 'n/a \n' > "$sdadev/rev"
is "$("$NODE_AGENT" inventory --root "$root" --quiet | jq -c '.disks[] | select(.name == "sda") | .firmware_rev')" \
	'null' "sda: a revision of \"n/a\" is null"

# 32-bit UEFI (Atom tablets and mini PCs): the firmware cannot start the image's 64-bit
# EFI programs, which the inventory says in its warnings. (And a BIOS date of zeros is
# blank: null, no warning.)
root=$(scratch_copy qemu-q35-uefi)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
echo 32 > "$root/sys/firmware/efi/fw_platform_size"
echo 00/00/0000 > "$root/sys/class/dmi/id/bios_date"
out=$("$NODE_AGENT" inventory --root "$root" --quiet)
is "$(printf '%s\n' "$out" | jq -c '.boot | [.mode, .uefi_bitness]')" '["uefi",32]' "32-bit UEFI: uefi_bitness 32"
is "$(printf '%s\n' "$out" | jq -c '.warnings')" \
	'["/sys/firmware/efi/fw_platform_size: 32-bit UEFI: cannot start the 64-bit EFI programs of the USB image and of UEFI PXE (BOOTX64.EFI, ipxe.efi); boot this machine in BIOS (CSM) mode or through a 32-bit EFI loader"]' \
	"32-bit UEFI: one warning says the 64-bit EFI image cannot boot it"
is "$(printf '%s\n' "$out" | jq -c '.system.bios_date')" 'null' "BIOS date 00/00/0000: null"

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
