#!/bin/sh
# node-agent run, the boot job, against a fixture root and a scratch target: the config
# URL from the kernel command line with ${mac} filled in, fetched from a loopback HTTP
# server; the inventory reported over real TLS to a loopback collector whose CA the config
# pins; sd_notify STATUS; and the faults: 404, 500, invalid YAML, nothing listening --
# retried with backoff, inventory kept, nothing applied.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

if ! command -v python3 >/dev/null || ! command -v openssl >/dev/null; then
	skip "node-agent run" "python3 or openssl missing"
	done_testing
	exit 0
fi
w=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $w"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; cleanup' EXIT
sh tests/tools/mkcert.sh "$w/tls"
mkdir -p "$w/www/nodes" "$w/reports"
python3 tests/tools/testserver.py --dir "$w/www" --portfile "$w/http.port" & pids="$pids $!"
python3 tests/tools/testserver.py --reports "$w/reports" --tls "$w/tls/server.pem" "$w/tls/server.key" \
	--portfile "$w/https.port" & pids="$pids $!"
python3 tests/tools/notify-listen.py "$w/notify.sock" "$w/notify.log" & pids="$pids $!"
for i in $(seq 50); do [ -s "$w/http.port" ] && [ -s "$w/https.port" ] && [ -S "$w/notify.sock" ] && break; sleep 0.1; done
http=$(cat "$w/http.port") https=$(cat "$w/https.port")

cat > "$w/www/nodes/52:54:00:12:34:01.yaml" <<EOC
schema: node-agent/config/v1
cluster: {server: https://10.0.0.10:6443, token_file: /run/credentials/node-agent.service/k3s-token}
node_name: "\${product}-\${serial}"
rules:
  - name: all
    labels: {site: lab}
report:
  url: https://127.0.0.1:$https/reports
  ca_pem: |
$(sed 's/^/    /' "$w/tls/ca.pem")
EOC
printf 'schema: node-agent/config/v1\nrules: [\n' > "$w/www/broken.yaml"

root=$(scratch_copy qemu-q35)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
set_cmdline() { printf 'console=ttyS0 BOOTIF=01-52-54-00-12-34-01 nodeagent.config=%s quiet\n' "$1" > "$root/proc/cmdline"; }
run() { # run TARGET [ARGS]: node-agent run with the fake notify socket
	t=$1
	shift
	NOTIFY_SOCKET=$w/notify.sock timeout 60 "$NODE_AGENT" run --root "$root" --target "$t" "$@" 2>"$t.err"
}

t=$w/target-ok
mkdir -p "$t"
set_cmdline "http://127.0.0.1:$http/nodes/\${mac}.yaml"
run "$t"
is "$?" 0 "run exits 0"
is "$("$NODE_AGENT" status --target "$t" --json | jq -c '[.result, [.stages[] | .stage + ":" + .result]]')" \
	'["ok",["detect:ok","config:ok","report:ok","plan:ok","apply:ok","join:skipped","gitops:skipped"]]' \
	"state.json: every stage, join skipped (no K3s here)"
like "$("$NODE_AGENT" status --target "$t" --json | jq -r '.stages[1].message')" \
	"^http://127.0.0.1:$http/nodes/52:54:00:12:34:01.yaml " "the config URL had \${mac} filled in"
is "$(jq -r .schema "$t/var/lib/node-agent/inventory.json")" node-agent/inventory/v1 "inventory.json is kept"
is "$(ls "$w/reports" | grep -c 'json$')" 1 "one report arrived at the TLS collector"
is "$(jq -c '[.schema, .machine_id, .inventory.schema, .inventory.system.serial]' "$w/reports/0000.json")" \
	'["node-agent/report/v1","5d2f8a0c3b7e4916a4c1e8f2d0b6a973","node-agent/inventory/v1","PC1ABCDE"]' \
	"the report is the inventory in a report/v1 envelope"
is "$(jq -r '."Idempotency-Key"' "$w/reports/0000.headers")" "\"$(jq -r .idempotency_key "$w/reports/0000.json")\"" \
	"the Idempotency-Key header is the envelope's key"
is "$(jq -r '."Content-Type"' "$w/reports/0000.headers")" application/json "posted as application/json"
like "$(cat "$t/etc/rancher/k3s/config.yaml")" '^node-name: thinkcentre-m720q-pc1abcde$' "the K3s config was applied"
like "$(cat "$w/notify.log")" '^STATUS=config: fetching http://127\.0\.0\.1' "STATUS= tells the config stage"
like "$(cat "$w/notify.log")" '^READY=1$' "READY=1 at the end"
like "$(cat "$w/notify.log")" '^STATUS=done: node thinkcentre-m720q-pc1abcde' "STATUS= tells the result"

# An inventory-only config (what node-agent serve hands a machine it has not accepted): no
# cluster, no rules. Detected and reported; nothing planned, applied or joined, no file written.
cat > "$w/www/nodes/inventory-only.yaml" <<EOC
schema: node-agent/config/v1
report:
  url: https://127.0.0.1:$https/reports
  ca_pem: |
$(sed 's/^/    /' "$w/tls/ca.pem")
EOC
t=$w/target-inventory-only
mkdir -p "$t"
set_cmdline "http://127.0.0.1:$http/nodes/inventory-only.yaml"
: >"$w/notify.log"
run "$t"
is "$?" 0 "an inventory-only config: run exits 0"
is "$("$NODE_AGENT" status --target "$t" --json | jq -c '[.result, [.stages[] | .stage + ":" + .result]]')" \
	'["ok",["detect:ok","config:ok","report:ok","plan:skipped","apply:skipped","join:skipped","gitops:skipped"]]' \
	"inventory only: detected and reported, plan, apply, join and gitops skipped"
is "$("$NODE_AGENT" status --target "$t" --json | jq -r '.stages[3].message')" \
	"inventory only: the config names no cluster" "... and the status says why"
is "$(ls "$w/reports" | grep -c 'json$')" 2 "inventory only: the report arrived"
is "$(cd "$t" && find . -type f ! -path './var/lib/node-agent/*' | sort | tr '\n' ' ')" "" \
	"inventory only: nothing written outside node-agent's own state (no K3s config, no mounts)"
like "$(cat "$w/notify.log")" '^STATUS=done: inventory only \(the config names no cluster\)' \
	"STATUS= says inventory only"
set_cmdline "http://127.0.0.1:$http/nodes/\${mac}.yaml"

# A collector whose certificate the pinned CA did not sign: the report fails, the boot goes on.
sed -i '/^report:/,$d' "$w/www/nodes/52:54:00:12:34:01.yaml"
printf 'report:\n  url: https://127.0.0.1:%s/reports\n' "$https" >> "$w/www/nodes/52:54:00:12:34:01.yaml"
t=$w/target-untrusted
mkdir -p "$t"
run "$t"
is "$?" 0 "an untrusted collector does not stop the boot"
is "$("$NODE_AGENT" status --target "$t" --json | jq -r '.stages[] | select(.stage == "report") | .result')" failed \
	"the report stage failed"
like "$(cat "$t.err")" 'report: .*TLS verification failed' "and says the TLS verification failed"
is "$(ls "$w/reports" | grep -c 'json$')" 2 "nothing was sent to it (the two reports above)"

# Faults: each retried with backoff, then given up; inventory kept, nothing applied.
for case in "status/404:HTTP status 404" "status/500:HTTP status 500" "broken.yaml:invalid config: .*broken.yaml:3:1" \
	"closed:cannot connect"; do
	path=${case%%:*} want=${case#*:}
	url=http://127.0.0.1:$http/$path
	[ "$path" = closed ] && url=http://127.0.0.1:1/config.yaml
	set_cmdline "$url"
	t=$w/target-$(echo "$path" | tr / -)
	mkdir -p "$t"
	: > "$w/notify.log"
	start=$(date +%s)
	run "$t" --config-timeout 4
	rc=$?
	took=$(($(date +%s) - start))
	is "$rc" 1 "$path: run fails"
	ok "$([ "$took" -le 20 ]; echo $?)" "$path: gives up after its bounded retries (${took} s)"
	like "$(cat "$t.err")" "config: .*$want.*attempt 1, retrying in" "$path: the journal says why and that it retries"
	like "$(cat "$t.err")" "attempt 2, retrying in [2-3]\.[0-9] s" "$path: the delay grows (backoff)"
	like "$(cat "$w/notify.log")" "^STATUS=config: .*$want.*retrying in" "$path: systemctl status (STATUS=) says why"
	is "$("$NODE_AGENT" status --target "$t" --json | jq -c '[.result, [.stages[] | .stage + ":" + .result]]')" \
		'["failed",["detect:ok","config:failed"]]' "$path: state.json says where it stopped"
	is "$(jq -r .schema "$t/var/lib/node-agent/inventory.json")" node-agent/inventory/v1 "$path: the inventory is kept"
	[ ! -e "$t/etc/rancher" ]
	ok $? "$path: nothing was applied: a half-read config never joins"
done

# A placeholder the machine cannot fill is an error, not a wrong URL.
sed -i 's/^PC1ABCDE$//' "$root/sys/class/dmi/id/product_serial" 2>/dev/null
: > "$(cd "$root/sys/class/dmi/id" && pwd -P)/product_serial"
set_cmdline "http://127.0.0.1:$http/nodes/\${serial}.yaml"
t=$w/target-noserial
mkdir -p "$t"
run "$t" --config-timeout 2
is "$?" 1 "an unknown \${serial} fails the config stage"
like "$(cat "$t.err")" 'config: \$\{serial\} in nodeagent.config is unknown here' "and says which value is unknown"
done_testing
