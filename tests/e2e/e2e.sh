#!/bin/sh
# End-to-end boots of the built images in QEMU (TCG), checked from outside.
#
#   e2e.sh pxe     iPXE (QEMU's ROM) -> TFTP chain script -> boot.ipxe, vmlinuz, initrd
#                  over HTTP from a loopback server -> systemd -> node-agent.service,
#                  which joins the K3s test double through a stand-in k3s (join.sh)
#   e2e.sh usb     OVMF boots build/image/usb/disk.raw attached as a USB disk
#   e2e.sh broken  PXE with a config URL that answers 404: retried, reported, not joined
#   e2e.sh diskless  PXE without a data disk, booted twice: the first boot joins, the second
#                  (a new node password under the same name: RAM kept nothing) stops with
#                  K3s's refusal and the remedy, not a timeout
#   e2e.sh server  PXE, the machine that creates the cluster (server-init), booted twice: the
#                  stand-in k3s server keeps its CA on the data disk, and a second node's
#                  K10 token from the first boot still passes preflight after the reboot
#   (pxe boots the same machine twice: the second boot rejoins under the same name with the
#   node password and K3s's data dir kept on the data disk)
#
# The guest reaches the host only through QEMU user networking with restrict=on and
# guestfwd rules to 10.0.2.100, each relayed by socat to a server on 127.0.0.1. Prints TAP,
# and the time from QEMU's start to each boot phase (the console is recorded with times by
# tsconsole.py; nodeagent.selftest makes the image print systemd-analyze's view).
# Env: IMAGE_DIR (default build/image), E2E_TIMEOUT (s, default 240), E2E_KEEP=1,
# E2E_CPU (QEMU -cpu, default max; see below).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
mode=${1:?usage: e2e.sh pxe|usb|broken|diskless|server}
img=${IMAGE_DIR:-$top/build/image}
limit=${E2E_TIMEOUT:-240}
w=$(mktemp -d "${TMPDIR:-/tmp}/na-e2e.XXXXXX")
pids=""
n=0
failed=0

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "${E2E_KEEP:-0}" = 1 ]; then echo "# kept $w"; else rm -rf "$w"; fi
}
trap cleanup EXIT INT TERM

ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
is() { if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"; fi; }

for f in "$img/pxe/vmlinuz" "$img/pxe/initrd" "$img/pxe/boot.ipxe"; do
	[ -s "$f" ] || { echo "1..0 # SKIP no image ($f): run make image"; exit 0; }
done

# --- servers on loopback ---
sh "$top/tests/tools/mkcert.sh" "$w/tls"
mkdir -p "$w/www/config" "$w/reports" "$w/tftp"
cp "$img/pxe/vmlinuz" "$w/www/vmlinuz"
cp "$img/pxe/initrd" "$w/www/initrd"
cp "$img/pxe/boot.ipxe" "$w/www/boot.ipxe"
python3 "$top/tests/tools/testserver.py" --dir "$w/www" --portfile "$w/http.port" & pids="$pids $!"
python3 "$top/tests/tools/testserver.py" --reports "$w/reports" --tls "$w/tls/server.pem" \
	"$w/tls/server.key" --portfile "$w/https.port" & pids="$pids $!"
for i in $(seq 100); do [ -s "$w/http.port" ] && [ -s "$w/https.port" ] && break; sleep 0.1; done
http=$(cat "$w/http.port") https=$(cat "$w/https.port")

# PXE: a "cluster" to join (tests/e2e/join.sh). USB: no K3s, the join stage says so.
cluster="cluster: {server: https://10.0.0.10:6443, token_file: /run/credentials/node-agent.service/k3s-token}"
joins=no
case $mode in pxe | diskless | server) joins=yes ;; esac
if [ $joins = yes ]; then
	. "$here/join.sh"
	if [ "$mode" = server ]; then join_setup_server "$w" "$top"; else join_setup "$w" "$top"; fi
	cluster=$join_config
fi
# pxe: the data disk (nvme1, pre-formatted with our label: mounted, never formatted) keeps
# the node password and K3s's data dir across the reboot, and the Node keeps the taint its
# kubelet registered with. diskless: none.
node_name='"${product}-${serial}"'
disk="" role=""
case $mode in
server) role="role: server-init" ;;
pxe) role='taints: ["e2e.node-agent.io/reboot=kept:PreferNoSchedule"]' ;;
esac
case $mode in
pxe | server) disk="data_disk: {match: {serial: [E2ENVME0002]}, allow_wipe_serials: [], mount: /var/lib/rancher, label: k8s-data}" ;;
diskless) node_name=diskless1 ;;
esac

# The node config every machine gets (the URL carries its MAC, as a fleet would serve it).
pxe_mac=52:54:00:e2:e0:01
cat > "$w/www/config/$pxe_mac.yaml" <<EOF
schema: node-agent/config/v1
$cluster
node_name: $node_name
$disk
rules:
  - name: e2e
    labels: {lab: e2e}
    $role
report:
  url: https://10.0.2.100:8443/reports
  ca_pem: |
$(sed 's/^/    /' "$w/tls/ca.pem")
EOF
# Without BOOTIF (USB) ${mac} is the first NIC with link, which on this machine may be
# either: the config is published under both MACs, as for a fleet keyed by MAC.
cp "$w/www/config/$pxe_mac.yaml" "$w/www/config/52:54:00:e2:e0:02.yaml"
config_url="http://10.0.2.100:8080/config/\${mac}.yaml"
[ "$mode" = broken ] && config_url="http://10.0.2.100:8080/status/404"

# QEMU's TFTP hands iPXE a two-line script that sets the config URL and chains the real
# boot.ipxe over HTTP, as a DHCP server's iPXE script would.
# The journal goes to the serial console too, so the test can read it from outside.
# nodeagent.selftest: node-agent-selftest.service prints the root's type, a pivot_root probe
# and boot timings. With a broken URL the tmpfs is too small for the root on purpose: /init
# must fall back to booting from the initramfs.
cmdline="systemd.journald.forward_to_console=1 nodeagent.selftest"
[ "$mode" = broken ] && cmdline="$cmdline nodeagent.ramroot_size=64k"
extra=""
if [ $joins = yes ]; then
	cmdline="$cmdline $join_cmdline"
	extra="set nodeagent-initrd http://10.0.2.100:8080/$join_initrd\n"
fi
printf "#!ipxe\nset nodeagent-config %s\nset nodeagent-cmdline %s\n${extra}chain http://10.0.2.100:8080/boot.ipxe\n" \
	"$config_url" "$cmdline" > "$w/tftp/start.ipxe"

# --- the machine ---
# usb: the NVMe that is not the data disk reports QEMU's smart_critical_warning bit 2
# (reliability degraded): a failing disk, read by the image's own node-agent
nvme0_extra="" nvme0_health='["nvme","ok",[]]'
if [ "$mode" = usb ]; then
	nvme0_extra=",smart_critical_warning=0x4" nvme0_health='["nvme","failing",["reliability"]]'
fi
# joined_report_wait CONSOLE_LOG: after "join: ok", at most 20 s for the boot job's second
# report (the node's join) to be delivered; next_report: the name the next report gets
joined_report_wait() {
	grep -aq 'node-agent\[[0-9]*\]: join: ok' "$1" || return 0
	for i in $(seq 100); do
		grep -aq "node-agent\[[0-9]*\]: report: the node's join \(not \)\?reported" "$1" && return 0
		sleep 0.2
	done
	return 1
}
next_report() { printf '%04d' "$(ls "$w/reports" | grep -c 'json$')"; }
# swtpm_start: a TPM 2.0 for one QEMU run (--terminate: it ends when QEMU disconnects)
swtpm_start() {
	rm -f "$w/swtpm.sock"
	swtpm socket --tpm2 --tpmstate "dir=$w/tpm" --ctrl "type=unixio,path=$w/swtpm.sock" \
		--terminate --log "file=$w/swtpm.log" & pids="$pids $!"
	for i in $(seq 50); do [ -S "$w/swtpm.sock" ] && break; sleep 0.1; done
}
truncate -s 1G "$w/nvme0.img"
truncate -s 2G "$w/nvme1.img"
truncate -s 512M "$w/sata.img"
mkfs.ext4 -q -F -L k8s-data "$w/nvme1.img"
uuid=6b1d4f2e-3c5a-4e7b-9d8c-1a2b3c4d5e6f
smbios="type=1,manufacturer=LENOVO,product=ThinkCentre M720q,version=ThinkCentre M720q,serial=E2E12345,uuid=$uuid"
relay_http="cmd:socat - TCP:127.0.0.1:$http"
relay_https="cmd:socat - TCP:127.0.0.1:$https"
net="user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:8080-$relay_http,guestfwd=tcp:10.0.2.100:8443-$relay_https"
[ $joins = yes ] && net="$net,$join_fwd"
# -cpu: E2E_CPU=max,-erms,-fsrm hides ERMS, which TCG runs a byte at a time: the kernel
# then copies with its unrolled loop (initramfs unpack ~1-2 s faster; a harness setting).
set -- qemu-system-x86_64 -machine q35 -accel tcg -cpu "${E2E_CPU:-max}" -smp 2 -m 2048 \
	-nographic -no-reboot -serial "file:$w/serial.fifo" -monitor none \
	-smbios "$smbios" \
	-smbios "type=17,loc_pfx=DIMM,bank=BANK 0,manufacturer=Samsung,serial=E2EDIMM1,part=M378A5244CB0-CTD,speed=2666" \
	-drive "file=$w/nvme0.img,if=none,id=nv0,format=raw" -device "nvme,serial=E2ENVME0001,drive=nv0$nvme0_extra" \
	-drive "file=$w/nvme1.img,if=none,id=nv1,format=raw" -device nvme,serial=E2ENVME0002,drive=nv1 \
	-device ahci,id=ahci \
	-drive "file=$w/sata.img,if=none,id=sata0,format=raw" \
	-device "ide-hd,bus=ahci.0,drive=sata0,model=WDC WD5000AAKX-08U6AA0,serial=WD-E2E0SATA01" \
	-netdev user,id=n1,restrict=on,net=10.0.3.0/24 -device virtio-net-pci,netdev=n1,mac=52:54:00:e2:e0:02,romfile=
case $mode in
pxe | broken | diskless | server)
	set -- "$@" -boot n -netdev "$net,tftp=$w/tftp,bootfile=start.ipxe" \
		-device "e1000,netdev=n0,mac=$pxe_mac,bootindex=1" ;;
usb)
	[ -s "$img/usb/disk.raw" ] || { echo "1..0 # SKIP no $img/usb/disk.raw"; exit 0; }
	cp "$img/usb/disk.raw" "$w/disk.raw"
	# the config URL goes on the kernel command line of the stick's boot entry, as a user
	# would write it (mtools: no mounting)
	sh "$top/images/usb-set-cmdline.sh" "$w/disk.raw" "nodeagent.config=$config_url" \
		$cmdline >/dev/null || exit 1
	# Secure Boot on, as on a machine whose owner enrolled their own key: Debian's OVMF
	# variable store with the "snakeoil" test key in PK, KEK and db (package ovmf, whose
	# README.Debian gives the key's password), the stick's systemd-boot and kernel signed
	# with it by images/usb-sign.sh, the SMM-enforcing firmware build. And a TPM 2.0: swtpm.
	openssl rsa -in /usr/share/ovmf/PkKek-1-snakeoil.key -passin pass:snakeoil \
		-out "$w/db.key" 2>"$w/sign.log" &&
		sh "$top/images/usb-sign.sh" "$w/disk.raw" "$w/db.key" /usr/share/ovmf/PkKek-1-snakeoil.pem \
			>>"$w/sign.log" 2>&1
	ok $? "usb: images/usb-sign.sh signed the stick's systemd-boot and kernel with the test db key"
	cp /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd "$w/vars.fd"
	mkdir "$w/tpm"
	swtpm_start
	set -- "$@" -machine smm=on -global driver=cfi.pflash01,property=secure,value=on \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd \
		-drive "if=pflash,format=raw,unit=1,file=$w/vars.fd" \
		-chardev "socket,id=chrtpm,path=$w/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
		-device tpm-crb,tpmdev=tpm0 \
		-device qemu-xhci -drive "if=none,id=usb,format=raw,file=$w/disk.raw" \
		-device usb-storage,drive=usb,bootindex=1 \
		-netdev "$net" -device "e1000,netdev=n0,mac=$pxe_mac,romfile=" ;;
esac

# boot TAG REPORT QEMU...: one boot of the machine, console in $w/console$TAG.log; waits for
# the report file REPORT (or, broken, the retries), the self-test and the join; sets con,
# start, arrived.
boot() {
	tag=$1 want=$2
	shift 2
	rm -f "$w/serial.fifo"
	mkfifo "$w/serial.fifo"
	start=$(date +%s.%N)
	python3 "$here/tsconsole.py" "$w/serial.fifo" "$w/console$tag.log" "$start" & tspid=$!
	timeout "$limit" "$@" >"$w/qemu$tag.out" 2>&1 & qpid=$!
	pids="$pids $qpid $tspid"
	con=$w/console$tag.log
	arrived=""
	for i in $(seq $((limit * 5))); do
		if [ "$mode" != broken ] && [ -e "$w/reports/$want.json" ]; then
			arrived=$(date +%s.%N)
			break
		fi
		if [ "$mode" = broken ] && [ "$(cat "$con" 2>/dev/null | grep -ac 'config: .*HTTP status 404.*retrying in')" -ge 3 ]; then
			break
		fi
		kill -0 $qpid 2>/dev/null || break
		sleep 0.2
	done
	# the self-test prints systemd-analyze's timings once the boot is over (bounded wait)
	if [ -n "$arrived" ]; then
		for i in $(seq 150); do grep -aq 'nodeagent-selftest: done' "$con" && break; sleep 0.2; done
		[ $joins = yes ] && join_wait "$con" && joined_report_wait "$con"
		[ "$mode" = server ] && server_probe "${tag:-1}"
	fi
	sleep 1 # let the console catch up
	kill $qpid 2>/dev/null
	wait $qpid 2>/dev/null
	for i in $(seq 25); do kill -0 $tspid 2>/dev/null || break; sleep 0.2; done
	kill $tspid 2>/dev/null
}
boot "" 0000 "$@"

grep -aq 'systemd\[1\]: .*running in system mode\|systemd 252 running in system mode' "$con"
ok $? "$mode: systemd runs as PID 1"

# Where the time went: seconds after QEMU's start at which each phase's first console line
# appeared, and the kernel's own clock for unpacking the initramfs.
at() { awk -v p="$1" 'index($0, p) { print $1; exit }' "$con.ts" 2>/dev/null; }
kt() { grep -a "$1" "$con" | head -n 1 | sed -n 's/^[^[]*\[ *\([0-9.]*\)\].*/\1/p'; }
phases=""
for p in "boot.ipxe|node-agent: booting with config" "kernel+initrd loaded|initrd... " \
	"kernel|Linux version" "/init|Run /init as init process" "systemd|running in system mode" \
	"udevd|Started systemd-udevd.service" "network-online|Reached target network-online.target" \
	"node-agent|node-agent[" ; do
	t=$(at "${p#*|}")
	[ -n "$t" ] && phases="$phases, ${p%%|*} $t"
done
echo "# $mode: boot phases (s after QEMU start): ${phases#, }"
u0=$(kt 'Trying to unpack rootfs') u1=$(kt 'Freeing initrd memory')
[ -n "$u0" ] && [ -n "$u1" ] && echo "$u0 $u1" | awk -v m="$mode" '{ printf "# %s: kernel: initramfs unpacked in %.1f s (kernel clock)\n", m, $2 - $1 }'
grep -a 'nodeagent-selftest: \(Startup finished\|[ └─]*node-agent.service\|[ └─]*[a-z-]*\.\(service\|target\) @\)' "$con" |
	sed 's/.*nodeagent-selftest: /# '"$mode"': systemd-analyze: /' | awk '!seen[$0]++' | head -n 12

# /init: the root on a tmpfs (pivot_root works, so runc can start containers), or, when
# that fails, a logged fallback to the initramfs; and the machine-id from the DMI UUID
if [ "$mode" = broken ]; then
	grep -aq 'node-agent init: copying the root into the tmpfs (size=64k) failed: staying on rootfs' "$con"
	ok $? "broken: a tmpfs too small for the root: /init says so and boots from the initramfs"
else
	grep -aq 'node-agent init: root: tmpfs (size=90%) with /usr bind-mounted' "$con"
	ok $? "$mode: /init moved the root onto a tmpfs"
	grep -aq 'nodeagent-selftest: root fstype tmpfs' "$con"
	ok $? "$mode: findmnt: / is a tmpfs mount"
	grep -aq 'nodeagent-selftest: pivot_root ok' "$con"
	ok $? "$mode: pivot_root into a new mount works (as runc does)"
fi
mid=$(echo "$uuid" | tr -d - | tr A-F a-f)
grep -aq "node-agent init: machine-id $mid from the DMI product UUID" "$con"
ok $? "$mode: /init set the machine-id from the DMI product UUID"
if [ $joins = yes ]; then
	grep -aq 'iPXE' "$w/qemu.out" "$con" 2>/dev/null || grep -aq 'http://10.0.2.100:8080/vmlinuz\|node-agent: booting with config' "$con"
	ok $? "pxe: iPXE loaded boot.ipxe, kernel and initrd over HTTP"
fi

if [ "$mode" = broken ]; then
	grep -aq 'node-agent\[[0-9]*\]: config: .*HTTP status 404 .*attempt 1, retrying in' "$con"
	ok $? "broken: the journal says the config URL answered 404 and that it retries"
	grep -aq 'attempt 3, retrying in' "$con"
	ok $? "broken: it keeps retrying with backoff"
	[ ! -e "$w/reports/0000.json" ]
	ok $? "broken: nothing reported without a config"
	grep -aq 'node-agent\[[0-9]*\]: detect: ok' "$con"
	ok $? "broken: the inventory was still taken and kept"
	echo "1..$n"
	exit $((failed > 0))
fi

[ -n "$arrived" ]
ok $? "$mode: the inventory report arrived at the loopback collector"
if [ -n "$arrived" ]; then
	secs=$(echo "$arrived $start" | awk '{ printf "%.1f", $1 - $2 }')
	echo "# $mode: QEMU start to report: $secs s (TCG)"
	echo "$secs" > "$w/../na-e2e-$mode.seconds" 2>/dev/null || true
fi
r=$w/reports/0000.json
q() { jq -c "(.inventory // .) | $1" "$r" 2>/dev/null; } # the report envelope holds the inventory
is "$(q '.cpu.threads')" 2 "$mode: CPU threads = -smp 2"
is "$(q '.memory.physical_bytes')" 2147483648 "$mode: memory = -m 2048 (present blocks)"
is "$(q '.machine_id')" "\"$mid\"" "$mode: machine_id = the SMBIOS UUID without dashes, lower case (same at every boot)"
is "$(q '[.system.vendor, .system.product, .system.serial, .system.uuid]')" \
	'["LENOVO","ThinkCentre M720q","E2E12345","6b1d4f2e-3c5a-4e7b-9d8c-1a2b3c4d5e6f"]' "$mode: DMI from -smbios"
is "$(q '[.disks[] | select(.transport == "nvme") | .serial]')" '["E2ENVME0001","E2ENVME0002"]' "$mode: NVMe serials"
[ "$mode" = usb ] && is "$(q '[.disks[] | select(.transport == "usb") | .filesystems[0].label]')" '["NODEAGENT"]' \
	"usb: the boot stick is seen, with its NODEAGENT partition"
is "$(q '[.disks[] | select(.transport == "sata") | .model, .serial]')" '["WDC WD5000AAKX-08U6AA0","WD-E2E0SATA01"]' \
	"$mode: SATA model and serial"
is "$(q '[.disks[] | select(.serial == "E2ENVME0002") | .filesystems[0].type, .filesystems[0].label]')" \
	'["ext4","k8s-data"]' "$mode: the ext4 label of the data disk"
is "$(q '[.nics[] | select(.virtual == false) | .mac] | sort')" '["52:54:00:e2:e0:01","52:54:00:e2:e0:02"]' \
	"$mode: NIC MACs"
# names from the image's own pci.ids (package pci.ids in mkosi.conf): a real node's report
# names its devices; these are the lines pci.ids has for QEMU's emulated NVMe and NICs
pci_name() { q "[.pci_devices[] | select(.vendor_id == \"$1\" and .device_id == \"$2\")][0] | [.vendor_name, .device_name]"; }
is "$(pci_name 1b36 0010)" '["Red Hat, Inc.","QEMU NVM Express Controller"]' \
	"$mode: pci.ids in the image names the NVMe controller"
is "$(pci_name 1af4 1000)" '["Red Hat, Inc.","Virtio network device"]' \
	"$mode: pci.ids in the image names the virtio NIC"
[ "$mode" = pxe ] && is "$(pci_name 8086 100e)" '["Intel Corporation","82540EM Gigabit Ethernet Controller"]' \
	"pxe: pci.ids in the image names the e1000 NIC"
# condition, read by the image's own node-agent.service (its capability set is enough: no
# warning about health): QEMU's NVMe health log page, the AHCI disk's ATA SMART, the
# -smbios type=17 module
is "$(q '[.disks[] | select(.transport == "nvme") | .health | [.source, .status, .critical_warning]]')" \
	"[$nvme0_health,[\"nvme\",\"ok\",[]]]" \
	"$mode: NVMe health from the SMART log page: $(echo "$nvme0_health" | cut -d, -f2 | tr -d '"'), ok"
is "$(q '[.disks[] | select(.transport == "sata") | .health | .source, .status, .smart_passed]')" \
	'["ata","ok",true]' "$mode: the SATA disk's ATA SMART status: passed, ok"
is "$(q '[.warnings[] | select(test("health|SMART|smart"))] | length')" 0 \
	"$mode: no warning about disk health (node-agent.service keeps CAP_SYS_ADMIN and CAP_SYS_RAWIO)"
is "$(q '[.memory.slots_total, .memory.slots_used, (.memory.modules[] | .locator, .size_bytes, .manufacturer, .part_number, .serial, .speed_mts)]')" \
	'[1,1,"DIMM 0",2147483648,"Samsung","M378A5244CB0-CTD","E2EDIMM1",2666]' \
	"$mode: the memory module from SMBIOS type 17 (-smbios type=17)"
if [ "$mode" = usb ]; then
	is "$(q '.platform | [.secure_boot, .setup_mode, .tpm, .tpm_version, .lockdown]')" \
		'[true,false,true,"2.0","integrity"]' \
		"usb: Secure Boot on (enrolled keys, user mode), swtpm's TPM 2.0, the kernel locked down (integrity)"
	grep -aq 'Kernel is locked down from EFI Secure Boot' "$con"
	ok $? "usb: the kernel says it was booted with Secure Boot and locked itself down"
else
	is "$(q '.platform | [.secure_boot, .tpm, .lockdown]')" '[false,false,"none"]' \
		"$mode: BIOS boot, no TPM: Secure Boot off, no TPM, no lockdown"
fi
is "$(q '.boot.mode')" "$([ "$mode" = usb ] && echo '"uefi"' || echo '"bios"')" "$mode: boot mode"
[ "$mode" = pxe ] && is "$(q '.boot.pxe_mac')" "\"$pxe_mac\"" "pxe: the PXE MAC from BOOTIF="
mac_re=$pxe_mac
[ "$mode" = usb ] && mac_re="52:54:00:e2:e0:0[12]"
grep -aq "node-agent\[[0-9]*\]: config: ok: http://10.0.2.100:8080/config/$mac_re.yaml" "$con"
ok $? "$mode: the config came from the URL on the kernel command line, \${mac} filled in"
for i in $(seq 50); do grep -aq 'Started node-agent.service\|node-agent.service.*Finished\|join: skipped' "$con" && break; sleep 0.2; done
if [ "$mode" != diskless ]; then
	grep -aq 'Started .*node-agent.service' "$con"
	ok $? "$mode: node-agent.service started (READY=1) and succeeded"
fi
if [ $joins = yes ] && grep -aq 'node-agent\[[0-9]*\]: join: ok' "$con"; then
	is "$(jq -c '.node | [.role, .joined]' "$w/reports/0001.json" 2>/dev/null)" \
		"[\"$([ "$mode" = server ] && echo server-init || echo agent)\",true]" \
		"$mode: once joined, the boot job reported again with node {name, role, joined: true}"
fi
if [ "$mode" = pxe ]; then
	join_check
	# --- the same machine again: reboot (same disks, SMBIOS UUID and MACs) ---
	boot_id1=$(jnode '.status.nodeInfo.bootID')
	secret1=$(jsecret '.metadata.uid')
	boot 2 "$(next_report)" "$@"
	join_check_reboot "$w/console.log" "$con"
elif [ "$mode" = diskless ]; then
	grep -aq "node-agent\[[0-9]*\]: join: ok: node diskless1 Ready as agent" "$con"
	ok $? "diskless: the first boot joined as diskless1"
	boot 2 "$(next_report)" "$@"
	join_check_refused diskless1
elif [ "$mode" = server ]; then
	node=$(jdouble /_double/nodes | jq -r 'keys[0] // ""')
	boot 2 "$(next_report)" "$@"
	join_check_server "$w/console.log" "$con"
else
	grep -aq 'node-agent\[[0-9]*\]: join: skipped: K3s is not in this image' "$con"
	ok $? "$mode: the join stage says plainly that K3s is not in the image"
fi
if [ "$mode" = usb ]; then
	# the same firmware and keys with the stick as built (unsigned): the firmware refuses
	# systemd-boot, so the signature is what let the first boot through
	cp "$img/usb/disk.raw" "$w/disk.raw"
	cp /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd "$w/vars.fd"
	swtpm_start
	rm -f "$w/serial.fifo" # a plain file this time: COM1 is the console
	ln -s serial.fifo "$w/console-unsigned.log"
	timeout 120 "$@" >"$w/qemu-unsigned.out" 2>&1 & qpid=$!
	pids="$pids $qpid"
	for i in $(seq 600); do
		grep -aq 'Access Denied' "$w/console-unsigned.log" 2>/dev/null && break
		kill -0 $qpid 2>/dev/null || break
		sleep 0.2
	done
	sleep 1
	kill $qpid 2>/dev/null
	wait $qpid 2>/dev/null
	grep -aq 'Boot0001 .*Access Denied' "$w/console-unsigned.log" && ! grep -aq 'Linux version' "$w/console-unsigned.log"
	ok $? "usb: the unsigned stick under the same Secure Boot keys: the firmware says Access Denied, no kernel starts"
fi
echo "1..$n"
exit $((failed > 0))
