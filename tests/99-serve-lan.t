#!/bin/sh
# node-agent serve on a LAN, for real: a bridge in a network namespace this test creates,
# Debian's dnsmasq as the home router (leases only, no PXE options) in one namespace,
# `node-agent serve` with network boot on (proxy DHCP, TFTP, HTTP, HTTPS) in another, and three
# QEMU machines (TCG) booting the built image from serve at once: SeaBIOS with QEMU's iPXE ROM,
# OVMF's own PXE into Debian's ipxe.efi over TFTP, OVMF's UEFI HTTP boot into ipxe.efi over
# HTTP; each then boot script -> kernel and initrd -> the inventory-only config of a machine
# nobody accepted -> its report over HTTPS (trusting serve's certificate from that config).
# A fourth, OVMF with Secure Boot on, fetches ipxe.efi over TFTP and the firmware refuses it
# (Debian's iPXE is unsigned): serve's boot timeline must say Secure Boot.
# serve is restarted while they boot and report: no report lost. One machine is accepted by
# serve's rule, one by the operator by the code it printed on its console, one stays
# discovered. Skipped with NA_E2E=0, without root, namespaces or the image.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

img=${IMAGE_DIR:-build/image}/pxe
why=""
[ "${NA_E2E:-1}" = 0 ] && why="NA_E2E=0 (no QEMU boots)"
[ -z "$why" ] && [ "$(id -u)" -ne 0 ] && why="needs root"
[ -z "$why" ] && [ ! -s "$img/vmlinuz" ] && why="no image in $img (make image)"
for p in dnsmasq qemu-system-x86_64 curl jq openssl; do
	[ -z "$why" ] && ! command -v $p >/dev/null 2>&1 && why="$p not installed (tests/install-deps.sh test)"
done
[ -z "$why" ] && [ ! -f /usr/lib/ipxe/undionly.kpxe ] && why="no /usr/lib/ipxe (package ipxe)"
id=$$
L=na-slan-$id R=na-srtr-$id S=na-ssrv-$id
if [ -z "$why" ] && ! ip netns add $L 2>/dev/null; then
	why="cannot create network namespaces here"
fi
if [ -n "$why" ]; then
	skip "node-agent serve on a namespace LAN" "$why"
	done_testing
	exit 0
fi
ip netns add $R
ip netns add $S
w=$(mktemp -d "${TMPDIR:-/tmp}/na-slan.XXXXXX")
pids=""
teardown() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	ip netns del $L 2>/dev/null
	ip netns del $R 2>/dev/null
	ip netns del $S 2>/dev/null
	rm -rf "$w"
	cleanup
}
trap teardown EXIT
t0=$(date +%s)

# wait_for FILE PATTERN SECONDS: bounded wait for a line
wait_for() {
	_i=0
	while [ $_i -lt "$3" ]; do
		grep -Eaq -- "$2" "$1" 2>/dev/null && return 0
		sleep 1
		_i=$((_i + 1))
	done
	return 1
}

# the LAN: br0 in L, the router's and serve's ends in their own namespaces
ip -n $L link add br0 type bridge
ip -n $L link set br0 up
for n in r s; do
	ns=$R
	[ $n = s ] && ns=$S
	ip -n $L link add v${n}0 type veth peer name v${n}1 netns $ns
	ip -n $L link set v${n}0 master br0 up
	ip -n $ns link set v${n}1 up
	ip -n $ns link set lo up
done
ip -n $R addr add 10.78.0.1/24 dev vr1
ip -n $S addr add 10.78.0.2/24 dev vs1
ip netns exec $R dnsmasq --no-daemon --port=0 --interface=vr1 --bind-interfaces --log-dhcp \
	--dhcp-range=10.78.0.100,10.78.0.199,255.255.255.0,1h --dhcp-leasefile="$w/leases" \
	--dhcp-authoritative >"$w/dnsmasq.log" 2>&1 &
pids="$pids $!"

# serve: the image as `make image` left it, an operator's node config (inventory only here:
# no K3s in the image), one operator
printf 'schema: node-agent/config/v1\nnode_name: "${product}-${serial}"\n' >"$w/cluster.yaml"
printf 'operator-token-lan\n' >"$w/token"
# TFTP from Debian's /usr/lib/ipxe as it is (its ipxe.efi is a link to /boot/ipxe.efi)
cat >"$w/serve.yaml" <<EOF
schema: node-agent/serve/v1
interface: vs1
state_dir: $w/state
image: {dir: $(cd "$img" && pwd)}
node_config: $w/cluster.yaml
http: {port: 8080}
https: {port: 8443}
netboot: {tftp_root: /usr/lib/ipxe}
accept:
  - name: by-serial
    match: {serial: [LAN0002]}
operators:
  - name: alice
    token_sha256: $(printf 'operator-token-lan' | sha256sum | cut -d' ' -f1)
EOF
# the boot timeline's grace periods short: the Secure Boot machine is diagnosed soon
grace=20
NODE_AGENT_SERVE_BOOT_GRACE_S=$grace ip netns exec $S "$NODE_AGENT" serve --config "$w/serve.yaml" >"$w/serve.log" 2>&1 &
serve_pid=$!
pids="$pids $serve_pid"
wait_for "$w/serve.log" 'listening on' 20
ok $? "node-agent serve starts with network boot on vs1"
like "$(cat "$w/serve.log")" 'network boot on vs1: proxy DHCP \(PXE, UEFI HTTP boot, iPXE\), TFTP from /usr/lib/ipxe' \
	"... proxy DHCP and TFTP, it says"
api() { ip netns exec $S curl -sf --max-time 10 --cacert "$w/state/tls-cert.pem" "https://10.78.0.2:8443$1"; }

# three machines at once, each booting the image from serve its own way (TCG, one vCPU each):
#   m1 SeaBIOS + QEMU's iPXE ROM (e1000): iPXE's DHCP -> the script URL
#   m2 OVMF's own PXE (virtio-net, ROM off): TFTP ipxe.efi -> iPXE -> the script URL
#   m3 OVMF UEFI HTTP boot (PXE off in the firmware): ipxe.efi over HTTP -> iPXE -> the script
#   m4 OVMF with Secure Boot on (Debian's snakeoil keys enrolled, SMM): its own PXE fetches
#      ipxe.efi over TFTP and the firmware refuses it ("Access Denied"): it never reports
# m2 is accepted by serve's rule (its serial), m1 by the operator, m3 stays discovered.
ovmf="-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd"
qpids=""
machine() { # NAME MAC SERIAL QEMU-ARGS...
	_n=$1 _mac=$2 _serial=$3
	shift 3
	ip -n $L tuntap add tap-$_n mode tap
	ip -n $L link set tap-$_n master br0 up
	ip netns exec $L qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 1 -m 2048 \
		-nographic -nodefaults -no-reboot -serial "file:$w/$_n.console" \
		-smbios "type=1,manufacturer=HP,product=EliteDesk 800 G4,serial=$_serial,uuid=$(cat /proc/sys/kernel/random/uuid)" \
		-netdev tap,id=n0,ifname=tap-$_n,script=no,downscript=no "$@" >"$w/$_n.qemu" 2>&1 &
	qpids="$qpids $!"
	pids="$pids $!"
}
cp /usr/share/OVMF/OVMF_VARS.fd "$w/vars-m2.fd"
cp /usr/share/OVMF/OVMF_VARS.fd "$w/vars-m3.fd"
start=$(date +%s)
machine m1 52:54:00:78:00:11 LAN0001 -device e1000,netdev=n0,mac=52:54:00:78:00:11 -boot n
machine m2 52:54:00:78:00:12 LAN0002 $ovmf -drive "if=pflash,format=raw,unit=1,file=$w/vars-m2.fd" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:78:00:12,romfile=
machine m3 52:54:00:78:00:13 LAN0003 $ovmf -drive "if=pflash,format=raw,unit=1,file=$w/vars-m3.fd" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:78:00:13,romfile= \
	-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=no \
	-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=no \
	-fw_cfg name=opt/org.tianocore/IPv6Support,string=no
cp /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd "$w/vars-m4.fd"
machine m4 52:54:00:78:00:14 LAN0004 -machine q35,smm=on \
	-global driver=cfi.pflash01,property=secure,value=on \
	-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd \
	-drive "if=pflash,format=raw,unit=1,file=$w/vars-m4.fd" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:78:00:14,romfile= \
	-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=no
m4pid=$!
reported() { api /api/machines | jq -r '[.machines[] | select(.last_report_at != null) | .serial] | sort | join(" ")' 2>/dev/null; }

# serve restarted while the machines boot and report: the first report has arrived, the others
# are on their way (a node retries with backoff, then keeps the report spooled)
for i in $(seq 300); do
	[ -n "$(reported)" ] && break
	sleep 1
done
ok "$([ -n "$(reported)" ] && echo 0 || echo 1)" "a first report arrived ($(reported), $(($(date +%s) - start)) s)"
kill $serve_pid
wait $serve_pid
NODE_AGENT_SERVE_BOOT_GRACE_S=$grace ip netns exec $S "$NODE_AGENT" serve --config "$w/serve.yaml" >"$w/serve2.log" 2>&1 &
serve_pid=$!
pids="$pids $serve_pid"
wait_for "$w/serve2.log" 'listening on' 20
ok $? "serve restarted while the others boot and report"
for i in $(seq 300); do
	[ "$(reported)" = "LAN0001 LAN0002 LAN0003" ] && break
	sleep 1
done
is "$(reported)" "LAN0001 LAN0002 LAN0003" \
	"all three booted the image from serve and reported over HTTPS, none lost ($(($(date +%s) - start)) s, TCG)"
for n in 1 2 3; do
	doc=$(api "/api/machines/$(api /api/machines | jq -r --arg s LAN000$n '.machines[] | select(.serial == $s) | .code')")
	eval "doc$n=\$doc"
	is "$(printf '%s' "$doc" | jq '.reports | length')" 1 "m$n: one report stored, not two"
done
code=$(printf '%s' "$doc1" | jq -r .code)
is "$(printf '%s' "$doc1" | jq -r .state)" discovered "m1 is discovered, nobody having accepted it"
is "$(printf '%s' "$doc2" | jq -r '.state + " " + .accepted_by')" "accepted rule:by-serial" \
	"m2 was accepted by serve's rule (its serial)"
is "$(printf '%s' "$doc3" | jq -r .state)" discovered "m3 is discovered"
wait_for "$w/m1.console" "node-agent: this machine is $code in node-agent serve" 10
ok $? "m1 printed on its console the code serve lists it under ($code)"
for n in 1 2 3; do
	eval "doc=\$doc$n"
	diag "m$n timeline: $(printf '%s' "$doc" | jq -r '[.events[] | .kind] | join(" / ")')"
done
like "$(printf '%s' "$doc1" | jq -r '.events[].kind' | tr '\n' ,)" \
	'dhcp: script offered,.*script fetched,.*kernel fetched,.*initrd fetched,.*config fetched,.*report received' \
	"m1 (BIOS, iPXE ROM): proxy DHCP offered the script, then script, kernel, initrd, config, report"
like "$(printf '%s' "$doc1" | jq -r '.events[] | select(.kind == "dhcp: script offered") | .detail' | head -n 1)" \
	"^iPXE .*http://10.78.0.2:8080/boot.ipxe\\?mac=52:54:00:78:00:11" "... the iPXE ROM's DHCP got the script URL"
like "$(printf '%s' "$doc2" | jq -r '.events[] | .kind + ": " + (.detail // "")' | tr '\n' ,)" \
	'dhcp: boot program offered: UEFI PXE .*: ipxe.efi,.*tftp: boot program fetched: ipxe.efi,.*dhcp: script offered: iPXE.*kernel fetched.*report received' \
	"m2 (OVMF PXE): ipxe.efi offered and fetched over TFTP, then iPXE's script, kernel, report"
like "$(printf '%s' "$doc3" | jq -r '.events[] | .kind + ": " + (.detail // "")' | tr '\n' ,)" \
	'dhcp: boot program offered: UEFI HTTP boot .*: http://10.78.0.2:8080/ipxe.efi,.*http: boot program fetched.*dhcp: script offered: iPXE.*kernel fetched.*report received' \
	"m3 (OVMF HTTP boot): the URL of ipxe.efi offered and fetched over HTTP, then iPXE's script, kernel, report"
is "$(printf '%s' "$doc1" | jq -r '[.inventory.system.serial, .inventory.system.product] | join(" ")')" \
	"LAN0001 EliteDesk 800 G4" "m1's inventory: the machine's DMI"
like "$(printf '%s' "$doc1" | jq -r '[.inventory.nics[].addresses[]?] | join(" ")')" '10\.78\.0\.1[0-9][0-9]' \
	"its address came from the router's lease (a proxy never assigns one)"
grep -q "DHCPACK(vr1) 10.78.0.1[0-9][0-9] 52:54:00:78:00:11" "$w/dnsmasq.log"
ok $? "... as the router's log says"

# the boot timeline of each: m1-m3 booted and reported; m4, refused by Secure Boot, stopped
# after fetching ipxe.efi and is diagnosed once the grace period has passed
for n in 1 2 3; do
	eval "doc=\$doc$n"
	is "$(printf '%s' "$doc" | jq -r '[.boot.reached, .boot.diagnosis.code] | join(" ")')" "report ok" \
		"m$n: its boot reached the report: ok"
done
m4doc=""
for i in $(seq 120); do
	m4doc=$(api /api/machines/525400780014)
	[ "$(printf '%s' "$m4doc" | jq -r .boot.diagnosis.code 2>/dev/null)" = secure-boot ] && break
	sleep 1
done
diag "m4 timeline: $(printf '%s' "$m4doc" | jq -r '[.events[] | .kind + " (" + (.detail // "") + ")"] | join(" / ")')"
diag "m4 boot: $(printf '%s' "$m4doc" | jq -c .boot)"
grep -aq "Access Denied" "$w/m4.console"
ok $? "m4 (OVMF, Secure Boot on): the firmware refused ipxe.efi, \"Access Denied\" on its console ($(($(date +%s) - start)) s)"
like "$(printf '%s' "$m4doc" | jq -r '.events[] | .kind + ": " + (.detail // "")' | tr '\n' ,)" \
	'dhcp: boot program offered: UEFI PXE \([^)]*\): ipxe.efi,.*tftp: boot program fetched: ipxe.efi' \
	"... serve offered ipxe.efi and it was fetched over TFTP (then OVMF's HTTP boot, refused too)"
is "$(printf '%s' "$m4doc" | jq -r '[.boot.reached, .boot.stopped, .boot.diagnosis.code] | join(" ")')" \
	"boot-program true secure-boot" "... serve's diagnosis: stopped after the boot program, Secure Boot"
like "$(printf '%s' "$m4doc" | jq -r .boot.diagnosis.text)" \
	"fetched ipxe.efi and never came back: Secure Boot refused it\\? \\(Debian's iPXE is unsigned: turn Secure Boot off\\)" \
	"... in words: $(printf '%s' "$m4doc" | jq -r .boot.diagnosis.text)"
is "$(api /api/machines | jq -r '.unreported[] | select(.mac == "52:54:00:78:00:14") | .boot_problem')" secure-boot \
	"... the list names it among the MACs that never reported"
out=$(ip netns exec $S "$NODE_AGENT" machines show 525400780014 --server https://10.78.0.2:8443 --ca "$w/state/tls-cert.pem")
like "$out" "Boot: .*reached boot program fetched; stopped: .*Secure Boot.*\\[secure-boot\\]" \
	"machines show MAC: $(printf '%s' "$out" | grep '^Boot:')"
kill $m4pid 2>/dev/null

# the fleet page in a browser on the LAN: headless Chromium in serve's namespace, trusting
# serve's certificate by its public key's hash, with time for the page's first fetches
chromium=$(command -v chromium || command -v chromium-browser)
if [ -n "$chromium" ]; then
	spki=$(openssl x509 -in "$w/state/tls-cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64)
	HOME=$w ip netns exec $S timeout 60 "$chromium" --headless --no-sandbox --disable-gpu \
		--no-first-run --user-data-dir="$w/chromium" --ignore-certificate-errors-spki-list="$spki" \
		--virtual-time-budget=8000 --dump-dom https://10.78.0.2:8443/ >"$w/page.html" 2>"$w/chromium.log"
	for n in 1 2 3; do
		eval "doc=\$doc$n"
		c=$(printf '%s' "$doc" | jq -r .code)
		grep -q "$c" "$w/page.html"
		ok $? "the fleet page shows m$n ($c)"
	done
else
	skip "the fleet page" "chromium is not installed"
fi

# the operator accepts m1 by its code; serve now hands it the operator's node config
mac=52:54:00:78:00:11
ip netns exec $S "$NODE_AGENT" machines accept "$code" --server https://10.78.0.2:8443 \
	--ca "$w/state/tls-cert.pem" --token-file "$w/token" >"$w/accept.out" 2>&1
ok $? "node-agent machines accept $code (the operator's token)"
is "$(api "/api/machines/$code" | jq -r .state)" accepted "m1 is accepted"
ip netns exec $S curl -sf "http://10.78.0.2:8080/config/$mac.yaml" >"$w/config.yaml"
like "$(cat "$w/config.yaml")" 'node_name: "?\$\{product\}-\$\{serial\}' "... and gets the operator's node config"
out=$(ip netns exec $S "$NODE_AGENT" machines list --server https://10.78.0.2:8443 --ca "$w/state/tls-cert.pem")
like "$(printf '%s' "$out" | tr '\n' ' ')" "accepted .*LAN0001.*operator:alice" "machines list: m1 accepted by the operator"
like "$(printf '%s' "$out" | tr '\n' ' ')" "accepted .*LAN0002.*rule:by-serial" "... m2 by the rule"
like "$(printf '%s' "$out" | tr '\n' ' ')" "discovered .*LAN0003" "... m3 discovered"

for p in $qpids; do kill $p 2>/dev/null; done
for p in $qpids; do wait $p 2>/dev/null; done
kill -0 $serve_pid 2>/dev/null
ok $? "serve still runs"
kill $serve_pid
wait $serve_pid
is $? 0 "serve stops cleanly on SIGTERM"
unlike "$(cat "$w/serve.log" "$w/serve2.log")" 'AddressSanitizer|LeakSanitizer|runtime error' "no sanitizer report from serve"
if [ $_tap_failed -ne 0 ]; then
	diag "serve:"
	tail -n 30 "$w/serve2.log" | sed 's/^/#   /'
	for n in m1 m2 m3 m4; do
		diag "$n console:"
		tr -d '\033' <"$w/$n.console" | tail -n 15 | sed 's/^/#   /'
	done
fi
diag "whole test: $(($(date +%s) - t0)) s"
done_testing
