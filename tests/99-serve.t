#!/bin/sh
# node-agent serve on 127.0.0.1 with a scratch state dir and a fake image dir, driven with
# curl and node-agent itself: boot scripts (known and unknown MACs, inventory and ignore
# mode), kernel and initrd with and without Range, node configs (checked with node-agent's
# own parser), real reports from `node-agent report-send` and a resent one, oversized and
# malformed reports, the JSON API with and without an operator's token, `node-agent
# machines`, a restart, and a full state dir (a tiny tmpfs in a private mount namespace).
. "$(dirname "$0")/lib.sh"

d=$(mktemp -d "${TMPDIR:-/tmp}/na-serve.XXXXXX")
cleanup_dirs="$cleanup_dirs $d"
pid=""
stop_serve() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	pid=""
}
trap 'stop_serve; cleanup' EXIT

mkdir -p "$d/img" "$d/state"
head -c 300000 /dev/urandom >"$d/img/vmlinuz"
head -c 100000 /dev/urandom >"$d/img/initrd"
cat >"$d/node.yaml" <<'EOF2'
schema: node-agent/config/v1
cluster:
  server: https://10.0.0.10:6443
  token_file: /run/credentials/node-agent.service/k3s-token
EOF2
printf 'operator-secret-1\n' >"$d/token"
printf 'not-the-token\n' >"$d/wrong-token"
hash=$(printf 'operator-secret-1' | sha256sum | cut -d' ' -f1)
write_config() { # MODE
	cat >"$d/serve.yaml" <<EOF2
schema: node-agent/serve/v1
address: 127.0.0.1
state_dir: $d/state
image: {dir: $d/img}
node_config: $d/node.yaml
http: {listen: 127.0.0.1, port: 0}
https: {port: 0}
unknown_machines: $1
accept:
  - name: lab-mac
    match: {mac: ["52:54:00:aa:00:01"]}
operators:
  - name: alice
    token_sha256: $hash
EOF2
}

ca=$d/state/tls-cert.pem
# the plain HTTP and HTTPS URLs serve logged in LOG
urls_of() {
	url=$(sed -n 's|.*listening on \(http://[0-9.:]*\) and .*|\1|p' "$1" | tail -n 1)
	surl=$(sed -n 's|.*listening on http://[0-9.:]* and \(https://[0-9.:]*\) .*|\1|p' "$1" |
		tail -n 1)
}
# start serve (CONFIG, LOG): sets pid, url and surl, waits at most 10 s for "listening on"
start_serve() {
	"$NODE_AGENT" serve --config "$1" 2>>"$2" &
	pid=$!
	url=""
	for _ in $(seq 100); do
		urls_of "$2"
		[ -n "$url" ] && break
		sleep 0.1
	done
	[ -n "$url" ]
}
# the certificate's SHA-256 as serve logged it last in LOG
logged_sha256() {
	sed -n 's|.*certificate SHA-256 \([0-9A-F:]*\).*|\1|p' "$1" | tail -n 1
}

# a broken serve.yaml, a broken node_config: exit 2 at start, FILE:LINE:COLUMN
write_config inventory
printf 'colour: blue\n' >>"$d/serve.yaml"
out=$("$NODE_AGENT" serve --config "$d/serve.yaml" 2>&1)
is $? 2 "an unknown key in serve.yaml: exit 2"
like "$out" "serve.yaml:15:1: serve: unknown key \"colour\"" "... FILE:LINE:COLUMN"
write_config inventory
cp "$d/node.yaml" "$d/node.good"
printf 'rules:\n  - name: x\n    role: king\n' >>"$d/node.yaml"
out=$("$NODE_AGENT" serve --config "$d/serve.yaml" 2>&1)
is $? 2 "a broken node_config fails at start: exit 2"
like "$out" "node.yaml:7:11: rules\[\]\.role" "... with node-agent's own message"
mv "$d/node.good" "$d/node.yaml"

# systemd's notification socket (init/node-agent-serve.service is Type=notify)
python3 "$TESTS_DIR/tools/notify-listen.py" "$d/notify.sock" "$d/notify.log" &
npid=$!
for _ in $(seq 50); do [ -S "$d/notify.sock" ] && break; sleep 0.1; done
# a grace period of 2 s for every stage of a boot (the timeline's diagnoses)
NOTIFY_SOCKET=$d/notify.sock NODE_AGENT_SERVE_BOOT_GRACE_S=2 start_serve "$d/serve.yaml" "$d/log"
ok $? "serve starts and says where it listens"
[ -n "$url" ] || { diag "$(cat "$d/log")"; done_testing; exit 1; }
for _ in $(seq 50); do grep -q READY=1 "$d/notify.log" 2>/dev/null && break; sleep 0.1; done
like "$(cat "$d/notify.log")" "READY=1" "READY=1 through sd_notify once listening"
kill "$npid"
grep -q '^Type=notify' "$TESTS_DIR/../init/node-agent-serve.service" &&
	grep -q '^StateDirectory=node-agent-serve' "$TESTS_DIR/../init/node-agent-serve.service" &&
	grep -q '^AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW$' \
		"$TESTS_DIR/../init/node-agent-serve.service"
ok $? "the unit: Type=notify, its state directory, the capabilities of DHCP and TFTP"

# --- boot scripts ---
s=$(curl -sf "$url/boot.ipxe?mac=52:54:00:12:34:01")
like "$s" "^#!ipxe" "the boot script of an unknown MAC in inventory mode"
like "$s" "kernel $url/vmlinuz\\?mac=52:54:00:12:34:01 initrd=initrd .*nodeagent.config=$url/config/52:54:00:12:34:01.yaml" \
	"... boots the image with its config URL"
like "$s" "initrd --name initrd $url/initrd" "... and the initrd of this server"
s=$(curl -sf "$url/boot/52-54-00-12-34-01.ipxe")
like "$s" "nodeagent.config=$url/config/52:54:00:12:34:01.yaml" "the path form, with dashes"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/boot.ipxe?mac=junk")
is "$code" 400 "a bad MAC: 400"

# --- kernel and initrd ---
curl -sf "$url/vmlinuz?mac=52:54:00:12:34:01" -o "$d/k"
cmp -s "$d/k" "$d/img/vmlinuz"
ok $? "the kernel, byte for byte"
curl -sf "$url/initrd" -o "$d/i" && cmp -s "$d/i" "$d/img/initrd"
ok $? "the initrd, byte for byte"
h=$(curl -s -D - -o "$d/r" -H 'Range: bytes=1000-1999' "$url/vmlinuz")
like "$h" "^HTTP/1.1 206" "a range: 206"
like "$h" "Content-Range: bytes 1000-1999/300000" "... with its Content-Range"
tail -c +1001 "$d/img/vmlinuz" | head -c 1000 | cmp -s - "$d/r"
ok $? "... and the right bytes"
curl -s -H 'Range: bytes=-500' "$url/initrd" | cmp -s - "$(tail -c 500 "$d/img/initrd" >"$d/t"; echo "$d/t")"
ok $? "a suffix range"
h=$(curl -s -D - -o /dev/null -H 'Range: bytes=300000-' "$url/vmlinuz")
like "$h" "^HTTP/1.1 416" "past the end: 416"
like "$h" "Content-Range: bytes \\*/300000" "... naming the size"
curl -s -H 'Range: bytes=0-1,5-9' "$url/vmlinuz" | cmp -s - "$d/img/vmlinuz"
ok $? "several ranges: the whole file (200)"
h=$(curl -sI "$url/vmlinuz")
like "$h" "Content-Length: 300000" "HEAD says the length"
like "$h" "Accept-Ranges: bytes" "... and that ranges are taken"

# --- the config of a machine that is not accepted ---
curl -sf "$url/config/52:54:00:12:34:01.yaml" -o "$d/inv.yaml"
ok $? "a config for an unknown machine in inventory mode"
out=$("$NODE_AGENT" config check "$d/inv.yaml" 2>&1)
ok $? "node-agent's parser takes it: $out"
unlike "$(grep -v "^#" "$d/inv.yaml")" "cluster|data_disk|rules" "... no cluster, no data disk, no rules"
like "$(cat "$d/inv.yaml")" "url: \"?$surl/reports" "... it only reports, to serve over https"
# report.ca_pem: the certificate serve made, byte for byte
sed -n '/ca_pem: |/,$p' "$d/inv.yaml" | sed -n 's/^    //p' | cmp -s - "$ca"
ok $? "... trusting the certificate serve made (report.ca_pem)"
is "$(stat -c %a "$d/state/tls-key.pem")" 600 "the key serve made is 0600"
sha=$(logged_sha256 "$d/log")
is "$sha" "$(openssl x509 -in "$ca" -noout -fingerprint -sha256 | cut -d= -f2)" \
	"the SHA-256 serve logs is the certificate's"
like "$(cat "$d/log")" "SHA-256 $sha \(made now\)" "... made at first start"
out=$(openssl x509 -in "$ca" -noout -text)
like "$out" "IP Address:127.0.0.1" "... for the advertised address"
like "$out" "ASN1 OID: prime256v1" "... an ECDSA P-256 key"
echo | openssl s_client -connect "${surl#https://}" -CAfile "$ca" -verify_ip 127.0.0.1 \
	-verify_return_error >"$d/s_client" 2>&1
ok $? "openssl s_client verifies serve's certificate for 127.0.0.1"
# plain HTTP keeps the boot stage only: no report, no API in clear text
code=$(curl -s -o "$d/resp" -w '%{http_code}' --data-binary @/dev/null "$url/reports")
is "$code" 403 "POST /reports over plain HTTP: 403"
like "$(cat "$d/resp")" "use $surl/reports" "... naming the https URL"
code=$(curl -s -o "$d/resp" -w '%{http_code}' "$url/api/machines")
is "$code" 403 "the API over plain HTTP: 403"
code=$(curl --cacert "$ca" -s -o /dev/null -w '%{http_code}' "$surl/boot.ipxe?mac=52:54:00:12:34:09")
is "$code" 200 "HTTPS serves the boot stage too"

# --- reports ---
# the first attempt finds no collector: the report, as node-agent made it, stays spooled
NODE_AGENT_REPORT_DELAY_MS=0 NODE_AGENT_REPORT_ATTEMPTS=1 "$NODE_AGENT" report-send \
	--url http://127.0.0.1:1/reports --state-dir "$d/node1" \
	--inventory "$FIXTURES/qemu-q35.expected.json" >"$d/send.log" 2>&1
env_file=$(ls "$d/node1/spool"/*.json 2>/dev/null | head -n 1)
[ -n "$env_file" ]
ok $? "node-agent spooled its report (no collector yet)"
[ -n "$env_file" ] && cp "$env_file" "$d/envelope.json"
# then node-agent's own retry of that spooled report reaches serve
# with the config serve handed out: report.url and report.ca_pem
NODE_AGENT_REPORT_DELAY_MS=0 "$NODE_AGENT" report-send --config "$d/inv.yaml" --state-dir "$d/node1" \
	>>"$d/send.log" 2>&1
ok $? "node-agent report-send delivers the spooled report to serve over https (the config's ca_pem)"
ls "$d/node1/spool"/*.json >/dev/null 2>&1
ok $((!$?)) "... nothing left in its spool"
m=$(curl --cacert "$ca" -sf "$surl/api/machines")
is "$(printf '%s' "$m" | jq -r '.machines | length')" 1 "one machine"
is "$(printf '%s' "$m" | jq -r '.machines[0].state')" discovered "... discovered"
id=$(printf '%s' "$m" | jq -r '.machines[0].id')
mcode=$(printf '%s' "$m" | jq -r '.machines[0].code')
like "$mcode" '^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6}$' "... with a six-character code"
# the very envelope again, with deliver.c's header, as after an answer that was lost
key=$(jq -r .idempotency_key "$d/envelope.json")
code=$(curl --cacert "$ca" -s -o "$d/resp" -w '%{http_code}' -H "Idempotency-Key: \"$key\"" \
	--data-binary @"$d/envelope.json" "$surl/reports")
is "$code" 200 "the same idempotency key again: 200"
is "$(jq -r .stored "$d/resp")" false "... and not stored twice"
is "$(curl --cacert "$ca" -sf "$surl/api/machines/$id" | jq '.reports | length')" 1 "a retry adds no report row"
code=$(curl --cacert "$ca" -s -o "$d/resp" -w '%{http_code}' -H 'Idempotency-Key: "ffffffffffffffffffffffffffffffff"' \
	--data-binary @"$d/envelope.json" "$surl/reports")
is "$code" 400 "a header that contradicts the body: 400"
# a later report of the same machine (collected again): a second row, the same machine
jq -c '.idempotency_key = "dddddddddddddddddddddddddddddddd" | .inventory.disks = .inventory.disks[1:]' \
	"$d/envelope.json" >"$d/later.json"
code=$(curl --cacert "$ca" -s -o /dev/null -w '%{http_code}' --data-binary @"$d/later.json" "$surl/reports")
is "$code" 201 "a later report: 201"
doc=$(curl --cacert "$ca" -sf "$surl/api/machines/$id")
is "$(printf '%s' "$doc" | jq '.reports | length')" 2 "... a second report of the same machine"
like "$(printf '%s' "$doc" | jq -r '.changes[0].changes[].kind' | tr '\n' ,)" "disk-removed" \
	"... and the hardware change between the two (fleet/diff)"

# the boot job itself against serve: the config it is handed, the code it prints
root=$(scratch_copy qemu-q35)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
NODE_AGENT_REPORT_DELAY_MS=0 NODE_AGENT_REPORT_BUDGET_MS=1000 timeout 60 "$NODE_AGENT" run \
	--root "$root" --target "$d/target" --no-start \
	--config "$url/config/52:54:00:12:34:01.yaml" >"$d/run.out" 2>&1
like "$(cat "$d/run.out")" "config: ok: $url/config/52:54:00:12:34:01.yaml \\(0 rules\\)" \
	"node-agent run takes the report-only config serve hands an unaccepted machine"
like "$(cat "$d/run.out")" "machine code $mcode " "... and prints the code serve lists it under"

head -c 5000000 /dev/zero | tr '\0' ' ' >"$d/big"
code=$(curl --cacert "$ca" -s -o "$d/resp" -w '%{http_code}' --data-binary @"$d/big" "$surl/reports")
is "$code" 413 "a 5 MB report: 413"
code=$(curl --cacert "$ca" -s -o "$d/resp" -w '%{http_code}' --data-binary '{"schema":' "$surl/reports")
is "$code" 400 "malformed JSON: 400"
like "$(cat "$d/resp")" "malformed JSON" "... saying so"
code=$(curl --cacert "$ca" -s -o "$d/resp" -w '%{http_code}' --data-binary '{"schema":"x"}' "$surl/reports")
is "$code" 400 "not an envelope: 400"
code=$(curl --cacert "$ca" -s -o /dev/null -w '%{http_code}' "$surl/api/machines")
is "$code" 200 "serve still serves"

# an acceptance rule: the machine with 52:54:00:aa:00:01 is accepted by its first report
jq -c '{schema:"node-agent/report/v1",machine_id:"y",idempotency_key:"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",created_at:"2026-01-01T00:00:00Z",inventory:(.system.serial = "RULE-1" | .system.uuid = null | .boot.pxe_mac = "52:54:00:aa:00:01" | .nics[0].mac = "52:54:00:aa:00:01" | .nics[1].mac = "52:54:00:aa:00:02")}' \
	"$FIXTURES/qemu-q35.expected.json" >"$d/rule.json"
r=$(curl --cacert "$ca" -s --data-binary @"$d/rule.json" "$surl/reports")
is "$(printf '%s' "$r" | jq -r .machine.state)/$(printf '%s' "$r" | jq -r .machine.accepted_by)" \
	accepted/rule:lab-mac "an acceptance rule accepts a machine on its report"

# --- the API ---
code=$(curl --cacert "$ca" -s -o /dev/null -w '%{http_code}' -X POST "$surl/api/machines/$id/accept")
is "$code" 401 "accept without a token: 401"
code=$(curl --cacert "$ca" -s -o /dev/null -w '%{http_code}' -X POST \
	-H 'Authorization: Bearer not-the-token' \
	"$surl/api/machines/$id/accept")
is "$code" 401 "accept with a wrong token: 401"
code=$(curl --cacert "$ca" -s -o "$d/resp" -w '%{http_code}' -X POST \
	-H 'Authorization: Bearer operator-secret-1' \
	"$surl/api/machines/$id/accept")
is "$code" 200 "accept with an operator's token: 200"
is "$(jq -r .state "$d/resp")/$(jq -r .accepted_by "$d/resp")" accepted/operator:alice \
	"... accepted by the operator"
curl -sf "$url/config/52:54:00:12:34:01.yaml" -o "$d/acc.yaml"
out=$("$NODE_AGENT" config check "$d/acc.yaml" 2>&1)
ok $? "an accepted machine gets the node config, valid for node-agent: $out"
like "$(cat "$d/acc.yaml")" "server: \"?https://10.0.0.10:6443" "... the operator's, with its cluster"
like "$(tr '\n' ' ' <"$d/acc.yaml")" "report: +url: \"?$surl/reports\"?.*ca_pem: \\|" \
	"... and a report section pointing at serve's HTTPS side with its certificate"
doc=$(curl --cacert "$ca" -sf "$surl/api/machines/$mcode")
like "$(printf '%s' "$doc" | jq -r '.events[].kind' | tr '\n' ,)" \
	"script fetched,.*kernel fetched,.*config fetched,.*report received,.*accepted" \
	"the machine's timeline: script, kernel, config, report, accepted"
is "$(printf '%s' "$doc" | jq -r '[.boot.reached, .boot.stopped, .boot.diagnosis.code, .boot.diagnosis.text, (.boot.started_at | type)] | join(" / ")')" \
	"report / false / ok / booted, reported / string" "... its last boot: reached the report, ok"
is "$(curl --cacert "$ca" -sf "$surl/api/machines" | jq -r --arg c "$mcode" '.machines[] | select(.code == $c) | [.boot_reached, .boot_problem] | tostring')" \
	'["report",null]' "... the list: boot_reached report, no boot_problem"
# a machine that fetched its script and never the kernel, and never reported: by its MAC
curl -sf "$url/boot.ipxe?mac=52:54:00:12:34:77" >/dev/null
sleep 3
mdoc=$(curl --cacert "$ca" -sf "$surl/api/machines/525400123477")
is "$(printf '%s' "$mdoc" | jq -r '[.mac, .boot.reached, .boot.stopped, .boot.diagnosis.code] | join(" ")')" \
	"52:54:00:12:34:77 script true kernel-not-fetched" \
	"a MAC that never reported: /api/machines/MAC, its boot stopped after the script (grace 2 s)"
like "$(printf '%s' "$mdoc" | jq -r .boot.diagnosis.text)" "not the kernel: HTTP port blocked" "... saying why"
is "$(curl --cacert "$ca" -sf "$surl/api/machines" | jq -r '.unreported[] | select(.mac == "52:54:00:12:34:77") | .boot_problem')" \
	kernel-not-fetched "... listed among the unreported MACs with its problem"
out=$("$NODE_AGENT" machines show 525400123477 --server "$surl" --ca "$ca")
like "$out" "Boot: started .*, reached script fetched; stopped: iPXE fetched the script but not the kernel.*\\[kernel-not-fetched\\]" \
	"machines show MAC: the Boot: line names where it stopped, and why"
is "$(printf '%s' "$doc" | jq -r '.inventory.system.serial')" PC1ABCDE "... its last inventory"
is "$(printf '%s' "$doc" | jq -r '[.summary.system.model, .summary.memory, (.summary.disks | length)] | join(", ")')" \
	"LENOVO ThinkCentre M720q, 1.0 GiB, 2" "... and what the fleet report says of it (the page's summary; the later report has a disk fewer)"

# the boot job's second report once the node joined (envelope member `node`): joined
jq -c '.idempotency_key = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee" | .node = {name: "pc1", role: "agent", joined: true}' \
	"$d/envelope.json" >"$d/joined.json"
r=$(curl --cacert "$ca" -s --data-binary @"$d/joined.json" "$surl/reports")
is "$(printf '%s' "$r" | jq -r .machine.state)" joined "an accepted machine whose report says it joined: joined"
like "$(curl --cacert "$ca" -sf "$surl/api/machines/$mcode" | jq -r '.events[] | .kind + " " + (.detail // "")' | tail -n 1)" \
	"^joined joined by node pc1" "... an event names the node"
jq -c '.idempotency_key = "ffffffffffffffffffffffffffffffff" | .node.joined = true | .inventory.system.serial = "NOT-ACCEPTED" | .inventory.system.uuid = null | .inventory.nics[0].mac = "52:54:00:bb:00:01" | .inventory.nics[1].mac = "52:54:00:bb:00:02" | .inventory.boot.pxe_mac = null' \
	"$d/joined.json" >"$d/joined2.json"
r=$(curl --cacert "$ca" -s --data-binary @"$d/joined2.json" "$surl/reports")
is "$(printf '%s' "$r" | jq -r .machine.state)" discovered "a machine not accepted stays discovered whatever its report says"

# --- node-agent machines ---
out=$("$NODE_AGENT" machines list --server "$surl" --ca "$ca")
ok $? "machines list: exit 0"
like "$out" "^ID +CODE +STATE" "... a table"
like "$out" "$mcode +joined" "... with the joined machine and its code"
out=$("$NODE_AGENT" machines list --server "$surl" --ca "$ca" --format json | jq -r '.machines | length')
is "$out" 3 "machines list --format json"
out=$("$NODE_AGENT" machines show "$mcode" --server "$surl" --ca "$ca")
ok $? "machines show CODE: exit 0"
like "$out" "report received" "... with its events"
like "$out" "Boot: started [0-9T:Z-]+, reached joined: booted, joined \\[ok\\]" "... and its last boot"
"$NODE_AGENT" machines show 999 --server "$surl" --ca "$ca" >/dev/null 2>&1
is $? 1 "machines show of an unknown machine: exit 1"
"$NODE_AGENT" machines accept "$id" --server "$surl" --ca "$ca" >/dev/null 2>&1
is $? 2 "machines accept without --token-file: exit 2"
"$NODE_AGENT" machines accept "$id" --server "$surl" --ca "$ca" --token-file "$d/wrong-token" >/dev/null 2>&1
is $? 1 "machines accept with a wrong token: exit 1"
"$NODE_AGENT" machines frobnicate --server "$surl" --ca "$ca" >/dev/null 2>&1
is $? 2 "an unknown machines verb: exit 2"
out=$("$NODE_AGENT" machines retire "$id" --server "$surl" --ca "$ca" --token-file "$d/token")
ok $? "machines retire: exit 0"
like "$out" "$mcode +retired" "... retired"
"$NODE_AGENT" machines list --server https://127.0.0.1:1 --ca "$ca" >/dev/null 2>&1
is $? 1 "no server: exit 1"

# --- machines rules: which rule of a candidate serve.yaml would accept each machine ---
# a fourth machine with other hardware: an NVIDIA GPU
jq -c '{schema:"node-agent/report/v1",machine_id:"g",idempotency_key:"abababababababababababababababab",created_at:"2026-01-01T00:00:00Z",inventory:(.system.serial = "GPU-1" | .system.uuid = null | .boot.pxe_mac = null | .nics[0].mac = "52:54:00:cc:00:01" | .nics[1].mac = "52:54:00:cc:00:02")}' \
	"$FIXTURES/gpu-nvidia-driver.expected.json" >"$d/gpu.json"
r=$(curl --cacert "$ca" -s --data-binary @"$d/gpu.json" "$surl/reports")
gcode=$(printf '%s' "$r" | jq -r .machine.code)
is "$(printf '%s' "$r" | jq -r .machine.state)" discovered "a machine with an NVIDIA GPU reports: discovered"
sed '/^accept:/,$d' "$d/serve.yaml" >"$d/candidate.yaml"
cat >>"$d/candidate.yaml" <<'EOF2'
accept:
  - name: gpu-boxes
    match: {gpu_vendor: nvidia}
  - name: qemu-bb
    match: {mac: ["52:54:00:bb:00:01"]}
EOF2
before=$(curl --cacert "$ca" -sf "$surl/api/machines"; for i in 1 2 3 4; do curl --cacert "$ca" -sf "$surl/api/machines/$i"; done)
out=$("$NODE_AGENT" machines rules --config "$d/candidate.yaml" --server "$surl" --ca "$ca")
ok $? "machines rules --config CANDIDATE: exit 0"
bbcode=$(curl --cacert "$ca" -sf "$surl/api/machines/3" | jq -r .code)
is "$(printf '%s\n' "$out" | awk 'NR > 1 {print $2, $3, $NF}' | tr '\n' ,)" \
	"$bbcode discovered qemu-bb,$gcode discovered gpu-boxes,$mcode retired rule,$(curl --cacert "$ca" -sf "$surl/api/machines/2" | jq -r .code) accepted rule," \
	"... discovered machines first, each with the rule that would accept it or none"
like "$(printf '%s\n' "$out" | sed -n 4p)" "retired .* no rule$" "... \"no rule\" for the others"
out=$("$NODE_AGENT" machines rules --config "$d/candidate.yaml" --server "$surl" --ca "$ca" --format json)
is "$(printf '%s' "$out" | jq -r '[.machines[] | "\(.id)=\(.rule)"] | join(" ")')" \
	"3=qemu-bb 4=gpu-boxes 1=no rule 2=no rule" "machines rules --format json"
after=$(curl --cacert "$ca" -sf "$surl/api/machines"; for i in 1 2 3 4; do curl --cacert "$ca" -sf "$surl/api/machines/$i"; done)
[ "$before" = "$after" ]
ok $? "... and nothing changed in the API (machines, states, events)"
sed 's/gpu_vendor: nvidia/gpu_vendor: matrox/' "$d/candidate.yaml" >"$d/bad-candidate.yaml"
out=$("$NODE_AGENT" machines rules --config "$d/bad-candidate.yaml" --server "$surl" --ca "$ca" 2>&1)
is $? 2 "a bad candidate file: exit 2"
like "$out" "bad-candidate.yaml:11:25: match.gpu_vendor: expected nvidia, amd or intel" \
	"... FILE:LINE:COLUMN from serve's own parser"
out=$("$NODE_AGENT" machines list --server "$url" 2>&1)
is $? 1 "machines against plain HTTP: exit 1"
like "$out" "403.*use $surl/api/machines" "... saying where the API is"
out=$("$NODE_AGENT" machines list --server "$surl" --ca "$d/img/initrd" 2>&1)
is $? 1 "machines with a CA file that is not serve's: exit 1"

# --- restart in ignore mode: everything is still there ---
stop_serve
like "$(cat "$d/log")" "signal 15: stopping" "SIGTERM stops serve cleanly"
write_config ignore
start_serve "$d/serve.yaml" "$d/log2"
ok $? "serve starts again"
is "$(logged_sha256 "$d/log2")" "$sha" "... with the same certificate (SHA-256)"
like "$(cat "$d/log2")" "SHA-256 $sha \(kept\)" "... kept, not made again"
out=$("$NODE_AGENT" machines list --server "$surl" --ca "$ca")
like "$out" "$mcode +retired" "the retired machine survived the restart"
like "$out" "accepted +.*rule:lab-mac" "... and the one a rule accepted"
s=$(curl -sf "$url/boot.ipxe?mac=52:54:00:99:99:99")
like "$s" "^echo .*not accepted" "ignore mode: an unknown machine's script says so"
like "$s" "exit" "... and exits"
unlike "$s" "kernel" "... without a kernel"
s=$(curl -sf "$url/boot.ipxe?mac=52:54:00:12:34:01")
unlike "$s" "kernel" "a retired machine is not booted"
s=$(curl -sf "$url/boot.ipxe?mac=52:54:00:aa:00:01")
like "$s" "kernel $url/vmlinuz" "an accepted machine boots in ignore mode"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/config/52:54:00:99:99:99.yaml")
is "$code" 404 "ignore mode: no config for an unknown machine"
stop_serve

# --- the operator's certificate and key ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=serve.lan \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$d/op-key.pem" -out "$d/op-cert.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=other \
	-keyout "$d/other-key.pem" -out "$d/other-cert.pem" 2>/dev/null
op_sha=$(openssl x509 -in "$d/op-cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
with_https() { # HTTPS-LINE: serve.yaml with another https: line
	sed "s|^https: .*|https: $1|" "$d/serve.yaml" >"$d/serve-op.yaml"
}
with_https "{port: 0, cert: $d/op-cert.pem, key: $d/op-key.pem}"
start_serve "$d/serve-op.yaml" "$d/log-op"
ok $? "serve starts with the operator's certificate and key"
is "$(logged_sha256 "$d/log-op")" "$op_sha" "... and says its SHA-256"
curl --cacert "$d/op-cert.pem" -sf "$surl/api/machines" >/dev/null
ok $? "... which is what curl gets and verifies"
curl -sf "$url/config/52:54:00:aa:00:01.yaml" | sed -n '/ca_pem: |/,$p' | sed -n 's/^    //p' |
	cmp -s - "$d/op-cert.pem"
ok $? "... and what node configs carry as report.ca_pem"
stop_serve
with_https "{port: 0, cert: $d/op-cert.pem, key: $d/other-key.pem}"
out=$("$NODE_AGENT" serve --config "$d/serve-op.yaml" 2>&1)
is $? 2 "a key that is not the certificate's: exit 2 at start"
like "$out" "serve-op.yaml:7:[0-9]+: https.key: $d/other-key.pem is not the key of the certificate" \
	"... FILE:LINE:COLUMN of https.key"
with_https "{port: 0, cert: $d/nothing.pem, key: $d/op-key.pem}"
out=$("$NODE_AGENT" serve --config "$d/serve-op.yaml" 2>&1)
is $? 2 "a certificate that cannot be read: exit 2"
like "$out" "serve-op.yaml:7:[0-9]+: https.cert: $d/nothing.pem: No such file" "... FILE:LINE:COLUMN of https.cert"
with_https "{port: 0, cert: $d/op-key.pem, key: $d/op-key.pem}"
out=$("$NODE_AGENT" serve --config "$d/serve-op.yaml" 2>&1)
is $? 2 "a key given as the certificate: exit 2"
like "$out" "https.cert: $d/op-key.pem: not a PEM certificate" "... saying so"
with_https "{port: 0, cert: $d/op-cert.pem}"
out=$("$NODE_AGENT" serve --config "$d/serve-op.yaml" 2>&1)
is $? 2 "https.cert without https.key: exit 2"
like "$out" "serve-op.yaml:7:8: https: give cert and key together" "... FILE:LINE:COLUMN"

# --- the address from the interface: lo gives 127.0.0.1 ---
grep -v -e '^address:' -e '^http:' "$d/serve.yaml" | sed 's/^schema: .*/&\ninterface: lo\nhttp: {port: 0}/' \
	>"$d/serve-lo.yaml"
start_serve "$d/serve-lo.yaml" "$d/log-lo"
like "$url $surl" "^http://127\.0\.0\.1:[0-9]+ https://127\.0\.0\.1:[0-9]+$" \
	"interface: lo: serve advertises and listens on 127.0.0.1"
like "$(curl -sf "$url/boot.ipxe?mac=52:54:00:aa:00:01")" "kernel $url/vmlinuz" \
	"... and its scripts name that address"
stop_serve

# --- a full state dir: 503 with a log line, serve goes on ---
mkdir -p "$d/full"
# the operator's certificate: what serve would make stays inside the namespace
with_https "{port: 0, cert: $d/op-cert.pem, key: $d/op-key.pem}"
sed "s|state_dir: .*|state_dir: $d/full/state|" "$d/serve-op.yaml" >"$d/serve-full.yaml"
jq -c '{schema:"node-agent/report/v1",machine_id:"z",idempotency_key:"cccccccccccccccccccccccccccccccc",created_at:"2026-01-01T00:00:00Z",inventory:(.system.serial = "FULL-1" | .system.uuid = null | .boot.pxe_mac = "52:54:00:ff:00:01" | .nics = [] | .x_padding = ([range(30000)] | map("xxxxxxxxxx") | join("")))}' \
	"$FIXTURES/qemu-q35.expected.json" >"$d/full.json"
cat >"$d/full.sh" <<EOF2
mount -t tmpfs -o size=1m tmpfs "$d/full" || exit 77
"$NODE_AGENT" serve --config "$d/serve-full.yaml" 2>>"$d/log3" &
p=\$!
for _ in \$(seq 100); do grep -q 'listening on' "$d/log3" 2>/dev/null && break; sleep 0.1; done
dd if=/dev/zero of="$d/full/fill" bs=4096 2>/dev/null
touch "$d/filled"
for _ in \$(seq 200); do [ -e "$d/release" ] && break; sleep 0.1; done
rm -f "$d/full/fill"
touch "$d/released"
for _ in \$(seq 200); do [ -e "$d/done" ] && break; sleep 0.1; done
kill \$p; wait \$p
EOF2
unshare -m sh "$d/full.sh" &
ns=$!
for _ in $(seq 100); do [ -e "$d/filled" ] && break; sleep 0.1; done
if [ ! -e "$d/filled" ]; then
	skip "a full state dir gives 503" "no private mount namespace with a tmpfs here"
else
	urls_of "$d/log3"
	ca=$d/op-cert.pem
	code=$(curl --cacert "$ca" -s -o "$d/resp" -w '%{http_code}' --data-binary @"$d/full.json" "$surl/reports")
	is "$code" 503 "a full state dir: the report is refused with 503"
	like "$(cat "$d/log3")" "report cccc.* refused, not stored: No space left on device" \
		"... and a log line says why"
	code=$(curl -s -o /dev/null -w '%{http_code}' "$url/boot.ipxe?mac=52:54:00:12:34:01")
	is "$code" 200 "... serve keeps serving"
	touch "$d/release"
	for _ in $(seq 100); do [ -e "$d/released" ] && break; sleep 0.1; done
	code=$(curl --cacert "$ca" -s -o /dev/null -w '%{http_code}' --data-binary @"$d/full.json" "$surl/reports")
	is "$code" 201 "with room again the same report is stored"
fi
touch "$d/done" "$d/release"
wait $ns
# with make SANITIZE=address,undefined (make check-san): what ASan/UBSan said at exit
unlike "$(cat "$d"/log*)" "Sanitizer|runtime error" "nothing from the sanitizers in serve's logs"
done_testing
