#!/bin/sh
# Join secrets from node-agent serve, on 127.0.0.1 (serve/cluster.c): an operator's node config
# that names no cluster, so serve makes it; accepted machines' node configs carry a boot ticket;
# POST /api/v1/join over HTTPS hands the credentials of the role serve's rules give, once per
# ticket. Refused, each with its reason: a made-up or edited ticket, another machine's, a used
# one, a superseded one, a retired machine, a second server-init; agents and servers wait
# (503) until the server-init machine reports the cluster, whose CA hash is then pinned. No
# token or node password in serve's log or on plain HTTP; the database is 0600. The role of a
# machine's first join is kept (role-changed); a retire leaves alone a Node whose systemUUID
# is not the machine's (the K3s double on loopback is the cluster).
. "$(dirname "$0")/lib.sh"

d=$(mktemp -d "${TMPDIR:-/tmp}/na-sjoin.XXXXXX")
cleanup_dirs="$cleanup_dirs $d"
pid=""
trap 'stop_swtpm; [ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$kpid" ] && kill "$kpid" 2>/dev/null; wait 2>/dev/null; cleanup' EXIT
kpid=""

mkdir -p "$d/img" "$d/state"
# the cluster: the K3s double on loopback (its /cacerts, its admin's bearer token)
sh "$TESTS_DIR/tools/mk-k3s-pki.sh" -n w1 "$d/pki" >/dev/null 2>&1
python3 "$TESTS_DIR/tools/k3s-double.py" --pki "$d/pki" --port 0 --portfile "$d/kport" 2>"$d/double.log" &
kpid=$!
for _ in $(seq 100); do [ -s "$d/kport" ] && break; sleep 0.1; done
kapi=https://127.0.0.1:$(cat "$d/kport")
khash=$(sed 's/^K10\([0-9a-f]*\)::.*/\1/' "$d/pki/token")
: >"$d/img/vmlinuz"
: >"$d/img/initrd"
cat >"$d/node.yaml" <<'EOF2'
schema: node-agent/config/v1
node_name: "${serial}"
rules:
  - name: first
    match: {serial: [SRV-1, SRV-2]}
    role: server-init
  - name: big
    match: {min_memory_gib: 4096}
    role: server
  - name: workers
    match: {serial: [AG-1, AG-2]}
    labels: {site: lab}
EOF2
printf 'operator-secret-1\n' >"$d/token"
cat >"$d/serve.yaml" <<EOF2
schema: node-agent/serve/v1
address: 127.0.0.1
state_dir: $d/state
image: {dir: $d/img}
node_config: $d/node.yaml
http: {listen: 127.0.0.1, port: 0}
https: {port: 0}
accept:
  - name: lab
    match: {serial: [SRV-1, SRV-2, AG-1, AG-2]}
operators:
  - name: alice
    token_sha256: $(printf 'operator-secret-1' | sha256sum | cut -d' ' -f1)
EOF2
ca=$d/state/tls-cert.pem
"$NODE_AGENT" serve --config "$d/serve.yaml" 2>"$d/log" &
pid=$!
url=""
for _ in $(seq 100); do
	url=$(sed -n 's|.*listening on \(http://[0-9.:]*\) and .*|\1|p' "$d/log")
	[ -n "$url" ] && break
	sleep 0.1
done
surl=$(sed -n 's|.*listening on http://[0-9.:]* and \(https://[0-9.:]*\) .*|\1|p' "$d/log")
[ -n "$surl" ]
ok $? "serve starts"
[ -n "$surl" ] || { diag "$(cat "$d/log")"; done_testing; exit 1; }

# inventories: the QEMU fixture with another serial, UUID and MACs per machine
inv() { # SERIAL N
	jq -c --arg s "$1" --arg m "52:54:00:77:00:0$2" --arg u "4c4c4544-0042-3510-8052-00000000000$2" \
		'.system.serial = $s | .system.uuid = $u | .boot.pxe_mac = $m | .nics[0].mac = $m | .nics[1].mac = ($m | sub("77"; "78"))' \
		"$FIXTURES/qemu-q35.expected.json"
}
n=0
for m in SRV-1 AG-1 AG-2 SRV-2 X-9; do
	n=$((n + 1))
	inv $m $n >"$d/$m.inv"
	jq -c --arg k "$(printf '%032d' $n)" '{schema:"node-agent/report/v1",machine_id:"x",idempotency_key:$k,created_at:"2026-01-01T00:00:00Z",inventory:.}' \
		"$d/$m.inv" >"$d/$m.report"
	curl --cacert "$ca" -sf -o /dev/null --data-binary @"$d/$m.report" "$surl/reports" || diag "report of $m refused"
done
mac() { echo "52:54:00:77:00:0$1"; }
is "$(curl --cacert "$ca" -sf "$surl/api/machines" | jq -r '[.machines[] | .state] | join(",")')" \
	accepted,accepted,accepted,accepted,discovered "four machines accepted by rule, one not"

# the node config of an accepted machine: serve's credentials URL and a boot ticket
config() { curl -sf "$url/config/$(mac "$1").yaml"; }
ticket_of() { sed -n 's/^ *ticket: "\(.*\)"$/\1/p'; }
c=$(config 2)
like "$c" "^  credentials:" "an accepted machine's config: cluster.credentials"
like "$c" "url: $surl/api/v1/join" "... the HTTPS URL to ask"
t_ag1=$(printf '%s\n' "$c" | ticket_of)
like "$t_ag1" '^v1\.[0-9]+\.[0-9]+\.[0-9a-f]{32}\.[0-9a-f]{64}$' "... and a boot ticket"
c=$(config 5)
unlike "$c" "ticket|credentials" "an unaccepted machine's config carries no ticket"
like "$c" "does nothing else" "... it is the inventory-only one"

# join requests
req() { # INVENTORY_FILE TICKET
	jq -c --arg t "$2" '{schema:"node-agent/join-request/v1",ticket:$t,inventory:.}' "$1"
}
join() { # INVENTORY_FILE TICKET -> $code, $d/resp
	req "$1" "$2" >"$d/req"
	code=$(curl --cacert "$ca" -s -o "$d/resp" -D "$d/headers" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary @"$d/req" "$surl/api/v1/join")
}
reason() { jq -r .reason "$d/resp"; }

code=$(curl -s -o "$d/resp" -w '%{http_code}' --data-binary @/dev/null "$url/api/v1/join")
is "$code" 403 "the join API over plain HTTP: 403, before a body is read"
join "$d/AG-1.inv" "$t_ag1"
is "$code/$(reason)" 503/waiting-for-first-server "an agent before the cluster exists: 503, waiting for the first server"
like "$(tr -d '\r' <"$d/headers")" "Retry-After: 5" "... Retry-After: 5"
join "$d/AG-1.inv" "${t_ag1%?}0"
[ "${t_ag1#"${t_ag1%?}"}" = 0 ] && join "$d/AG-1.inv" "${t_ag1%?}1"
is "$code/$(reason)" 403/tampered "a ticket with its signature changed: 403 tampered"
forged=$(printf '%s' "$t_ag1" | sed 's/^v1\.[0-9]*\./v1.1./')
join "$d/SRV-1.inv" "$forged"
is "$code/$(reason)" 403/tampered "a ticket moved to another machine: 403 tampered"
join "$d/AG-1.inv" "made-up"
is "$code/$(reason)" 403/tampered "a made-up ticket: 403 tampered"
join "$d/X-9.inv" "$t_ag1"
is "$code/$(reason)" 403/identity-mismatch "another machine presenting AG-1's ticket: 403 identity-mismatch"
code=$(curl --cacert "$ca" -s -o "$d/resp" -w '%{http_code}' --data-binary '{"schema":"x"}' "$surl/api/v1/join")
is "$code/$(reason)" 400/bad-request "not a join request: 400"

# the server-init machine creates the cluster
t_srv=$(config 1 | ticket_of)
join "$d/SRV-1.inv" "$t_srv"
is "$code/$(jq -r .role "$d/resp")" 200/server-init "the server-init machine gets its credentials"
srv_token=$(jq -r .token "$d/resp")
agent_token=$(jq -r .agent_token "$d/resp")
srv_key=$(jq -r .machine_key "$d/resp")
srv_pw=$(jq -r .node_password "$d/resp")
like "$srv_token" '^[0-9a-f]{64}$' "... the raw server token to create the cluster with"
like "$agent_token" '^[0-9a-f]{64}$' "... the agent token (K3s agent-token)"
like "$srv_pw" '^[0-9a-f]{32}$' "... a node password as K3s makes them"
is "$(jq -r .server "$d/resp")" null "... and no server to join"
cp "$d/req" "$d/srv.req"
join "$d/SRV-1.inv" "$t_srv"
is "$code/$(reason)" 403/replayed "the same request again: 403 replayed"
join "$d/SRV-2.inv" "$(config 4 | ticket_of)"
is "$code/$(reason)" 403/role-taken "a second machine the rules make server-init: 403 role-taken"

# the cluster, reported by the server-init machine with its key
hash=$khash
post_cluster() { # KEY BODY
	code=$(curl --cacert "$ca" -s -o "$d/resp" -w '%{http_code}' -H "Authorization: Bearer $1" \
		--data-binary "$2" "$surl/api/v1/cluster")
}
doc() { printf '{"schema":"node-agent/cluster/v1","server":"%s","ca_hash":"%s","api_token":"%s"}' "$kapi" "$1" "$(cat "$d/pki/admin.token")"; }
post_cluster "$(printf 'b%.0s' $(seq 64))" "$(doc "$hash")"
is "$code/$(reason)" 403/unknown-key "the cluster from a key serve never gave: 403"
post_cluster "$srv_key" '{"schema":"node-agent/cluster/v1","server":"http://x","ca_hash":"1"}'
is "$code/$(reason)" 400/bad-request "a malformed cluster document: 400"
post_cluster "$srv_key" "$(doc "$hash")"
is "$code/$(jq -r .pinned "$d/resp")" 200/true "the server-init machine reports the cluster: its CA hash is pinned"
post_cluster "$srv_key" "$(doc "$(printf 'c%.0s' $(seq 64))")"
is "$code/$(reason)" 409/ca-hash-conflict "another CA hash later: 409, not taken silently"
is "$(curl --cacert "$ca" -sf "$surl/api/v1/cluster" | jq -c .)" \
	"{\"server\":\"$kapi\",\"ca_hash\":\"$hash\",\"init_machine\":\"1\"}" \
	"GET /api/v1/cluster: server, CA hash, the init machine, no secret"

# now agents join, with a K10 token carrying the pinned hash
join "$d/AG-1.inv" "$t_ag1"
is "$code/$(jq -r .role "$d/resp")" 200/agent "the waiting agent's ticket is still good: its credentials"
is "$(jq -r .token "$d/resp")" "K10$hash::node:$agent_token" "... the agent token as K10<CA hash>::node:<agent token>"
is "$(jq -r .server "$d/resp")" "$kapi" "... and the server to join"
ag1_pw=$(jq -r .node_password "$d/resp")
join "$d/AG-1.inv" "$(config 2 | ticket_of)"
is "$code/$(jq -r .node_password "$d/resp")" "200/$ag1_pw" "its next boot: the same node password (a RAM-only node rejoins under its name)"
# the role of its first join is kept: an inventory the rules would make a server is refused
jq '.memory.physical_bytes = 8796093022208' "$d/AG-1.inv" >"$d/AG-1-big.inv"
join "$d/AG-1-big.inv" "$(config 2 | ticket_of)"
is "$code/$(reason)" 403/role-changed "the same machine claiming 8 TiB of RAM (a server by the rules): 403 role-changed"
t_old=$(config 3 | ticket_of)
t_new=$(config 3 | ticket_of)
join "$d/AG-2.inv" "$t_old"
is "$code/$(reason)" 403/superseded "a ticket after a newer config fetch: 403 superseded"

out=$("$NODE_AGENT" machines show 2 --server "$surl" --ca "$ca" 2>&1)
like "$out" "Cluster: role agent, node -, TPM key none" "machines show: the role handed out, no secret"

# a TPM 2.0 (swtpm): the machine key signs the ticket (tpm2_identity_sign(), as the boot job
# does); serve pins the key at the first signed request and wants a signature by it after
tt=$(dirname "$NODE_AGENT")/tests/test-tpm2
joint() { # INVENTORY_FILE TICKET PEM_FILE SIG_BASE64 -> $code, $d/resp
	jq -c --arg t "$2" --rawfile k "$3" --arg s "$4" \
		'{schema:"node-agent/join-request/v1",ticket:$t,tpm:{public_key:$k,signature:$s},inventory:.}' \
		"$1" >"$d/req"
	code=$(curl --cacert "$ca" -s -o "$d/resp" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary @"$d/req" "$surl/api/v1/join")
}
if ! command -v swtpm >/dev/null 2>&1 || [ ! -x "$tt" ]; then
	skip "TPM pinning" "swtpm or $tt missing"
else
	unset NODE_AGENT_TPM_TCP
	start_swtpm "$d/tpm" "$d/swtpm.log"
	sign() { # TICKET -> $d/id/pub.pem, $d/id/sig.b64
		rm -rf "$d/id" && mkdir "$d/id" && timeout 60 "$tt" identity "$1" "$d/id" 2>>"$d/tpm.err"
	}
	t=$(config 2 | ticket_of)
	sign "$t"
	ok $? "swtpm signs AG-1's ticket with its machine key"
	cp "$d/id/pub.pem" "$d/ag1-tpm.pem"
	joint "$d/AG-1.inv" "$t" "$d/id/pub.pem" "$(cat "$d/id/sig.b64")"
	is "$code/$(jq -r .node_password "$d/resp")" "200/$ag1_pw" "a request signed by the TPM: the credentials, the same node password"
	like "$("$NODE_AGENT" machines show 2 --server "$surl" --ca "$ca" 2>&1)" "TPM key pinned" \
		"machines show: the TPM key is pinned"
	join "$d/AG-1.inv" "$(config 2 | ticket_of)"
	is "$code/$(reason)" 403/tpm-required "then a request without a TPM signature: 403 tpm-required"
	t=$(config 2 | ticket_of)
	openssl ecparam -name prime256v1 -genkey -noout -out "$d/other.key" 2>/dev/null
	openssl ec -in "$d/other.key" -pubout -out "$d/other.pem" 2>/dev/null
	printf '%s' "$t" >"$d/t.txt"
	openssl dgst -sha256 -sign "$d/other.key" -out "$d/other.sig" "$d/t.txt"
	joint "$d/AG-1.inv" "$t" "$d/other.pem" "$(base64 -w0 "$d/other.sig")"
	is "$code/$(reason)" 403/tpm-mismatch "a valid signature by another key: 403 tpm-mismatch"
	sign "$t_ag1"
	joint "$d/AG-1.inv" "$t" "$d/id/pub.pem" "$(cat "$d/id/sig.b64")"
	is "$code/$(reason)" 403/tpm-signature "the pinned key's signature of another ticket: 403 tpm-signature"
	sign "$t"
	joint "$d/AG-1.inv" "$t" "$d/id/pub.pem" "$(cat "$d/id/sig.b64")"
	is "$code/$(jq -r .node_password "$d/resp")" "200/$ag1_pw" "... that ticket, refused three times, is still good when the TPM signs it"
	stop_swtpm
	unset NODE_AGENT_TPM_TCP
fi

# retire: the machine's credentials go; its ticket from before is refused. AG-2's report
# (reports are not authenticated) names another machine's Node: serve checks the Node's
# systemUUID before touching it, and leaves it alone
curl -sS --cacert "$d/pki/server-ca.crt" -H "Authorization: Bearer $(cat "$d/pki/admin.token")" \
	-o /dev/null -X POST "$kapi/_double/nodes" -d '{"metadata":{"name":"victim"},"status":{"nodeInfo":{"systemUUID":"0aa17e1d-0000-4000-8000-000000000001"}}}'
jq -c --arg k "$(printf '%032d' 33)" '{schema:"node-agent/report/v1",machine_id:"x",idempotency_key:$k,created_at:"2026-01-01T00:00:00Z",node:{joined:true,name:"victim"},inventory:.}' \
	"$d/AG-2.inv" | curl --cacert "$ca" -sf -o /dev/null --data-binary @- "$surl/reports"
is "$(curl --cacert "$ca" -sf "$surl/api/machines/3" | jq -r .credentials.node_name)" victim \
	"AG-2's report says it joined as Node victim"
code=$(curl --cacert "$ca" -s -o /dev/null -w '%{http_code}' -X POST \
	-H "Authorization: Bearer operator-secret-1" "$surl/api/machines/3/retire")
is "$code" 200 "AG-2 retired by the operator"
join "$d/AG-2.inv" "$t_new"
is "$code/$(reason)" 403/retired "a retired machine: 403 retired"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/config/$(mac 3).yaml")
is "$code" 404 "... and no node config for it"
ev=""
for _ in $(seq 100); do
	ev=$(curl --cacert "$ca" -sf "$surl/api/machines/3" | jq -r '[.events[] | select(.kind == "node not removed" or .kind == "node removed") | .kind + ": " + .detail][0] // empty')
	[ -n "$ev" ] && break
	sleep 0.1
done
like "$ev" "^node not removed: victim: Node victim reports system UUID 0aa17e1d-0000-4000-8000-000000000001, not this machine's 4c4c4544-0042-3510-8052-000000000003" \
	"the retire checked Node victim's systemUUID: another machine's, not removed"
is "$(curl -sS --cacert "$d/pki/server-ca.crt" -H "Authorization: Bearer $(cat "$d/pki/admin.token")" \
	"$kapi/api/v1/nodes/victim" | jq -r '.metadata.name + " " + (.spec.unschedulable // false | tostring)')" \
	"victim false" "... Node victim is still there, not even cordoned"

# the timeline says what happened; no secret anywhere serve wrote text
like "$(curl --cacert "$ca" -sf "$surl/api/machines/2" | jq -r '[.events[].kind] | join(",")')" \
	"credentials handed" "the machine's events: credentials handed"
leaks=0
for s in "$srv_token" "$agent_token" "$srv_pw" "$ag1_pw" "$srv_key"; do
	grep -rqF -- "$s" "$d/log" && leaks=$((leaks + 1))
	curl --cacert "$ca" -sf "$surl/api/machines/2" | grep -qF -- "$s" && leaks=$((leaks + 1))
done
is "$leaks" 0 "no token, node password or key in serve's log or the machines API"
is "$(stat -c %a "$d/state/serve.db")" 600 "the database (tokens, node passwords) is 0600"
kill "$pid"
wait "$pid" 2>/dev/null
pid=""
# a database an older serve left 0644 is made 0600 at the next start
chmod 0644 "$d/state/serve.db"
: >"$d/log2"
"$NODE_AGENT" serve --config "$d/serve.yaml" 2>"$d/log2" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$d/log2" && break; sleep 0.1; done
is "$(stat -c %a "$d/state/serve.db")" 600 "a database left 0644 (by an older serve) is 0600 after a start"
kill "$pid"
wait "$pid" 2>/dev/null
pid=""
done_testing
