#!/bin/sh
# Issue 16's facts from files, on the fixtures that carry them (tests/make-health-fixtures.sh,
# tests/make-gpu-fixtures.sh): batteries and mains, SMBIOS memory devices, PCIe links,
# platform, thermals. Values recomputed by shell from the fixtures' files where a rule is
# involved (wear, the narrowest link on a path), the rest as the files say; then the cases
# the fixtures do not show, on scratch copies.
. "$(dirname "$0")/lib.sh"

inv() { "$NODE_AGENT" inventory --root "$1" --quiet; }
q() { printf '%s\n' "$out" | jq -c "$1"; }

# --- PCIe links, on every fixture: the device's own link, and along its sysfs path the
# lowest current and maximum speed and width (speeds in tenths of GT/s)
tenths() { sed -n 's/^\([0-9]*\)\(\.\([0-9]\)\)\{0,1\} GT\/s.*/\1 \3/p' "$1" 2>/dev/null | awk '{ print $1 * 10 + $2 }'; }
for root in "$FIXTURES"/*/; do
	root=${root%/}
	name=$(basename "$root")
	[ -d "$root/sys/bus/pci/devices" ] || continue
	out=$(inv "$root")
	top=$(cd -P "$root/sys/devices" && pwd)
	for sel in '.gpus[] | .pci_address' '.disks[] | select(.transport == "nvme") | .pci_address'; do
		for a in $(q "$sel" | tr -d '"'); do
			[ "$a" = null ] && continue
			d=$(cd -P "$root/sys/bus/pci/devices/$a" && pwd)
			own_s=$(tenths "$d/current_link_speed") own_w=$(cat "$d/current_link_width" 2>/dev/null)
			sel_a="(.gpus[], .disks[]) | select(.pci_address == \"$a\") | .pcie_link"
			if [ -z "$own_s" ] || [ "${own_w:-0}" = 0 ]; then
				is "$(q "[$sel_a] | unique")" '[null]' "$name: $a has no link (no attributes, or Unknown/x0): null"
				continue
			fi
			ps=$own_s pw=$own_w cs=$(tenths "$d/max_link_speed") cw=$(cat "$d/max_link_width")
			p=$d
			while p=$(dirname "$p") && [ "$p" != "$top" ] && [ "$p" != / ]; do
				s=$(tenths "$p/current_link_speed") w=$(cat "$p/current_link_width" 2>/dev/null)
				[ -n "$s" ] && [ "$s" -gt 0 ] && [ "${w:-0}" -gt 0 ] || continue
				[ "$s" -lt "$ps" ] && ps=$s
				[ "$w" -lt "$pw" ] && pw=$w
				ms=$(tenths "$p/max_link_speed") mw=$(cat "$p/max_link_width")
				[ "$ms" -lt "$cs" ] && cs=$ms
				[ "$mw" -lt "$cw" ] && cw=$mw
			done
			below=false
			{ [ "$ps" -lt "$cs" ] || [ "$pw" -lt "$cw" ]; } && below=true
			is "$(q "[$sel_a | [.width, .path_width, .below_max]] | unique")" "[[$own_w,$pw,$below]]" \
				"$name: $a width $own_w, narrowest on the path $pw, below_max $below"
			is "$(q "[$sel_a | .path_speed] | unique")" \
				"[\"$((ps / 10)).$((ps % 10)) GT/s\"]" "$name: $a slowest speed on the path"
		done
	done
done

# --- ThinkPad T480
root=$FIXTURES/laptop-thinkpad-t480
out=$(inv "$root")
ps=$root/sys/class/power_supply
wear() { awk -v f="$(cat "$1")" -v d="$(cat "$2")" 'BEGIN { printf "%d\n", 100 - 100 * f / d + 0.5 }'; }
is "$(q '[.batteries[].name]')" '["BAT0","BAT1"]' "t480: the two batteries; the mouse's (scope Device) is not the machine's"
is "$(q '.batteries[0] | [.capacity_unit, .full, .full_design, .wear_percent]')" \
	"[\"uWh\",$(cat "$ps/BAT0/energy_full"),$(cat "$ps/BAT0/energy_full_design"),$(wear "$ps/BAT0/energy_full" "$ps/BAT0/energy_full_design")]" \
	"t480: BAT0 energy in µWh, wear = 100 - 100 * full / design, rounded"
is "$(q '.batteries[0].wear_percent')" 19 "t480: BAT0 has lost 19 %"
is "$(q '.batteries[0] | [.charge_start_threshold, .charge_end_threshold, .cycle_count]')" \
	"[$(cat "$ps/BAT0/charge_control_start_threshold"),$(cat "$ps/BAT0/charge_control_end_threshold"),$(cat "$ps/BAT0/cycle_count")]" \
	"t480: BAT0 thresholds (75, 80) and cycles"
is "$(q '.batteries[1] | [.charge_start_threshold, .charge_end_threshold, .wear_percent]')" '[0,100,2]' \
	"t480: BAT1 thresholds 0 and 100 are values (charging to full), wear 2 %"
is "$(q '.batteries[0] | [.present, .status, .technology, .manufacturer, .model, .capacity_percent]')" \
	'[true,"Not charging","Li-poly","SMP","01AV421",77]' "t480: BAT0 as the files say"
is "$(q '.ac_online')" true "t480: on AC"
is "$(q '.memory | [.slots_total, .slots_used, .ecc, .ecc_type, (.modules | length)]')" \
	'[2,1,false,"none",1]' "t480: 2 sockets, 1 used, no ECC (SMBIOS 16/17)"
is "$(q '.memory.modules[0]')" \
	'{"locator":"ChannelA-DIMM0","bank_locator":"BANK 0","size_bytes":8589934592,"type":"DDR4","form_factor":"SODIMM","speed_mts":2400,"configured_speed_mts":2400,"manufacturer":"Samsung","part_number":"M471A1K43CB1-CRC","serial":"19283746"}' \
	"t480: the module, every field (part number's trailing blanks trimmed)"
is "$(q '.gpus[] | select(.pci_address == "0000:01:00.0") | .pcie_link | [.speed, .max_speed, .limited_by, .below_max]')" \
	'["2.5 GT/s","8.0 GT/s",null,true]' "t480: the idle MX150 runs below its link's 8 GT/s"
is "$(q '.disks[0].pcie_link | [.speed, .width, .below_max]')" '["8.0 GT/s",4,false]' \
	"t480: NVMe at its full 8 GT/s x4"
is "$(q '.platform')" \
	"{\"tpm\":true,\"tpm_version\":\"2.0\",\"secure_boot\":true,\"setup_mode\":false,\"lockdown\":\"integrity\",\"kvm\":null,\"iommu\":true,\"iommu_groups\":$(ls "$root/sys/kernel/iommu_groups" | wc -l)}" \
	"t480: TPM 2.0, Secure Boot on, user mode, lockdown integrity, VT-d, groups counted, kvm unknown off the live system"
th() { q ".thermals[] | select(.name == \"$1\") | [.source, .device, .temperature_c, .critical_c]"; }
is "$(th 'coretemp/Package id 0')" '["hwmon",null,53,100]' "t480: coretemp package 53 °C, critical 100 °C"
is "$(th 'nvme/Composite')" '["hwmon","nvme0n1",39,85]' "t480: NVMe composite (38.85 °C) 39, critical 85, the disk named"
is "$(th 'thermal_zone0/acpitz')" '["thermal_zone",null,47,128]' "t480: acpitz, its critical trip point 128 °C"
is "$(th 'thermal_zone1/x86_pkg_temp')" '["thermal_zone",null,53,null]' "t480: a zone with passive trip points only: no critical"
is "$(q '[.thermals[] | select(.name | startswith("acpitz/"))] | length')" 0 \
	"t480: the acpitz hwmon (the thermal core's mirror of zone 0) is not listed twice"
is "$(q '.warnings')" '[]' "t480: no warnings"

# --- MacBookPro12,1
root=$FIXTURES/laptop-macbookpro12
out=$(inv "$root")
ps=$root/sys/class/power_supply
is "$(q '.batteries[0] | [.capacity_unit, .wear_percent]')" \
	"[\"uAh\",$(wear "$ps/BAT0/charge_full" "$ps/BAT0/charge_full_design")]" \
	"macbook: BAT0 charge in µAh, wear from charge_full/charge_full_design"
is "$(q '.batteries[0] | [.cycle_count, .charge_start_threshold, .charge_end_threshold]')" '[null,null,null]' \
	"macbook: cycle_count 0 (Apple's _BIF does not count) is null; no thresholds"
is "$(cat "$ps/BAT0/cycle_count")" 0 "macbook: ... the file does say 0"
is "$(q '.ac_online')" false "macbook: ADP1 offline: on battery"
is "$(q '.memory | [.slots_total, .slots_used, ([.modules[] | [.type, .size_bytes, .speed_mts, .configured_speed_mts, .manufacturer, .serial]] | unique)]')" \
	'[2,2,[["DDR3",4294967296,1867,null,"0x80CE",null]]]' \
	"macbook: SMBIOS 2.4 devices: no configured speed field, Apple's zero serial is none"
is "$(q '.platform | [.tpm, .secure_boot, .setup_mode, .lockdown, .iommu, .iommu_groups]')" \
	'[false,false,null,"none",false,0]' "macbook: no TPM; UEFI without a SecureBoot variable: off; no IOMMU"
is "$(q '.gpus[0].pcie_link')" null "macbook: the integrated GPU has no link"

# --- a GPU behind a switch whose uplink is narrower
out=$(inv "$FIXTURES/gpu-behind-switch")
is "$(q '.gpus[0].pcie_link | [.width, .path_width, .limited_by, .below_max]')" '[8,4,"0000:01:00.0",false]' \
	"switch: the x8 GPU gets x4, limited by the switch's upstream port; the slot can do no more"

# --- captured from QEMU (tests/qemu-capture.sh, MACHINE=health): its own SMBIOS type 16 and
# 17 structures for 17 GiB (a 16 GiB and a 1 GiB DIMM, -smbios type=17 strings), a root
# port narrowed to 8 GT/s x4 with an NVMe (x1 2.5 GT/s) behind it; the e1000e on bus 0 is
# root-complex integrated: "Unknown", x0 (and a maximum width of 255)
root=$FIXTURES/qemu-q35-health
out=$(inv "$root")
is "$(q '.memory | [.slots_total, .slots_used, .ecc, .ecc_type, [.modules[] | [.locator, .size_bytes, .type, .form_factor, .speed_mts, .manufacturer, .part_number]]]')" \
	'[2,2,true,"multi-bit",[["DIMM 0",17179869184,"RAM","DIMM",2666,"Samsung","M378A2K43CB1-CTD"],["DIMM 1",1073741824,"RAM","DIMM",2666,"Samsung","M378A2K43CB1-CTD"]]]' \
	"qemu health: QEMU's memory devices as the kernel hands them out"
is "$(cat "$root/sys/bus/pci/devices/0000:00:1c.0/max_link_speed") x$(cat "$root/sys/bus/pci/devices/0000:00:1c.0/max_link_width")" \
	'8.0 GT/s PCIe x4' "qemu health: the root port was narrowed (x-speed=8, x-width=4)"
is "$(q '.disks[0].pcie_link | [.speed, .width, .path_speed, .path_width, .below_max]')" '["2.5 GT/s",1,"2.5 GT/s",1,false]' \
	"qemu health: NVMe behind it at QEMU's endpoint link (x1 2.5 GT/s): not below what it can do"
is "$(cat "$root/sys/bus/pci/devices/0000:00:02.0/current_link_speed")/$(cat "$root/sys/bus/pci/devices/0000:00:02.0/max_link_width")" \
	'Unknown/255' "qemu health: a root-complex integrated device's link attributes"
is "$(q '.thermals')" '[{"name":"nvme/Composite","source":"hwmon","device":"nvme0n1","temperature_c":50,"critical_c":100}]' \
	"qemu health: the NVMe's hwmon (a class device's child), the disk named"
is "$(q '.platform.lockdown')" '"none"' "qemu health: lockdown from securityfs"

# --- machines without these facts
out=$(inv "$FIXTURES/qemu-q35")
is "$(q '[.batteries, .ac_online, .memory.modules, .memory.slots_total, .platform.secure_boot]')" '[[],null,null,null,false]' \
	"q35 (BIOS): no battery [], no mains null, no SMBIOS entries null, Secure Boot off"
# OVMF without enrolled keys, captured (efivarfs mounted in the guest): SecureBoot 0,
# SetupMode 1; without efivarfs nothing is known
out=$(inv "$FIXTURES/qemu-q35-uefi")
is "$(q '.platform | [.secure_boot, .setup_mode]')" '[false,true]' \
	"q35 UEFI (OVMF, no keys): Secure Boot off, in setup mode, as efivarfs says"
root=$(scratch_copy qemu-q35-uefi)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
rm -r "$root/sys/firmware/efi/efivars"
out=$(inv "$root")
is "$(q '.platform | [.secure_boot, .setup_mode]')" '[null,null]' "UEFI without efivarfs: unknown"
mkdir "$root/sys/firmware/efi/efivars"
printf '\006\000\000\000' > "$root/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
out=$(inv "$root")
is "$(q '[.platform.secure_boot, .warnings[0]]')" \
	'[null,"/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c: not a boolean variable (4 bytes)"]' \
	"a SecureBoot variable of 4 bytes: unknown, and a warning"

# --- thinkpad_acpi before Linux 5.9: only charge_start_threshold / charge_stop_threshold
root=$(scratch_copy laptop-thinkpad-t480)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
bat=$root/sys/devices/LNXSYSTM:00/LNXSYBUS:00/PNP0C0A:00/power_supply/BAT0
rm "$bat/charge_control_start_threshold" "$bat/charge_control_end_threshold"
echo 60 > "$bat/charge_start_threshold"
echo 90 > "$bat/charge_stop_threshold"
echo 25000000 > "$bat/energy_full" # more than designed
echo 0 > "$root/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0003:00/power_supply/AC/online"
out=$(inv "$root")
is "$(q '.batteries[0] | [.charge_start_threshold, .charge_end_threshold, .wear_percent]')" '[60,90,0]' \
	"old threshold names read; a battery holding more than designed has 0 wear"
is "$(q '.ac_online')" false "AC offline: false"
# a temperature file with junk: null and a warning naming it; a PCIe link trained x2
echo junk > "$root/sys/devices/platform/coretemp.0/hwmon/hwmon3/temp1_input"
for d in 0000:00:1d.0 0000:00:1d.0/0000:3d:00.0; do echo 2 > "$root/sys/devices/pci0000:00/$d/current_link_width"; done
out=$(inv "$root")
is "$(q '.thermals[] | select(.name == "coretemp/Package id 0") | [.temperature_c, .critical_c]')" '[null,100]' \
	"junk in temp1_input: temperature null, critical still read"
is "$(q '.warnings')" '["/sys/class/hwmon/hwmon3/temp1_input: not a temperature: \"junk\""]' \
	"... and one warning naming the file"
is "$(q '.disks[0].pcie_link | [.width, .path_width, .limited_by, .below_max]')" '[2,2,null,true]' \
	"NVMe trained x2 where drive and slot do x4: below_max"

# --- without root the SMBIOS entries (0400, root's) cannot be read: modules null and one
# warning; an unreadable power supply class: batteries null
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod 0755 "$(dirname "$root")"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
	nobody "$NODE_AGENT" inventory --root "$root" --quiet >/dev/null 2>&1; then
	chmod 0400 "$root"/sys/firmware/dmi/entries/*/raw
	chmod 0700 "$root/sys/devices/LNXSYSTM:00/LNXSYBUS:00/PNP0C0A:00" "$root/sys/class/power_supply"
	out=$(nobody "$NODE_AGENT" inventory --root "$root" --quiet)
	is "$(q '[.memory.modules, .memory.slots_total, .memory.slots_used, .batteries]')" '[null,null,null,null]' \
		"as nobody: memory modules and slots null, batteries null"
	is "$(q '[.warnings[] | select(test("dmi/entries"))]')" \
		'["/sys/firmware/dmi/entries/16-0/raw: Permission denied: memory modules are known to root only"]' \
		"as nobody: one warning for the SMBIOS entries, saying why"
	is "$(q '[.warnings[] | select(test("power_supply"))] | length')" 1 "as nobody: one warning for the power supplies"
else
	for t in "SMBIOS entries unreadable" "one warning" "power supplies"; do
		skip "as nobody: $t" "needs root, setpriv and a node-agent that nobody can run"
	done
fi

# --- sensors and batteries the fixtures do not have
# drivetemp's sensor belongs to the SCSI device of a SATA disk: the disk is named; a sensor
# without a parent device (devices/virtual/hwmon) names none, however much is in
# devices/virtual; a battery that leaves its maker blank has none, without a warning
root=$(scratch_copy qemu-q35)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
sd=devices/pci0000:00/0000:00:06.0/ata1/host0/target0:0:0/0:0:0:0
mkdir -p "$root/sys/$sd/hwmon/hwmon1" "$root/sys/devices/virtual/hwmon/hwmon2" \
	"$root/sys/devices/virtual/block/dm-0" "$root/sys/class/hwmon" "$root/sys/class/power_supply" \
	"$root/sys/devices/LNXSYSTM:00/PNP0C0A:00/power_supply/BAT0"
printf 'drivetemp\n' > "$root/sys/$sd/hwmon/hwmon1/name"
printf '35000\n' > "$root/sys/$sd/hwmon/hwmon1/temp1_input"
printf '70000\n' > "$root/sys/$sd/hwmon/hwmon1/temp1_crit"
ln -s ../../../0:0:0:0 "$root/sys/$sd/hwmon/hwmon1/device"
ln -s "../../$sd/hwmon/hwmon1" "$root/sys/class/hwmon/hwmon1"
printf 'virt\n' > "$root/sys/devices/virtual/hwmon/hwmon2/name"
printf -- '-5500\n' > "$root/sys/devices/virtual/hwmon/hwmon2/temp1_input"
ln -s ../../devices/virtual/hwmon/hwmon2 "$root/sys/class/hwmon/hwmon2"
b=$root/sys/devices/LNXSYSTM:00/PNP0C0A:00/power_supply/BAT0
ln -s ../../devices/LNXSYSTM:00/PNP0C0A:00/power_supply/BAT0 "$root/sys/class/power_supply/BAT0"
printf 'Battery\n' > "$b/type"
printf '\n' > "$b/manufacturer"
printf '  \n' > "$b/model_name"
out=$(inv "$root")
is "$(q '[.thermals[] | [.name, .device, .temperature_c, .critical_c]]')" \
	'[["drivetemp/temp1","sda",35,70],["virt/temp1",null,-6,null]]' \
	"drivetemp names the SATA disk; a sensor without a device names none; -5.5 °C rounds to -6"
is "$(q '[(.batteries[0] | .manufacturer, .model, .full, .capacity_unit, .wear_percent), .warnings]')" \
	'[null,null,null,null,null,[]]' "a battery that says little: nulls, no warning"

# --- the live system: kvm is whether /dev/kvm opens read-write
out=$("$NODE_AGENT" inventory --quiet)
kvm=false
if [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then kvm=true; fi
is "$(q '.platform.kvm')" "$kvm" "live: kvm $kvm, as opening /dev/kvm read-write says"
done_testing
