#!/bin/sh
# Retiring a machine through the Kubernetes API (node-agent/kube/retire.c), against the K3s
# double (tests/tools/k3s-double.py) and driven by tests/unit/kube-retire.c:
#  - kube_serve_account_token(): the ServiceAccount, ClusterRole and ClusterRoleBinding
#    node-agent-serve made once (a second run keeps them), a TokenRequest's token that may do
#    what retiring needs and nothing else;
#  - kube_client_new_bearer() + kube_node_retire(): cordon, evictions as kubectl drain
#    --ignore-daemonsets chooses them, DELETE of the Node (its node-password secret goes with
#    it), a Node already gone, a token without the rights; the token in no output.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

for c in python3 openssl jq curl; do
	if ! command -v $c >/dev/null; then
		skip "retire tests" "$c missing"
		done_testing
		exit 0
	fi
done
drv=$(dirname "$NODE_AGENT")/tests/kube-retire
if [ ! -x "$drv" ]; then
	skip "retire tests" "$drv is not built"
	done_testing
	exit 0
fi
w=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $w"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; [ -n "$KEEP" ] || cleanup' EXIT

sh tests/tools/mk-k3s-pki.sh -n w1 "$w/pki" >/dev/null 2>&1
python3 tests/tools/k3s-double.py --pki "$w/pki" --port 0 --portfile "$w/port" 2>"$w/double.log" &
pids="$pids $!"
for i in $(seq 100); do [ -s "$w/port" ] && break; sleep 0.1; done
api=https://127.0.0.1:$(cat "$w/port")
sh tests/tools/mk-k3s-pki.sh -k -s "$api" "$w/pki" >/dev/null 2>&1
ctl() { curl -sS --max-time 10 --cacert "$w/pki/server-ca.crt" "$@"; }
admin() { ctl --cert "$w/pki/client-admin.crt" --key "$w/pki/client-admin.key" "$api$1"; }
# bearer TOKEN_FILE METHOD PATH: the HTTP status of the request with that token
bearer() {
	ctl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$1")" -X "$2" "$api$3"
}
log() { ctl "$api/_double/log"; }

# --- the serve ServiceAccount's token ---
"$drv" token "$w/pki/k3s.yaml" 31536000 >"$w/sa.token" 2>"$w/token.err"
is "$?" 0 "token: exit 0"
like "$(cat "$w/sa.token")" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "... prints a TokenRequest's token"
is "$(cat "$w/token.err")" "" "... and nothing else"
admin /api/v1/namespaces/kube-system/serviceaccounts/node-agent-serve >"$w/out"
is "$(jq -r '.metadata.name + " " + .metadata.labels["app.kubernetes.io/managed-by"]' "$w/out")" \
	"node-agent-serve node-agent" "ServiceAccount kube-system/node-agent-serve"
admin /apis/rbac.authorization.k8s.io/v1/clusterroles/node-agent-serve >"$w/out"
is "$(jq -c '[.rules[] | [.apiGroups, .resources, .verbs]]' "$w/out")" \
	'[[[""],["nodes"],["get","list","patch","delete"]],[[""],["pods"],["list"]],[[""],["pods/eviction"],["create"]]]' \
	"ClusterRole node-agent-serve: nodes get,list,patch,delete; pods list; pods/eviction create"
admin /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/node-agent-serve >"$w/out"
is "$(jq -c '[.roleRef.kind, .roleRef.name, .subjects]' "$w/out")" \
	'["ClusterRole","node-agent-serve",[{"kind":"ServiceAccount","name":"node-agent-serve","namespace":"kube-system"}]]' \
	"ClusterRoleBinding node-agent-serve of the ServiceAccount"
log | jq -c '[.[] | select(.path | endswith("/token")) | .body | fromjson | .spec.expirationSeconds]' >"$w/out"
is "$(cat "$w/out")" '[31536000]' "the TokenRequest asks for a year"

"$drv" token "$w/pki/k3s.yaml" 31536000 >"$w/sa2.token"
is "$?" 0 "token again: exit 0 (create-or-keep)"
[ -s "$w/sa2.token" ] && ! cmp -s "$w/sa.token" "$w/sa2.token"
ok $? "... a new token"
is "$(log | jq -c '[.[] | select(.method == "POST" and (.path | endswith("/token") | not)) | .status]')" \
	'[201,201,201,409,409,409]' "... the ServiceAccount, role and binding are created once, then kept (409)"
is "$(admin /api/v1/namespaces/kube-system/serviceaccounts | jq -r '[.items[].metadata.name] | join(",")')" \
	node-agent-serve "... one ServiceAccount"

is "$(bearer "$w/sa.token" GET /api/v1/nodes)" 200 "the token may list nodes"
is "$(bearer "$w/sa.token" GET '/api/v1/pods?fieldSelector=spec.nodeName%3Dw1')" 200 "... and pods"
is "$(bearer "$w/sa.token" GET /api/v1/namespaces/kube-system/secrets)" 403 "... not list secrets"
is "$(bearer "$w/sa.token" GET /api/v1/namespaces/kube-system/secrets/w1.node-password.k3s)" 403 \
	"... nor read one"
is "$(bearer "$w/sa.token" GET /api/v1/namespaces/kube-system/serviceaccounts)" 403 \
	"... nor list ServiceAccounts"
is "$(bearer "$w/sa.token" POST /api/v1/namespaces/kube-system/serviceaccounts/node-agent-serve/token)" 403 \
	"... nor make itself tokens"
is "$(bearer "$w/sa.token" GET /apis/rbac.authorization.k8s.io/v1/clusterroles)" 403 "... nor read RBAC"

out=$("$drv" token "$w/pki/user.kubeconfig" 3600 2>&1)
is "$?" 1 "token with a user who may not create ServiceAccounts: exit 1"
like "$out" 'HTTP 403: serviceaccounts is forbidden: User "jane" cannot create' "... with the API server's message"
out=$("$drv" token "$w/pki/k3s.yaml" 599 2>&1)
is "$?:$out" "1:kube-retire: service account token: a service account token lasts at least 600 seconds" \
	"token for less than 10 minutes: refused before any request"

# --- retire ---
npw=$(sed 's/^.*::server://' "$w/pki/token")
code=$(ctl -o /dev/null -w '%{http_code}' -u "node:$npw" -H "K3s-Node-Name: w1" \
	-H "K3s-Node-Password: 0123456789abcdef0123456789abcdef" "$api/v1-k3s/client-kubelet.crt")
is "$code" 200 "w1 gets its kubelet certificate: its node-password secret exists"
ctl -o /dev/null -X POST "$api/_double/nodes" -d '{"name":"w1"}'
ctl -o /dev/null -X POST "$api/_double/nodes" -d '{"name":"w2"}'
pod() { ctl -o /dev/null -X POST "$api/_double/pods" -d "$1"; }
pod '{"name":"web-1","node":"w1","owner":{"kind":"ReplicaSet","name":"web"}}'
pod '{"name":"bare","node":"w1"}'
pod '{"name":"svclb-1","namespace":"kube-system","node":"w1","owner":{"kind":"DaemonSet","name":"svclb"}}'
pod '{"name":"svclb-old","namespace":"kube-system","node":"w1","phase":"Failed","owner":{"kind":"DaemonSet","name":"svclb"}}'
pod '{"name":"static-w1","namespace":"kube-system","node":"w1","mirror":true}'
pod '{"name":"db-0","node":"w1","owner":{"kind":"StatefulSet","name":"db"},"disruption_budget":{"name":"db","refusals":1}}'
pod '{"name":"web-2","node":"w2","owner":{"kind":"ReplicaSet","name":"web"}}'
ctl -o /dev/null -X DELETE "$api/_double/log"

"$drv" retire "$api" "$w/pki/server-ca.crt" "$w/sa.token" w1 >"$w/retire.out" 2>"$w/retire.err"
is "$?" 0 "retire w1 with the token: exit 0"
is "$(cat "$w/retire.out")" "node w1: cordoned, 4 pods evicted, 2 skipped, 0 failed, deleted" "... the summary"
sed 's/^/# /' "$w/retire.err"
is "$(log | jq -c '[.[] | [.method, .path, .query, .user]] | .[0:2]')" \
	'[["PATCH","/api/v1/nodes/w1","","system:serviceaccount:kube-system:node-agent-serve"],["GET","/api/v1/pods","fieldSelector=spec.nodeName%3Dw1","system:serviceaccount:kube-system:node-agent-serve"]]' \
	"... cordons first, then lists the node's pods (all namespaces), as the ServiceAccount"
is "$(log | jq -c '.[0] | [.content_type, .body, .status]')" \
	'["application/merge-patch+json","{\"spec\":{\"unschedulable\":true}}",200]' \
	"... the cordon is a merge patch of spec.unschedulable"
is "$(log | jq -r '[.[] | select(.path | endswith("/eviction")) | .path + " " + (.status|tostring)] | join(",")')" \
	"/api/v1/namespaces/default/pods/bare/eviction 201,/api/v1/namespaces/default/pods/db-0/eviction 429,/api/v1/namespaces/default/pods/web-1/eviction 201,/api/v1/namespaces/kube-system/pods/svclb-old/eviction 201,/api/v1/namespaces/default/pods/db-0/eviction 201" \
	"... evicts the ReplicaSet's pod, the bare pod, the finished DaemonSet pod, and the one its disruption budget protects once it allows"
like "$(cat "$w/retire.err")" '1 evictions refused for now \(disruption budget\), retrying in 5 s' "... after a pause"
is "$(log | jq -r '[.[] | select(.path | endswith("/eviction")) | .body | fromjson | [.apiVersion, .kind, .metadata.namespace, .metadata.name] | join(" ")] | .[0]')" \
	"policy/v1 Eviction default bare" "... with policy/v1 Evictions"
like "$(cat "$w/retire.err")" 'pod kube-system/svclb-1 left \(DaemonSet pod\)' "... leaves the running DaemonSet pod"
like "$(cat "$w/retire.err")" 'pod kube-system/static-w1 left \(mirror pod\)' "... and the mirror pod"
is "$(log | jq -c '[.[-1] | .method, .path, .status]')" '["DELETE","/api/v1/nodes/w1",200]' "... then deletes the Node"
is "$(ctl "$api/_double/nodes" | jq -r 'keys | join(",")')" w2 "w1 is gone, w2 stays"
is "$(ctl "$api/_double/secrets" | jq -r 'keys | join(",")')" "" "w1's node-password secret went with it"
is "$(ctl "$api/_double/pods" | jq -r 'keys | join(",")')" "default/web-2,kube-system/svclb-1" \
	"pods left: w2's, and w1's DaemonSet pod (the mirror pod went with its Node)"
tok=$(cat "$w/sa.token")
! grep -qF "$tok" "$w/retire.out" "$w/retire.err"
ok $? "the token is in no output"

"$drv" retire "$api" "$w/pki/server-ca.crt" "$w/sa.token" w1 >"$w/retire.out" 2>"$w/retire.err"
is "$?:$(cat "$w/retire.out")" "0:node w1: already gone" "retire w1 again: already gone, success"

printf '%s\n' "$(cat "$w/pki/user.token")" >"$w/jane.token"
out=$("$drv" retire "$api" "$w/pki/server-ca.crt" "$w/jane.token" w2 2>&1)
is "$?" 1 "retire with a token without the rights: exit 1"
like "$out" 'PATCH https://127.0.0.1:[0-9]+/api/v1/nodes/w2: HTTP 403: nodes "w2" is forbidden: User "jane" cannot patch' \
	"... the cordon's 403"
unlike "$out" "$(cat "$w/pki/user.token")" "... without the token"
is "$(ctl "$api/_double/nodes" | jq -r 'keys | join(",")')" w2 "... and w2 stays"

out=$("$drv" retire "$api" "$w/pki/server-ca.crt" "$w/sa.token" ../nodes 2>&1)
is "$?:$out" "1:kube-retire: retire: invalid node name" "an invalid node name never reaches a URL"
printf 'two words\n' >"$w/bad.token"
out=$("$drv" retire "$api" "$w/pki/server-ca.crt" "$w/bad.token" w2 2>&1)
is "$?:$out" "1:kube-retire: client: the bearer token is empty or holds spaces or control characters" \
	"a token with a space is refused (it would become a header)"
out=$("$drv" retire "http://127.0.0.1:1" "$w/pki/server-ca.crt" "$w/sa.token" w2 2>&1)
is "$?:$out" "1:kube-retire: client: the API server URL is not an https:// URL" "a plain http:// server is refused"
ctl -o /dev/null -X DELETE "$api/_double/log"
out=$("$drv" retire "$api" "$w/pki/untrusted-ca.crt" "$w/sa.token" w2 2>&1)
is "$?" 1 "a server the given CA does not verify: exit 1"
is "$(log | jq length)" 0 "... and no request reached it"
done_testing
