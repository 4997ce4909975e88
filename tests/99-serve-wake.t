#!/bin/sh
# Wake-on-LAN through node-agent serve: serve in a network namespace of its own with one end
# of a veth pair as its LAN interface, a UDP listener (tests/tools/udp-listen.py) in a second
# namespace on the other end. `node-agent machines wake` and POST /api/machines/ID/wake: the
# exact 102-byte magic packet of the right MAC, broadcast to port 9 (the subnet's broadcast
# address and 255.255.255.255), only for the NICs whose inventory lists magic packets; the
# warning when the NIC has WoL off; the event on the timeline; 401 without a token, 404 for
# an unknown machine, a clear error for a machine without a known MAC; exit codes 0/1/2.
. "$(dirname "$0")/lib.sh"

ns_s=na-wake-s-$$
ns_l=na-wake-l-$$
if ! ip netns add "$ns_s" 2>/dev/null; then
	skip "Wake-on-LAN from serve" "cannot create network namespaces here"
	done_testing
	exit 0
fi
d=$(mktemp -d "${TMPDIR:-/tmp}/na-wake.XXXXXX")
cleanup_dirs="$cleanup_dirs $d"
pid="" lpid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$lpid" ] && kill "$lpid" 2>/dev/null;
	wait 2>/dev/null; ip netns del "$ns_s" 2>/dev/null; ip netns del "$ns_l" 2>/dev/null; cleanup' EXIT
ip netns add "$ns_l"
ip -n "$ns_s" link add wk0 type veth peer name wk1 netns "$ns_l"
ip -n "$ns_s" addr add 10.99.0.1/24 dev wk0
ip -n "$ns_l" addr add 10.99.0.2/24 dev wk1
ip -n "$ns_s" link set wk0 up
ip -n "$ns_l" link set wk1 up
ip -n "$ns_s" link set lo up
S() { ip netns exec "$ns_s" "$@"; }

mkdir -p "$d/img" "$d/state"
: >"$d/img/vmlinuz"
: >"$d/img/initrd"
printf 'schema: node-agent/config/v1\n' >"$d/node.yaml"
printf 'operator-secret-1\n' >"$d/token"
printf 'not-the-token\n' >"$d/wrong-token"
cat >"$d/serve.yaml" <<EOF2
schema: node-agent/serve/v1
interface: wk0
state_dir: $d/state
image: {dir: $d/img}
node_config: $d/node.yaml
http: {port: 0}
https: {port: 0}
operators:
  - name: alice
    token_sha256: $(printf 'operator-secret-1' | sha256sum | cut -d' ' -f1)
EOF2
ca=$d/state/tls-cert.pem

# the listener in the peer namespace, for at most 120 s
ip netns exec "$ns_l" python3 "$TESTS_DIR/tools/udp-listen.py" 9 "$d/udp" 120 &
lpid=$!
ip netns exec "$ns_s" "$NODE_AGENT" serve --config "$d/serve.yaml" 2>"$d/log" &
pid=$!
surl=""
for _ in $(seq 100); do
	surl=$(sed -n 's|.*listening on http://[0-9.:]* and \(https://[0-9.:]*\) .*|\1|p' "$d/log")
	[ -n "$surl" ] && [ -e "$d/udp.ready" ] && break
	sleep 0.1
done
like "$surl" "^https://10\.99\.0\.1:[0-9]+$" "serve listens on its LAN interface's address"
[ -n "$surl" ] && [ -e "$d/udp.ready" ] || { diag "$(cat "$d/log")"; done_testing; exit 1; }

# a machine whose eth0 can wake by magic packet but has it off, eth1 cannot
jq -c '{schema:"node-agent/report/v1",machine_id:"w",idempotency_key:"77777777777777777777777777777777",created_at:"2026-01-01T00:00:00Z",inventory:(.system.serial = "WAKE-1" | .system.uuid = null | .boot.pxe_mac = "52:54:00:77:00:01" | .nics[0].mac = "52:54:00:77:00:01" | .nics[0].wol_supported = ["phy", "magic"] | .nics[0].wol_enabled = ["phy"] | .nics[1].mac = "52:54:00:77:00:02" | .nics[1].wol_supported = ["phy"] | .nics[1].wol_enabled = [])}' \
	"$FIXTURES/qemu-q35.expected.json" >"$d/wake.json"
# a machine known by its serial only: no NIC, no MAC
jq -c '.idempotency_key = "88888888888888888888888888888888" | .inventory.system.serial = "NOMAC-1" | .inventory.nics = [] | .inventory.boot.pxe_mac = null' \
	"$d/wake.json" >"$d/nomac.json"
code=$(S curl --cacert "$ca" -s -o "$d/r1" -w '%{http_code}' --data-binary @"$d/wake.json" "$surl/reports")
is "$code" 201 "a machine with two NICs reports"
code=$(S curl --cacert "$ca" -s -o "$d/r2" -w '%{http_code}' --data-binary @"$d/nomac.json" "$surl/reports")
is "$code" 201 "a machine without a MAC reports"
mcode=$(jq -r .machine.code "$d/r1")
nomac=$(jq -r .machine.code "$d/r2")

code=$(S curl --cacert "$ca" -s -o /dev/null -w '%{http_code}' -X POST "$surl/api/machines/$mcode/wake")
is "$code" 401 "wake without a token: 401"
code=$(S curl --cacert "$ca" -s -o /dev/null -w '%{http_code}' -X POST \
	-H 'Authorization: Bearer operator-secret-1' "$surl/api/machines/999/wake")
is "$code" 404 "wake of an unknown machine: 404"
sleep 0.3
[ ! -s "$d/udp" ]
ok $? "... and nothing sent"

S "$NODE_AGENT" machines wake "$mcode" --server "$surl" --ca "$ca" --token-file "$d/token" \
	>"$d/out" 2>"$d/err"
is $? 0 "machines wake CODE: exit 0"
like "$(cat "$d/out")" "wake sent to machine $mcode on wk0, UDP port 9" "... says where"
like "$(cat "$d/out")" "52:54:00:77:00:01 eth0 +wol_enabled: no magic" "... which MAC and its WoL"
unlike "$(cat "$d/out")" "52:54:00:77:00:02" "... not the NIC without magic packets"
like "$(cat "$d/err")" "warning: WoL is off on this NIC \(eth0, 52:54:00:77:00:01\): enable it in the BIOS/with ethtool -s eth0 wol g" \
	"... with a warning that WoL is off on that NIC"
for _ in $(seq 50); do [ "$(wc -l <"$d/udp")" -ge 2 ] && break; sleep 0.1; done
want=ffffffffffff$(printf '525400770001%.0s' $(seq 16))
is "$(sort "$d/udp")" "$(printf '10.99.0.255 102 %s\n255.255.255.255 102 %s' "$want" "$want")" \
	"the peer receives the exact 102-byte magic packet of 52:54:00:77:00:01 on port 9, to 10.99.0.255 and 255.255.255.255"

code=$(S curl --cacert "$ca" -s -o "$d/resp" -w '%{http_code}' -X POST \
	-H 'Authorization: Bearer operator-secret-1' "$surl/api/machines/$mcode/wake")
is "$code" 200 "POST /api/machines/CODE/wake with a token: 200"
is "$(jq -r '[.interface, .port, (.destinations | join(" ")), (.sent | length), .sent[0].mac, .sent[0].nic, .sent[0].wol_supported, .sent[0].wol_enabled] | join(",")' "$d/resp")" \
	"wk0,9,10.99.0.255 255.255.255.255,1,52:54:00:77:00:01,eth0,true,false" \
	"... the answer: interface, port, destinations, the MAC and what the inventory says"
like "$(jq -r '.sent[0].warning' "$d/resp")" "WoL is off on this NIC" "... and the warning"
for _ in $(seq 50); do [ "$(wc -l <"$d/udp")" -ge 4 ] && break; sleep 0.1; done
is "$(cut -d' ' -f3 "$d/udp" | sort -u)" "$want" "every packet sent is that MAC's"

out=$(S "$NODE_AGENT" machines show "$mcode" --server "$surl" --ca "$ca")
like "$out" "wake sent 52:54:00:77:00:01 on wk0, UDP port 9, by operator:alice" \
	"the timeline has the wake, with MAC, interface and operator"

S "$NODE_AGENT" machines wake "$nomac" --server "$surl" --ca "$ca" --token-file "$d/token" \
	>"$d/out" 2>"$d/err"
is $? 1 "machines wake of a machine without a known MAC: exit 1"
like "$(cat "$d/err")" "409.*no MAC is known for this machine" "... saying so"
S "$NODE_AGENT" machines wake "$mcode" --server "$surl" --ca "$ca" --token-file "$d/wrong-token" \
	>/dev/null 2>&1
is $? 1 "machines wake with a wrong token: exit 1"
S "$NODE_AGENT" machines wake 999 --server "$surl" --ca "$ca" --token-file "$d/token" >/dev/null 2>&1
is $? 1 "machines wake of an unknown machine: exit 1"
"$NODE_AGENT" machines wake "$mcode" --server "$surl" --ca "$ca" >/dev/null 2>&1
is $? 2 "machines wake without --token-file: exit 2"
"$NODE_AGENT" machines wake --server "$surl" --ca "$ca" --token-file "$d/token" >/dev/null 2>&1
is $? 2 "machines wake without an ID: exit 2"

kill "$pid"
wait "$pid" 2>/dev/null
pid=""
unlike "$(cat "$d/log")" "Sanitizer|runtime error" "nothing from the sanitizers in serve's log"
done_testing
