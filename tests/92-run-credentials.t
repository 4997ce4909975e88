#!/bin/sh
# node-agent run with node-agent serve's config (cluster.credentials): the ticket redeemed
# over real TLS on loopback (tests/tools/serve-join-double.py answers as serve does, issue 15
# contract section 2) for the server, the token files and the node password; a refusal (403)
# joins nothing; 503 "waiting for the first server" is waited out, within a bound; a role the
# node's own plan disagrees with is refused; and no secret (token, agent token, node
# password, machine key, ticket) reaches state.json, the config copy, the log or sd_notify.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

for c in python3 openssl jq curl; do
	if ! command -v $c >/dev/null; then
		skip "node-agent run with credentials" "$c missing"
		done_testing
		exit 0
	fi
done
w=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $w"
pids=""
trap 'stop_swtpm; for p in $pids; do kill $p 2>/dev/null; done; cleanup' EXIT
unset NODE_AGENT_TPM_TCP
sh tests/tools/mkcert.sh "$w/tls"
mkdir -p "$w/log"
echo '[]' > "$w/answers.json"
python3 tests/tools/serve-join-double.py --tls "$w/tls/server.pem" "$w/tls/server.key" \
	--answers "$w/answers.json" --log "$w/log" --portfile "$w/port" & pids="$pids $!"
python3 tests/tools/notify-listen.py "$w/notify.sock" "$w/notify.log" & pids="$pids $!"
for i in $(seq 50); do [ -s "$w/port" ] && [ -S "$w/notify.sock" ] && break; sleep 0.1; done
port=$(cat "$w/port")
root=tests/fixtures/qemu-q35

ticket=v1.TicketOfThisMachine.0123456789abcdef
token=K10$(printf '%064d' 7)::server:SeCrEtToKeN0123
init_token=SeCrEtInItToKeN42 # the server-init's: the raw server token, no CA hash yet
agent_token=AgEnTtOkEn0123456789
password=0123456789abcdef0123456789abcdef
key=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
config() { # config FILE ROLE
	cat > "$1" <<EOC
schema: node-agent/config/v1
cluster:
  credentials:
    url: https://127.0.0.1:$port/api/v1/join
    ticket: "$ticket"
node_name: n1
persistent_root: true
rules:
  - name: all
    role: $2
report:
  url: https://127.0.0.1:$port/reports
  ca_pem: |
$(sed 's/^/    /' "$w/tls/ca.pem")
EOC
}
answer() { # answer ROLE SERVER(JSON): one 200
	printf '{"status": 200, "body": {"schema": "node-agent/join-credentials/v1", "machine": "7", "code": "ABC123", "role": "%s", "server": %s, "token": "%s", %s "node_password": "%s", "machine_key": "%s"}}' \
		"$1" "$2" "$([ "$1" = server-init ] && echo "$init_token" || echo "$token")" "$([ "$1" = server-init ] && printf '"agent_token": "%s",' "$agent_token")" "$password" "$key"
}
refused='{"status": 403, "body": {"error": "this machine is not accepted", "reason": "not-accepted"}}'
waiting='{"status": 503, "body": {"error": "no server yet", "reason": "waiting-for-first-server"}, "headers": {"Retry-After": "1"}}'
run() { # run TARGET CONFIG: node-agent run with the fake notify socket
	NOTIFY_SOCKET=$w/notify.sock timeout 60 "$NODE_AGENT" run --root "$root" --target "$1" \
		--config "$2" 2>"$1.err"
}
stages() { "$NODE_AGENT" status --target "$1" --json | jq -c '[.result, [.stages[] | .stage + ":" + .result]]'; }
message() { "$NODE_AGENT" status --target "$1" --json | jq -r ".stages[] | select(.stage == \"$2\") | .message"; }
last_request() { ls "$w/log" | sort | tail -n 1; }
join_requests() { grep -l '"path": "/api/v1/join"' "$w/log"/*.json 2>/dev/null | wc -l; }

# --- an accepted agent ---
config "$w/agent.yaml" agent
echo "[$(answer agent '"https://10.0.0.10:6443"')]" > "$w/answers.json"
t=$w/agent
mkdir -p "$t"
run "$t" "$w/agent.yaml"
is "$?" 0 "accepted agent: run exits 0"
is "$(stages "$t")" \
	'["ok",["detect:ok","config:ok","report:ok","credentials:ok","plan:ok","apply:ok","join:skipped","gitops:skipped"]]' \
	"state.json: a credentials stage between report and plan"
is "$(message "$t" credentials)" "machine 7 (code ABC123): role agent, server https://10.0.0.10:6443" \
	"the credentials stage says which machine, role and server"
req=$(grep -l '"path": "/api/v1/join"' "$w/log"/*.json | head -n 1)
is "$(jq -r .body "$req" | jq -c '[.schema, .ticket, .inventory.schema, .inventory.system.serial]')" \
	"[\"node-agent/join-request/v1\",\"$ticket\",\"node-agent/inventory/v1\",\"PC1ABCDE\"]" \
	"the join request: schema, the ticket and the inventory"
is "$(jq -r '.headers["Content-Type"]' "$req")" application/json "posted as application/json"
if [ -e /dev/tpmrm0 ]; then
	skip "no TPM: no tpm member" "this machine has /dev/tpmrm0"
else
	is "$(jq -r .body "$req" | jq -r 'has("tpm")')" false "no TPM: the join request has no tpm member"
	like "$(cat "$t.err")" 'credentials: no TPM 2.0 .*: serve knows this machine by its hardware identity' \
		"... and the log says serve knows the machine by its hardware identity"
fi
cred=$t/run/node-agent/credentials
is "$(stat -c %a "$cred")" 700 "the credentials directory is 0700"
is "$(stat -c %a "$cred/k3s-token")" 600 "the token file is 0600"
is "$(cat "$cred/k3s-token")" "$token" "the token file holds serve's token"
[ ! -e "$cred/k3s-agent-token" ]
ok $? "an agent gets no agent-token file"
k3s=$t/etc/rancher/k3s/config.yaml
like "$(cat "$k3s")" '^server: "https://10\.0\.0\.10:6443"$' "K3s config: serve's server"
like "$(cat "$k3s")" "^token-file: $cred/k3s-token\$" "K3s config: token-file is the credentials file"
is "$(cat "$t/etc/rancher/node/password")" "$password" "the node password is serve's"
is "$(stat -c %a "$t/etc/rancher/node/password") $(stat -c %a "$t/etc/rancher/node")" "600 755" \
	"node password 0600 in /etc/rancher/node 0755"
like "$(cat "$t/var/lib/node-agent/config.yaml")" 'ticket: "redacted"' "the config copy has no ticket"

# --- the node password already there (K3s's own, on the data disk) is kept ---
echo "[$(answer agent '"https://10.0.0.10:6443"')]" > "$w/answers.json"
echo 'kept-by-k3s' > "$t/etc/rancher/node/password"
run "$t" "$w/agent.yaml"
is "$?" 0 "a second boot: run exits 0"
is "$(cat "$t/etc/rancher/node/password")" kept-by-k3s "an existing node password is kept"
like "$(cat "$t.err")" 'node password: .*exists: kept' "and the log says so"
cp "$t.err" "$w/agent2.err"

# --- refused: nothing joined, nothing written ---
echo "[$refused]" > "$w/answers.json"
t=$w/refused
mkdir -p "$t"
run "$t" "$w/agent.yaml"
is "$?" 1 "403: run exits 1"
is "$(stages "$t")" '["failed",["detect:ok","config:ok","report:ok","credentials:failed"]]' \
	"403: the credentials stage failed, nothing after it"
is "$(message "$t" credentials)" \
	"refused by serve: not-accepted (this machine is not accepted); nothing joined" \
	"403: the status says serve's reason"
is "$(cd "$t" && find . -type f ! -path './var/lib/node-agent/*' | sort | tr '\n' ' ')" "" \
	"403: nothing written outside node-agent's state (no token, no K3s config)"

# --- waiting for the first server, then accepted ---
echo "[$waiting, $waiting, $(answer agent '"https://10.0.0.10:6443"')]" > "$w/answers.json"
t=$w/waiting
mkdir -p "$t"
: >"$w/notify.log"
before=$(join_requests)
start=$(date +%s)
NODE_AGENT_CREDENTIALS_WAIT_S=30 run "$t" "$w/agent.yaml"
is "$?" 0 "503 twice, then 200: run exits 0"
took=$(($(date +%s) - start))
ok "$([ "$took" -ge 2 ] && [ "$took" -le 30 ]; echo $?)" "it waited Retry-After each time (${took} s)"
is "$(($(join_requests) - before))" 3 "three join requests"
like "$(cat "$w/notify.log")" '^STATUS=credentials: waiting for the first server$' \
	"systemctl status says it waits for the first server"
like "$(cat "$t.err")" 'credentials: serve waits for the first server' "so does the log"
is "$(cat "$t/run/node-agent/credentials/k3s-token")" "$token" "then the token is written"

# --- waiting for ever is bounded ---
echo "[$waiting]" > "$w/answers.json"
t=$w/waiting-long
mkdir -p "$t"
start=$(date +%s)
NODE_AGENT_CREDENTIALS_WAIT_S=2 run "$t" "$w/agent.yaml"
is "$?" 1 "503 past NODE_AGENT_CREDENTIALS_WAIT_S: run exits 1"
took=$(($(date +%s) - start))
ok "$([ "$took" -le 20 ]; echo $?)" "it gave up within its bound (${took} s)"
like "$(message "$t" credentials)" 'HTTP status 503.*still no credentials after [0-9]+ attempts \(2 s, NODE_AGENT_CREDENTIALS_WAIT_S\); nothing joined' \
	"the status says it gave up waiting"
[ ! -e "$t/run" ] && [ ! -e "$t/etc" ]
ok $? "nothing written"

# --- serve and the node disagree on the role ---
echo "[$(answer server '"https://10.0.0.10:6443"')]" > "$w/answers.json"
t=$w/disagree
mkdir -p "$t"
run "$t" "$w/agent.yaml"
is "$?" 1 "serve says server, the plan agent: run exits 1"
is "$(stages "$t")" '["failed",["detect:ok","config:ok","report:ok","credentials:ok","plan:failed"]]' \
	"the plan stage refuses"
is "$(message "$t" plan)" \
	"refused: node-agent serve gives this machine the role server, its own plan says agent; nothing joined" \
	"the message names both roles"
[ ! -e "$t/run" ] && [ ! -e "$t/etc" ]
ok $? "no token written, nothing applied"

# --- the server-init: server and agent tokens; no server in its K3s config ---
config "$w/init.yaml" server-init
echo "[$(answer server-init null)]" > "$w/answers.json"
t=$w/init
mkdir -p "$t"
run "$t" "$w/init.yaml"
is "$?" 0 "server-init: run exits 0"
is "$(message "$t" credentials)" "machine 7 (code ABC123): role server-init, server none (it creates the cluster)" \
	"server-init: no server"
cred=$t/run/node-agent/credentials
is "$(cat "$cred/k3s-token") $(cat "$cred/k3s-agent-token")" "$init_token $agent_token" \
	"server-init: the token and the agent token"
is "$(stat -c %a "$cred/k3s-agent-token")" 600 "the agent-token file is 0600"
k3s=$t/etc/rancher/k3s/config.yaml
like "$(cat "$k3s")" "^token-file: $cred/k3s-token\$" "K3s config: token-file"
like "$(cat "$k3s")" "^agent-token-file: $cred/k3s-agent-token\$" "K3s config: agent-token-file"
like "$(cat "$k3s")" '^cluster-init: true$' "K3s config: cluster-init"
unlike "$(cat "$k3s")" '^server:' "K3s config: no server"

# --- the server-init joins (K3s test double, --no-start), then tells serve about the
# cluster: with the fixture root the node's own address is unknown and the admin
# kubeconfig's server is 127.0.0.1, so that step only warns; the node stays joined ---
sh tests/tools/mk-k3s-pki.sh -n n1 "$w/pki" >/dev/null 2>&1
python3 tests/tools/k3s-double.py --pki "$w/pki" --port 0 --portfile "$w/k3s.port" 2>"$w/k3s.log" &
pids="$pids $!"
for i in $(seq 100); do [ -s "$w/k3s.port" ] && break; sleep 0.1; done
api=https://127.0.0.1:$(cat "$w/k3s.port")
d=$w/init-joined
mkdir -p "$d/var/lib/rancher/k3s/agent" "$d/etc/rancher/k3s"
cp "$w/pki/server-ca.crt" "$d/var/lib/rancher/k3s/agent/server-ca.crt"
cp "$w/pki/client-kubelet-n1.crt" "$d/var/lib/rancher/k3s/agent/client-kubelet.crt"
cp "$w/pki/client-kubelet-n1.key" "$d/var/lib/rancher/k3s/agent/client-kubelet.key"
cat > "$d/var/lib/rancher/k3s/agent/kubelet.kubeconfig" <<EOK
apiVersion: v1
kind: Config
clusters:
- cluster: {server: "$api", certificate-authority: /var/lib/rancher/k3s/agent/server-ca.crt}
  name: local
contexts:
- context: {cluster: local, user: user}
  name: Default
current-context: Default
users:
- name: user
  user:
    client-certificate: /var/lib/rancher/k3s/agent/client-kubelet.crt
    client-key: /var/lib/rancher/k3s/agent/client-kubelet.key
EOK
sed "s#server: https://127.0.0.1:[0-9]*#server: $api#" "$w/pki/k3s.yaml" > "$d/etc/rancher/k3s/k3s.yaml"
curl -sS --cacert "$w/pki/server-ca.crt" -X POST "$api/_double/nodes" \
	-d '{"name": "n1", "server": true, "as": "admin"}' >/dev/null
NOTIFY_SOCKET=$w/notify.sock timeout 60 "$NODE_AGENT" run --root "$root" --target "$d" \
	--config "$w/init.yaml" --no-start --join-timeout 10 2>"$d.err"
is "$?" 0 "server-init joined: run exits 0"
is "$(stages "$d")" \
	'["ok",["detect:ok","config:ok","report:ok","credentials:ok","plan:ok","apply:ok","join:ok","gitops:skipped"]]' \
	"server-init: joined"
like "$(cat "$d.err")" "warning: credentials: the cluster not announced to serve: the admin kubeconfig's server is a loopback address and this node's own IPv4 address is unknown" \
	"telling serve about the cluster failed with a warning that says why"

# --- a machine with a TPM 2.0 (swtpm on loopback): the ticket signed by its machine key ---
tt=$(dirname "$NODE_AGENT")/tests/test-tpm2
if ! command -v swtpm >/dev/null 2>&1 || [ ! -x "$tt" ]; then
	skip "the ticket signed by the TPM" "swtpm or $tt missing"
else
	start_swtpm "$w/tpm" "$w/swtpm.log"
	ok $? "swtpm listens ($NODE_AGENT_TPM_TCP)"
	echo "[$(answer agent '"https://10.0.0.10:6443"')]" >"$w/answers.json"
	t=$w/tpm-agent
	mkdir -p "$t"
	run "$t" "$w/agent.yaml"
	is "$?" 0 "with a TPM: run exits 0"
	req=$(grep -l '"path": "/api/v1/join"' "$w/log"/*.json | sort | tail -n 1)
	jq -r .body "$req" | jq -r .tpm.public_key >"$w/tpm-sent.pem"
	timeout 60 "$tt" key >"$w/tpm-key.pem" 2>"$w/tpm-key.err"
	is "$(cat "$w/tpm-sent.pem")" "$(cat "$w/tpm-key.pem")" "the join request's tpm.public_key is the TPM's machine key"
	jq -r .body "$req" | jq -r .tpm.signature | base64 -d >"$w/tpm-sig.der"
	printf '%s' "$ticket" >"$w/ticket.txt"
	openssl dgst -sha256 -verify "$w/tpm-key.pem" -signature "$w/tpm-sig.der" "$w/ticket.txt" >/dev/null 2>&1
	ok $? "tpm.signature is the TPM key's ECDSA signature of the ticket (openssl dgst -verify)"
	like "$(cat "$t.err")" "credentials: the ticket is signed by this machine's TPM key" "the log says so"
	stop_swtpm
	# a TPM that does not answer: said, and the request goes without a signature
	NODE_AGENT_TPM_TCP=127.0.0.1:$(free_port)
	t=$w/tpm-broken
	mkdir -p "$t"
	run "$t" "$w/agent.yaml"
	is "$?" 0 "a TPM that does not answer: run still exits 0 (serve decides)"
	req=$(grep -l '"path": "/api/v1/join"' "$w/log"/*.json | sort | tail -n 1)
	is "$(jq -r .body "$req" | jq -r 'has("tpm")')" false "... the request has no tpm member"
	like "$(cat "$t.err")" "warning: credentials: TPM: .*; asking without a TPM signature" \
		"... and a warning says why"
	unset NODE_AGENT_TPM_TCP
fi

# --- secrets stay out of state.json, the config copy, the logs, sd_notify and reports ---
all=$(cat "$w"/*/var/lib/node-agent/state.json "$w"/*/var/lib/node-agent/config.yaml \
	"$w"/*.err "$w/notify.log" "$w/agent2.err")
reports=$(for f in "$w/log"/*.json; do jq -r 'select(.path == "/reports") | .body' "$f"; done)
like "$reports" '"schema": ?"node-agent/report/v1"' "the reports are there to look into"
for s in "$token" "$init_token" "$agent_token" "$password" "$key" "$ticket" SeCrEtToKeN0123; do
	unlike "$all" "$s" "no secret in state.json, the config copy, the log or STATUS= (${s%"${s#????}"}...)"
	unlike "$reports" "$s" "no secret in the reports (${s%"${s#????}"}...)"
done
done_testing
