#!/bin/sh
# ethtool's facts (hw/ethtool.c: link modes, driver and firmware versions, Wake-on-LAN) on
# the live root, inside a network namespace this test creates: veth, bridge and (where the
# kernel has them) dummy and a tap device to which tests/tools/ethtool-set-modes.c gives
# supported link modes (the tun driver keeps what ETHTOOL_SLINKSETTINGS gives it). Values
# are compared with the ethtool program's where it is installed, else with the kernel's own
# (veth "1.0", bridge "2.3", tun "1.6"). Then once more without CAP_NET_ADMIN. No link
# leaves the namespace.
. "$(dirname "$0")/lib.sh"

ns=na-ethtool-$$
if ! ip netns add "$ns" 2>/dev/null; then
	skip "ethtool facts in a network namespace" "cannot create network namespaces here"
	done_testing
	exit 0
fi
trap 'ip netns del "$ns" 2>/dev/null; cleanup' EXIT
x() { ip -n "$ns" "$@"; }
in_ns() { ip netns exec "$ns" "$@"; }
set_modes=$(dirname "$NODE_AGENT")/tests/ethtool-set-modes

x link add ve0 type veth peer name ve1
x link set ve0 up
x link set ve1 up
bridge=yes
x link add br0 type bridge 2>/dev/null || bridge=no
dummy=yes
x link add dum0 type dummy 2>/dev/null || dummy=no
# tap0 supports 1000baseT/Full (5), Autoneg (6), TP (7), 10000baseT/Full (12),
# 2500baseT/Full (47), 5000baseT/Full (48) and, where the kernel's masks have four words
# (Linux 6.4 and later), 800000baseCR8/Full (93): a bit beyond Debian 12's header
tap=no
tap_modes='"1000baseT/Full","10000baseT/Full","2500baseT/Full","5000baseT/Full"'
tap_max=5000
if x tuntap add dev tap0 mode tap 2>/dev/null; then
	words=$(in_ns "$set_modes" tap0 2500 5 6 7 12 47 48)
	if [ "${words:-0}" -ge 4 ]; then
		words=$(in_ns "$set_modes" tap0 2500 5 6 7 12 47 48 93)
		tap_modes=$tap_modes',"800000baseCR8/Full"'
		tap_max=800000
	fi
	[ -n "$words" ] && tap=yes
fi
diag "dummy: $dummy, bridge: $bridge, tap with link modes: $tap (${words:-?} words a mask)"

out=$(in_ns "$NODE_AGENT" inventory --quiet)
ok $? "inventory in the namespace exits 0"
q() { printf '%s\n' "$out" | jq -c "$1"; }
ethtool_fields='[.link_modes, .max_speed_mbps, .driver_version, .firmware_version, .wol_supported, .wol_enabled]'
nic() { q ".nics[] | select(.name == \"$1\") | $ethtool_fields"; }

# veth: link settings without modes (speed 10000, no supported mode), version "1.0", no
# firmware, no Wake-on-LAN (EOPNOTSUPP: null, and no warning)
is "$(nic ve0)" '[[],null,"1.0",null,null,null]' "ve0: no link modes, driver version 1.0, no Wake-on-LAN"
is "$(nic ve1)" '[[],null,"1.0",null,null,null]' "ve1: the same"
if [ $bridge = yes ]; then
	is "$(nic br0)" '[[],null,"2.3",null,null,null]' \
		"br0: driver version 2.3, firmware \"N/A\" is null"
else
	skip "br0: driver version 2.3" "this kernel has no bridge link type"
fi
if [ $dummy = yes ]; then
	# no link settings at all: link modes null, not []; the version is the driver's or,
	# for drivers that set none, the kernel's release (ethtool_get_drvinfo())
	like "$(nic dum0)" '^\[null,null,"[^"]+",null,null,null\]$' \
		"dum0: no link settings (null), a driver version"
else
	skip "dum0: no link settings (null), a driver version" "this kernel has no dummy link type"
fi
if [ $tap = yes ]; then
	is "$(nic tap0)" "[[$tap_modes],$tap_max,\"1.6\",null,null,null]" \
		"tap0: the link modes it was given in bit order (not Autoneg or TP), the fastest, tun 1.6"
else
	skip "tap0: the link modes it was given" "no tun/tap device here"
fi
is "$(q '[.warnings[] | select(test("ETHTOOL|Wake-on-LAN|ethtool"))] | length')" 0 \
	"as root: no warning about ethtool"

# The ethtool program, where there is one, says the same.
if command -v ethtool >/dev/null 2>&1; then
	for n in $(printf '%s\n' "$out" | jq -r '.nics[].name'); do
		i=$(in_ns ethtool -i "$n" 2>/dev/null)
		v=$(printf '%s\n' "$i" | sed -n 's/^version: *//p')
		f=$(printf '%s\n' "$i" | sed -n 's/^firmware-version: *//p')
		[ "$f" = "N/A" ] && f=""
		want=$(jq -cn --arg v "$v" --arg f "$f" '[if $v == "" then null else $v end,
			if $f == "" then null else $f end]')
		is "$(q ".nics[] | select(.name == \"$n\") | [.driver_version, .firmware_version]")" \
			"$want" "$n: driver and firmware versions as ethtool -i says"
		modes=$(in_ns ethtool "$n" 2>/dev/null | awk '
			/Supported link modes:/ { on = 1; sub(/.*Supported link modes:/, "") }
			on && /:/ && !/Supported link modes:/ { on = 0 }
			on { for (i = 1; i <= NF; i++) if ($i != "Not" && $i != "reported") print $i }')
		got=$(q ".nics[] | select(.name == \"$n\") | .link_modes // [] | .[]" | tr -d '"')
		is "$(printf '%s\n' "$got" | sort | tr '\n' ' ')" \
			"$(printf '%s\n' "$modes" | sort | tr '\n' ' ')" \
			"$n: supported link modes as ethtool says"
	done
else
	skip "driver versions and link modes as ethtool says" "no ethtool program"
fi

# Without CAP_NET_ADMIN ETHTOOL_GWOL is refused for every interface (the kernel checks
# before asking the driver): Wake-on-LAN null, one warning; the rest as before.
if command -v setpriv >/dev/null 2>&1; then
	out_root=$out
	out=$(in_ns setpriv --inh-caps=-net_admin --bounding-set=-net_admin \
		"$NODE_AGENT" inventory --quiet)
	ok $? "without CAP_NET_ADMIN: inventory exits 0"
	is "$(q '[.nics[] | .wol_supported, .wol_enabled] | unique')" '[null]' \
		"without CAP_NET_ADMIN: wol_supported and wol_enabled null"
	n_nics=$(q '.nics | length')
	w=$(q '[.warnings[] | select(test("ETHTOOL|Wake-on-LAN|ethtool"))]')
	like "$w" "^\[\"/sys/class/net: ETHTOOL_GWOL not permitted \(it needs CAP_NET_ADMIN\) on $n_nics interfaces \([a-z0-9]+, \.\.\.\): wol_supported and wol_enabled unknown\"\]\$" \
		"without CAP_NET_ADMIN: one warning for the $n_nics interfaces"
	is "$(q "[.nics[] | [.name, .link_modes, .max_speed_mbps, .driver_version]]")" \
		"$(printf '%s\n' "$out_root" | jq -c "[.nics[] | [.name, .link_modes, .max_speed_mbps, .driver_version]]")" \
		"without CAP_NET_ADMIN: link modes and versions as with it"
else
	skip "without CAP_NET_ADMIN" "no setpriv"
fi

# A fixture root never asks the kernel: every ethtool field is null.
out=$(in_ns "$NODE_AGENT" inventory --quiet --root "$FIXTURES/qemu-q35")
is "$(q "[.nics[] | $ethtool_fields] | flatten | unique")" '[null]' \
	"with a fixture root, the ethtool fields are null"
done_testing
