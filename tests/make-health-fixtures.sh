#!/bin/sh
# Build the laptop fixtures of issue 16 (batteries, mains, thermals, platform, SMBIOS memory
# devices, PCIe links): trees in the kernel's layout and formats, written here because no
# laptop can be captured on the development machine (tests/capture-sysfs.sh copies the
# same files from a real one).
#
#  - laptop-thinkpad-t480: Lenovo ThinkPad T480 (20L5), i5-8350U, one 8 GiB DDR4 SODIMM in
#    two sockets, no ECC; UEFI with Secure Boot on (Debian's kernel then locks down to
#    integrity); a TPM 2.0 (Intel PTT, tpm_crb on MSFT0101); VT-d on (intel_iommu=on); the
#    internal and the external battery (ACPI, energy_* in µWh, thinkpad_acpi's charge
#    thresholds under both the current and the pre-5.9 names), on AC, a Logitech mouse's
#    battery (scope Device); coretemp, the NVMe's hwmon, thinkpad's, the acpitz hwmon
#    mirror of thermal_zone0 and the x86_pkg_temp zone; the UHD 620 iGPU (root-complex
#    integrated: no link), the GeForce MX150 on root port 00:1c.0 (PCIe 3.0 x4, idle at
#    2.5 GT/s as NVIDIA GPUs are), a Samsung PM981 NVMe on root port 00:1d.0 (8 GT/s x4).
#  - laptop-macbookpro12: Apple MacBookPro12,1 (early 2015), i5-5257U, 2 x 4 GiB DDR3
#    soldered, described by SMBIOS 2.4 structures (27-byte type 17, Apple's hex strings);
#    UEFI without Secure Boot (no SecureBoot variable), no TPM, no IOMMU; the ACPI battery
#    counting charge (charge_* in µAh, cycle_count 0 as Apple's _BIF gives it), off AC;
#    coretemp and applesmc sensors; the Iris 6100 iGPU.
#
# Values are those such machines report (sysfs-class-power, hwmon sysfs-interface, the
# thermal and TPM classes, efivarfs, DSP0134); serials and UUIDs are made up. The SMBIOS
# entries are made by tests/tools/mk-smbios-entry.pl from the specification's offsets.
#
# usage: make-health-fixtures.sh      (rewrites both trees; then, for each NAME,
#        SOURCE_DATE_EPOCH=1767225600 build/node-agent inventory --root tests/fixtures/NAME \
#            --quiet > tests/fixtures/NAME.expected.json   and check the diff)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$here/fixtures

# w PATH LINE...: a file of lines under the fixture
w() {
	f=$fx/$1
	shift
	mkdir -p "$(dirname "$f")"
	printf '%s\n' "$@" > "$f"
}
# lnk PATH TARGET: a symlink under the fixture
lnk() {
	mkdir -p "$(dirname "$fx/$1")"
	ln -sfn "$2" "$fx/$1"
}
# bytes PATH OCTAL...: a binary file
bytes() {
	mkdir -p "$(dirname "$fx/$1")"
	f=$fx/$1
	shift
	: > "$f"
	for b in "$@"; do printf "\\$b" >> "$f"; done
}

# new_tree NAME HOSTNAME MACHINE_ID CMDLINE
new_tree() {
	fx=$out/$1
	rm -rf "$fx"
	mkdir -p "$fx"
	w etc/hostname "$2"
	w proc/sys/kernel/hostname "$2"
	w etc/machine-id "$3"
	w proc/cmdline "$4"
	w proc/sys/kernel/arch x86_64
	w proc/net/route 'Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT'
	: > "$fx/proc/net/ipv6_route"
	# loopback only
	d=sys/devices/virtual/net/lo
	w $d/type 772
	w $d/address 00:00:00:00:00:00
	w $d/mtu 65536
	w $d/operstate unknown
	w $d/ifindex 1
	w $d/addr_assign_type 0
	w $d/uevent INTERFACE=lo IFINDEX=1
	lnk sys/class/net/lo ../../devices/virtual/net/lo
	mkdir -p "$fx/sys/block" "$fx/sys/bus/pci/devices" "$fx/sys/class/thermal" \
		"$fx/sys/class/hwmon" "$fx/sys/class/power_supply" "$fx/sys/class/tpm" \
		"$fx/sys/class/iommu" "$fx/sys/kernel/iommu_groups"
}

# cpus MODEL FAMILY MODEL_ID STEPPING MICROCODE MHZ CORES THREADS FLAGS: /proc/cpuinfo and
# the topology of one package
cpus() {
	n=$(($8 - 1))
	: > "$fx/proc/cpuinfo"
	for i in $(seq 0 $n); do
		core=$((i % $7))
		cat >> "$fx/proc/cpuinfo" <<EOF
processor	: $i
vendor_id	: GenuineIntel
cpu family	: $2
model		: $3
model name	: $1
stepping	: $4
microcode	: $5
cpu MHz		: $6
cache size	: 6144 KB
physical id	: 0
siblings	: $8
core id		: $core
cpu cores	: $7
apicid		: $((core * 2 + i / $7))
initial apicid	: $((core * 2 + i / $7))
fpu		: yes
fpu_exception	: yes
cpuid level	: 22
wp		: yes
flags		: $9
bogomips	: 3799.90
clflush size	: 64
cache_alignment	: 64
address sizes	: 39 bits physical, 48 bits virtual
power management:

EOF
		w sys/devices/system/cpu/cpu$i/topology/physical_package_id 0
		w sys/devices/system/cpu/cpu$i/topology/core_id $core
		w sys/devices/system/cpu/cpu$i/topology/die_id 0
	done
	for f in online possible present; do w sys/devices/system/cpu/$f "0-$n"; done
}

# memory MEMTOTAL_KB BLOCK...: /proc/meminfo and the present 128 MiB memory blocks
memory() {
	kb=$1
	shift
	w proc/meminfo "MemTotal:       $kb kB" "MemFree:        $((kb / 2)) kB" \
		"MemAvailable:   $((kb * 3 / 4)) kB"
	w sys/devices/system/memory/block_size_bytes 8000000
	for b in "$@"; do
		w sys/devices/system/memory/memory$b/online 1
		w sys/devices/system/memory/memory$b/state online
	done
}

# dmi KEY=VALUE...: /sys/class/dmi/id
dmi() {
	lnk sys/class/dmi/id ../../devices/virtual/dmi/id
	for kv in "$@"; do w "sys/devices/virtual/dmi/id/${kv%%=*}" "${kv#*=}"; done
}

# smbios NAME ARGS...: /sys/firmware/dmi/entries/NAME (raw, and the kernel's type, handle,
# length attributes, decimal)
smbios() {
	e=sys/firmware/dmi/entries/$1
	shift
	mkdir -p "$fx/$e"
	perl "$here/tools/mk-smbios-entry.pl" "$@" > "$fx/$e/raw"
	w $e/type "$1"
	w $e/handle "$(($2))"
	w $e/length "$(od -An -tu1 -j1 -N1 "$fx/$e/raw" | tr -d ' ')"
}

# efi_var NAME ATTR VALUE_BYTE...: an efivarfs variable of the global GUID (octal bytes)
efi_var() {
	n=$1
	shift
	bytes "sys/firmware/efi/efivars/$n-8be4df61-93ca-11d2-aa0d-00e098032b8c" "$@"
}

# pci PATH VENDOR DEVICE SUBVENDOR SUBDEVICE CLASS REVISION DRIVER (PATH below
# /sys/devices/pci0000:00, its last component the address; ids lower-case hex)
pci() {
	path=$1 ven=$2 dev=$3 sven=$4 sdev=$5 class=$6 rev=$7 drv=$8
	addr=${path##*/}
	dir=sys/devices/pci0000:00/$path
	up() { printf '%s' "$1" | tr 'a-f' 'A-F'; }
	{
		if [ "$drv" != - ]; then printf 'DRIVER=%s\n' "$drv"; fi
		printf 'PCI_CLASS=%s\n' "$(printf '%s' "$class" | sed 's/^0*//' | tr 'a-f' 'A-F')"
		printf 'PCI_ID=%s:%s\nPCI_SUBSYS_ID=%s:%s\nPCI_SLOT_NAME=%s\n' "$(up "$ven")" \
			"$(up "$dev")" "$(up "$sven")" "$(up "$sdev")" "$addr"
		printf 'MODALIAS=pci:v0000%sd0000%ssv0000%ssd0000%sbc%ssc%si%s\n' "$(up "$ven")" \
			"$(up "$dev")" "$(up "$sven")" "$(up "$sdev")" "$(up "$(echo "$class" | cut -c1-2)")" \
			"$(up "$(echo "$class" | cut -c3-4)")" "$(up "$(echo "$class" | cut -c5-6)")"
	} > "$fx/uevent.tmp"
	mkdir -p "$fx/$dir"
	mv "$fx/uevent.tmp" "$fx/$dir/uevent"
	w $dir/vendor 0x$ven
	w $dir/device 0x$dev
	w $dir/subsystem_vendor 0x$sven
	w $dir/subsystem_device 0x$sdev
	w $dir/class 0x$class
	w $dir/revision 0x$rev
	w $dir/numa_node -1
	depth=$(printf '%s\n' "$path" | awk -F/ '{ print NF }')
	ups=$(printf '../%.0s' $(seq 1 $((depth + 2))))
	if [ "$drv" != - ]; then lnk $dir/driver "${ups}bus/pci/drivers/$drv"; fi
	lnk sys/bus/pci/devices/$addr ../../../devices/pci0000:00/$path
	pci_dir=$dir
}

# link SPEED WIDTH MAX_SPEED MAX_WIDTH: the PCIe link attributes of the last pci
link() {
	w $pci_dir/current_link_speed "$1"
	w $pci_dir/current_link_width "$2"
	w $pci_dir/max_link_speed "$3"
	w $pci_dir/max_link_width "$4"
}

# supply NAME DEVICE_DIR KEY=VALUE...: a power supply (its attribute files and uevent)
supply() {
	n=$1 dir=sys/devices/$2/power_supply/$1
	shift 2
	lnk sys/class/power_supply/$n ../../devices/${dir#sys/devices/}
	: > "$fx/uevent.tmp"
	printf 'POWER_SUPPLY_NAME=%s\n' "$n" >> "$fx/uevent.tmp"
	for kv in "$@"; do
		w "$dir/${kv%%=*}" "${kv#*=}"
		printf 'POWER_SUPPLY_%s=%s\n' "$(printf '%s' "${kv%%=*}" | tr 'a-z' 'A-Z')" \
			"${kv#*=}" >> "$fx/uevent.tmp"
	done
	mv "$fx/uevent.tmp" "$fx/$dir/uevent"
}

# hwmon N DEVICE_DIR NAME [INDEX:INPUT:LABEL:CRIT]...: an hwmon device (DEVICE_DIR below
# /sys/devices; "-" for an empty label or crit); DEVICE_DIR/hwmon/hwmonN unless the device
# is a class device (nvme, thermal zones), which holds hwmonN directly
hwmon() {
	n=$1 devdir=$2 name=$3
	shift 3
	case $devdir in */nvme/nvme[0-9]*|virtual/thermal/*) h=$devdir/hwmon$n ;; *) h=$devdir/hwmon/hwmon$n ;; esac
	lnk sys/class/hwmon/hwmon$n ../../devices/$h
	w sys/devices/$h/name "$name"
	case $h in */hwmon/hwmon*) lnk sys/devices/$h/device ../../../${devdir##*/} ;;
		*) lnk sys/devices/$h/device ../../${devdir##*/} ;; esac
	for s in "$@"; do
		i=${s%%:*} rest=${s#*:}
		input=${rest%%:*} rest=${rest#*:}
		label=${rest%%:*} crit=${rest#*:}
		w sys/devices/$h/temp${i}_input "$input"
		if [ "$label" != - ]; then w sys/devices/$h/temp${i}_label "$label"; fi
		if [ "$crit" != - ]; then w sys/devices/$h/temp${i}_crit "$crit"; fi
	done
}

# zone N TYPE TEMP [TRIP_TYPE:TRIP_TEMP]...: a thermal zone
zone() {
	d=sys/devices/virtual/thermal/thermal_zone$1
	lnk sys/class/thermal/thermal_zone$1 ../../devices/virtual/thermal/thermal_zone$1
	w $d/type "$2"
	w $d/temp "$3"
	shift 3
	t=0
	for tp in "$@"; do
		w $d/trip_point_${t}_type "${tp%%:*}"
		w $d/trip_point_${t}_temp "${tp#*:}"
		t=$((t + 1))
	done
}

# --------------------------------------------------------------------- ThinkPad T480
new_tree laptop-thinkpad-t480 t480-node 7c1e4a9b3d2f4e0a8b6c5d4e3f2a1b0c \
	'BOOT_IMAGE=/vmlinuz-6.1.0-28-amd64 root=UUID=2f6b3c1d-8e4a-4b7c-9d2e-1a3f5c7e9b0d ro quiet intel_iommu=on'
cpus 'Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz' 6 142 10 0xf4 1900.000 4 8 \
	'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb invpcid_single pti ssbd ibrs ibpb stibp tpr_shadow vnmi flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid mpx rdseed adx smap clflushopt intel_pt xsaveopt xsavec xgetbv1 xsaves dtherm ida arat pln pts hwp hwp_notify hwp_act_window hwp_epp md_clear flush_l1d arch_capabilities'
memory 7991404 $(seq 0 15) $(seq 32 79)
dmi sys_vendor=LENOVO product_name=20L5CTO1WW 'product_version=ThinkPad T480' \
	'product_family=ThinkPad T480' 'product_sku=LENOVO_MT_20L5_BU_Think_FM_ThinkPad T480' \
	product_serial=PF1KX2AB product_uuid=3c9f2e1a-7b4d-11e8-9c2d-fa7ae01bbebc \
	board_vendor=LENOVO board_name=20L5CTO1WW board_serial=L1HF8AB01XY bios_vendor=LENOVO \
	'bios_version=N24ET76W (1.51 )' bios_date=04/16/2024 bios_release=1.51 chassis_type=10 \
	chassis_vendor=LENOVO
w sys/firmware/efi/fw_platform_size 64
# attributes 06h (boot service and runtime access), then the value
efi_var SecureBoot 006 000 000 000 001
efi_var SetupMode 006 000 000 000 000
efi_var BootCurrent 006 000 000 000 001 000
w sys/kernel/security/lockdown 'none [integrity] confidentiality'
# type 16 of SMBIOS 3.0 (23 bytes): system memory, no ECC, 2 sockets; type 17 (40 bytes)
smbios 16-0 16 0x0003 use=3 ecc=3 devices=2 max_kib=0x2000000
smbios 17-0 17 0x0004 array=0x0003 size=8192 form=0x0d locator=ChannelA-DIMM0 'bank=BANK 0' \
	type=0x1a speed=2400 manufacturer=Samsung serial=19283746 'asset=None' \
	'part=M471A1K43CB1-CRC    ' configured=2400
smbios 17-1 17 0x0005 array=0x0003 size=0 form=0x0d locator=ChannelB-DIMM0 'bank=BANK 2' \
	type=0x02 'manufacturer=Not Specified' 'serial=Not Specified' 'asset=Not Specified' \
	'part=Not Specified' speed=0 configured=0
# TPM 2.0 of the chipset (PTT), with its resource manager
lnk sys/class/tpm/tpm0 ../../devices/platform/MSFT0101:00/tpm/tpm0
w sys/devices/platform/MSFT0101:00/tpm/tpm0/tpm_version_major 2
w sys/devices/platform/MSFT0101:00/tpm/tpm0/uevent MAJOR=10 MINOR=224 DEVNAME=tpm0
lnk sys/class/tpmrm/tpmrm0 ../../devices/platform/MSFT0101:00/tpmrm/tpmrm0
w sys/devices/platform/MSFT0101:00/tpmrm/tpmrm0/uevent MAJOR=253 MINOR=65536 DEVNAME=tpmrm0
# VT-d: two remapping units, 14 groups
for u in dmar0 dmar1; do
	lnk sys/class/iommu/$u ../../devices/virtual/iommu/$u
	mkdir -p "$fx/sys/devices/virtual/iommu/$u"
done
# a file in each group, as sysfs has, so git keeps the directories
for g in $(seq 0 13); do mkdir -p "$fx/sys/kernel/iommu_groups/$g/devices"; printf 'DMA-FQ\n' > "$fx/sys/kernel/iommu_groups/$g/type"; done
# PCI: host bridge, UHD 620 (integrated: the kernel reports no link), the MX150 and the NVMe
pci 0000:00:00.0 8086 5914 17aa 225d 060000 08 -
pci 0000:00:02.0 8086 5917 17aa 225d 030000 07 i915
link Unknown 0 Unknown 0
w $pci_dir/boot_vga 1
pci 0000:00:1c.0 8086 9d10 17aa 225d 060400 f1 pcieport
link '2.5 GT/s PCIe' 4 '8.0 GT/s PCIe' 4
pci 0000:00:1c.0/0000:01:00.0 10de 1d10 17aa 225e 030200 a1 nouveau
link '2.5 GT/s PCIe' 4 '8.0 GT/s PCIe' 4
pci 0000:00:1d.0 8086 9d18 17aa 225d 060400 f1 pcieport
link '8.0 GT/s PCIe' 4 '8.0 GT/s PCIe' 4
pci 0000:00:1d.0/0000:3d:00.0 144d a808 144d a801 010802 00 nvme
link '8.0 GT/s PCIe' 4 '8.0 GT/s PCIe' 4
c=$pci_dir/nvme/nvme0
w $c/model 'SAMSUNG MZVLB512HAJQ-000L7              '
w $c/serial 'S3TNNX0K812345      '
w $c/firmware_rev '4L2QEXA7'
w $c/transport pcie
w $c/uevent MAJOR=241 MINOR=0 DEVNAME=nvme0
lnk $c/subsystem ../../../../../../class/nvme
w $c/nvme0n1/size 1000215216
w $c/nvme0n1/removable 0
w $c/nvme0n1/ro 0
w $c/nvme0n1/dev 259:0
w $c/nvme0n1/wwid eui.0025388b81b2c3d4
w $c/nvme0n1/queue/rotational 0
w $c/nvme0n1/queue/logical_block_size 512
w $c/nvme0n1/queue/physical_block_size 512
w $c/nvme0n1/uevent MAJOR=259 MINOR=0 DEVNAME=nvme0n1 DEVTYPE=disk DISKSEQ=1
lnk $c/nvme0n1/device ../../nvme0
lnk sys/block/nvme0n1 ../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1
# power: AC, the internal (BAT0) and the external (BAT1) battery, a mouse's
supply AC LNXSYSTM:00/LNXSYBUS:00/ACPI0003:00 type=Mains online=1
supply BAT0 LNXSYSTM:00/LNXSYBUS:00/PNP0C0A:00 type=Battery 'status=Not charging' present=1 \
	technology=Li-poly cycle_count=412 voltage_min_design=11460000 voltage_now=12515000 \
	power_now=0 energy_full_design=24050000 energy_full=19570000 energy_now=15070000 \
	capacity=77 capacity_level=Normal model_name=01AV421 manufacturer=SMP 'serial_number= 1234' \
	charge_control_start_threshold=75 charge_control_end_threshold=80 \
	charge_start_threshold=75 charge_stop_threshold=80
supply BAT1 LNXSYSTM:00/LNXSYBUS:00/PNP0C0A:01 type=Battery status=Charging present=1 \
	technology=Li-ion cycle_count=38 voltage_min_design=11250000 voltage_now=12760000 \
	power_now=21500000 energy_full_design=71100000 energy_full=69830000 energy_now=55640000 \
	capacity=79 capacity_level=Normal model_name=01AV425 manufacturer=LGC 'serial_number= 5678' \
	charge_control_start_threshold=0 charge_control_end_threshold=100 \
	charge_start_threshold=0 charge_stop_threshold=100
supply hidpp_battery_0 pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.2/0003:046D:C52B.0003/0003:046D:4082.0004 \
	type=Battery scope=Device status=Discharging present=1 online=1 capacity_level=Normal \
	'model_name=MX Master 3' manufacturer=Logitech
# temperatures
hwmon 0 virtual/thermal/thermal_zone0 acpitz 1:47000:-:128000
hwmon 1 platform/thinkpad_hwmon thinkpad 1:47000:-:- 2:45000:-:-
hwmon 2 pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0 nvme '1:38850:Composite:84850' \
	'2:38850:Sensor 1:-' '3:41850:Sensor 2:-'
hwmon 3 platform/coretemp.0 coretemp '1:53000:Package id 0:100000' '2:51000:Core 0:100000' \
	'3:53000:Core 1:100000' '4:50000:Core 2:100000' '5:52000:Core 3:100000'
zone 0 acpitz 47000 critical:128000
zone 1 x86_pkg_temp 53000 passive:0 passive:0
mkdir -p "$fx/sys/devices/virtual/thermal/cooling_device0"
lnk sys/class/thermal/cooling_device0 ../../devices/virtual/thermal/cooling_device0
sh "$here/trim-pci-ids.sh" "$fx"

# --------------------------------------------------------------------- MacBookPro12,1
new_tree laptop-macbookpro12 mbp-node 2a8d6f0c4e1b4c39a7d5e3f1b9c2a604 \
	'BOOT_IMAGE=/vmlinuz-6.1.0-28-amd64 root=UUID=9d1e7c3b-5a2f-4e8d-b6c4-0f3a2e1d5c7b ro quiet'
cpus 'Intel(R) Core(TM) i5-5257U CPU @ 2.70GHz' 6 61 4 0x2f 2700.000 2 4 \
	'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb invpcid_single pti ssbd ibrs ibpb stibp tpr_shadow vnmi flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 hle avx2 smep bmi2 erms invpcid rtm rdseed adx smap intel_pt xsaveopt dtherm ida arat pln pts md_clear flush_l1d'
memory 8056764 $(seq 0 15) $(seq 32 79)
dmi 'sys_vendor=Apple Inc.' product_name=MacBookPro12,1 product_version=1.0 \
	'product_family=MacBook Pro' product_serial=C02PX0ABFVH3 \
	product_uuid=8e2f4a6c-1d3b-5e7f-9a0c-2b4d6f8e0a1c 'board_vendor=Apple Inc.' \
	board_name=Mac-E43C1C25D4880AD6 board_serial=C0253040ABCFVH3A1 'bios_vendor=Apple Inc.' \
	bios_version=476.0.0.0.0 bios_date=10/14/2022 chassis_type=9 'chassis_vendor=Apple Inc.'
w sys/firmware/efi/fw_platform_size 64
# Apple's firmware before the T2 chip has no Secure Boot: no SecureBoot variable at all
efi_var BootCurrent 006 000 000 000 200 000
w sys/kernel/security/lockdown '[none] integrity confidentiality'
# SMBIOS 2.4: type 16 of 15 bytes, type 17 of 27 (no extended size, no configured speed);
# soldered DDR3 described as two devices, strings as Apple writes them (hex)
smbios 16-0 16 0x0010 use=3 ecc=3 devices=2 max_kib=0x1000000 length=0x0f
smbios 17-0 17 0x0011 array=0x0010 size=4096 form=0x0d locator=DIMM0 'bank=BANK 0' type=0x18 \
	speed=1867 manufacturer=0x80CE serial=0x00000000 'asset=Not Specified' \
	part=0x4B3445424533303445422D45474347202020 length=0x1b
smbios 17-1 17 0x0012 array=0x0010 size=4096 form=0x0d locator=DIMM1 'bank=BANK 1' type=0x18 \
	speed=1867 manufacturer=0x80CE serial=0x00000000 'asset=Not Specified' \
	part=0x4B3445424533303445422D45474347202020 length=0x1b
pci 0000:00:00.0 8086 1604 106b 013f 060000 09 -
pci 0000:00:02.0 8086 162b 106b 013f 030000 09 i915
link Unknown 0 Unknown 0
w $pci_dir/boot_vga 1
supply ADP1 LNXSYSTM:00/LNXSYBUS:00/ACPI0003:00 type=Mains online=0
supply BAT0 LNXSYSTM:00/LNXSYBUS:00/PNP0C0A:00 type=Battery status=Discharging present=1 \
	technology=Li-ion cycle_count=0 voltage_min_design=11400000 voltage_now=12210000 \
	current_now=1203000 charge_full_design=6559000 charge_full=5311000 charge_now=3665000 \
	capacity=69 capacity_level=Normal model_name=bq20z451 manufacturer=SMP \
	serial_number=D8653120ABCF
hwmon 0 platform/applesmc.768 applesmc '1:31000:TB0T:-' '2:48250:TC0P:-'
hwmon 1 platform/coretemp.0 coretemp '1:55000:Package id 0:105000' '2:54000:Core 0:105000' \
	'3:55000:Core 1:105000'
sh "$here/trim-pci-ids.sh" "$fx"
