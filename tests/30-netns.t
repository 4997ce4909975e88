#!/bin/sh
# libnl and sysfs on the live root, inside a network namespace this test creates, with
# veth (and, where the kernel has it, dummy) links carrying set MACs, MTUs and addresses.
. "$(dirname "$0")/lib.sh"

ns=na-test-$$
if ! ip netns add "$ns" 2>/dev/null; then
	skip "NICs in a network namespace" "cannot create network namespaces here"
	done_testing
	exit 0
fi
trap 'ip netns del "$ns" 2>/dev/null; cleanup' EXIT
x() { ip -n "$ns" "$@"; }
dummy=yes
x link add dum0 address 02:00:00:aa:bb:01 mtu 1400 type dummy 2>/dev/null || dummy=no
if [ $dummy = yes ]; then
	x link set dum0 up
	x addr add 198.51.100.7/24 dev dum0
fi
# br0 stays administratively down: the kernel keeps its carrier on, which netlink
# reports and sysfs refuses to (EINVAL)
bridge=yes
x link add br0 address 02:00:00:aa:bb:04 type bridge 2>/dev/null || bridge=no
x link add ve0 address 02:00:00:aa:bb:02 mtu 9000 type veth peer name ve1 address 02:00:00:aa:bb:03
x link set ve0 up
x addr add 203.0.113.1/30 dev ve0
x addr add 2001:db8:1::7/64 dev ve0 nodad
# ve1 stays down, so ve0 has no carrier
out=$(ip netns exec "$ns" "$NODE_AGENT" inventory --quiet)
ok $? "inventory in the namespace exits 0"
q() { printf '%s\n' "$out" | jq -c "$1"; }

names='"ve0","ve1"'
[ $dummy = yes ] && names='"dum0",'$names
[ $bridge = yes ] && names='"br0",'$names
is "$(q '[.nics[].name]')" "[$names]" "the namespace's links, loopback left out"
if [ $dummy = yes ]; then
	is "$(q '.nics[] | select(.name == "dum0") | [.mac, .mtu, .virtual, .carrier, .driver, .pci_address, .addresses[0]]')" \
		'["02:00:00:aa:bb:01",1400,true,true,null,null,"198.51.100.7/24"]' \
		"dum0: MAC, MTU, virtual, carrier and address"
else
	skip "dum0: MAC, MTU, virtual, carrier and address" "this kernel has no dummy link type"
fi
if [ $bridge = yes ]; then
	is "$(q '.nics[] | select(.name == "br0") | [.link, .carrier]')" '["down",null]' \
		"br0, administratively down: link down, carrier unknown (not netlink's stale true)"
else
	skip "br0, administratively down: link down, carrier unknown" "this kernel has no bridge link type"
fi
is "$(q '.nics[] | select(.name == "ve0") | [.mac, .mtu, .virtual, .link, .carrier, .driver, .duplex]')" \
	'["02:00:00:aa:bb:02",9000,true,"down",false,null,"full"]' \
	"ve0: MAC, MTU, virtual, duplex; no carrier while its peer is down"
is "$(q '.nics[] | select(.name == "ve0") | .addresses | map(select(startswith("fe80") | not))')" \
	'["203.0.113.1/30","2001:db8:1::7/64"]' "ve0: IPv4 and IPv6 addresses with prefix length"
is "$(q '.nics[] | select(.name == "ve1") | [.mac, .link, .carrier, .duplex, .addresses]')" \
	'["02:00:00:aa:bb:03","down",null,null,[]]' \
	"ve1, administratively down: link down, carrier and duplex unknown, no addresses"

# The same interfaces captured from sysfs (tests/capture-sysfs.sh, run in the namespace,
# whose /sys ip-netns-exec remounts) and read with --root: everything but the addresses
# (which need netlink) and ethtool's facts (ioctls: tests/31-ethtool.t) is what the live
# run said.
nics_but_addresses='[.nics[] | del(.addresses, .link_modes, .max_speed_mbps, .driver_version,
	.firmware_version, .wol_supported, .wol_enabled)]'
live_vs_capture() { # DESCRIPTION
	cap=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
	cleanup_dirs="$cleanup_dirs $cap"
	ip netns exec "$ns" sh "$TESTS_DIR/capture-sysfs.sh" "$cap" 2>/dev/null
	captured=$("$NODE_AGENT" inventory --quiet --root "$cap")
	is "$(printf '%s\n' "$captured" | jq -c "$nics_but_addresses")" \
		"$(printf '%s\n' "$out" | jq -c "$nics_but_addresses")" "$1"
}
live_vs_capture "live and sysfs-captured runs agree on every NIC field (ve1 down)"

x link set ve1 up
out=$(ip netns exec "$ns" "$NODE_AGENT" inventory --quiet)
is "$(q '.nics[] | select(.name == "ve0") | [.link, .carrier, .speed_mbps, .duplex]')" \
	'["up",true,10000,"full"]' "ve0: up with carrier once the peer is up (veth reports 10 Gb/s, full duplex)"
live_vs_capture "live and sysfs-captured runs agree on every NIC field (ve1 up)"

# The same namespace seen through --root / with sysfs only would lack addresses: a fixture
# root never consults netlink.
out=$(ip netns exec "$ns" "$NODE_AGENT" inventory --quiet --root "$FIXTURES/qemu-q35")
is "$(q '[.nics[].addresses]')" '[null,null]' "with a fixture root, addresses are unknown (null)"
done_testing
