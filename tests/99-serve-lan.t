#!/bin/sh
# node-agent serve on a LAN, for real: a bridge in a network namespace this test creates,
# Debian's dnsmasq as the home router (leases only, no PXE options) in one namespace,
# `node-agent serve` with network boot on (proxy DHCP, TFTP, HTTP, HTTPS) in another, and a
# QEMU machine (TCG; SeaBIOS and QEMU's iPXE ROM) that boots the built image from serve:
# proxy DHCP -> boot script -> kernel and initrd -> the inventory-only config of a machine
# nobody accepted -> its report over HTTPS (trusting serve's certificate from that config).
# Then the operator accepts it by the code the machine printed on its console, and serve hands
# it the operator's node config. Skipped with NA_E2E=0, without root, namespaces or the image.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

img=${IMAGE_DIR:-build/image}/pxe
why=""
[ "${NA_E2E:-1}" = 0 ] && why="NA_E2E=0 (no QEMU boots)"
[ -z "$why" ] && [ "$(id -u)" -ne 0 ] && why="needs root"
[ -z "$why" ] && [ ! -s "$img/vmlinuz" ] && why="no image in $img (make image)"
for p in dnsmasq qemu-system-x86_64 curl jq; do
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
cat >"$w/serve.yaml" <<EOF
schema: node-agent/serve/v1
interface: vs1
state_dir: $w/state
image: {dir: $(cd "$img" && pwd)}
node_config: $w/cluster.yaml
http: {port: 8080}
https: {port: 8443}
netboot: {tftp_root: /usr/lib/ipxe}
operators:
  - name: alice
    token_sha256: $(printf 'operator-token-lan' | sha256sum | cut -d' ' -f1)
EOF
ip netns exec $S "$NODE_AGENT" serve --config "$w/serve.yaml" >"$w/serve.log" 2>&1 &
serve_pid=$!
pids="$pids $serve_pid"
wait_for "$w/serve.log" 'listening on' 20
ok $? "node-agent serve starts with network boot on vs1"
like "$(cat "$w/serve.log")" 'network boot on vs1: proxy DHCP \(PXE, UEFI HTTP boot, iPXE\), TFTP from /usr/lib/ipxe' \
	"... proxy DHCP and TFTP, it says"
api() { ip netns exec $S curl -sf --max-time 10 --cacert "$w/state/tls-cert.pem" "https://10.78.0.2:8443$1"; }

# the machine: SeaBIOS, QEMU's iPXE ROM on an e1000, 2 GiB (the image runs from RAM)
mac=52:54:00:78:00:11
ip -n $L tuntap add tap-m1 mode tap
ip -n $L link set tap-m1 master br0 up
start=$(date +%s)
ip netns exec $L qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 2 -m 2048 \
	-nographic -nodefaults -no-reboot -serial "file:$w/console.log" \
	-smbios "type=1,manufacturer=HP,product=EliteDesk 800 G4,serial=LAN0001,uuid=4b1f2e3d-5c6a-4b7c-8d9e-0a1b2c3d4e5f" \
	-netdev tap,id=n0,ifname=tap-m1,script=no,downscript=no \
	-device "e1000,netdev=n0,mac=$mac" -boot n >"$w/qemu.log" 2>&1 &
qpid=$!
pids="$pids $qpid"
m=""
for i in $(seq 180); do
	m=$(api /api/machines | jq -c --arg mac "$mac" '[.machines[] | select(.last_report_at != null)][0] // empty' 2>/dev/null)
	[ -n "$m" ] && break
	kill -0 $qpid 2>/dev/null || break
	sleep 1
done
[ -n "$m" ]
ok $? "the machine booted from serve and its report arrived over HTTPS ($(($(date +%s) - start)) s, TCG)"
code=$(printf '%s' "$m" | jq -r .code)
is "$(printf '%s' "$m" | jq -r .state)" discovered "... as a discovered machine, nobody having accepted it"
wait_for "$w/console.log" "node-agent: this machine is $code in node-agent serve" 10
ok $? "the machine printed on its console the code serve lists it under ($code)"
doc=$(api "/api/machines/$code")
events=$(printf '%s' "$doc" | jq -r '.events[].kind' | tr '\n' ,)
like "$events" 'dhcp: script offered,.*script fetched,.*kernel fetched,.*initrd fetched,.*config fetched,.*report received' \
	"its timeline: proxy DHCP offered the script, then script, kernel, initrd, config, report"
diag "timeline: $(printf '%s' "$doc" | jq -r '[.events[] | .kind] | join(" / ")')"
like "$(printf '%s' "$doc" | jq -r '.events[] | select(.kind == "dhcp: script offered") | .detail' | head -n 1)" \
	"^iPXE .*http://10.78.0.2:8080/boot.ipxe\\?mac=$mac" "... the iPXE ROM's DHCP got the script URL"
is "$(printf '%s' "$doc" | jq -r '[.inventory.system.serial, .inventory.system.product] | join(" ")')" \
	"LAN0001 EliteDesk 800 G4" "its inventory: the machine's DMI"
like "$(printf '%s' "$doc" | jq -r '[.inventory.nics[].addresses[]?] | join(" ")')" '10\.78\.0\.1[0-9][0-9]' \
	"its address came from the router's lease (a proxy never assigns one)"
grep -q "DHCPACK(vr1) 10.78.0.1[0-9][0-9] $mac" "$w/dnsmasq.log"
ok $? "... as the router's log says"

# the operator accepts it by its code; serve now hands it the operator's node config
ip netns exec $S "$NODE_AGENT" machines accept "$code" --server https://10.78.0.2:8443 \
	--ca "$w/state/tls-cert.pem" --token-file "$w/token" >"$w/accept.out" 2>&1
ok $? "node-agent machines accept $code (the operator's token)"
is "$(api "/api/machines/$code" | jq -r .state)" accepted "the machine is accepted"
ip netns exec $S curl -sf "http://10.78.0.2:8080/config/$mac.yaml" >"$w/config.yaml"
like "$(cat "$w/config.yaml")" 'node_name: "?\$\{product\}-\$\{serial\}' "... and gets the operator's node config"

kill $qpid 2>/dev/null
wait $qpid 2>/dev/null
kill -0 $serve_pid 2>/dev/null
ok $? "serve still runs"
kill $serve_pid
wait $serve_pid
is $? 0 "serve stops cleanly on SIGTERM"
unlike "$(cat "$w/serve.log")" 'AddressSanitizer|LeakSanitizer|runtime error' "no sanitizer report from serve"
if [ $_tap_failed -ne 0 ]; then
	diag "serve:"
	tail -n 30 "$w/serve.log" | sed 's/^/#   /'
	diag "console:"
	tr -d '\033' <"$w/console.log" | tail -n 30 | sed 's/^/#   /'
fi
diag "whole test: $(($(date +%s) - t0)) s"
done_testing
