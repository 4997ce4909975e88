#!/bin/sh
# Report delivery (node-agent/report/): reports are spooled before they are sent, sent
# oldest first, retried with backoff against a collector that fails in scripted ways
# (tests/tools/flaky-collector.py: refused connections, 500, 429 + Retry-After, a request
# that hangs past the client timeout, a response cut mid-body) and delivered exactly once
# by idempotency key when it recovers; the spool is bounded, corrupt files are set aside,
# rejected reports are not retried, and a dead collector neither fails `node-agent run`
# nor holds it past the time budget.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

for tool in python3 jq openssl; do
	if ! command -v $tool >/dev/null; then
		skip "report delivery" "$tool missing"
		done_testing
		exit 0
	fi
done
w=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $w"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; cleanup' EXIT

# fast, deterministic-enough timing for tests (defaults: 1 s base, 30 s cap, 60 s budget)
export NODE_AGENT_REPORT_BASE_MS=100 NODE_AGENT_REPORT_CAP_MS=400 NODE_AGENT_REPORT_DELAY_MS=0
export NODE_AGENT_REPORT_TIMEOUT_MS=1000 NODE_AGENT_REPORT_BUDGET_MS=20000 NODE_AGENT_REPORT_ATTEMPTS=3

"$NODE_AGENT" inventory --root "$FIXTURES/qemu-q35" --quiet > "$w/base.json" 2>/dev/null
is "$(jq -r .schema "$w/base.json")" node-agent/inventory/v1 "a fixture inventory to report"
mkinv() { # mkinv NAME [COLLECTED_AT]: the fixture inventory with another hostname
	jq --arg h "$1" --arg c "${2:-2026-01-01T00:00:00Z}" '.hostname = $h | .collected_at = $c' \
		"$w/base.json" > "$w/$1.json"
}
collector() { # collector NAME [ARGS]: start flaky-collector.py, wait for its port
	n=$1
	shift
	rm -f "$w/$n.port"
	python3 tests/tools/flaky-collector.py --portfile "$w/$n.port" --state "$w/$n.state" \
		--max-seconds 300 "$@" & pids="$pids $!"
	eval "${n}_pid=$!"
	for i in $(seq 100); do [ -s "$w/$n.port" ] && break; sleep 0.05; done
}
send() { # send STATE_DIR PORT [INVENTORY]: report-send; output in $w/out, $w/err; rc in $rc
	timeout 60 "$NODE_AGENT" report-send --url "http://127.0.0.1:$2/reports" --state-dir "$1" \
		${3:+--inventory "$3"} > "$w/out" 2> "$w/err"
	rc=$?
}
spool() { ls "$1/spool" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
spooled_hosts() { for f in "$1"/spool/[0-9]*.json; do jq -r .inventory.hostname "$f"; done | tr '\n' ' ' | sed 's/ $//'; }

# a port that refuses connections for the whole test (bound, never listening)
collector void --script down:600
void=$(cat "$w/void.port")

# --- 1. the collector is down (port bound, not listening): reports pile up in order ---
collector dead --script down:600
port=$(cat "$w/dead.port")
sd=$w/agent1
for h in h1 h2 h3; do
	mkinv $h
	start=$(date +%s%N)
	send "$sd" "$port" "$w/$h.json"
	ms=$((($(date +%s%N) - start) / 1000000))
	is "$rc" 1 "$h: collector down: report-send fails"
	like "$(cat "$w/err")" "cannot connect.*attempt 1, retrying in 0\.[0-4] s" "$h: says why, retries with backoff"
	ok "$([ "$ms" -lt 5000 ]; echo $?)" "$h: gives up after 3 attempts, quickly ($ms ms)"
done
is "$(spool "$sd")" "00000001.json 00000002.json 00000003.json" "three reports spooled, numbered in order"
is "$(sed 's/waited .*/waited N ms/' "$w/out")" \
	"delivered 0, spooled 3, rejected 0, set aside 0, dropped 0; 3 attempts, waited N ms" "the summary line counts them"
k1=$(jq -r .idempotency_key "$sd/spool/00000001.json")
like "$k1" '^[0-9a-f]{32}$' "the idempotency key is 128 bits in hex"
is "$(jq -c '[.schema, .machine_id == .inventory.machine_id, (.created_at | test("^[0-9-]{10}T[0-9:]{8}Z$")), .inventory.hostname]' \
	"$sd/spool/00000001.json")" '["node-agent/report/v1",true,true,"h1"]' "the spool file is the report/v1 envelope"
# the same inventory again (a later collection, nothing changed): replaces, not adds
mkinv h3 2026-01-02T00:00:00Z
send "$sd" "$port" "$w/h3.json"
is "$(spool "$sd")" "00000001.json 00000002.json 00000003.json" "an unchanged inventory replaces the newest spooled report"
is "$(jq -r .inventory.collected_at "$sd/spool/00000003.json")" 2026-01-02T00:00:00Z "with the newer collection"
like "$(cat "$w/err")" "unchanged since the undelivered report 00000003.json" "and says so"
(export NODE_AGENT_REPORT_ATTEMPTS=1; send "$w/agent-k" "$void" "$w/h1.json")
is "$(jq -r .idempotency_key "$w/agent-k/spool/00000001.json")" "$k1" \
	"the key comes from the content: the same inventory spooled elsewhere gets the same key"
# full jitter: the n-th wait is uniform in 0..min(cap, base * 2^(n-1)) (base 100 ms, cap 400 ms)
(export NODE_AGENT_REPORT_ATTEMPTS=12; send "$w/agent-j" "$void" "$w/h1.json")
sed -n 's/.*attempt \([0-9]*\), retrying in \([0-9.]*\) s$/\1 \2/p' "$w/err" > "$w/waits"
is "$(wc -l < "$w/waits")" 11 "12 attempts, 11 waits"
awk '{ c = 100 * 2 ^ ($1 - 1); if (c > 400) c = 400; if ($2 * 1000 > c) bad++ } END { exit bad > 0 }' "$w/waits"
ok $? "each wait is within min(cap, base * 2^(n-1)): $(awk '{ printf "%s ", $2 }' "$w/waits")"
ok "$([ "$(awk '$1 >= 3 { print $2 }' "$w/waits" | sort -u | wc -l)" -ge 2 ]; echo $?)" "and the waits are random, not a fixed schedule"
kill $dead_pid

# --- 2. recovery through every kind of failure: all arrive once, in order ---
# 500; 429 Retry-After: 1; hang (stored, no answer: the client times out); partial answer
# (the client sees a broken response): each retried with the same key; then 201s.
collector up --port "$port" --script 500,429:1,hang:3,partial
mkinv h4
export NODE_AGENT_REPORT_ATTEMPTS=8
send "$sd" "$port" "$w/h4.json"
is "$rc" 0 "collector back: report-send succeeds"
is "$(cat "$w/out" | sed 's/waited .*/waited N ms/')" \
	"delivered 4, spooled 0, rejected 0, set aside 0, dropped 0; 8 attempts, waited N ms" \
	"4 delivered in 8 requests (4 failed ones retried)"
is "$(spool "$sd")" "" "the spool is empty"
is "$(jq -c '[.stored[].hostname]' "$w/up.state")" '["h1","h2","h3","h4"]' "every report arrived, oldest first"
is "$(jq -c '[.stored[].key] | unique | length' "$w/up.state")" 4 "under four distinct keys: none stored twice"
is "$(jq -r '.stored[0].key' "$w/up.state")" "$k1" "the first one under the key it was spooled with"
is "$(jq -c '[.duplicates, (.duplicate_keys | unique)]' "$w/up.state")" "[2,[\"$k1\"]]" \
	"the retries after the hang and the cut answer carried the same key: the collector saw them as duplicates"
is "$(jq -c '[.log[].status]' "$w/up.state")" '[500,429,201,200,200,201,201,201]' "the collector's view of the 8 requests"
is "$(jq '.log[1].t as $a | .log[2].t as $b | ($b - $a) >= 1.0' "$w/up.state")" true \
	"Retry-After: 1 was honoured ($(jq '.log[2].t - .log[1].t' "$w/up.state") s)"
like "$(cat "$w/err")" "HTTP status 500.*attempt 1, retrying" "the journal says 500, retrying"
like "$(cat "$w/err")" "timed out.*attempt 3, retrying" "a hang is a timeout, retried"
like "$(cat "$w/err")" "connection broken.*attempt 4, retrying" "a cut answer is retried"
like "$(cat "$w/err")" "00000001.json delivered \(key $k1\)" "delivery is logged with the key"
send "$sd" "$port"
is "$(cat "$w/out" | sed 's/waited .*/waited N ms/')" \
	"delivered 0, spooled 0, rejected 0, set aside 0, dropped 0; 0 attempts, waited N ms" \
	"the next run has nothing to send"

# --- 3. the spool is bounded: files and bytes; the oldest go first, with a warning ---
sd=$w/agent2
for i in 1 2 3 4 5 6; do
	mkinv b$i
	(export NODE_AGENT_REPORT_MAX_FILES=4 NODE_AGENT_REPORT_ATTEMPTS=1; send "$sd" "$void" "$w/b$i.json")
done
is "$(spooled_hosts "$sd")" "b3 b4 b5 b6" "at most 4 files: the newest 4 are kept"
like "$(cat "$w/err")" "spool over its bound \(5 reports.*dropped the oldest undelivered report 00000002.json" \
	"the drop is a warning naming the file"
is "$(sed 's/waited .*/waited N ms/' "$w/out")" \
	"delivered 0, spooled 4, rejected 0, set aside 0, dropped 1; 1 attempts, waited N ms" "and is counted"
size=$(stat -c %s "$sd/spool/00000006.json")
mkinv b7
(export NODE_AGENT_REPORT_MAX_BYTES=$((size * 5 / 2)) NODE_AGENT_REPORT_ATTEMPTS=1; send "$sd" "$void" "$w/b7.json")
is "$(spooled_hosts "$sd")" "b6 b7" "at most $((size * 5 / 2)) bytes: the newest 2 are kept"
(export NODE_AGENT_REPORT_MAX_BYTES=1024 NODE_AGENT_REPORT_ATTEMPTS=1; send "$sd" "$void")
is "$(spooled_hosts "$sd")" "b6 b7" "flushing alone never drops"
mkinv b8
(export NODE_AGENT_REPORT_MAX_BYTES=1024 NODE_AGENT_REPORT_ATTEMPTS=1; send "$sd" "$void" "$w/b8.json")
is "$(spooled_hosts "$sd")" "b8" "a report larger than the bound is still kept (the newest always is)"

# --- 4. corrupt spool files are set aside, rejected reports are not retried ---
sd=$w/agent3
mkdir -p "$sd/spool"
printf '{"schema": "node-agent/report/v1", "idempotency_key": "abc", "inven' > "$sd/spool/00000001.json"
printf '{"schema": "something/else", "idempotency_key": "%032d", "inventory": {}}\n' 0 > "$sd/spool/00000002.json"
mkinv c3
collector c --script 422
send "$sd" "$(cat "$w/c.port")" "$w/c3.json"
is "$rc" 1 "a refused report fails report-send"
like "$(cat "$w/err")" "00000001.json: not a report .*set aside as .bad" "a truncated file is set aside, with a warning"
like "$(cat "$w/err")" "00000002.json: not a report" "so is one with another schema"
like "$(cat "$w/err")" "00000003.json: HTTP status 422 .*the collector refuses this report; set aside as 00000003.json.rejected" \
	"a 422 sets the report aside as .rejected"
mkinv c4
send "$sd" "$(cat "$w/c.port")" "$w/c4.json"
is "$(spool "$sd")" "00000001.json.bad 00000002.json.bad 00000003.json.rejected" \
	"two corrupt files set aside as .bad, the refused report as .rejected"
is "$(jq -c '[.stored[].hostname]' "$w/c.state")" '["c4"]' "the report after them was delivered"
is "$(jq -c '[.log[].status]' "$w/c.state")" '[422,201]' "the refused report was sent once, not retried"
send "$sd" "$(cat "$w/c.port")"
is "$(jq '.requests' "$w/c.state")" 2 "set-aside files are not looped on"
kill $c_pid

# --- 5. node-agent run: a dead collector neither fails the boot nor holds it past the budget ---
sh tests/tools/mkcert.sh "$w/tls"
tls="--tls $w/tls/server.pem $w/tls/server.key"
collector dead2 $tls --script down:600
port=$(cat "$w/dead2.port")
root=$(scratch_copy qemu-q35)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
cat > "$w/config.yaml" <<EOC
schema: node-agent/config/v1
cluster: {server: https://10.0.0.10:6443, token_file: /run/credentials/node-agent.service/k3s-token}
rules:
  - name: all
    labels: {site: lab}
report:
  url: https://127.0.0.1:$port/reports
  ca_file: $w/tls/ca.pem
EOC
t=$w/target
mkdir -p "$t"
start=$(date +%s%N)
NODE_AGENT_REPORT_BUDGET_MS=3000 NODE_AGENT_REPORT_ATTEMPTS=100 NODE_AGENT_REPORT_DELAY_MS=500 \
	timeout 60 "$NODE_AGENT" run --root "$root" --target "$t" --config "$w/config.yaml" 2> "$w/run.err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
is "$rc" 0 "run exits 0 with the collector down"
ok "$([ "$ms" -lt 6000 ]; echo $?)" "and stops trying within the 3 s budget ($ms ms)"
like "$(cat "$w/run.err")" "report: 00000001.json: .*no time left in the budget" "the journal says the budget ran out"
is "$("$NODE_AGENT" status --target "$t" --json |
	jq -c '[.result, [.stages[] | select(.stage | IN("config", "report", "plan", "apply")) | .stage + ":" + .result]]')" \
	'["ok",["config:ok","report:failed","plan:ok","apply:ok"]]' \
	"state.json: report failed, the rest went on"
like "$("$NODE_AGENT" status --target "$t" --json | jq -r '.stages[] | select(.stage == "report") | .message')" \
	"^https://127.0.0.1:$port/reports: 0 delivered, 1 spooled, 0 rejected, 0 dropped; " \
	"the report stage says delivered/spooled counts"
is "$(spool "$t/var/lib/node-agent")" "00000001.json" "the report waits in STATE_DIR/spool"
kill $dead2_pid
collector up2 $tls --port "$port"
timeout 60 "$NODE_AGENT" run --root "$root" --target "$t" --config "$w/config.yaml" 2> "$w/run.err"
is "$?" 0 "the next boot, collector up: run exits 0"
like "$("$NODE_AGENT" status --target "$t" --json | jq -r '.stages[] | select(.stage == "report") | .result + " " + .message')" \
	"^ok https://127.0.0.1:$port/reports: 1 delivered, 0 spooled" \
	"the same inventory replaced the spooled one: one report delivered"
is "$(jq -c '[.stored[] | .machine_id]' "$w/up2.state")" '["5d2f8a0c3b7e4916a4c1e8f2d0b6a973"]' "it arrived"
is "$(spool "$t/var/lib/node-agent")" "" "the spool is empty"
kill $up2_pid

# --- 6. the CLI's config path (TLS with a pinned CA) and its usage errors ---
collector tls --tls "$w/tls/server.pem" "$w/tls/server.key"
printf 'schema: node-agent/config/v1\nreport:\n  url: https://127.0.0.1:%s/reports\n  ca_file: %s\n' \
	"$(cat "$w/tls.port")" "$w/tls/ca.pem" > "$w/tls.yaml"
mkinv t1
"$NODE_AGENT" report-send --config "$w/tls.yaml" --state-dir "$w/agent4" --inventory "$w/t1.json" > "$w/out" 2> "$w/err"
is "$?" 0 "report-send --config: delivered over TLS with the pinned CA"
is "$(jq -c '[.stored[].hostname]' "$w/tls.state")" '["t1"]' "the TLS collector stored it"
"$NODE_AGENT" report-send --config "$w/tls.yaml" --state-dir "$w/agent4" --inventory "$w/nonexistent.json" > /dev/null 2>&1
is "$?" 2 "a missing inventory file is a usage error (2)"
printf '[1, 2]\n' > "$w/array.json"
"$NODE_AGENT" report-send --config "$w/tls.yaml" --state-dir "$w/agent4" --inventory "$w/array.json" > /dev/null 2> "$w/err"
is "$?" 2 "an inventory that is not a JSON object is a usage error (2)"
NODE_AGENT_REPORT_BASE_MS=abc "$NODE_AGENT" report-send --config "$w/tls.yaml" --state-dir "$w/agent4" > /dev/null 2> "$w/err"
is "$?" 2 "a junk NODE_AGENT_REPORT_* value is refused"
like "$(cat "$w/err")" "NODE_AGENT_REPORT_BASE_MS must be a number" "naming the variable"
done_testing
