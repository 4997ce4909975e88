#!/bin/sh
# Copy the parts of a live machine's sysfs/procfs that hw/ reads into DEST, so the
# detector can be run with `--root DEST`. In the spirit of util-linux's tests/ts/lsblk
# mk-input.sh: attribute files are copied as files at their real /sys/devices paths and
# every symlink on the way (class/, bus/, block/, driver, subsystem) is recreated as the
# same relative link, so the tree has the kernel's layout and works unchanged.
#
# POSIX sh (plus `local`, which dash and busybox ash have) + coreutils/busybox only: it also runs inside a minimal QEMU guest.
# Files that cannot be read (e.g. `speed` of a link that is down gives EINVAL) are
# left out, as the kernel would not return a value for them either.
#
# usage: capture-sysfs.sh DEST [SRC_ROOT]     (SRC_ROOT defaults to /)

set -u
dest=${1:?usage: capture-sysfs.sh DEST [SRC_ROOT]}
src=${2:-}
src=${src%/}
mkdir -p "$dest" || exit 1

# copy_link PATH: recreate the symlink PATH (absolute, under $src) inside $dest.
copy_link() {
	[ -L "$src$1" ] || return 0
	mkdir -p "$dest$(dirname "$1")"
	ln -sfn "$(readlink "$src$1")" "$dest$1"
}

# resolve PATH: the path with every symlink component resolved, still relative to $src.
resolve() {
	local r
	r=$(readlink -f "$src$1") || return 1
	printf '%s\n' "${r#"$src"}"
}

# copy_tree_links PATH: recreate each symlink among PATH's ancestors so that
# $dest$PATH resolves the way $src$PATH does.
copy_tree_links() {
	local p rest comp
	p=""
	rest=${1#/}
	while [ -n "$rest" ]; do
		comp=${rest%%/*}
		if [ "$comp" = "$rest" ]; then rest=""; else rest=${rest#*/}; fi
		p="$p/$comp"
		if [ -L "$src$p" ]; then
			copy_link "$p"
			p=$(resolve "$p") || return 1
		fi
	done
	return 0
}

# copy_file PATH: copy one attribute file (following links) to its real location.
copy_file() {
	local real
	[ -e "$src$1" ] || return 0
	copy_tree_links "$1" || return 0
	real=$(resolve "$1") || return 0
	[ -f "$src$real" ] || return 0
	mkdir -p "$dest$(dirname "$real")"
	if cat "$src$real" > "$dest$real.tmp" 2>/dev/null; then
		mv "$dest$real.tmp" "$dest$real"
	else
		rm -f "$dest$real.tmp"
	fi
}

copy_files() {
	local dir f
	dir=$1
	shift
	for f in "$@"; do copy_file "$dir/$f"; done
}

# The driver/subsystem links of a device directory (targets are kept dangling on purpose
# when the driver directory has nothing we read).
copy_dev_links() {
	local l
	for l in driver subsystem; do
		[ -L "$src$1/$l" ] && copy_link "$(resolve "$1")/$l"
	done
	return 0
}

# --- procfs and etc ---
copy_files /proc cpuinfo meminfo cmdline
# /proc/net links to the reading process's own directory: store the tables as plain files
mkdir -p "$dest/proc/net"
rm -f "$dest/proc/net/route" "$dest/proc/net/ipv6_route"
for f in route ipv6_route; do
	cat "$src/proc/net/$f" > "$dest/proc/net/$f" 2>/dev/null || rm -f "$dest/proc/net/$f"
done
copy_files /proc/sys/kernel hostname arch
copy_files /etc hostname machine-id os-release
for g in "$src"/proc/driver/nvidia/gpus/*; do
	[ -d "$g" ] || continue
	copy_file "/proc/driver/nvidia/gpus/${g##*/}/information"
done
copy_file /proc/driver/nvidia/version

# --- firmware: boot mode ---
if [ -d "$src/sys/firmware/efi" ]; then
	mkdir -p "$dest/sys/firmware/efi"
	copy_file /sys/firmware/efi/fw_platform_size
	[ -e "$dest/sys/firmware/efi/fw_platform_size" ] || : > "$dest/sys/firmware/efi/.present"
fi

# --- firmware: Secure Boot (efivarfs: 4 bytes of attributes, then the value) ---
g=8be4df61-93ca-11d2-aa0d-00e098032b8c
for v in SecureBoot SetupMode; do
	f=/sys/firmware/efi/efivars/$v-$g
	[ -f "$src$f" ] || continue
	mkdir -p "$dest/sys/firmware/efi/efivars"
	cat "$src$f" > "$dest$f" 2>/dev/null || rm -f "$dest$f"
done

# --- SMBIOS memory arrays and devices (types 16, 17; readable by root only) ---
for e in "$src"/sys/firmware/dmi/entries/16-* "$src"/sys/firmware/dmi/entries/17-*; do
	[ -d "$e" ] || continue
	mkdir -p "$dest/sys/firmware/dmi/entries/${e##*/}"
	cat "$e/raw" > "$dest/sys/firmware/dmi/entries/${e##*/}/raw" 2>/dev/null ||
		rm -f "$dest/sys/firmware/dmi/entries/${e##*/}/raw"
done

# --- platform: TPM, lockdown, IOMMU (their directories present, even empty, say "none") ---
mkdir -p "$dest/sys/class/tpm" "$dest/sys/class/iommu" "$dest/sys/kernel/iommu_groups"
for t in "$src"/sys/class/tpm/tpm* "$src"/sys/class/tpmrm/tpmrm*; do
	[ -e "$t" ] || continue
	p=${t#"$src"}
	copy_link "$p"
	copy_files "$p" uevent tpm_version_major
done
copy_file /sys/kernel/security/lockdown
for i in "$src"/sys/class/iommu/*; do
	[ -e "$i" ] && copy_link "${i#"$src"}"
done
for i in "$src"/sys/kernel/iommu_groups/*; do
	[ -d "$i" ] && mkdir -p "$dest${i#"$src"}"
done

# --- batteries, mains, temperatures ---
for s in "$src"/sys/class/power_supply/*; do
	[ -e "$s" ] || continue
	p=/sys/class/power_supply/${s##*/}
	copy_files "$p" uevent type scope online present status technology manufacturer \
		model_name capacity energy_full energy_full_design charge_full charge_full_design \
		cycle_count charge_control_start_threshold charge_control_end_threshold \
		charge_start_threshold charge_stop_threshold
done
for h in "$src"/sys/class/hwmon/*; do
	[ -e "$h" ] || continue
	p=/sys/class/hwmon/${h##*/}
	copy_file "$p/name"
	for f in "$h"/temp*_input "$h"/temp*_label "$h"/temp*_crit; do
		[ -e "$f" ] && copy_file "$p/${f##*/}"
	done
	copy_dev_links "$p"
	[ -L "$h/device" ] && copy_link "$(resolve "$p")/device"
done
for z in "$src"/sys/class/thermal/thermal_zone*; do
	[ -e "$z" ] || continue
	p=/sys/class/thermal/${z##*/}
	copy_files "$p" type temp
	for f in "$z"/trip_point_*_type "$z"/trip_point_*_temp; do
		[ -e "$f" ] && copy_file "$p/${f##*/}"
	done
done

# --- DMI ---
copy_files /sys/class/dmi/id sys_vendor product_name product_version product_serial \
	product_uuid product_family product_sku board_vendor board_name board_serial \
	bios_vendor bios_version bios_date bios_release chassis_type chassis_vendor

# --- CPU topology and memory blocks ---
copy_files /sys/devices/system/cpu online possible present
for c in "$src"/sys/devices/system/cpu/cpu[0-9]*; do
	[ -d "$c" ] || continue
	copy_files "/sys/devices/system/cpu/${c##*/}/topology" physical_package_id core_id die_id
done
copy_file /sys/devices/system/memory/block_size_bytes
for m in "$src"/sys/devices/system/memory/memory[0-9]*; do
	[ -d "$m" ] || continue
	copy_files "/sys/devices/system/memory/${m##*/}" online state
done

# --- PCI ---
for d in "$src"/sys/bus/pci/devices/*; do
	[ -e "$d" ] || continue
	p=/sys/bus/pci/devices/${d##*/}
	copy_files "$p" uevent vendor device class subsystem_vendor subsystem_device revision \
		boot_vga numa_node mem_info_vram_total mem_info_vis_vram_total product_name \
		current_link_speed current_link_width max_link_speed max_link_width
	copy_dev_links "$p"
done

# --- block devices ---
for b in "$src"/sys/block/*; do
	[ -e "$b" ] || continue
	p=/sys/block/${b##*/}
	copy_files "$p" uevent dev size removable ro hidden wwid serial queue/rotational \
		queue/logical_block_size queue/physical_block_size loop/backing_file
	if [ -e "$b/device" ]; then
		copy_files "$p/device" uevent model vendor rev serial firmware_rev wwid vpd_pg80 \
			vpd_pg89 vpd_pg83 transport type
		copy_dev_links "$p/device"
		# USB mass storage: the nearest USB device above the disk (the one with idVendor;
		# interfaces and SCSI hosts have none) holds the serial udev calls ID_SERIAL_SHORT
		up=$(resolve "$p/device")
		while [ -n "$up" ] && [ "$up" != /sys/devices ] && [ "$up" != / ]; do
			if [ -f "$src$up/idVendor" ]; then
				copy_files "$up" uevent idVendor idProduct serial manufacturer product
				copy_dev_links "$up"
				break
			fi
			up=$(dirname "$up")
		done
	fi
done

# --- NVMe subsystems (native multipath: the head disk's device is the subsystem) ---
for s in "$src"/sys/class/nvme-subsystem/*; do
	[ -e "$s" ] || continue
	p=/sys/class/nvme-subsystem/${s##*/}
	copy_link "$p"
	copy_files "$p" uevent subsysnqn model serial firmware_rev subsystype iopolicy
	copy_dev_links "$p"
	real=$(resolve "$p")
	# the links to the subsystem's controllers (nvme0, nvme1, ...; nvme0n1 is a head disk)
	for c in "$src$real"/nvme*; do
		[ -L "$c" ] || continue
		case ${c##*/} in nvme*[!0-9]*) continue ;; esac
		copy_link "$real/${c##*/}"
		copy_files "$real/${c##*/}" uevent model serial firmware_rev transport address cntlid
		copy_dev_links "$real/${c##*/}"
	done
done

# --- network interfaces ---
for n in "$src"/sys/class/net/*; do
	[ -e "$n" ] || continue
	p=/sys/class/net/${n##*/}
	copy_files "$p" uevent address addr_assign_type mtu operstate carrier speed duplex \
		type ifindex
	[ -L "$n/phy80211" ] && copy_link "$(resolve "$p")/phy80211"
	[ -d "$n/wireless" ] && mkdir -p "$dest$(resolve "$p")/wireless" &&
		: > "$dest$(resolve "$p")/wireless/.present"
	if [ -e "$n/device" ]; then
		copy_files "$p/device" uevent vendor device class
		copy_dev_links "$p/device"
		# virtio-net: the PCI function is the parent of the virtio device
		real=$(resolve "$p/device")
		parent=$(dirname "$real")
		[ -f "$src$parent/uevent" ] && copy_file "$parent/uevent"
	fi
done
exit 0
