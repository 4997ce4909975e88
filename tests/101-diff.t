#!/bin/sh
# Hardware changes between two inventories of one machine (node-agent diff,
# node-agent/diff.c): modified copies of a fixture inventory made with jq, the exit status
# (0 none, 1 changes, 2 invalid input, like diff(1)), the exact line for each change, and
# what must not count as a change (kernel renames, unknown values, virtual links).
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
cleanup_dirs="$cleanup_dirs $tmp"
# 3 disks (nvme0n1 NVME0001SN 64 MiB, nvme1n1 NVME0002SN 128 MiB, sda WD-WCC6Y0ABCDEF with
# a WWN), 2 NVIDIA GPUs (0000:01:00.0 RTX 5070, 0000:02:00.0 RTX 3050), eth0 e1000e
# 1000 Mb/s, eth1 virtio_net with no speed, 1 GiB installed, 2 cores / 2 threads
base=tests/fixtures/gpu-dual-nvidia.expected.json
n=0

# check NAME JQ-FILTER EXPECTED-STATUS EXPECTED-OUTPUT: diff base against base|filter
check() {
	n=$((n + 1))
	jq "$2" "$base" >"$tmp/new$n.json" || { ok 1 "$1: jq"; return; }
	out=$("$NODE_AGENT" diff "$base" "$tmp/new$n.json" 2>"$tmp/err")
	rc=$?
	is "$rc" "$3" "$1: exit $3"
	is "$out" "$4" "$1: output"
	[ ! -s "$tmp/err" ] || { ok 1 "$1: nothing on stderr"; sed 's/^/# /' "$tmp/err"; }
}

check "identical" '.' 0 ""
check "same content, other key order and layout" '. as $x | {nics: $x.nics} + ($x | del(.nics))' 0 ""
check "kernel names swapped (sda->sdb, nvme0n1<->nvme1n1), same serials" \
	'.disks[0].name = "nvme1n1" | .disks[1].name = "nvme0n1" | .disks[2].name = "sdb"' 0 ""
check "NIC renamed, same MAC" '.nics[0].name = "enp0s2"' 0 ""
check "values that became unknown are not changes" \
	'.system.serial = null | .cpu.cores = null | .memory.physical_bytes = null |
	 .disks[0].size_bytes = null | .nics[0].speed_mbps = null' 0 ""
check "a link coming up with a speed is not a change" '.nics[1].speed_mbps = 1000' 0 ""
check "GPU name from another source, same PCI IDs" \
	'.gpus[1].model = "NVIDIA GeForce RTX 3050 8GB" | .gpus[1].model_source = "pci.ids"' 0 ""
check "a virtual link (veth) appearing is not hardware" \
	'.nics += [{name: "veth1", mac: "aa:bb:cc:00:00:01", virtual: true}]' 0 ""
check "usable memory moving a few MiB with the kernel" \
	'.memory.physical_bytes = null | .memory.total_bytes += 8388608' 0 ""

check "disk removed" 'del(.disks[2])' 1 \
	"disk sda removed (WDC WD10EZEX-08WN4A0, 96.0 MiB HDD, serial WD-WCC6Y0ABCDEF)"
check "disk replaced by one with a new serial" \
	'.disks[0].serial = "S5GXNF0R123456" | .disks[0].model = "Samsung SSD 980 1TB" |
	 .disks[0].size_bytes = 1000204886016' 1 \
	"disk nvme0n1 replaced: was QEMU NVMe Ctrl, 64.0 MiB NVMe SSD, serial NVME0001SN, now Samsung SSD 980 1TB, 931.5 GiB NVMe SSD, serial S5GXNF0R123456"
check "disk replaced, told by WWN" '.disks[2].serial = null | .disks[2].wwn = "0x5000c500a1b2c3d4"' 1 \
	"disk sda replaced: was WDC WD10EZEX-08WN4A0, 96.0 MiB HDD, serial WD-WCC6Y0ABCDEF, now WDC WD10EZEX-08WN4A0, 96.0 MiB HDD, serial 0x5000c500a1b2c3d4"
check "disk added" \
	'.disks += [{name: "sdb", size_bytes: 2000398934016, rotational: false, transport: "sata",
	 model: "Samsung SSD 870 EVO 2TB", serial: "S6PNNS0T000001"}]' 1 \
	"disk sdb added (Samsung SSD 870 EVO 2TB, 1.8 TiB SATA SSD, serial S6PNNS0T000001)"
check "disk grew (a VM disk resized)" '.disks[1].size_bytes = 268435456' 1 \
	"disk nvme1n1 size changed from 128.0 MiB to 256.0 MiB (134217728 to 268435456 bytes)"
check "GPU missing" 'del(.gpus[1])' 1 "gpu 0000:02:00.0 missing (NVIDIA GeForce RTX 3050)"
check "GPU added" \
	'.gpus += [{pci_address: "0000:03:00.0", vendor: "nvidia", vendor_id: "10de",
	 device_id: "2684", model: "NVIDIA GeForce RTX 4090"}]' 1 \
	"gpu 0000:03:00.0 added (NVIDIA GeForce RTX 4090)"
check "GPU moved to another slot" '.gpus[1].pci_address = "0000:03:00.0"' 1 \
	"gpu 0000:02:00.0 moved to 0000:03:00.0 (NVIDIA GeForce RTX 3050)"
check "GPU swapped for another model in the same slot" \
	'.gpus[1].model = "NVIDIA GeForce RTX 4060" | .gpus[1].device_id = "2882"' 1 \
	"$(printf '%s\n%s' "gpu 0000:02:00.0 missing (NVIDIA GeForce RTX 3050)" \
		"gpu 0000:02:00.0 added (NVIDIA GeForce RTX 4060)")"
check "memory shrank" '.memory.physical_bytes = 536870912 | .memory.total_bytes = 480000000' 1 \
	"memory shrank from 1.0 GiB to 512.0 MiB (installed)"
check "memory grew (MemTotal only)" \
	'.memory.physical_bytes = null | .memory.total_bytes = 17000000000' 1 \
	"memory grew from 958.4 MiB to 15.8 GiB (usable)"
check "CPU changed" '.cpu.model = "AMD Ryzen 9 3900X 12-Core Processor" | .cpu.cores = 12 |
	.cpu.threads = 24' 1 \
	"cpu changed from QEMU TCG CPU version 2.5+ (2 cores, 2 threads) to AMD Ryzen 9 3900X 12-Core Processor (12 cores, 24 threads)"
check "NIC MAC changed" '.nics[0].mac = "3c:ec:ef:00:11:22"' 1 \
	"nic eth0 replaced: MAC changed from 52:54:00:12:34:01 to 3c:ec:ef:00:11:22 (driver e1000e)"
check "NIC removed" 'del(.nics[1])' 1 "nic eth1 removed (MAC 52:54:00:12:34:02, driver virtio_net)"
check "NIC added" '.nics += [{name: "enp5s0", mac: "a8:a1:59:00:00:01", driver: "r8169",
	speed_mbps: 2500, virtual: false}]' 1 "nic enp5s0 added (MAC a8:a1:59:00:00:01, driver r8169)"
check "NIC speed dropped" '.nics[0].speed_mbps = 100' 1 \
	"nic eth0 speed changed from 1 Gb/s to 100 Mb/s"
check "NIC driver changed" '.nics[1].driver = "e1000"' 1 \
	"nic eth1 driver changed from virtio_net to e1000"
check "another machine (serial and UUID)" \
	'.system.serial = "MJ0ABCDE" | .system.uuid = "00112233-4455-6677-8899-aabbccddeeff"' 1 \
	"$(printf '%s\n%s' \
		"system serial changed from PC1ABCDE to MJ0ABCDE: this looks like a different machine" \
		"system UUID changed from 4c4c4544-0042-3510-8052-b4c04f4a3232 to 00112233-4455-6677-8899-aabbccddeeff: this looks like a different machine")"
check "control characters from the input stay on one line" \
	'.disks += [{name: "sdz\nx", serial: "A\u001b[31mB", size_bytes: 1}]' 1 \
	"disk sdz?x added (unknown model, 1 B disk, serial A?[31mB)"

# several at once: one line each, in a fixed order (system, cpu, memory, disks, gpus, nics)
jq 'del(.disks[2]) | .disks[0].serial = "NEW" | del(.gpus[1]) |
    .memory.physical_bytes = 536870912 | .nics[0].mac = "3c:ec:ef:00:11:22" | .system.serial = "X"' \
	"$base" >"$tmp/many.json"
"$NODE_AGENT" diff "$base" "$tmp/many.json" >"$tmp/many.txt"
is $? 1 "five kinds of change: exit 1"
is "$(cut -d' ' -f1-2 "$tmp/many.txt" | tr '\n' ',')" \
	"system serial,memory shrank,disk nvme0n1,disk sda,gpu 0000:02:00.0,nic eth0," \
	"five kinds of change: one line each, system first, then memory, disks, GPUs, NICs"
"$NODE_AGENT" diff "$base" "$tmp/many.json" --format json >"$tmp/many.json.out"
is $? 1 "--format json: exit 1 as well"
is "$(jq -r '[.schema, (.changes | length), (.changes | map(.kind) | join(","))] | join(" ")' "$tmp/many.json.out")" \
	"node-agent/diff/v1 6 system-serial,memory-shrank,disk-replaced,disk-removed,gpu-missing,nic-replaced" \
	"--format json: schema, one entry per change, stable kinds"
is "$(jq -r '.changes | map(.message) | join("\n")' "$tmp/many.json.out")" "$(cat "$tmp/many.txt")" \
	"--format json: the messages are the text lines"
is "$(jq -r '.changes[] | select(.kind == "disk-removed") | [.severity, .old.serial, .old.size_bytes, (.new == null)] | join(" ")' "$tmp/many.json.out")" \
	"warning WD-WCC6Y0ABCDEF 100663296 true" "--format json: old and new values for tools"
is "$(jq -r '.changes[] | select(.kind == "memory-shrank") | "\(.old) \(.new)"' "$tmp/many.json.out")" \
	"1073741824 536870912" "--format json: memory in bytes"
out=$("$NODE_AGENT" diff "$base" "$base" --format json)
is "$?$(printf '%s' "$out" | jq -c .changes)" "0[]" "--format json without changes: exit 0, []"
"$NODE_AGENT" diff "$tmp/many.json" "$base" >"$tmp/back.txt"
is "$(cut -d' ' -f1-3 "$tmp/back.txt" | tr '\n' ',')" \
	"system serial changed,memory grew from,disk nvme0n1 replaced:,disk sda added,gpu 0000:02:00.0 added,nic eth0 replaced:," \
	"the other way round: removed becomes added, shrank becomes grew"

# --- big inputs stay fast; too many parts are refused ---
jq '.disks = [range(4096) | {name: "d\(.)", serial: "S\(.)", size_bytes: .}] |
    .nics = [range(4096) | {name: "n\(.)", mac: "m\(.)"}]' "$base" >"$tmp/big1.json"
jq '.disks = [range(4096) | {name: "x\(.)", size_bytes: .}] | .nics = [range(4096) | {name: "y\(.)"}]' \
	"$base" >"$tmp/big2.json"
start=$(date +%s)
is "$("$NODE_AGENT" diff "$tmp/big1.json" "$tmp/big2.json" | wc -l)" 16384 \
	"4096 disks and NICs replaced by 4096 others: 16384 lines"
secs=$(($(date +%s) - start))
[ "$secs" -le 10 ]
ok $? "... within 10 s (took ${secs}s; matching is pairwise, so the reader caps parts at 4096)"
jq '.disks = [range(4097) | {name: "d\(.)"}]' "$base" >"$tmp/big3.json"
"$NODE_AGENT" diff "$base" "$tmp/big3.json" >/dev/null 2>"$tmp/err"
is $? 2 "4097 disks: exit 2"
like "$(cat "$tmp/err")" "big3.json: disks: more than 4096 entries" "4097 disks: said so"

# --- invalid input: exit 2, the file named ---
printf '{"schema": "node-agent/inventory/v1", "disks": [' >"$tmp/truncated.json"
printf 'garbage' >"$tmp/garbage.json"
printf '{"schema": "node-agent/inventory/v1", "disks": {}}' >"$tmp/types.json"
printf '{"schema": "node-agent/inventory/v2"}' >"$tmp/schema.json"
printf '{"schema": "node-agent/inventory/v1"}\000{}' >"$tmp/nul.json"
for case in "truncated.json:invalid JSON at byte 48" "garbage.json:invalid JSON at byte" \
	"types.json:disks: must be a list" "schema.json:schema: expected" "nul.json:not JSON text: NUL byte at byte 37" \
	"missing.json:No such file or directory"; do
	f=${case%%:*}
	"$NODE_AGENT" diff "$base" "$tmp/$f" >"$tmp/out" 2>"$tmp/err"
	is $? 2 "$f: exit 2"
	like "$(cat "$tmp/err")" "$tmp/$f: ${case#*:}" "$f: the error names the file"
	[ ! -s "$tmp/out" ]
	ok $? "$f: nothing on stdout"
done
"$NODE_AGENT" diff "$tmp" "$base" >/dev/null 2>"$tmp/err"
is $? 2 "a directory: exit 2"
like "$(cat "$tmp/err")" "$tmp: Is a directory" "a directory: named"
"$NODE_AGENT" diff "$tmp/garbage.json" "$tmp/schema.json" >/dev/null 2>"$tmp/err"
is "$(grep -c "garbage.json\|schema.json" "$tmp/err")" 4 "both bad files are named in one run"
"$NODE_AGENT" diff "$base" >/dev/null 2>&1
is $? 2 "one file only: exit 2"
"$NODE_AGENT" diff "$base" "$base" "$base" >/dev/null 2>&1
is $? 2 "three files: exit 2"
"$NODE_AGENT" diff "$base" "$base" --format yaml >/dev/null 2>&1
is $? 2 "unknown format: exit 2"
# --- condition (issue 16): each a warning line; unknown or unchanged values are not changes ---
hb='{status: "ok", source: "nvme", power_on_hours: 100, temperature_c: 40, critical_warning: [], percentage_used: 3,
 available_spare: 100, available_spare_threshold: 10, media_errors: 0, unsafe_shutdowns: 2, data_units_written: 10,
 smart_passed: null, reallocated_sectors: null, pending_sectors: null, offline_uncorrectable: null}'
link='{speed: "16.0 GT/s", width: 16, max_speed: "16.0 GT/s", max_width: 16, path_speed: "16.0 GT/s", path_width: 16, limited_by: null, below_max: false}'
bat='[{name: "BAT0", present: true, status: "Discharging", technology: "Li-ion", manufacturer: "LGC", model: "01AV425",
 capacity_percent: 80, full: 19000000, full_design: 24000000, capacity_unit: "uWh", wear_percent: 21, cycle_count: 300,
 charge_start_threshold: 75, charge_end_threshold: 80}]'
base_orig=$base
jq ".disks[0].health = $hb | .gpus[0].pcie_link = $link | .batteries = $bat" "$base_orig" >"$tmp/health-base.json"
base=$tmp/health-base.json
check "health: unchanged" '.' 0 ""
check "health: a report that became unknown is not a change" '.disks[0].health = null | .gpus[0].pcie_link = null' 0 ""
check "health: a disk's status worse" '.disks[0].health.status = "failing"' 1 \
	"disk nvme0n1 health worse: failing, was ok"
check "health: media errors grew; fewer is not a change" '.disks[0].health.media_errors = 3' 1 \
	"disk nvme0n1 media errors grew from 0 to 3"
check "health: endurance used jumped 10 points" '.disks[0].health.percentage_used = 13' 1 \
	"disk nvme0n1 rated endurance used: 13%, was 3%"
check "health: a small wear step is not a change" '.disks[0].health.percentage_used = 5' 0 ""
check "health: a battery passing 40% wear" '.batteries[0].wear_percent = 41' 1 \
	"battery BAT0 wear passed 40%: 41% of its design capacity lost, was 21%"
check "health: a battery wearing within a step is not a change" '.batteries[0].wear_percent = 30' 0 ""
check "health: a GPU link renegotiated to x4" '.gpus[0].pcie_link.path_width = 4 | .gpus[0].pcie_link.width = 4' 1 \
	"gpu 0000:01:00.0 link renegotiated lower: 16.0 GT/s x4, was 16.0 GT/s x16"
json=$("$NODE_AGENT" diff --format json "$base" "$tmp/new$n.json" 2>/dev/null)
like "$json" '"kind": *"link-slower"' "health: --format json names the kind"
check "health: a GPU link slower (an idle GPU saving power) is not a change" '.gpus[0].pcie_link.path_speed = "2.5 GT/s"' 0 ""
base=$base_orig
done_testing
