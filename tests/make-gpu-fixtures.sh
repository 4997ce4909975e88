#!/bin/sh
# Build the GPU fixtures from a captured skeleton (default: the QEMU q35 capture).
#
# No GPU can be captured here, so each case adds the sysfs/procfs files a real machine has
# for its GPU to a copy of a real capture, with the kernel's layout and formats:
#  - the PCI function under a PCIe root port (QEMU's pcie-root-port, 1b36:000c), with
#    uevent (DRIVER=, PCI_CLASS=, PCI_ID=, PCI_SUBSYS_ID=, PCI_SLOT_NAME=, MODALIAS=),
#    vendor/device/class/subsystem_*/revision, boot_vga for VGA-class functions, and the
#    driver link;
#  - for the NVIDIA driver: /proc/driver/nvidia/version and
#    /proc/driver/nvidia/gpus/ADDR/information in nv-procfs.c's format;
#  - for amdgpu: mem_info_vram_total (decimal bytes, amdgpu_vram_mgr.c);
#  - the fixture's pci.ids (trimmed from Debian 12's) and, for AMD, Debian 12's amdgpu.ids.
# The skeleton's emulated VGA adapter is removed so the added GPU is the display device.
#
# Fixture 8 adds PCIe switch ports (PLX, 10b5:8747) and the link attributes
# (current_link_speed/width, max_link_speed/width) of the GPU and every port on its path.
#
# usage: make-gpu-fixtures.sh [SKELETON]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
skel=${1:-$here/fixtures/qemu-q35}
out=$here/fixtures

# rel_to FROM_DIR TO_PATH (both relative to the fixture root, no leading /)
rel_to() {
	up=$(printf '%s\n' "$1" | awk -F/ '{ s = ""; for (i = 1; i <= NF; i++) s = s "../"; print s }')
	printf '%s%s\n' "$up" "$2"
}

# new_fixture NAME: a copy of the skeleton without its emulated VGA adapter.
new_fixture() {
	fx=$out/$1
	rm -rf "$fx"
	cp -a "$skel" "$fx"
	for d in "$fx"/sys/bus/pci/devices/*; do
		if grep -q '^PCI_ID=1234:1111' "$d/uevent" 2>/dev/null; then
			real=$(cd "$d" && pwd -P)
			rm -rf "$real" "$d"
		fi
	done
}

# root_port ADDR: a PCIe root port on bus 0.
root_port() {
	dir=sys/devices/pci0000:00/$1
	mkdir -p "$fx/$dir"
	printf 'DRIVER=pcieport\nPCI_CLASS=60400\nPCI_ID=1B36:000C\nPCI_SUBSYS_ID=1B36:0000\nPCI_SLOT_NAME=%s\nMODALIAS=pci:v00001B36d0000000Csv00001B36sd00000000bc06sc04i00\n' "$1" > "$fx/$dir/uevent"
	printf '0x1b36\n' > "$fx/$dir/vendor"
	printf '0x000c\n' > "$fx/$dir/device"
	printf '0x060400\n' > "$fx/$dir/class"
	ln -sfn "$(rel_to "$dir" bus/pci/drivers/pcieport | sed 's|^\.\./||')" "$fx/$dir/driver"
	ln -sfn "../../../devices/pci0000:00/$1" "$fx/sys/bus/pci/devices/$1"
}

# bridge PARENT_DIR ADDR VENDOR DEVICE: a PCIe switch port (class 0604, pcieport) below
# another bridge (PARENT_DIR as for gpu, ending in /)
bridge() {
	dir=sys/devices/pci0000:00/$1$2
	mkdir -p "$fx/$dir"
	v=$(printf '%s' "$3" | tr 'a-f' 'A-F') d=$(printf '%s' "$4" | tr 'a-f' 'A-F')
	printf 'DRIVER=pcieport\nPCI_CLASS=60400\nPCI_ID=%s:%s\nPCI_SUBSYS_ID=0000:0000\nPCI_SLOT_NAME=%s\nMODALIAS=pci:v0000%sd0000%ssv00000000sd00000000bc06sc04i00\n' \
		"$v" "$d" "$2" "$v" "$d" > "$fx/$dir/uevent"
	printf '0x%s\n' "$3" > "$fx/$dir/vendor"
	printf '0x%s\n' "$4" > "$fx/$dir/device"
	printf '0x060400\n' > "$fx/$dir/class"
	ln -sfn "$(rel_to "$dir" bus/pci/drivers/pcieport | sed 's|^\.\./||')" "$fx/$dir/driver"
	ln -sfn "../../../devices/pci0000:00/$1$2" "$fx/sys/bus/pci/devices/$2"
	gpu_dir=$dir
}

# link DIR SPEED WIDTH MAX_SPEED MAX_WIDTH: PCIe link attributes as pci-sysfs.c writes them
link() {
	printf '%s\n' "$2" > "$fx/$1/current_link_speed"
	printf '%s\n' "$3" > "$fx/$1/current_link_width"
	printf '%s\n' "$4" > "$fx/$1/max_link_speed"
	printf '%s\n' "$5" > "$fx/$1/max_link_width"
}

# gpu PARENT_DIR ADDR VENDOR DEVICE SUBVENDOR SUBDEVICE CLASS REVISION DRIVER BOOT_VGA
# (ids as 4 hex digits lower-case, CLASS as 6 hex digits, DRIVER "-" for none)
gpu() {
	parent=$1 addr=$2 ven=$3 dev=$4 sven=$5 sdev=$6 class=$7 rev=$8 drv=$9 bvga=${10}
	dir=sys/devices/pci0000:00/$parent$addr
	mkdir -p "$fx/$dir"
	up() { printf '%s' "$1" | tr 'a-f' 'A-F'; }
	{
		[ "$drv" != - ] && printf 'DRIVER=%s\n' "$drv"
		printf 'PCI_CLASS=%s\n' "$(printf '%s' "$class" | sed 's/^0*//' | tr 'a-f' 'A-F')"
		printf 'PCI_ID=%s:%s\n' "$(up "$ven")" "$(up "$dev")"
		printf 'PCI_SUBSYS_ID=%s:%s\n' "$(up "$sven")" "$(up "$sdev")"
		printf 'PCI_SLOT_NAME=%s\n' "$addr"
		printf 'MODALIAS=pci:v0000%sd0000%ssv0000%ssd0000%sbc%ssc%si%s\n' "$(up "$ven")" \
			"$(up "$dev")" "$(up "$sven")" "$(up "$sdev")" "$(echo "$class" | cut -c1-2 | tr 'a-f' 'A-F')" \
			"$(echo "$class" | cut -c3-4 | tr 'a-f' 'A-F')" "$(echo "$class" | cut -c5-6 | tr 'a-f' 'A-F')"
	} > "$fx/$dir/uevent"
	printf '0x%s\n' "$ven" > "$fx/$dir/vendor"
	printf '0x%s\n' "$dev" > "$fx/$dir/device"
	printf '0x%s\n' "$sven" > "$fx/$dir/subsystem_vendor"
	printf '0x%s\n' "$sdev" > "$fx/$dir/subsystem_device"
	printf '0x%s\n' "$class" > "$fx/$dir/class"
	printf '0x%s\n' "$rev" > "$fx/$dir/revision"
	printf -- '-1\n' > "$fx/$dir/numa_node"
	case $class in 0300*) printf '%s\n' "$bvga" > "$fx/$dir/boot_vga" ;; esac
	if [ "$drv" != - ]; then
		ln -sfn "$(rel_to "$dir" bus/pci/drivers/"$drv" | sed 's|^\.\./||')" "$fx/$dir/driver"
	fi
	ln -sfn "../../../devices/pci0000:00/$parent$addr" "$fx/sys/bus/pci/devices/$addr"
	gpu_dir=$dir
}

# nvidia_proc ADDR MODEL UUID VBIOS IRQ MINOR: the driver's procfs files (nv-procfs.c).
nvidia_proc() {
	d=$fx/proc/driver/nvidia/gpus/$1
	mkdir -p "$d"
	printf 'Model: \t\t %s\nIRQ:   \t\t %s\nGPU UUID: \t %s\nVideo BIOS: \t %s\nBus Type: \t PCIe\nDMA Size: \t 52 bits\nDMA Mask: \t 0xfffffffffffff\nBus Location: \t %s\nDevice Minor: \t %s\nGPU Firmware: \t 570.133.07\nGPU Excluded:\t No\n' \
		"$2" "$5" "$3" "$4" "$1" "$6" > "$d/information"
	printf 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.133.07  Release Build  (dvs-builder@U16-I3-B03-4-3)  Fri Mar 14 06:47:56 UTC 2025\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14+deb12u1) \n' \
		> "$fx/proc/driver/nvidia/version"
}

finish() {
	sh "$here/trim-pci-ids.sh" "$fx"
}

# 1. NVIDIA GeForce RTX 3050 8GB, no driver loaded: the name comes from pci.ids.
new_fixture gpu-nvidia-nodriver
root_port 0000:00:1c.0
gpu 0000:00:1c.0/ 0000:01:00.0 10de 2582 1458 4118 030000 a1 - 1
finish

# 2. The same card with the NVIDIA driver loaded: the driver's Model: line wins.
new_fixture gpu-nvidia-driver
root_port 0000:00:1c.0
gpu 0000:00:1c.0/ 0000:01:00.0 10de 2582 1458 4118 030000 a1 nvidia 1
nvidia_proc 0000:01:00.0 "NVIDIA GeForce RTX 3050" GPU-8e1c3f5a-2b7d-4c61-9a0e-5f3b2d1c7e90 94.07.6b.00.54 155 0
finish

# 3. GeForce RTX 5070 (10de:2f04), newer than Debian 12's pci.ids, no driver: built-in table.
new_fixture gpu-newer-than-pciids
root_port 0000:00:1c.0
gpu 0000:00:1c.0/ 0000:01:00.0 10de 2f04 1043 8a21 030000 a1 - 1
finish

# 4. The homelab GPU worker: RTX 5070 + RTX 3050 in one box, driver loaded.
new_fixture gpu-dual-nvidia
root_port 0000:00:1c.0
root_port 0000:00:1c.4
gpu 0000:00:1c.0/ 0000:01:00.0 10de 2f04 1043 8a21 030000 a1 nvidia 1
nvidia_proc 0000:01:00.0 "NVIDIA GeForce RTX 5070" GPU-3d9b6f0e-7a41-4c2e-b8d5-1f0a6c2e9b47 98.05.2c.00.7a 160 0
gpu 0000:00:1c.4/ 0000:02:00.0 10de 2582 1458 4118 030000 a1 nvidia 0
nvidia_proc 0000:02:00.0 "NVIDIA GeForce RTX 3050" GPU-8e1c3f5a-2b7d-4c61-9a0e-5f3b2d1c7e90 94.07.6b.00.54 161 1
finish

# 5. AMD Radeon RX 6600 (73ff rev c7) with amdgpu: amdgpu.ids name and VRAM.
new_fixture gpu-amd-dgpu
root_port 0000:00:1c.0
gpu 0000:00:1c.0/ 0000:01:00.0 1002 73ff 1da2 e448 030000 c7 amdgpu 1
printf '8573157376\n' > "$fx/$gpu_dir/mem_info_vram_total"
mkdir -p "$fx/usr/share/libdrm"
cp /usr/share/libdrm/amdgpu.ids "$fx/usr/share/libdrm/amdgpu.ids"
finish

# 6. AMD APU Radeon 890M (150e rev c1, Strix Point), 4 GiB UMA carve-out: newer than both
#    Debian's pci.ids and amdgpu.ids, so the built-in table names it.
new_fixture gpu-amd-apu
gpu "" 0000:00:08.0 1002 150e 1002 150e 030000 c1 amdgpu 1
printf '4294967296\n' > "$fx/$gpu_dir/mem_info_vram_total"
mkdir -p "$fx/usr/share/libdrm"
cp /usr/share/libdrm/amdgpu.ids "$fx/usr/share/libdrm/amdgpu.ids"
finish

# 7. Intel UHD Graphics 620 (ThinkPad i5-8250U) with i915: pci.ids name, memory unknown.
new_fixture gpu-intel-igpu
gpu "" 0000:00:08.0 8086 5917 17aa 225d 030000 07 i915 1
finish

# 8. The RTX 3050 (an x8 card, PCIe 4.0) with the driver, on a PLX PEX 8747 switch board
#    (PCIe 3.0, x16 uplink) in a chipset slot wired x4: every link but the uplink runs x8
#    or wider, so the uplink (the switch's upstream port) is what limits the GPU.
new_fixture gpu-behind-switch
root_port 0000:00:1c.0
link sys/devices/pci0000:00/0000:00:1c.0 '8.0 GT/s PCIe' 4 '8.0 GT/s PCIe' 4
bridge 0000:00:1c.0/ 0000:01:00.0 10b5 8747
link "$gpu_dir" '8.0 GT/s PCIe' 4 '8.0 GT/s PCIe' 16
bridge 0000:00:1c.0/0000:01:00.0/ 0000:02:08.0 10b5 8747
link "$gpu_dir" '8.0 GT/s PCIe' 8 '8.0 GT/s PCIe' 16
gpu 0000:00:1c.0/0000:01:00.0/0000:02:08.0/ 0000:03:00.0 10de 2582 1458 4118 030000 a1 nvidia 1
link "$gpu_dir" '8.0 GT/s PCIe' 8 '16.0 GT/s PCIe' 8
nvidia_proc 0000:03:00.0 "NVIDIA GeForce RTX 3050" GPU-8e1c3f5a-2b7d-4c61-9a0e-5f3b2d1c7e90 94.07.6b.00.54 155 0
finish
