#!/bin/sh
# `k3s server` of the TEST STAND-IN (tests/e2e/k3s-standin.c) without QEMU; prints TAP.
# Run by tests/94-k3s-standin.t (it needs root): sh tests/e2e/standin-server-check.sh
#
# The stand-in runs in a private mount namespace with scratch directories bind-mounted over
# /etc/rancher and /var/lib/rancher (created empty on the host if missing, removed again),
# its supervisor port on K3S_STANDIN_LISTEN_PORT, against the K3s double on loopback as the
# cluster API. Starts on the same directories: the first creates the server CA, the second
# keeps it, the third (server/tls deleted) creates a new one, the fourth runs without a
# cluster API and without a token file, the fifth finds a CA key that does not parse, the
# sixth and seventh join a cluster (server: set) with a token whose hash is wrong, then right.
# Env: K3S_STANDIN (default build/tests/k3s-standin).
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
standin=${K3S_STANDIN:-$top/build/tests/k3s-standin}
if [ "$(id -u)" != 0 ] || ! command -v unshare curl jq openssl python3 >/dev/null; then
	echo "1..0 # SKIP needs root, unshare, curl, jq, openssl, python3"
	exit 0
fi
[ -x "$standin" ] || { echo "1..0 # SKIP no $standin: make build/tests/k3s-standin"; exit 0; }

w=$(mktemp -d "${TMPDIR:-/tmp}/standin-server.XXXXXX")
made="" double_pid="" spid=""
finish() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	[ -n "$double_pid" ] && kill "$double_pid" 2>/dev/null
	wait 2>/dev/null
	for d in $made; do rmdir "$d"; done
	rm -rf "$w"
}
trap finish EXIT
trap 'exit 1' HUP INT PIPE TERM

sh "$top/tests/tools/mk-k3s-pki.sh" -n srv1 "$w/pki" >/dev/null
python3 "$top/tests/tools/k3s-double.py" --pki "$w/pki" --port 0 --portfile "$w/dport" \
	2>"$w/double.log" &
double_pid=$!
for i in $(seq 100); do [ -s "$w/dport" ] && break; sleep 0.1; done
api=https://127.0.0.1:$(cat "$w/dport")
sh "$top/tests/tools/mk-k3s-pki.sh" -k -s "$api" "$w/pki" >/dev/null # k3s.yaml names the double
lport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')
url=https://127.0.0.1:$lport
tls=$w/var/k3s/server/tls

mkdir -p "$w/etc/k3s" "$w/var"
printf 'secret-password-1\n' >"$w/cluster-token"
cat >"$w/etc/k3s/config.yaml" <<EOF
cluster-init: true
token-file: $w/cluster-token
node-name: srv1
node-ip: 127.0.0.1
node-label:
  - lab=server
EOF
for d in /etc/rancher /var/lib/rancher; do
	[ -d "$d" ] || { mkdir "$d" && made="$made $d"; }
done

double() { curl -sS --max-time 5 --cacert "$w/pki/server-ca.crt" "$api$1"; }
ca_line() { grep -E '^k3s \(test stand-in\): server CA sha256 [0-9a-f]{64} (kept|created) in /var/lib/rancher/k3s/server/tls$' "$w/$1.log"; }

# start TAG [VAR=VALUE...]: the stand-in's `k3s server`, stderr in $w/TAG.log; waits until its
# port answers /ping and, with a cluster API, until it labelled its Node (or it exited)
start() {
	tag=$1
	shift
	env -u NOTIFY_SOCKET "$@" K3S_STANDIN_LISTEN_PORT="$lport" unshare -m sh -c \
		'mount --bind "$1" /etc/rancher && mount --bind "$2" /var/lib/rancher && exec "$3" server --config /etc/rancher/k3s/config.yaml' \
		sh "$w/etc" "$w/var" "$standin" 2>"$w/$tag.log" &
	spid=$!
	for i in $(seq 200); do
		kill -0 "$spid" 2>/dev/null || break
		if [ "$(curl -sk --max-time 2 "$url/ping")" = pong ]; then
			case " $* " in
			*" K3S_STANDIN_API="*) grep -q 'labelled\|role labels:' "$w/$tag.log" && break ;;
			*) break ;;
			esac
		fi
		sleep 0.1
	done
}

# stop TAG: SIGTERM as systemd sends it; exit status 0 and the port closed
stop() {
	kill -TERM "$spid"
	wait "$spid"
	is "$?" 0 "$1: SIGTERM: exit status 0"
	spid=""
	sleep 0.2
	! curl -sk --max-time 2 "$url/ping" >/dev/null
	ok $? "$1: the HTTPS listener stopped with it"
}

with_api="K3S_STANDIN_API=$api K3S_STANDIN_API_TOKEN_FILE=$w/pki/token K3S_STANDIN_ADMIN_KUBECONFIG=$w/pki/k3s.yaml"

# --- 1. first start: a new CA ---
# shellcheck disable=SC2086 # VAR=VALUE words without spaces
start first $with_api
is "$(ca_line first | wc -l)" 1 "first: one CA line on stderr"
like "$(ca_line first)" ' created in ' "first: the CA was created"
hash1=$(ca_line first | awk '{ print $7 }')
curl -sk --max-time 5 -o "$w/cacerts1" -D "$w/cacerts1.head" "$url/cacerts"
cmp -s "$w/cacerts1" "$tls/server-ca.crt"
ok $? "first: GET /cacerts is server-ca.crt byte for byte"
like "$(tr -d '\r' <"$w/cacerts1.head")" '^HTTP/1.1 200' "first: /cacerts answers 200"
is "$(sha256sum <"$w/cacerts1" | cut -d' ' -f1)" "$hash1" "first: its sha256 is the one printed"
is "$(cat "$w/var/k3s/server/token")" "K10$hash1::server:secret-password-1" \
	"first: server/token is K10<that hash>::server:<the token file's password>"
is "$(readlink "$w/var/k3s/server/node-token")" token "first: node-token is a symlink to token"
is "$(stat -c %a "$w/var/k3s/server/token") $(stat -c %a "$tls/server-ca.key")" "600 600" \
	"first: token and CA key are mode 0600"
like "$(openssl x509 -in "$tls/server-ca.crt" -noout -subject)" 'CN ?= ?k3s-server-ca@[0-9]+$' \
	"first: the CA's subject is k3s-server-ca@<unix time>"
like "$(openssl x509 -in "$tls/server-ca.crt" -noout -text)" 'CA:TRUE' "first: it is a CA"
openssl pkey -in "$tls/server-ca.key" -noout -text 2>/dev/null | grep -q 'ASN1 OID: prime256v1'
ok $? "first: its key is ECDSA P-256"
is "$(curl -sS --max-time 5 --cacert "$tls/server-ca.crt" "$url/ping")" pong \
	"first: /ping answers pong over a serving certificate the CA signed for 127.0.0.1"
is "$(curl -sS --max-time 5 --cacert "$tls/server-ca.crt" --resolve "localhost:$lport:127.0.0.1" \
	"https://localhost:$lport/ping")" pong "first: the serving certificate names localhost"
is "$(curl -sk --max-time 5 -o /dev/null -w '%{http_code}' "$url/api/v1/nodes")" 404 \
	"first: any other path is 404"
is "$(curl -sk --max-time 5 -o /dev/null -w '%{http_code}' -X POST "$url/ping")" 404 \
	"first: and so is another method"
n=$(double /_double/nodes)
is "$(printf '%s' "$n" | jq -r 'keys | join(",")')" srv1 "first: the double has Node srv1"
is "$(printf '%s' "$n" | jq -r '.srv1.status.conditions[] | select(.type == "Ready") | .status')" True \
	"first: it is Ready"
is "$(printf '%s' "$n" | jq -r '.srv1.status.nodeInfo.bootID')" "$(cat /proc/sys/kernel/random/boot_id)" \
	"first: with this boot's bootID"
is "$(printf '%s' "$n" | jq -c '.srv1.metadata.labels | {lab, cp: ."node-role.kubernetes.io/control-plane", m: ."node-role.kubernetes.io/master"}')" \
	'{"lab":"server","cp":"true","m":"true"}' "first: the config's label and the server role labels"
log=$(double /_double/log)
is "$(printf '%s' "$log" | jq -r '[.[] | select(.method == "POST" and .path == "/api/v1/nodes")][0].user')" \
	system:node:srv1 "first: the Node was registered by its kubelet identity"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.method == "PATCH" and .path == "/api/v1/nodes/srv1")][0] | .user + " " + .content_type')" \
	"system:admin application/merge-patch+json" "first: the role labels were patched as admin"
is "$(stat -c %a "$w/etc/k3s/k3s.yaml")" 600 "first: /etc/rancher/k3s/k3s.yaml is mode 0600"
cmp -s "$w/etc/k3s/k3s.yaml" "$w/pki/k3s.yaml"
ok $? "first: it is the cluster API's admin kubeconfig"
[ -s "$w/var/k3s/agent/kubelet.kubeconfig" ] && [ -s "$w/etc/node/password" ]
ok $? "first: the embedded agent wrote kubelet.kubeconfig and the node password"
# a client that connects and says nothing is dropped; the port keeps answering
python3 -c 'import socket, time; s = socket.create_connection(("127.0.0.1", '"$lport"')); time.sleep(9)' &
silent=$!
sleep 0.5
is "$(curl -sk --max-time 10 "$url/ping")" pong "first: a silent client holds the port at most a few seconds"
kill "$silent" 2>/dev/null
curl -sk --max-time 5 -o /dev/null -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' x)" "$url/ping"
is "$(curl -sk --max-time 5 "$url/ping")" pong "first: a request larger than 8 KiB does not stop it"
pw1=$(cat "$w/etc/node/password")
uid1=$(double /_double/secrets | jq -r '."srv1.node-password.k3s".metadata.uid')
stop first

# --- 2. second start on the same disk: the CA is kept ---
# shellcheck disable=SC2086
start second $with_api
like "$(ca_line second)" " $hash1 kept in " "second: the CA was kept (same sha256 $hash1)"
cmp -s "$w/cacerts1" "$tls/server-ca.crt"
ok $? "second: server-ca.crt is unchanged"
is "$(curl -sk --max-time 5 "$url/cacerts" | sha256sum | cut -d' ' -f1)" "$hash1" \
	"second: /cacerts hashes to the same value (what a second node's token pins)"
is "$(cat "$w/var/k3s/server/token")" "K10$hash1::server:secret-password-1" "second: server/token unchanged"
is "$(cat "$w/etc/node/password")" "$pw1" "second: the node password was kept"
is "$(double /_double/secrets | jq -r '."srv1.node-password.k3s".metadata.uid')" "$uid1" \
	"second: the server kept the node password secret (same password accepted)"
is "$(double /_double/log | jq '[.[] | select((.path | startswith("/v1-k3s/")) and .status != 200)] | length')" 0 \
	"second: no kubelet certificate request was refused"
is "$(double /_double/nodes | jq -r 'keys | join(",")')" srv1 "second: still one Node, srv1"
stop second

# --- 3. server/tls lost: a new CA ---
rm -rf "$tls"
# shellcheck disable=SC2086
start third $with_api
like "$(ca_line third)" ' created in ' "third: without server/tls the CA was created again"
hash3=$(ca_line third | awk '{ print $7 }')
[ -n "$hash3" ] && [ "$hash3" != "$hash1" ]
ok $? "third: with another sha256 ($hash3)"
is "$(curl -sk --max-time 5 "$url/cacerts" | sha256sum | cut -d' ' -f1)" "$hash3" "third: /cacerts serves the new CA"
is "$(cat "$w/var/k3s/server/token")" "K10$hash3::server:secret-password-1" "third: server/token carries the new hash"
stop third

# --- 4. no cluster API, no token file: serve, keep the token's password ---
sed -i '/^token-file:/d' "$w/etc/k3s/config.yaml"
start fourth
like "$(ca_line fourth)" " $hash3 kept in " "fourth: without a cluster API the CA is kept all the same"
is "$(curl -sS --max-time 5 --cacert "$tls/server-ca.crt" "$url/cacerts" | sha256sum | cut -d' ' -f1)" \
	"$hash3" "fourth: /cacerts is served"
is "$(cat "$w/var/k3s/server/token")" "K10$hash3::server:secret-password-1" \
	"fourth: without a token file the existing token's password is kept"
! grep -q 'registered' "$w/fourth.log"
ok $? "fourth: nothing registered"
stop fourth

# --- 5. a CA key that does not parse: a new CA ---
echo garbage >"$tls/server-ca.key"
start fifth
like "$(ca_line fifth)" ' created in ' "fifth: a server-ca.key that does not parse: the CA was created again"
[ "$(ca_line fifth | awk '{ print $7 }')" != "$hash3" ]
ok $? "fifth: with another sha256"
stop fifth

# --- 6. a server joining a cluster checks the cluster's CA against its K10 token ---
hash5=$(sha256sum <"$tls/server-ca.crt" | cut -d' ' -f1)
printf 'server: %s\ntoken-file: %s\n' "$api" "$w/pki/token.wrong-hash" >>"$w/etc/k3s/config.yaml"
start sixth
wait "$spid"
is "$?" 1 "sixth: joining with a token whose CA hash does not match the server's: exit status 1"
spid=""
like "$(cat "$w/sixth.log")" 'CA hash [0-9a-f]{64} of https://127.0.0.1:[0-9]+/cacerts does not match the token' \
	"sixth: and it says so"
is "$(ca_line sixth)" "" "sixth: before it touched its CA"
sed -i "s|token.wrong-hash|token|" "$w/etc/k3s/config.yaml"
start seventh
like "$(ca_line seventh)" " $hash5 kept in " "seventh: with the cluster's token it checks the CA and goes on"
stop seventh

for t in first second third fourth fifth sixth seventh; do sed "s/^/# $t: /" "$w/$t.log"; done
done_testing
