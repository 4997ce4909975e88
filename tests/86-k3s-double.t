#!/bin/sh
# The K3s / Kubernetes API test double (tests/tools/k3s-double.py) behaves like the real server
# in everything the node agent's tests rely on: /cacerts and the K10 token hash, authentication,
# the Node authorizer and NodeRestriction messages, patch semantics, conflicts, Status objects.
# Checked with curl, openssl and jq against the PKI from tests/tools/mk-k3s-pki.sh.
. "$(dirname "$0")/lib.sh"
for t in curl openssl jq python3; do
	command -v "$t" >/dev/null || { skip "k3s double" "$t missing"; done_testing; exit; }
done
tools=$TESTS_DIR/tools
w=$(mktemp -d "${TMPDIR:-/tmp}/k3s-double.XXXXXX")
cleanup_dirs="$w"
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; cleanup' EXIT
trap 'exit 1' INT TERM HUP
d=$w/pki

# start NAME [OPTIONS...]: run a double, wait (bounded) for its port, set $url.
start() {
	n=$1
	shift
	python3 "$tools/k3s-double.py" --pki "$d" --port 0 --portfile "$w/$n.port" "$@" 2>"$w/$n.err" &
	pids="$pids $!"
	eval "${n}_pid=$!"
	i=0
	while [ ! -s "$w/$n.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	url=https://127.0.0.1:$(cat "$w/$n.port" 2>/dev/null)
}

# call WHO METHOD PATH: status code in $code, body in $w/out, headers in $w/hdr; a body is sent
# when $ctype and $data are set (cleared after the call).
call() {
	who=$1 method=$2 path=$3
	set -- --cacert "$d/server-ca.crt"
	case $who in
	none) ;;
	admin) set -- "$@" --cert "$d/client-admin.crt" --key "$d/client-admin.key" ;;
	untrusted) set -- "$@" --cert "$d/client-untrusted.crt" --key "$d/client-untrusted.key" ;;
	jane) set -- "$@" --cert "$d/client-user.crt" --key "$d/client-user.key" ;;
	node1 | gpu1) set -- "$@" --cert "$d/client-kubelet-$who.crt" --key "$d/client-kubelet-$who.key" ;;
	token:*) set -- "$@" -H "Authorization: Bearer $(cat "$d/${who#token:}.token")" ;;
	esac
	if [ -n "${ctype+x}" ]; then
		set -- "$@" -H "Content-Type: $ctype" --data-binary "$data"
	fi
	code=$(curl -sS --max-time 5 -X "$method" "$@" -D "$w/hdr" -o "$w/out" -w '%{http_code}' "$url$path")
	unset ctype data
}
patch() { # patch WHO NODE CONTENT-TYPE BODY
	ctype=$3 data=$4
	call "$1" PATCH "/api/v1/nodes/$2"
}
out() { jq -r "$@" "$w/out"; }
shapes=$TESTS_DIR/k3s-double
# shape FILE: the last answer is byte for byte the recorded Status in tests/k3s-double/FILE.
shape() { cmp -s "$w/out" "$shapes/$1"; ok $? "... byte for byte tests/k3s-double/$1"; }
hdr() { tr -d '\r' <"$w/hdr" | awk -v h="$1" 'tolower($1) == tolower(h) ":" { sub(/^[^:]*: /, ""); print }'; }

"$tools/mk-k3s-pki.sh" -n node1 -n gpu1 "$d" >"$w/token.out"
ok $? "mk-k3s-pki.sh makes the PKI"
is "$(cat "$w/token.out")" "$(cat "$d/token")" "mk-k3s-pki.sh prints the token it wrote"
like "$(cat "$d/token")" '^K10[0-9a-f]{64}::server:[0-9a-f]{32}$' "the token has K3s's secure format"
is "$(readlink "$d/node-token")" token "node-token is the server token, as in K3s"
is "$(openssl x509 -in "$d/client-kubelet.crt" -noout -subject)" "subject=O = system:nodes, CN = system:node:node1" \
	"kubelet client certificate: CN system:node:node1, O system:nodes"
is "$(openssl x509 -in "$d/client-admin.crt" -noout -subject)" "subject=O = system:masters, CN = system:admin" \
	"admin client certificate: CN system:admin, O system:masters"
like "$(openssl x509 -in "$d/server-ca.crt" -noout -subject)" '^subject=CN = k3s-server-ca@[0-9]+$' "server CA named like K3s's"
openssl verify -CAfile "$d/server-ca.crt" "$d/serving-kube-apiserver.crt" >/dev/null 2>&1
ok $? "the serving certificate chains to the server CA"
like "$(openssl x509 -in "$d/serving-kube-apiserver.crt" -noout -ext subjectAltName)" 'IP Address:127\.0\.0\.1' \
	"the serving certificate has SAN 127.0.0.1"

start main
like "$url" ':[0-9]+$' "the double listens and writes its port"

# K3s supervisor endpoints
call none GET /cacerts
is "$code" 200 "GET /cacerts without credentials: 200"
cmp -s "$w/out" "$d/server-ca.crt"
ok $? "/cacerts is the server CA file byte for byte"
is "$(sha256sum <"$w/out" | cut -d' ' -f1)" "$(sed 's/^K10\([0-9a-f]*\)::.*/\1/' "$d/token")" \
	"sha256 of /cacerts is the token's CA hash"
is "$(hdr Content-Type)" text/plain "/cacerts is text/plain"
is "$(hdr Content-Length)" "$(wc -c <"$d/server-ca.crt" | tr -d ' ')" "/cacerts has Content-Length"
call none GET /ping
is "$code:$(cat "$w/out")" 200:pong "GET /ping: pong"

# Authentication
call none GET /api/v1/nodes/node1
is "$code" 401 "no credentials: 401"
is "$(out '[.kind,.apiVersion,.status,.reason,.code,.message]|join(" ")')" "Status v1 Failure Unauthorized 401 Unauthorized" \
	"401 is a Status object"
is "$(hdr Content-Type)" application/json "Status has Content-Type application/json"
shape status-401-unauthorized.json
call untrusted GET /api/v1/nodes
is "$code" 401 "a client certificate from an untrusted CA: 401"
printf 'bogus\n' >"$d/nope.token"
call token:nope GET /api/v1/nodes
is "$code" 401 "an unknown bearer token: 401"
call admin GET /version
is "$code:$(out .gitVersion)" "200:v1.32.5+k3s1" "GET /version as admin"

# Nodes appear as a K3s agent's kubelet registers them (control endpoint)
code=$(curl -sS --cacert "$d/server-ca.crt" -o "$w/out" -w '%{http_code}' -X POST "$url/_double/nodes" \
	-d '{"name":"node1"}')
is "$code" 201 "control: register node1 as its kubelet would"
code=$(curl -sS --cacert "$d/server-ca.crt" -o "$w/out" -w '%{http_code}' -X POST "$url/_double/nodes" \
	-d '{"name":"bad","labels":{"node-role.kubernetes.io/worker":"true"}}')
is "$code" 403 "control: a kubelet may not register with a node-role label"
is "$(out .message)" 'nodes "bad" is forbidden: node "bad" is not allowed to set the following labels: node-role.kubernetes.io/worker' \
	"... with NodeRestriction's create message"
ctype=application/json data='{"apiVersion":"v1","kind":"Node","metadata":{"name":"gpu1","labels":{"kubernetes.io/hostname":"gpu1","nvidia.com/gpu.present":"true"}}}'
call gpu1 POST /api/v1/nodes
is "$code" 201 "POST /api/v1/nodes as the kubelet of gpu1: 201"
like "$(out '.metadata.uid + " " + .metadata.resourceVersion + " " + .metadata.creationTimestamp')" \
	'^[0-9a-f-]{36} [0-9]+ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "the server sets uid, resourceVersion, creationTimestamp"
ctype=application/json data='{"apiVersion":"v1","kind":"Node","metadata":{"name":"gpu1"}}'
call admin POST /api/v1/nodes
is "$code:$(out .reason):$(out .message)" '409:AlreadyExists:nodes "gpu1" already exists' "creating it again: 409 AlreadyExists"
shape status-409-alreadyexists.json

# Reading
call node1 GET /api/v1/nodes/node1
is "$code" 200 "the kubelet reads its own node"
is "$(out '[.kind, .apiVersion, .metadata.labels["kubernetes.io/hostname"], .metadata.labels["kubernetes.io/os"], .metadata.labels["node.kubernetes.io/instance-type"]]|join(" ")')" \
	"Node v1 node1 linux k3s" "a real-looking Node with K3s's labels"
is "$(out '.status.conditions[]|select(.type=="Ready")|[.status,.reason]|join(" ")')" "True KubeletReady" "Ready True, KubeletReady"
rv1=$(out .metadata.resourceVersion)
call admin GET /api/v1/nodes/nosuch
is "$code:$(out .reason):$(out .message)" '404:NotFound:nodes "nosuch" not found' "a missing node: 404 NotFound"
is "$(out -c .details)" '{"name":"nosuch","kind":"nodes"}' "... with details"
shape status-404-notfound.json
call node1 GET /api/v1/nodes/gpu1
is "$code" 403 "a kubelet may not read another node (Node authorizer, 1.32+)"
is "$(out .message)" "nodes \"gpu1\" is forbidden: User \"system:node:node1\" cannot get resource \"nodes\" in API group \"\" at the cluster scope: node 'node1' cannot read 'gpu1', only its own Node object" \
	"... with the authorizer's message"
shape status-403-authorizer.json
call node1 GET '/api/v1/nodes?fieldSelector=metadata.name%3Dnode1'
is "$code:$(out '[.items[].metadata.name]|join(",")')" 200:node1 "a kubelet may list its own node by field selector"
call jane GET /api/v1/nodes
is "$code:$(out .reason)" 403:Forbidden "an authenticated user without rights: 403"
shape status-403-rbac.json
# The Node object has the recorded shape (same fields; values differ; fields the double omits removed).
call admin GET /api/v1/nodes/node1
strip='del(.metadata.managedFields, .status.images, .status.runtimeHandlers, .status.features)
	| [paths(scalars) | map(if type == "number" then "[]" else . end) | join(".")] | unique'
is "$(jq -c "$strip" "$w/out")" "$(jq -c "$strip" "$shapes/node-k3s-agent.json")" \
	"GET node: the fields of tests/k3s-double/node-k3s-agent.json"

# Merge patch (RFC 7386) by the kubelet on its own node
patch node1 node1 application/merge-patch+json \
	'{"metadata":{"labels":{"nvidia.com/gpu.present":"true","feature.node.kubernetes.io/pci-10de.present":"true","example.com/tmp":"x"}}}'
is "$code" 200 "the kubelet merge-patches allowed labels onto its node"
is "$(out '.metadata.labels|[.["nvidia.com/gpu.present"],.["feature.node.kubernetes.io/pci-10de.present"],.["kubernetes.io/hostname"]]|join(" ")')" \
	"true true node1" "labels merged, existing ones kept"
rv2=$(out .metadata.resourceVersion)
[ "$rv2" -gt "$rv1" ]
ok $? "resourceVersion went up ($rv1 -> $rv2)"
patch node1 node1 application/merge-patch+json '{"metadata":{"labels":{"example.com/tmp":null}}}'
is "$code:$(out '.metadata.labels|has("example.com/tmp")'):$(out '.metadata.labels["nvidia.com/gpu.present"]')" \
	200:false:true "null deletes a label, others stay"
rv3=$(out .metadata.resourceVersion)
patch node1 node1 application/merge-patch+json '{"metadata":{"labels":{"nvidia.com/gpu.present":"true"}}}'
is "$(out .metadata.resourceVersion)" "$rv3" "a patch that changes nothing keeps the resourceVersion"
patch node1 node1 application/json '{"metadata":{"labels":{"a":"b"}}}'
is "$code:$(out .reason)" 415:UnsupportedMediaType "PATCH as application/json: 415"
is "$(out .message)" "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml" \
	"... listing the patch types"
shape status-415-unsupported-media-type.json
patch node1 node1 application/merge-patch+json "{\"metadata\":{\"resourceVersion\":\"$rv1\",\"labels\":{\"a\":\"b\"}}}"
is "$code:$(out .reason)" 409:Conflict "a stale metadata.resourceVersion: 409 Conflict"
is "$(out .message)" 'Operation cannot be fulfilled on nodes "node1": the object has been modified; please apply your changes to the latest version and try again' \
	"... with the storage conflict message"
shape status-409-conflict.json
patch node1 node1 application/merge-patch+json "{\"metadata\":{\"resourceVersion\":\"$rv3\",\"labels\":{\"a\":\"b\"}}}"
is "$code" 200 "the current resourceVersion: 200"

# Node authorizer + NodeRestriction
patch node1 gpu1 application/merge-patch+json '{"metadata":{"labels":{"a":"c"}}}'
is "$code:$(out .message)" '403:nodes "gpu1" is forbidden: node "node1" is not allowed to modify node "gpu1"' \
	"a kubelet patching another node: 403"
shape status-403-noderestriction-other-node.json
patch node1 node1 application/merge-patch+json '{"metadata":{"labels":{"node-role.kubernetes.io/gpu-worker":"true"}}}'
is "$code:$(out .message)" '403:nodes "node1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/gpu-worker' \
	"a kubelet setting a node-role label: 403 (NodeRestriction)"
shape status-403-noderestriction-labels.json
patch node1 node1 application/merge-patch+json '{"metadata":{"labels":{"kubernetes.io/hostname":"node1","topology.kubernetes.io/zone":"attic","kubelet.kubernetes.io/x":"1"}}}'
is "$code" 200 "well-known kubelet labels are allowed"
patch token:user node1 application/merge-patch+json '{"metadata":{"labels":{"a":"d"}}}'
is "$code" 403 "a user without rights may not patch (bearer token)"
patch admin node1 application/merge-patch+json '{"metadata":{"labels":{"node-role.kubernetes.io/gpu-worker":"true"}}}'
is "$code:$(out '.metadata.labels["node-role.kubernetes.io/gpu-worker"]')" 200:true "the admin sets the node-role label"
patch node1 node1 application/merge-patch+json '{"metadata":{"labels":{"node-role.kubernetes.io/gpu-worker":null}}}'
is "$code" 403 "the kubelet may not remove it either"
patch token:admin node1 application/merge-patch+json '{"spec":{"taints":[{"key":"nvidia.com/gpu","effect":"NoSchedule"}]}}'
is "$code:$(out '.spec.taints[0].key')" 200:nvidia.com/gpu "the admin (bearer token, system:masters) sets a taint"
patch node1 node1 application/merge-patch+json '{"spec":{"taints":null}}'
is "$code:$(out .message)" '403:nodes "node1" is forbidden: node "node1" is not allowed to modify taints' \
	"a kubelet may not change its taints"

# JSON patch (RFC 6902) and strategic merge patch
patch token:kubelet-node1 node1 application/json-patch+json \
	'[{"op":"test","path":"/metadata/labels/nvidia.com~1gpu.present","value":"true"},{"op":"add","path":"/metadata/labels/nvidia.com~1gpu.count","value":"2"},{"op":"replace","path":"/metadata/labels/a","value":"z"},{"op":"remove","path":"/metadata/labels/kubelet.kubernetes.io~1x"}]'
is "$code:$(out '.metadata.labels|[.["nvidia.com/gpu.count"], .a, has("kubelet.kubernetes.io/x")]|map(tostring)|join(",")')" \
	"200:2,z,false" "JSON patch test/add/replace/remove (kubelet bearer token)"
patch node1 node1 application/json-patch+json '[{"op":"test","path":"/metadata/labels/a","value":"nope"}]'
is "$code:$(out .reason)" 422:Invalid "a failing JSON patch test: 422 Invalid"
shape status-422-jsonpatch-test-failed.json
# The recorded request bodies
patch admin node1 application/merge-patch+json '{"metadata":{"labels":{"example.com/old":"1"}}}'
patch node1 node1 application/merge-patch+json "$(cat "$shapes/merge-patch-labels.json")"
is "$code:$(out '.metadata.labels["feature.node.kubernetes.io/pci-10de.present"]')" 200:true "merge-patch-labels.json applies"
patch node1 node1 application/json-patch+json "$(sed "s/\"RV\"/\"$(out .metadata.resourceVersion)\"/" "$shapes/json-patch-labels.json")"
is "$code:$(out '.metadata.labels|[.["nvidia.com/gpu.count"], has("example.com/old")]|map(tostring)|join(",")')" \
	200:2,false "json-patch-labels.json applies (test on resourceVersion, add, remove)"
patch node1 node1 application/strategic-merge-patch+json "$(cat "$shapes/strategic-merge-patch-labels.json")"
is "$code:$(out '.metadata.annotations["example.com/note"]')" "200:set by node-agent" "strategic-merge-patch-labels.json applies"
patch node1 node1 application/strategic-merge-patch+json '{"metadata":{"labels":{"nvidia.com/gpu.family":"ampere"},"annotations":{"example.com/note":"hi"}}}'
is "$code:$(out '.metadata.labels["nvidia.com/gpu.family"]'):$(out '.metadata.annotations["example.com/note"]')" \
	200:ampere:hi "strategic merge patch of labels and annotations"
patch admin node1 application/merge-patch+json '{"status":{"conditions":[]}}'
is "$code:$(out '.status.conditions|length')" 200:4 "status changes through the main resource are dropped"
patch node1 node1/status application/strategic-merge-patch+json '{"status":{"conditions":[{"type":"Ready","status":"False"}]},"metadata":{"labels":{"x":"y"}}}'
is "$code:$(out '[.status.conditions[].type]|join(",")'):$(out '.status.conditions[]|select(.type=="Ready").status'):$(out '.metadata.labels|has("x")')" \
	"200:MemoryPressure,DiskPressure,PIDPressure,Ready:False:false" \
	"nodes/status: strategic merge patch merges conditions by type, metadata stays"
patch node1 gpu1/status application/merge-patch+json '{"status":{}}'
is "$code:$(out .message)" '403:nodes "gpu1" is forbidden: node "node1" is not allowed to modify node "gpu1"' \
	"a kubelet may not patch another node's status"
call node1 GET /api/v1/nodes/node1/status
is "$code:$(out .message)" '403:nodes "node1" is forbidden: User "system:node:node1" cannot get resource "nodes/status" in API group "" at the cluster scope' \
	"a kubelet may not get nodes/status (Node authorizer)"
patch admin node1 application/merge-patch+json '{"metadata":{"labels":{"example.com/gpu":"RTX 3050"}}}'
is "$code:$(out .reason)" 422:Invalid "an invalid label value: 422 Invalid"
is "$(out .message)" "Node \"node1\" is invalid: metadata.labels: Invalid value: \"RTX 3050\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" \
	"... with apimachinery's validation message"

# Label selectors
sel() { call admin GET "/api/v1/nodes?labelSelector=$1"; out '[.items[].metadata.name]|join(",")'; }
is "$(sel 'nvidia.com/gpu.present%3Dtrue')" gpu1,node1 "labelSelector k=v"
is "$(sel 'node-role.kubernetes.io/gpu-worker')" node1 "labelSelector k"
is "$(sel '!node-role.kubernetes.io/gpu-worker')" gpu1 "labelSelector !k"
is "$(sel 'kubernetes.io/hostname!%3Dnode1')" gpu1 "labelSelector k!=v"
is "$(sel 'kubernetes.io/hostname%20in%20(gpu1,x),nvidia.com/gpu.present')" gpu1 "labelSelector k in (..),k"
call admin GET /api/v1/nodes
is "$(out '.kind + " " + (.metadata.resourceVersion|test("^[0-9]+$")|tostring) + " " + (.items|length|tostring)')" \
	"NodeList true 2" "a NodeList with a list resourceVersion"

# Control: readiness and the request log
code=$(curl -sS --cacert "$d/server-ca.crt" -o "$w/out" -w '%{http_code}' -X POST "$url/_double/nodes/gpu1/ready" \
	-d '{"status":"False"}')
call token:kubelet-gpu1 GET /api/v1/nodes/gpu1
is "$(out '.status.conditions[]|select(.type=="Ready")|[.status,.reason]|join(" ")')" "False KubeletNotReady" \
	"control: the node turns NotReady"
curl -sS --cacert "$d/server-ca.crt" -o /dev/null -X POST "$url/_double/nodes/gpu1/ready?status=Unknown"
call admin GET /api/v1/nodes/gpu1
is "$(out '.status.conditions[]|select(.type=="Ready")|.status'):$(out '[.spec.taints[].key]|unique|join(",")')" \
	"Unknown:node.kubernetes.io/unreachable" "control: Unknown, with the node controller's taint"
curl -sS --cacert "$d/server-ca.crt" -o "$w/log" "$url/_double/log"
is "$(jq -r '[.[]|select(.method=="PATCH" and .status==403 and .path=="/api/v1/nodes/gpu1")][0]|[.user,.auth,.content_type,(.body|fromjson|.metadata.labels.a)]|join(" ")' "$w/log")" \
	"system:node:node1 x509 application/merge-patch+json c" "the log has method, path, identity, content type and body"

# The kubeconfigs work as written
kc() { sed -n "s/^ *$2: //p" "$1"; }
kc "$d/k3s.yaml" certificate-authority-data | base64 -d >"$w/ca.pem"
kc "$d/k3s.yaml" client-certificate-data | base64 -d >"$w/c.pem"
kc "$d/k3s.yaml" client-key-data | base64 -d >"$w/k.pem"
is "$(grep -cE '^ *(- )?(name|cluster|user|current-context): default$' "$d/k3s.yaml")" 6 \
	"k3s.yaml names cluster, user and context default"
code=$(curl -sS --cacert "$w/ca.pem" --cert "$w/c.pem" --key "$w/k.pem" -o /dev/null -w '%{http_code}' \
	"$url/api/v1/nodes/gpu1")
is "$code" 200 "k3s.yaml's inline credentials are admin"
code=$(curl -sS --cacert "$(kc "$d/kubelet.kubeconfig" certificate-authority)" \
	--cert "$(kc "$d/kubelet.kubeconfig" client-certificate)" --key "$(kc "$d/kubelet.kubeconfig" client-key)" \
	-o /dev/null -w '%{http_code}' "$url/api/v1/nodes/node1")
is "$code" 200 "kubelet.kubeconfig's files authenticate node1"
is "$(kc "$d/kubelet.kubeconfig" server)" https://127.0.0.1:6444 "kubelet.kubeconfig points at the agent load balancer"
"$tools/mk-k3s-pki.sh" -k -s "$url" "$d" >/dev/null
is "$(kc "$d/bearer.kubeconfig" server)" "$url" "-k rewrites the kubeconfigs for the double's port"
code=$(curl -sS --cacert "$d/server-ca.crt" -H "Authorization: Bearer $(kc "$d/bearer.kubeconfig" token)" \
	-o /dev/null -w '%{http_code}' "$url/api/v1/nodes")
is "$code" 200 "bearer.kubeconfig's token is admin"
cmp -s "$w/ca.pem" "$d/server-ca.crt"
ok $? "-k kept the CA"

# Robustness: a client stalled before TLS does not block others; chunked and 100-continue uploads;
# parallel clients; keep-alive.
port=${url##*:}
python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(3)' "$port" &
stall=$!
sleep 0.2
code=$(curl -sS --max-time 2 --cacert "$d/server-ca.crt" -o /dev/null -w '%{http_code}' "$url/ping")
is "$code" 200 "a client stalled in the TLS handshake does not block others"
kill "$stall" 2>/dev/null
wait "$stall" 2>/dev/null
printf '{"metadata":{"annotations":{"example.com/big":"%s"}}}' "$(head -c 3000 /dev/zero | tr '\0' x)" >"$w/big.json"
code=$(curl -sS --max-time 5 --cacert "$d/server-ca.crt" --cert "$d/client-admin.crt" --key "$d/client-admin.key" \
	-X PATCH -H 'Content-Type: application/merge-patch+json' -H 'Transfer-Encoding: chunked' \
	--data-binary @"$w/big.json" -o "$w/out" -w '%{http_code}' "$url/api/v1/nodes/gpu1")
is "$code:$(out '.metadata.annotations["example.com/big"]|length')" 200:3000 "a chunked request body"
code=$(curl -sS --max-time 5 --cacert "$d/server-ca.crt" --cert "$d/client-admin.crt" --key "$d/client-admin.key" \
	-X PATCH -H 'Content-Type: application/merge-patch+json' -H 'Expect: 100-continue' \
	--data-binary @"$w/big.json" -o "$w/out" -w '%{http_code}' "$url/api/v1/nodes/gpu1")
is "$code" 200 "Expect: 100-continue"
par=""
for i in 1 2 3 4 5 6 7 8; do
	curl -sS --max-time 5 --cacert "$d/server-ca.crt" --cert "$d/client-admin.crt" --key "$d/client-admin.key" \
		-o /dev/null -w '%{http_code}\n' "$url/api/v1/nodes" >"$w/par.$i" &
	par="$par $!"
done
for p in $par; do wait "$p"; done
is "$(cat "$w"/par.* | sort | uniq -c | tr -s ' ')" " 8 200" "8 parallel clients all get 200"
curl -sS -v --max-time 5 --cacert "$d/server-ca.crt" --cert "$d/client-admin.crt" --key "$d/client-admin.key" \
	-o /dev/null -o /dev/null "$url/api/v1/nodes/node1" "$url/version" 2>"$w/ka"
grep -q 'Re-using existing connection' "$w/ka"
ok $? "keep-alive: a second request reuses the connection"

# --nodes-file and --node-read any (Kubernetes before 1.32)
cat >"$w/nodes.json" <<'EOF'
[{"name": "node1", "labels": {"nvidia.com/gpu.present": "true"}},
 {"name": "cp1", "server": true, "ready": "False"},
 {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu1", "labels": {"x": "y"}}}]
EOF
start legacy --node-read any --nodes-file "$w/nodes.json"
call node1 GET /api/v1/nodes
is "$code:$(out '[.items[].metadata.name]|join(",")')" 200:cp1,gpu1,node1 "--nodes-file nodes; --node-read any lets a kubelet list"
call node1 GET /api/v1/nodes/cp1
is "$code:$(out '.metadata.labels["node-role.kubernetes.io/control-plane"]'):$(out '.status.conditions[]|select(.type=="Ready").status')" \
	"200:true:False" "a server node from the nodes file, NotReady"

# K3s node passwords on the kubelet certificate routes (pkg/nodepassword, pkg/server/handlers),
# the secrets they leave, DELETE of nodes with garbage collection, the orphan sweep and --state.
start np --state "$w/np.state"
npw=$(sed 's/^.*::server://' "$d/token")
openssl ecparam -name prime256v1 -genkey -noout -out "$w/np1.key" 2>/dev/null
openssl req -new -key "$w/np1.key" -subj / -outform DER -out "$w/np1.csr" 2>/dev/null
# kcert ROUTE NAME PASSWORD [curl args...]: the agent's certificate request (POST with the DER CSR
# unless other curl args say otherwise); status in $code, body in $w/out, headers in $w/hdr.
kcert() {
	r=$1 n=$2 p=$3
	shift 3
	[ $# -gt 0 ] || set -- --data-binary @"$w/np1.csr"
	[ -z "$n" ] || set -- "$@" -H "K3s-Node-Name: $n"
	[ -z "$p" ] || set -- "$@" -H "K3s-Node-Password: $p"
	code=$(curl -sS --max-time 10 --cacert "$d/server-ca.crt" -u "${ku:-node}:$npw" "$@" -D "$w/hdr" -o "$w/out" \
		-w '%{http_code}' "$url/v1-k3s/$r-kubelet.crt")
}
kcert client np1 ""
is "$code:$(out .reason):$(out .message)" "400:BadRequest:node password not set" \
	"no K3s-Node-Password: 400 BadRequest 'node password not set' (validate.go getNodeInfo)"
is "$(hdr Connection)" close "... with Connection: close (K3s SendError)"
kcert client "" pw1
is "$code:$(out .message)" "400:node name not set" "no K3s-Node-Name: 400 'node name not set'"
kcert client np1 0123456789abcdef0123456789abcdef
is "$code" 200 "first request for np1: 200, the password is stored"
cp "$w/out" "$w/np1.crt"
is "$(grep -c 'BEGIN CERTIFICATE' "$w/np1.crt"):$(grep -c 'PRIVATE KEY' "$w/np1.crt")" 2:0 \
	"a CSR POST is answered with leaf + CA, no key"
is "$(openssl x509 -in "$w/np1.crt" -noout -subject)" "subject=O = system:nodes, CN = system:node:np1" \
	"... subject system:node:np1 / system:nodes"
openssl verify -CAfile "$d/client-ca.crt" "$w/np1.crt" >/dev/null 2>&1
ok $? "... signed by the client CA"
is "$(openssl x509 -in "$w/np1.crt" -noout -pubkey)" "$(openssl pkey -in "$w/np1.key" -pubout 2>/dev/null)" \
	"... for the CSR's public key"
kcert client np1 0123456789abcdef0123456789abcdef
is "$code" 200 "the same password again: 200"
kcert client NP1 0123456789abcdef0123456789abcdef
is "$code" 200 "the node name is lower-cased (same secret)"
kcert client np1 ffffffffffffffffffffffffffffffff
is "$code:$(out .reason):$(out .message)" "403:Forbidden:unable to verify password for node np1: hash does not match" \
	"another password: 403 with K3s's passwordError message"
is "$(out -c 'del(.message)')" '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"Forbidden","code":403}' \
	"... a Status without details (apierrors.go newForbidden)"
kcert serving np1 ffffffffffffffffffffffffffffffff
is "$code" 403 "the serving certificate route checks the password too"
kcert serving np1 0123456789abcdef0123456789abcdef --data-binary @"$w/np1.csr" -H "K3s-Node-IP: 10.0.2.15"
is "$code:$(openssl x509 -in "$w/out" -noout -subject)" "200:subject=CN = np1" "serving certificate: CN = node name"
like "$(openssl x509 -in "$w/out" -noout -ext subjectAltName)" 'DNS:np1, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:10\.0\.2\.15' \
	"... SANs name, localhost, 127.0.0.1 and K3s-Node-IP"
openssl verify -CAfile "$d/server-ca.crt" "$w/out" >/dev/null 2>&1
ok $? "... signed by the server CA"
kcert client np1 0123456789abcdef0123456789abcdef -X GET
is "$code:$(grep -c 'PRIVATE KEY-----' "$w/out")" 200:2 "the legacy GET form: 200 with certificate and key"
kcert client np1 "" -X GET
is "$code" 400 "... and 400 without the password"
call admin GET /api/v1/namespaces/kube-system/secrets/np1.node-password.k3s
is "$code:$(out .type):$(out .immutable):$(out .metadata.namespace)" "200:k3s.cattle.io/node-password:true:kube-system" \
	"the secret np1.node-password.k3s: type k3s.cattle.io/node-password, immutable"
h=$(out -r '.data.hash' | base64 -d)
like "$h" '^\$1:[0-9a-f]{16}:15:8:1:[A-Za-z0-9+/]{86}$' "data.hash is K3s's scrypt hash, not the password"
unlike "$h" 0123456789abcdef0123456789abcdef "... the plain password is nowhere in it"
python3 -c 'import base64, hashlib, sys
v, salt, n, r, p, enc = sys.argv[1][1:].split(":")
dk = hashlib.scrypt(sys.argv[2].encode(), salt=bytes.fromhex(salt), n=1 << int(n), r=int(r), p=int(p),
                    dklen=64, maxmem=1 << 28)
sys.exit(base64.b64encode(dk).decode().rstrip("=") != enc)' "$h" 0123456789abcdef0123456789abcdef
ok $? "... and it verifies the password (scrypt N=2^15 r=8 p=1, 64 bytes)"
call node1 GET /api/v1/namespaces/kube-system/secrets/np1.node-password.k3s
is "$code:$(out .message)" "403:secrets \"np1.node-password.k3s\" is forbidden: User \"system:node:node1\" cannot get resource \"secrets\" in API group \"\" in the namespace \"kube-system\": no relationship found between node 'node1' and this object" \
	"a kubelet may not read it (Node authorizer)"
call admin GET /api/v1/namespaces/kube-system/secrets/nosuch
is "$code:$(out .message)" '404:secrets "nosuch" not found' "a missing secret: 404"
is "$(curl -sS --cacert "$d/server-ca.crt" "$url/_double/secrets" | jq -r 'keys|join(",")')" np1.node-password.k3s \
	"GET /_double/secrets lists it"
is "$(curl -sS --cacert "$d/server-ca.crt" "$url/_double/secrets" | jq -r '.[].metadata.ownerReferences|length')" 0 \
	"no ownerReference while the Node does not exist"
curl -sS --cacert "$d/server-ca.crt" -o "$w/out" -X POST "$url/_double/nodes" -d '{"name":"np1"}'
np1uid=$(out .metadata.uid)
call admin GET /api/v1/namespaces/kube-system/secrets/np1.node-password.k3s
is "$(out -c '.metadata.ownerReferences')" "[{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"np1\",\"uid\":\"$np1uid\"}]" \
	"once the Node exists the secret is owned by it (controller.go onChangeNode)"
code=$(curl -sS --cacert "$d/server-ca.crt" --cert "$w/np1.crt" --key "$w/np1.key" -X DELETE -o "$w/out" -w '%{http_code}' \
	"$url/api/v1/nodes/np1")
is "$code:$(out .message)" '403:nodes "np1" is forbidden: User "system:node:np1" cannot delete resource "nodes" in API group "" at the cluster scope' \
	"the kubelet (its certificate from the CSR) may not delete its own Node (authorizer, system:node role)"
call node1 DELETE /api/v1/nodes/np1
is "$code" 403 "... nor another node's"
call admin DELETE /api/v1/nodes/np1
is "$code:$(out -c .)" "200:{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\",\"details\":{\"name\":\"np1\",\"kind\":\"nodes\",\"uid\":\"$np1uid\"}}" \
	"the admin deletes it: 200 Status Success (registry Store.finalizeDelete)"
call admin GET /api/v1/nodes/np1
is "$code" 404 "... the Node is gone"
call admin GET /api/v1/namespaces/kube-system/secrets/np1.node-password.k3s
is "$code" 404 "... and the garbage collector removed its password secret"
call admin DELETE /api/v1/nodes/np1
is "$code:$(out .reason)" 404:NotFound "deleting it again: 404"
kcert client np1 ffffffffffffffffffffffffffffffff
is "$code" 200 "with the Node and secret gone a new password is accepted (a reinstalled machine rejoins)"
# Orphans: a secret whose Node never appears is removed after --orphan-seconds (own double, so
# the slower checks above cannot race with the sweep).
np_url=$url
start orphans --orphan-seconds 2
kcert client np2 22222222222222222222222222222222
t0=$(date +%s%N)
call admin GET /api/v1/namespaces/kube-system/secrets/np2.node-password.k3s
is "$code" 200 "np2 asked for a certificate: its secret exists"
i=0
while [ $i -lt 100 ]; do
	call admin GET /api/v1/namespaces/kube-system/secrets/np2.node-password.k3s
	[ "$code" = 404 ] && break
	sleep 0.1
	i=$((i + 1))
done
t1=$(date +%s%N)
is "$code" 404 "no Node np2: the orphaned secret is removed after --orphan-seconds 2 (controller.go sync)"
[ $(((t1 - t0) / 1000000)) -ge 1800 ]
ok $? "... not before it is 2 s old (gone after $(((t1 - t0) / 1000000)) ms)"
# --state: nodes, secrets and the resourceVersion counter survive a restart of the double.
url=$np_url
curl -sS --cacert "$d/server-ca.crt" -o "$w/out" -X POST "$url/_double/nodes" -d '{"name":"np3"}'
np3uid=$(out .metadata.uid)
kcert client np3 33333333333333333333333333333333
call admin GET /api/v1/nodes
rv_before=$(out .metadata.resourceVersion)
is "$(jq -r '.nodes.np3.metadata.uid' "$w/np.state")" "$np3uid" "--state is written on every change"
kill "$np_pid"
wait "$np_pid" 2>/dev/null
start np2 --state "$w/np.state"
call admin GET /api/v1/nodes/np3
is "$code:$(out .metadata.uid)" "200:$np3uid" "after a restart with the same --state the Node is there, same uid"
call admin GET /api/v1/nodes
[ "$(out .metadata.resourceVersion)" -ge "$rv_before" ]
ok $? "... the resourceVersion counter did not go back ($rv_before -> $(out .metadata.resourceVersion))"
kcert client np3 44444444444444444444444444444444
is "$code" 403 "... and its password secret: another password is still refused"
kcert client np3 33333333333333333333333333333333
is "$code" 200 "... the stored one accepted"
ls "$w"/np.state.tmp.* >/dev/null 2>&1
is "$?" 2 "no temporary state file left behind (written by rename)"

# ServiceAccounts, TokenRequest, RBAC (ClusterRoles and ClusterRoleBindings), pods and their
# eviction, the K3s passwd users (README: "Service accounts, RBAC, pods").
start rb
json() { ctype=application/json data=$1; }
ns=/api/v1/namespaces
rbac=/apis/rbac.authorization.k8s.io/v1
json '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"retire"}}'
call admin POST $ns/kube-system/serviceaccounts
is "$code:$(out .kind):$(out .metadata.name):$(out .metadata.namespace)" 201:ServiceAccount:retire:kube-system \
	"admin creates a ServiceAccount: 201"
like "$(out .metadata.uid)" '^[0-9a-f-]{36}$' "... with a uid"
json '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"retire"}}'
call admin POST $ns/kube-system/serviceaccounts
is "$code:$(out .reason):$(out .message):$(out -c .details)" \
	'409:AlreadyExists:serviceaccounts "retire" already exists:{"name":"retire","kind":"serviceaccounts"}' \
	"creating it again: 409 AlreadyExists"
call admin GET $ns/kube-system/serviceaccounts/retire
is "$code:$(out .metadata.name)" 200:retire "GET the ServiceAccount"
json '{"metadata":{"name":"x"}}'
call admin POST $ns/nosuch/serviceaccounts
is "$code:$(out .message)" '404:namespaces "nosuch" not found' "in a namespace that does not exist: 404 (NamespaceLifecycle)"
json '{"metadata":{"name":"x","namespace":"default"}}'
call admin POST $ns/kube-system/serviceaccounts
is "$code:$(out .message)" '400:the namespace of the provided object does not match the namespace sent on the request' \
	"an object of another namespace: 400"
json '{"metadata":{"name":"x"}}'
call jane POST $ns/kube-system/serviceaccounts
is "$code:$(out .message)" '403:serviceaccounts is forbidden: User "jane" cannot create resource "serviceaccounts" in API group "" in the namespace "kube-system"' \
	"jane may not create one (403, RBAC has no rule for her)"

json '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":599}}'
call admin POST $ns/kube-system/serviceaccounts/retire/token
is "$code:$(out .message)" '422:TokenRequest.authentication.k8s.io "retire" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes' \
	"TokenRequest for less than 10 minutes: 422"
json '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}'
call admin POST $ns/kube-system/serviceaccounts/nosuch/token
is "$code:$(out .message)" '404:serviceaccounts "nosuch" not found' "TokenRequest for a missing ServiceAccount: 404"
json '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":31536000}}'
call admin POST $ns/kube-system/serviceaccounts/retire/token
is "$code:$(out .kind):$(out .apiVersion):$(out .spec.expirationSeconds)" 201:TokenRequest:authentication.k8s.io/v1:31536000 \
	"TokenRequest: 201 TokenRequest"
exp=$(date -d "$(out .status.expirationTimestamp)" +%s)
[ $((exp - $(date +%s))) -gt 31535000 ] && [ $((exp - $(date +%s))) -le 31536000 ]
ok $? "... status.expirationTimestamp a year ahead ($(out .status.expirationTimestamp))"
is "$(out -c .spec.audiences)" '["https://kubernetes.default.svc.cluster.local","k3s"]' "... K3s's api-audiences"
out -j .status.token >"$d/sa.token"
like "$(cat "$d/sa.token")" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "... status.token is a JWT"
call token:sa GET /api/v1/nodes
is "$code:$(out .message)" '403:nodes is forbidden: User "system:serviceaccount:kube-system:retire" cannot list resource "nodes" in API group "" at the cluster scope' \
	"the token authenticates as system:serviceaccount:kube-system:retire, no rights yet"
is "$(curl -sS --cacert "$d/server-ca.crt" "$url/_double/log" | jq -c '.[-1].groups')" \
	'["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"]' "... with the service account groups"
sed 's/.$/A/' "$d/sa.token" >"$d/sa-bad.token"
[ "$(cat "$d/sa-bad.token")" != "$(cat "$d/sa.token")" ] || sed 's/.$/B/' "$d/sa.token" >"$d/sa-bad.token"
call token:sa-bad GET /api/v1/nodes
is "$code" 401 "a token with a wrong signature: 401"

json '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"retire"},"rules":[{"apiGroups":[""],"resources":["nodes"],"verbs":["get","list","patch","delete"]},{"apiGroups":[""],"resources":["pods"],"verbs":["list"]},{"apiGroups":[""],"resources":["pods/eviction"],"verbs":["create"]}]}'
call admin POST $rbac/clusterroles
is "$code:$(out .kind):$(out '.rules|length')" 201:ClusterRole:3 "admin creates a ClusterRole: 201"
json '{"metadata":{"name":"retire"},"rules":[]}'
call admin POST $rbac/clusterroles
is "$code:$(out .message):$(out -c .details)" \
	'409:clusterroles.rbac.authorization.k8s.io "retire" already exists:{"name":"retire","group":"rbac.authorization.k8s.io","kind":"clusterroles"}' \
	"creating it again: 409 AlreadyExists"
json '{"metadata":{"name":"bad"},"rules":[{"apiGroups":[""],"resources":["nodes"]}]}'
call admin POST $rbac/clusterroles
is "$code:$(out .message)" '422:ClusterRole.rbac.authorization.k8s.io "bad" is invalid: rules[0].verbs: Required value: verbs must contain at least one value' \
	"a rule without verbs: 422"
json '{"metadata":{"name":"ghost"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"ghost"},"subjects":[{"kind":"Group","name":"system:serviceaccounts:kube-system"}]}'
call admin POST $rbac/clusterrolebindings
is "$code" 201 "a ClusterRoleBinding to a ClusterRole that does not exist: 201"
call token:sa GET /api/v1/nodes
is "$code:$(out .message)" '403:nodes is forbidden: User "system:serviceaccount:kube-system:retire" cannot list resource "nodes" in API group "" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found' \
	"... a binding that applies names the missing role in the reason"
json '{"metadata":{"name":"retire"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"retire"},"subjects":[{"kind":"ServiceAccount","name":"retire","namespace":"kube-system"}]}'
call admin POST $rbac/clusterrolebindings
is "$code:$(out .roleRef.name)" 201:retire "a ClusterRoleBinding of the ServiceAccount: 201"
json '{"metadata":{"name":"retire"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"retire"}}'
call admin POST $rbac/clusterrolebindings
is "$code:$(out .message)" '409:clusterrolebindings.rbac.authorization.k8s.io "retire" already exists' "creating it again: 409"
call admin GET $rbac/clusterrolebindings/retire
is "$code:$(out '.subjects[0].name')" 200:retire "GET the ClusterRoleBinding"
call admin GET $rbac/clusterroles/nosuch
is "$code:$(out .message)" '404:clusterroles.rbac.authorization.k8s.io "nosuch" not found' "a missing ClusterRole: 404"

curl -sS --cacert "$d/server-ca.crt" -o /dev/null -X POST "$url/_double/nodes" -d '{"name":"w1"}'
curl -sS --cacert "$d/server-ca.crt" -o /dev/null -X POST "$url/_double/nodes" -d '{"name":"w2"}'
kcert client w1 0123456789abcdef0123456789abcdef
is "$code" 200 "w1's kubelet certificate: its node-password secret exists"
call token:sa GET /api/v1/nodes
is "$code:$(out '[.items[].metadata.name]|join(",")')" 200:w1,w2 "the token may list nodes now (ClusterRoleBinding -> ClusterRole)"
patch token:sa w1 application/merge-patch+json '{"spec":{"unschedulable":true}}'
is "$code:$(out .spec.unschedulable)" 200:true "... and cordon w1 (PATCH spec.unschedulable)"
call token:sa GET $ns/kube-system/secrets
is "$code:$(out .message)" '403:secrets is forbidden: User "system:serviceaccount:kube-system:retire" cannot list resource "secrets" in API group "" in the namespace "kube-system": RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found' \
	"... but not list secrets (the binding to the missing role still applies and says so)"
call token:sa GET $ns/kube-system/secrets/w1.node-password.k3s
is "$code" 403 "... nor read one"
call admin GET $ns/kube-system/secrets
is "$code:$(out '[.items[].metadata.name]|join(",")')" 200:w1.node-password.k3s "admin lists the secrets"
json '{"metadata":{"name":"w1-reader"},"rules":[{"apiGroups":[""],"resources":["nodes"],"resourceNames":["w1"],"verbs":["get"]}]}'
call admin POST $rbac/clusterroles
json '{"metadata":{"name":"jane-w1"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"w1-reader"},"subjects":[{"kind":"User","name":"jane"}]}'
call admin POST $rbac/clusterrolebindings
call jane GET /api/v1/nodes/w1
is "$code" 200 "resourceNames: jane may get w1"
call jane GET /api/v1/nodes/w2
is "$code" 403 "... not w2"
call jane GET /api/v1/nodes
is "$code" 403 "... nor list nodes"

ctl() { curl -sS --cacert "$d/server-ca.crt" -o /dev/null -w '%{http_code}' -X POST "$url/_double/pods" -d "$1"; }
is "$(ctl '{"name":"web-1","node":"w1","owner":{"kind":"ReplicaSet","name":"web"}}')" 201 "control: a pod on w1"
ctl '{"name":"ds-1","namespace":"kube-system","node":"w1","owner":{"kind":"DaemonSet","name":"svclb"}}' >/dev/null
ctl '{"name":"static-w1","namespace":"kube-system","node":"w1","mirror":true}' >/dev/null
ctl '{"name":"other","namespace":"apps","node":"w2"}' >/dev/null
call token:sa GET '/api/v1/pods?fieldSelector=spec.nodeName%3Dw1'
is "$code:$(out '[.items[]|.metadata.namespace+"/"+.metadata.name]|join(",")')" \
	200:default/web-1,kube-system/ds-1,kube-system/static-w1 "pods of w1 in all namespaces (fieldSelector spec.nodeName)"
is "$(out -c '.items[]|select(.metadata.name=="static-w1")|[(.metadata.annotations|has("kubernetes.io/config.mirror")), .metadata.ownerReferences[0].kind]')" \
	'[true,"Node"]' "... a mirror pod has the config.mirror annotation and its Node as owner"
call token:sa GET $ns/apps/pods
is "$code:$(out '[.items[].metadata.name]|join(",")')" 200:other "pods of one namespace"
call token:sa GET '/api/v1/pods?fieldSelector=spec.bogus%3Dx'
is "$code:$(out .message)" "400:field label not supported: spec.bogus" "an unknown pod field: 400"
json '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web-2","namespace":"default"}}'
call token:sa POST $ns/default/pods/web-1/eviction
is "$code:$(out .message)" "400:name in URL does not match name in Eviction object" "eviction of another name: 400"
json '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"nosuch","namespace":"default"}}'
call token:sa POST $ns/default/pods/nosuch/eviction
is "$code:$(out .message)" '404:pods "nosuch" not found' "eviction of a missing pod: 404"
json '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web-1","namespace":"default"}}'
call jane POST $ns/default/pods/web-1/eviction
is "$code:$(out .message)" '403:pods "web-1" is forbidden: User "jane" cannot create resource "pods/eviction" in API group "" in the namespace "default"' \
	"jane may not evict (the subresource in the message)"
json '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web-1","namespace":"default"}}'
call token:sa POST $ns/default/pods/web-1/eviction
is "$code:$(cat "$w/out")" '201:{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}' \
	"the token evicts web-1: 201 Status Success (EvictionREST.Create, no PodDisruptionBudget)"
call token:sa GET '/api/v1/pods?fieldSelector=spec.nodeName%3Dw1'
is "$(out '[.items[].metadata.name]|join(",")')" ds-1,static-w1 "... web-1 is gone"
ctl '{"name":"db-0","node":"w2","owner":{"kind":"StatefulSet","name":"db"},"disruption_budget":{"name":"db-pdb","refusals":1}}' >/dev/null
json '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"db-0","namespace":"default"}}'
call token:sa POST $ns/default/pods/db-0/eviction
is "$code:$(out .reason):$(out .message):$(out -c .details)" \
	"429:TooManyRequests:Cannot evict pod as it would violate the pod's disruption budget.:"'{"causes":[{"reason":"DisruptionBudget","message":"The disruption budget db-pdb needs 1 healthy pods and has 1 currently"}]}' \
	"a pod whose disruption budget allows no disruption: 429 TooManyRequests"
json '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"db-0","namespace":"default"}}'
call token:sa POST $ns/default/pods/db-0/eviction
is "$code" 201 "... evicted once the budget allows it"
call token:sa DELETE /api/v1/nodes/w1
is "$code:$(out .status)" 200:Success "the token deletes w1"
is "$(curl -sS --cacert "$d/server-ca.crt" "$url/_double/secrets" | jq -r 'keys|join(",")')" "" \
	"... its node-password secret went with it (owner reference)"
is "$(curl -sS --cacert "$d/server-ca.crt" "$url/_double/pods" | jq -r 'keys|join(",")')" apps/other,kube-system/ds-1 \
	"... and its mirror pod (owned by the Node); the DaemonSet's pod stays (PodGC is not modelled)"
call token:sa GET $ns/kube-system/serviceaccounts/retire
is "$code" 403 "the token may not read ServiceAccounts"

# K3s's passwd users (user server: the server token, user node: the agent token) set at run time
kcert client w5 55555555555555555555555555555555
is "$code" 200 "before: user node with the PKI token's password"
code=$(curl -sS --cacert "$d/server-ca.crt" -o "$w/out" -w '%{http_code}' -X POST "$url/_double/k3s-tokens" \
	-d '{"server":"K10abc::server:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","agent":"a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9"}')
is "$code:$(out -c .users)" '200:["node","server"]' "control: new server and agent tokens"
kcert client w5 55555555555555555555555555555555
is "$code" 401 "the old password: 401"
old_npw=$npw
npw=a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9
kcert client w5 55555555555555555555555555555555
is "$code" 200 "user node with the agent token: 200"
ku=server npw=0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f
kcert client w5 55555555555555555555555555555555
is "$code" 200 "user server with the server token's password: 200"
npw=a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9
kcert client w5 55555555555555555555555555555555
is "$code" 401 "user server with the agent token: 401"
ku=node npw=$old_npw

# Failure modes
start selfsigned --self-signed
curl -sS --max-time 5 --cacert "$d/server-ca.crt" -o /dev/null "$url/ping" 2>/dev/null
is "$?" 60 "--self-signed: the server CA does not verify it (curl 60)"
is "$(curl -sS -k --max-time 5 "$url/cacerts" | sha256sum | cut -d' ' -f1)" "$(cat "$d/token.hash")" \
	"--self-signed: /cacerts still matches the token (the client must verify the chain itself)"
start slow --delay 1
t0=$(date +%s%N)
curl -sS --max-time 5 --cacert "$d/server-ca.crt" -o /dev/null "$url/ping"
t1=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -ge 1000 ]
ok $? "--delay 1 answers after >= 1 s ($(((t1 - t0) / 1000000)) ms)"
start hang --hang
curl -sS --max-time 1 --cacert "$d/server-ca.crt" -o /dev/null "$url/ping" 2>/dev/null
is "$?" 28 "--hang: the client times out (curl 28)"
start hangtls --hang-tls
curl -sS --max-time 1 --cacert "$d/server-ca.crt" -o /dev/null "$url/ping" 2>/dev/null
is "$?" 28 "--hang-tls: the TLS handshake times out (curl 28)"
is "$(cat "$w"/*.err)" "" "no double wrote to stderr"
done_testing
