#!/bin/sh
# Disk health read from real (emulated) disks: tests/qemu-smart.sh boots Debian's kernel in
# QEMU with three NVMe controllers (one as it is, one with QEMU's smart_critical_warning,
# one whose over-temperature threshold the guest lowered with Set Features) and an AHCI
# disk, and runs `node-agent inventory` there as root and as nobody. What node-agent reports
# is compared with smartctl's reading of the same disks (its own commands, its own parser)
# and with the status rule; unprivileged, health is null with one warning. Skipped with
# NA_E2E=0 (no QEMU boots) or without the kernel and tools (sh tests/install-deps.sh test).
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
if [ "${NA_E2E:-1}" = 0 ]; then
	skip "disk health in QEMU" "NA_E2E=0"
	done_testing
	exit
fi
missing=""
ls /boot/vmlinuz-* >/dev/null 2>&1 || missing="$missing linux-image-amd64"
for t in qemu-system-x86_64 busybox smartctl nvme sg_raw; do
	PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	skip "disk health in QEMU" "missing:$missing (sh tests/install-deps.sh test)"
	done_testing
	exit
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
cleanup_dirs="$cleanup_dirs $work"
start=$(date +%s)
NODE_AGENT=$NODE_AGENT sh tests/qemu-smart.sh "$work" >"$work/run.log" 2>&1
rc=$?
ok $rc "the guest booted, ran node-agent and smartctl, and answered ($(($(date +%s) - start)) s)"
if [ $rc -ne 0 ]; then
	sed 's/^/# /' "$work/run.log" | tail -n 30
	done_testing
	exit
fi
o=$work/out

# root: every disk's health, no warning about it
inv=$o/inventory-root.json
jq -e . "$inv" >/dev/null
ok $? "node-agent inventory as root wrote JSON"
is "$(grep -ciE 'health|smart' "$o/inventory-root.err")" 0 "no warning about disk health as root"
h() { jq -c --arg d "$1" ".disks[] | select(.name == \$d) | .health$2" "$inv"; }

is "$(h nvme0n1 '| [.source, .status, .critical_warning]')" '["nvme","ok",[]]' \
	"nvme0n1 (QEMU's NVMe as it is): ok, no critical warning"
is "$(h nvme1n1 '| [.status, .critical_warning]')" '["failing",["reliability","volatile_backup"]]' \
	"nvme1n1 (smart_critical_warning=0x14): failing, reliability and volatile_backup"
like "$(cat "$o/set-feature.txt")" 'rc=0' "the guest set nvme2's temperature threshold"
is "$(h nvme2n1 '| [.status, .critical_warning]')" '["warning",["temperature"]]' \
	"nvme2n1 (over-temperature threshold 300 K < 323 K): warning, temperature"

# the same numbers as smartctl's NVMe health log, field by field
names='["spare","temperature","reliability","read_only","volatile_backup","pmr_read_only"]'
for n in 0 1 2; do
	ours=$(h "nvme${n}n1" '| [.temperature_c, .available_spare, .available_spare_threshold,
		.percentage_used, .power_on_hours, .unsafe_shutdowns, .media_errors,
		.data_units_written, .critical_warning]')
	theirs=$(jq -c --argjson names "$names" '.nvme_smart_health_information_log as $l |
		[$l.temperature, $l.available_spare, $l.available_spare_threshold,
		$l.percentage_used, $l.power_on_hours, $l.unsafe_shutdowns, $l.media_errors,
		$l.data_units_written,
		[range(0; 6) as $b | select(($l.critical_warning / pow(2; $b) | floor) % 2 == 1) |
			$names[$b]]]' "$o/smartctl-nvme$n.json")
	is "$ours" "$theirs" "nvme${n}n1: temperature, spare, threshold, used, hours, unsafe shutdowns, media errors, units written, warnings as smartctl reads them"
done

# ATA: QEMU's ide-hd behind AHCI
is "$(h sda '| [.source, .status, .smart_passed]')" '["ata","ok",true]' \
	"sda: ATA SMART, ok, RETURN STATUS passed"
ours=$(h sda '| [.smart_passed, .power_on_hours, .temperature_c, .reallocated_sectors,
	.pending_sectors, .offline_uncorrectable]')
theirs=$(jq -c '[.ata_smart_attributes.table[] | {key: (.id | tostring), value: .raw.value}] |
	from_entries as $a | [$a["9"], $a["194"] // $a["190"] // null, $a["5"], $a["197"], $a["198"]]' \
	"$o/smartctl-sda.json")
theirs=$(jq -c --argjson t "$theirs" '[.smart_status.passed, $t[0], .temperature.current,
	$t[2], $t[3], $t[4]]' "$o/smartctl-sda.json")
is "$ours" "$theirs" "sda: passed, power-on hours, temperature, reallocated, pending, offline uncorrectable as smartctl reads them"
is "$(jq -r '.disks[] | select(.name == "sda") | .sata_speed' "$inv")" \
	"$(sed -n 's/.*ata1: SATA link up \([0-9.]* Gbps\).*/\1/p' "$o/dmesg.txt")" \
	"sda: sata_speed is the speed libata logged when the link came up (ata1: SATA link up)"
is "$(jq -c '[.disks[] | select(.name != "sda") | .sata_speed]' "$inv")" '[null,null,null]' \
	"NVMe disks have no sata_speed"

# nobody, with the device nodes readable: the ioctls are refused; one warning for all
user=$o/inventory-user.json
jq -e . "$user" >/dev/null
ok $? "node-agent inventory as nobody wrote JSON"
is "$(jq -c '[.disks[].health]' "$user")" '[null,null,null,null]' "as nobody every health is null"
is "$(jq '[.warnings[] | select(test("health"))] | length' "$user")" 1 \
	"as nobody one warning about disk health, not one per disk"
like "$(jq -r '.warnings[] | select(test("health"))' "$user")" \
	'^/dev/nvme0n1: disk health not read: Permission denied .*CAP_SYS_ADMIN.*CAP_SYS_RAWIO.*for 4 disks$' \
	"the warning names the privileges and the number of disks"
done_testing
