#!/bin/sh
# Network boot beside a home router, with real firmware: a LAN (a bridge in a network namespace
# this test creates) with Debian's dnsmasq as the router (plain DHCP, no PXE options) in one
# namespace, node-agent's proxy DHCP and TFTP (build/tests/pxe-serve-test, node-agent/serve/)
# and a python3 http.server for the iPXE script in another, and QEMU guests (TCG) on taps:
#   bios  SeaBIOS, QEMU's iPXE ROM: iPXE's DHCP (user class iPXE) -> script URL -> HTTP
#   pxe   OVMF, NIC ROM off (romfile=): OVMF's PXE -> TFTP ipxe.efi -> iPXE -> script
#   http  OVMF, PXE left unanswered for its MAC: UEFI HTTP boot -> ipxe.efi over HTTP -> script
# and on the side: a "../" TFTP request refused while the server keeps serving, a TFTP fetch of
# undionly.kpxe with blksize/tsize, a malformed DHCP packet ignored with an event, a DHCP
# server that sets next-server detected, dnsmasq on the same host as the server (started after
# it) and both answering, the server stopped cleanly (no sanitizer report under check-san).
# PXE_LAN_GUESTS="bios pxe http" chooses the guests (default none: 99-serve-lan boots them);
# PXE_LAN_DUMP=DIR keeps the captured DHCP packets (tests/fixtures/dhcp/ came from there).
. "$(dirname "$0")/lib.sh"

driver=$(dirname "$NODE_AGENT")/tests/pxe-serve-test
# No guest by default: tests/99-serve-lan.t boots the image through serve itself the same
# three ways (the suite's time); PXE_LAN_GUESTS="bios pxe http" runs them here too.
guests=${PXE_LAN_GUESTS:-}
if [ "${NA_E2E:-1}" = 0 ]; then
	skip "network boot on a namespace LAN" "NA_E2E=0 (no QEMU boots)"
	done_testing
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	skip "network boot on a namespace LAN" "needs root"
	done_testing
	exit 0
fi
for p in dnsmasq qemu-system-x86_64 python3; do
	if ! command -v $p >/dev/null 2>&1; then
		skip "network boot on a namespace LAN" "$p not installed (tests/install-deps.sh test)"
		done_testing
		exit 0
	fi
done
if [ ! -x "$driver" ] || [ ! -f /usr/lib/ipxe/ipxe.efi ] || [ ! -f /usr/share/OVMF/OVMF_CODE.fd ]; then
	skip "network boot on a namespace LAN" "no $driver, iPXE (ipxe) or OVMF (ovmf)"
	done_testing
	exit 0
fi
id=$$
L=na-lan-$id R=na-rtr-$id S=na-srv-$id
if ! ip netns add $L 2>/dev/null; then
	skip "network boot on a namespace LAN" "cannot create network namespaces here"
	done_testing
	exit 0
fi
ip netns add $R
ip netns add $S
w=$(mktemp -d "${TMPDIR:-/tmp}/na-pxe.XXXXXX")
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

# the LAN: br0 in L; the router's and the server's ends in their own namespaces
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
ip -n $R addr add 10.77.0.1/24 dev vr1
ip -n $S link set vs1 address 02:00:00:77:00:02
ip -n $S addr add 10.77.0.2/24 dev vs1

# the home router: leases, nothing about booting, except for the server's own MAC (the probe
# below), which it hands a next-server as some routers do for everyone
ip netns exec $R dnsmasq --no-daemon --port=0 --interface=vr1 --bind-interfaces --log-dhcp \
	--dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,1h --dhcp-leasefile="$w/leases" \
	--dhcp-authoritative --dhcp-host=02:00:00:77:00:02,set:probe \
	--dhcp-boot=tag:probe,router.kpxe,,10.77.0.1 >"$w/dnsmasq.log" 2>&1 &
router_pid=$!
pids="$pids $router_pid"

mkdir -p "$w/tftp" "$w/http" "$w/dump"
cp /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi /usr/lib/ipxe/snponly.efi "$w/tftp/"
cp /usr/lib/ipxe/ipxe.efi "$w/http/"
printf '#!ipxe\necho PXE-LAN-MARKER ${mac}\nexit\n' >"$w/http/boot.ipxe"
echo secret >"$w/outside"
ln -s ../outside "$w/tftp/link"
ip netns exec $S python3 -m http.server 8080 --bind 10.77.0.2 --directory "$w/http" \
	>"$w/http.log" 2>&1 &
pids="$pids $!"
ip netns exec $S "$driver" --ifname vs1 --addr 10.77.0.2 --tftp-root "$w/tftp" \
	--script-url http://10.77.0.2:8080/boot.ipxe --http-url http://10.77.0.2:8080/ipxe.efi \
	--ignore-pxe-mac 52:54:00:77:00:13 --probe-mac 02:00:00:77:00:02 --dump "$w/dump" \
	--seconds 280 >"$w/events.log" 2>&1 &
driver_pid=$!
pids="$pids $driver_pid"

# wait_for FILE PATTERN SECONDS: bounded wait for a line
wait_for() {
	_i=0
	while [ $_i -lt "$3" ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 1
		_i=$((_i + 1))
	done
	return 1
}
wait_for "$w/events.log" '^ready' 10
ok $? "the proxy DHCP and TFTP server starts beside the router (67, 68, 4011 and 69 on vs1)"

wait_for "$w/events.log" '^dhcp foreign-boot .*boot file.*next-server' 10
ok $? "a DHCP server that sets next-server is reported"
grep '^dhcp foreign' "$w/events.log" | head -n 2 | sed 's/^/# /'

# TFTP from the router's namespace (any host of the LAN): a name outside the root, a symlink
# out of it, then a real fetch with options, as a client does
ip netns exec $R python3 - "$w/tftp/undionly.kpxe" >"$w/tftp-client.log" 2>&1 <<'EOF'
import os, socket, struct, sys
def rrq(name, opts=b""):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(b"\0\1" + name + b"\0octet\0" + opts, ("10.77.0.2", 69))
    return s
for name in (b"../outside", b"/etc/passwd", b"link"):
    s = rrq(name)
    pkt, _ = s.recvfrom(2048)
    print("refused" if pkt[:2] == b"\0\5" else "served", name.decode(), pkt[4:-1].decode())
s = rrq(b"undionly.kpxe", b"blksize\x001428\0tsize\x000\0")
pkt, peer = s.recvfrom(2048)
assert pkt[:2] == b"\0\6", pkt
fields = pkt[2:].split(b"\0")
print("oack", fields[:-1])
s.sendto(b"\0\4\0\0", peer)
data, block = b"", 1
while True:
    pkt, _ = s.recvfrom(4096)
    op, blk = struct.unpack("!HH", pkt[:4])
    assert op == 3 and blk == block & 0xffff, (op, blk)
    data += pkt[4:]
    s.sendto(struct.pack("!HH", 4, blk), peer)
    if len(pkt) - 4 < 1428:
        break
    block += 1
want = open(sys.argv[1], "rb").read()
print("fetched", len(data), "same" if data == want else "DIFFERENT")
EOF
out=$(cat "$w/tftp-client.log")
like "$out" '^refused \.\./outside' "TFTP: ../outside refused with an error packet"
like "$out" '^refused /etc/passwd' "TFTP: an absolute name refused"
like "$out" '^refused link' "TFTP: a symlink leading out of the root refused (openat2)"
like "$out" "^oack \[b'blksize', b'1428', b'tsize', b'$(stat -c %s "$w/tftp/undionly.kpxe")'\]" \
	"TFTP: blksize and tsize acknowledged in an OACK with the file's size"
like "$out" '^fetched [0-9]+ same' "TFTP: undionly.kpxe fetched whole after the refusals"
wait_for "$w/events.log" '^tftp completed .*file="undionly.kpxe"' 5
ok $? "TFTP: the events say refused, started and completed"
grep -E '^tftp (refused|completed)' "$w/events.log" | sed 's/^/# /'

# a malformed DHCP packet on the LAN: an option whose length runs past the packet
ip netns exec $R python3 - <<'EOF'
import socket
p = bytearray(240)
p[0:4] = b"\x01\x01\x06\x00"
p[4:8] = b"\xde\xad\xbe\xef"
p[28:34] = b"\x52\x54\x00\x77\x00\xee"
p[236:240] = b"\x63\x82\x53\x63"
p += b"\x35\x01\x01\x3c\x09PXEClient\x5d\x40\x00"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"vr1")
s.sendto(bytes(p), ("255.255.255.255", 67))
EOF
wait_for "$w/events.log" '^dhcp malformed .*runs past' 5
ok $? "a malformed DHCP packet is refused with an event naming the fault"

# boot GUEST MAC: one QEMU on its own tap, until the script's HTTP request (or 90 s)
boot() {
	_g=$1 _mac=$2
	shift 2
	ip -n $L tuntap add tap-$_g mode tap
	ip -n $L link set tap-$_g master br0 up
	_start=$(date +%s)
	ip netns exec $L qemu-system-x86_64 -accel tcg -m 256 -nographic -nodefaults -no-reboot \
		-serial "file:$w/$_g.serial" -netdev tap,id=n0,ifname=tap-$_g,script=no,downscript=no \
		"$@" >"$w/$_g.qemu.log" 2>&1 &
	_qpid=$!
	pids="$pids $_qpid"
	# iPXE writes the MAC's colons as %3A
	wait_for "$w/http.log" "GET /boot.ipxe\\?mac=$(echo $_mac | sed 's/:/(:|%3A)/g') " 90
	_rc=$?
	kill $_qpid 2>/dev/null
	wait $_qpid 2>/dev/null
	diag "$_g: $(($(date +%s) - _start)) s to the script request"
	return $_rc
}
cp /usr/share/OVMF/OVMF_VARS.fd "$w/vars-pxe.fd"
cp /usr/share/OVMF/OVMF_VARS.fd "$w/vars-http.fd"
ovmf="-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd"
for g in $guests; do
	case $g in
	bios)
		boot bios 52:54:00:77:00:11 -boot n -device e1000,netdev=n0,mac=52:54:00:77:00:11
		ok $? "BIOS + iPXE ROM: the script is fetched over HTTP"
		ev=$(grep 'mac=52:54:00:77:00:11' "$w/events.log")
		like "$ev" '^dhcp answered port=67 .*type=DISCOVER class=PXEClient arch=0 ipxe=1 reply=OFFER boot=http://10.77.0.2:8080/boot.ipxe\?mac=52:54:00:77:00:11' \
			"BIOS: iPXE's DISCOVER (user class iPXE) gets the script URL in an OFFER"
		;;
	pxe)
		boot pxe 52:54:00:77:00:12 $ovmf -drive "if=pflash,format=raw,unit=1,file=$w/vars-pxe.fd" \
			-device virtio-net-pci,netdev=n0,mac=52:54:00:77:00:12,romfile=
		ok $? "OVMF PXE: TFTP ipxe.efi, then the script over HTTP"
		ev=$(grep 'mac=52:54:00:77:00:12' "$w/events.log")
		like "$ev" 'answered port=67 .*type=DISCOVER class=PXEClient arch=7 ipxe=0 reply=OFFER boot=ipxe.efi' \
			"OVMF PXE: the firmware's DISCOVER (arch 7) gets ipxe.efi over TFTP"
		like "$(grep '^tftp completed .*file="ipxe.efi"' "$w/events.log")" 'bytes=[1-9]' \
			"OVMF PXE: the TFTP transfer of ipxe.efi completes"
		like "$ev" 'answered .*arch=7 ipxe=1 .*boot=http://10.77.0.2:8080/boot.ipxe' \
			"OVMF PXE: ipxe.efi's own DHCP gets the script URL"
		;;
	http)
		boot http 52:54:00:77:00:13 $ovmf -drive "if=pflash,format=raw,unit=1,file=$w/vars-http.fd" \
			-device virtio-net-pci,netdev=n0,mac=52:54:00:77:00:13,romfile= \
			-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=no \
			-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=no \
			-fw_cfg name=opt/org.tianocore/IPv6Support,string=no
		ok $? "OVMF HTTP boot: ipxe.efi over HTTP, then the script"
		ev=$(grep 'mac=52:54:00:77:00:13' "$w/events.log")
		unlike "$ev" 'answered .*class=PXEClient arch=7 ipxe=0' \
			"OVMF HTTP boot: no PXE answer for this machine"
		like "$ev" 'answered port=67 .*class=HTTPClient arch=16 ipxe=0 reply=OFFER boot=http://10.77.0.2:8080/ipxe.efi' \
			"OVMF HTTP boot: HTTPClient arch 16 gets the URL of ipxe.efi"
		grep -q 'GET /ipxe.efi ' "$w/http.log"
		ok $? "OVMF HTTP boot: the firmware fetched ipxe.efi over HTTP"
		;;
	esac
done

# The router's DHCP server on the same host as ours: the router's dnsmasq stopped, another
# started in the server's namespace on vs1 after our sockets are bound (both use SO_REUSEADDR),
# and a PXE client's broadcast DISCOVER answered by both, the lease from dnsmasq, the boot
# file from us.
kill $router_pid
wait $router_pid 2>/dev/null
ip netns exec $S dnsmasq --no-daemon --port=0 --interface=vs1 --bind-interfaces --log-dhcp \
	--dhcp-range=10.77.0.200,10.77.0.250,255.255.255.0,1h --dhcp-leasefile="$w/leases2" \
	>"$w/dnsmasq2.log" 2>&1 &
pids="$pids $!"
wait_for "$w/dnsmasq2.log" 'DHCP, IP range' 5
out=$(ip netns exec $R python3 - <<'EOF'
import socket, time
p = bytearray(240)
p[0:4] = b"\x01\x01\x06\x00"
p[4:8] = b"\x0b\xad\xf0\x0d"
p[10] = 0x80
p[28:34] = b"\x52\x54\x00\x77\x00\x99"
p[236:240] = b"\x63\x82\x53\x63"
p += b"\x35\x01\x01\x3c\x20PXEClient:Arch:00000:UNDI:002001\x5d\x02\x00\x00\xff"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"vr1")
s.bind(("0.0.0.0", 68))
s.settimeout(0.5)
s.sendto(bytes(p), ("255.255.255.255", 67))
end = time.time() + 4
while time.time() < end:
    try:
        r, _ = s.recvfrom(2048)
    except socket.timeout:
        continue
    if r[4:8] != p[4:8]:
        continue
    yi = socket.inet_ntoa(r[16:20])
    f = r[108:236].split(b"\0")[0].decode()
    print("reply yiaddr=%s file=%s" % (yi, f or "-"))
EOF
)
like "$out" 'reply yiaddr=0.0.0.0 file=undionly.kpxe' \
	"dnsmasq on the same host: our proxy still answers the PXE DISCOVER"
like "$out" 'reply yiaddr=10.77.0.2[0-9]{2} file=-' "... and dnsmasq offers the lease"
printf '%s\n' "$out" | sed 's/^/# /'

kill -0 $driver_pid 2>/dev/null
ok $? "the server is still running after every guest"
kill $driver_pid
wait $driver_pid
is "$?" 0 "the server stops cleanly on SIGTERM"
unlike "$(cat "$w/events.log")" 'AddressSanitizer|LeakSanitizer|runtime error' \
	"no sanitizer report from the server (under make check-san)"
wait_for "$w/events.log" '^tftp refused .*\.\./outside' 1
ok $? "the ../ refusal was an event"
if [ -n "${PXE_LAN_DUMP:-}" ]; then
	mkdir -p "$PXE_LAN_DUMP" && cp "$w"/dump/* "$w/events.log" "$w/dnsmasq.log" "$PXE_LAN_DUMP/"
fi
if [ $_tap_failed -ne 0 ]; then
	diag "events:"
	sed 's/^/#   /' "$w/events.log" | tail -n 60
	diag "http:"
	sed 's/^/#   /' "$w/http.log" | tail -n 20
	diag "dnsmasq:"
	tail -n 20 "$w/dnsmasq.log" | sed 's/^/#   /'
fi
diag "whole test: $(($(date +%s) - t0)) s"
done_testing
