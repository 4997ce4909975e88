#!/bin/sh
# Joining K3s, against the K3s / Kubernetes API test double (tests/tools/k3s-double.py: real
# TLS on 127.0.0.1, /cacerts, /ping, GET/PATCH nodes with merge-patch semantics, x509 and
# bearer authentication, the Node authorizer and NodeRestriction):
#  - node-agent preflight: right hash, wrong hash, a token without a hash (refused unless
#    cluster.ca_file pins the CA), a self-signed server, server down, slow server, DNS
#    failure (in a network namespace with no way out), token file permissions;
#  - node-agent join --no-start: waits for Ready, sets the labels the kubelet may set with
#    the kubelet's own certificate, asks for node-role labels by annotation, removes its
#    labels when the hardware goes; node-agent roles (admin): applies only what the config
#    allows; a rerun sends no PATCH;
#  - node-agent run: the whole pipeline with join and state.json, resume after a failure.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

for c in python3 openssl jq curl; do
	if ! command -v $c >/dev/null; then
		skip "join tests" "$c missing"
		done_testing
		exit 0
	fi
done
w=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $w"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; [ -n "$KEEP" ] || cleanup' EXIT

# the node name `run` gives the fixture machine (node_name "${hostname}")
printf 'schema: node-agent/config/v1\nnode_name: "${hostname}"\n' > "$w/name.yaml"
name=$("$NODE_AGENT" plan --config "$w/name.yaml" --root tests/fixtures/gpu-nvidia-driver 2>/dev/null | jq -r .node_name)
sh tests/tools/mk-k3s-pki.sh -n node1 -n gpu1 -n gfd1 -n srv1 -n "$name" "$w/pki" >/dev/null 2>&1
start_double() { # start_double NAME [ARGS]: the port in $w/NAME.port
	n=$1
	shift
	python3 tests/tools/k3s-double.py --pki "${PKI:-$w/pki}" --port 0 --portfile "$w/$n.port" "$@" \
		2>"$w/$n.log" &
	pids="$pids $!"
	for i in $(seq 100); do [ -s "$w/$n.port" ] && break; sleep 0.1; done
}
start_double main
start_double selfsigned --self-signed
P=$(cat "$w/main.port") S=$(cat "$w/selfsigned.port")
api=https://127.0.0.1:$P
ctl() { curl -sS --cacert "$w/pki/server-ca.crt" "$@"; }

install -m 0600 "$w/pki/token" "$w/token"
install -m 0600 "$w/pki/token.wrong-hash" "$w/token.wrong"
printf 'just-a-password\n' > "$w/token.plain" && chmod 600 "$w/token.plain"
install -m 0644 "$w/pki/token" "$w/token.readable"
cfg() { # cfg FILE SERVER TOKEN [EXTRA YAML LINES]
	f=$1 server=$2 tok=$3
	shift 3
	{
		printf 'schema: node-agent/config/v1\ncluster:\n  server: %s\n  token_file: %s\n' "$server" "$tok"
		for l in "$@"; do printf '%s\n' "$l"; done
	} > "$f"
}

# --- preflight ---
pf() { "$NODE_AGENT" preflight --config "$1" --timeout "${2:-10}" 2>&1; }
cfg "$w/ok.yaml" "$api" "$w/token"
out=$(pf "$w/ok.yaml"); rc=$?
is "$rc" 0 "preflight: right CA hash -> exit 0"
like "$out" "CA sha256 $(cut -c4-67 "$w/pki/token") matches the token; server certificate verified" \
	"preflight says which hash matched"
is "$(ctl -s "$api/_double/log" | jq '[.[] | select(.user != null)] | length')" 0 \
	"preflight sent no credentials at all"

cfg "$w/wrong.yaml" "$api" "$w/token.wrong"
out=$(pf "$w/wrong.yaml"); rc=$?
is "$rc" 1 "preflight: wrong CA hash -> exit 1"
like "$out" "CA hash mismatch: the token in $w/token.wrong expects a cluster CA with sha256 $(cut -c4-67 "$w/pki/token.wrong-hash"), but $api/cacerts serves one with sha256 $(cut -c4-67 "$w/pki/token")" \
	"the mismatch names both hashes"
like "$out" "refusing to send the token" "and says the token was not sent"

cfg "$w/plain.yaml" "$api" "$w/token.plain"
out=$(pf "$w/plain.yaml"); rc=$?
is "$rc" 1 "preflight: token without a CA hash, CA not pinned -> refused"
like "$out" "not trusted, and the token in .* is not a secure K10 token carrying the CA hash; refusing to join" \
	"message says why and what to do"
cfg "$w/pinned.yaml" "$api" "$w/token.plain" "  ca_file: $w/pki/server-ca.crt"
out=$(pf "$w/pinned.yaml"); rc=$?
is "$rc" 0 "preflight: token without a hash but cluster.ca_file pins the CA -> ok"
like "$out" "is the pinned cluster.ca_file" "says the pinned CA was used"

cfg "$w/ss.yaml" "https://127.0.0.1:$S" "$w/token"
out=$(pf "$w/ss.yaml"); rc=$?
is "$rc" 1 "preflight: self-signed serving certificate (not from the CA it serves) -> refused"
like "$out" "not issued by the CA it serves at /cacerts" "message names the certificate problem"
cfg "$w/ss-plain.yaml" "https://127.0.0.1:$S" "$w/token.plain"
out=$(pf "$w/ss-plain.yaml"); rc=$?
is "$rc" 1 "preflight: self-signed server and a token without a hash -> refused"
cfg "$w/ss-pinned.yaml" "https://127.0.0.1:$S" "$w/token.plain" "  ca_file: $w/pki/self-signed.crt"
out=$(pf "$w/ss-pinned.yaml"); rc=$?
is "$rc" 0 "preflight: self-signed server whose certificate the config pins -> ok"

# A custom CA (K3s contrib/util/generate-custom-ca-certs.sh): /cacerts serves the server CA
# followed by its root, and K3s's hashCA (pkg/clientaccess/token.go) hashes the DER of the
# root the first certificate chains to, not the bytes.
sh tests/tools/mk-k3s-pki.sh -c -n node1 "$w/pkic" >/dev/null 2>&1
PKI=$w/pkic start_double custom
C=$(cat "$w/custom.port")
install -m 0600 "$w/pkic/token" "$w/token.custom"
install -m 0600 "$w/pkic/token.bytes-hash" "$w/token.custom-bytes"
root_hash=$(openssl x509 -in "$w/pkic/root-ca.crt" -outform DER | sha256sum | cut -d' ' -f1)
bytes_hash=$(sha256sum "$w/pkic/server-ca.crt" | cut -d' ' -f1)
cfg "$w/custom.yaml" "https://127.0.0.1:$C" "$w/token.custom"
out=$(pf "$w/custom.yaml"); rc=$?
is "$rc" 0 "preflight: custom CA bundle (server CA + root), token with the root's DER hash -> ok"
like "$out" "CA sha256 $root_hash \\(the bundle's root\\) matches the token" "says the root's hash matched"
cfg "$w/custom-bytes.yaml" "https://127.0.0.1:$C" "$w/token.custom-bytes"
out=$(pf "$w/custom-bytes.yaml"); rc=$?
is "$rc" 1 "preflight: custom CA bundle, token with the hash of the bundle's bytes -> refused (as K3s)"
like "$out" "expects a cluster CA with sha256 $bytes_hash, but .* serves one with sha256 $root_hash \\(its root certificate's DER" \
	"the mismatch says the root's DER is what counts"
# Two certificates that do not chain (the server CA and an unrelated CA): K3s falls back to
# the bundle's bytes.
mkdir -p "$w/pkiu"
cp -p "$w/pki/"* "$w/pkiu/" 2>/dev/null
cat "$w/pki/server-ca.crt" "$w/pki/untrusted-ca.crt" >"$w/pkiu/server-ca.crt"
unchained=$(sha256sum "$w/pkiu/server-ca.crt" | cut -d' ' -f1)
printf 'K10%s::server:x\n' "$unchained" >"$w/token.unchained" && chmod 600 "$w/token.unchained"
PKI=$w/pkiu start_double unchained
U=$(cat "$w/unchained.port")
cfg "$w/unchained.yaml" "https://127.0.0.1:$U" "$w/token.unchained"
out=$(pf "$w/unchained.yaml"); rc=$?
is "$rc" 0 "preflight: a bundle whose first CA chains to none of the others -> the bytes' hash, as K3s"
cfg "$w/unchained-first.yaml" "https://127.0.0.1:$U" "$w/token"
out=$(pf "$w/unchained-first.yaml"); rc=$?
is "$rc" 1 "preflight: ... and the first certificate's own hash does not match it"
# a bundle with a certificate that does not parse matches no token in K3s
{ cat "$w/pki/server-ca.crt"; printf -- '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n'; } >"$w/broken-cacerts"
start_double broken --cacerts "$w/broken-cacerts"
B=$(cat "$w/broken.port")
cfg "$w/broken.yaml" "https://127.0.0.1:$B" "$w/token"
out=$(pf "$w/broken.yaml"); rc=$?
is "$rc" 1 "preflight: a CA bundle with a certificate that does not parse -> refused"
like "$out" "serves a CA bundle with a certificate that does not parse" "and says so"

# Tokens by role: an agent with the agent token (user "node") is quiet; an agent holding the
# server token (user "server", administrator-equivalent) is warned; --role agent reads
# cluster.agent_token_file.
sed 's/::server:/::node:/' "$w/pki/token" >"$w/token.agent" && chmod 600 "$w/token.agent"
cfg "$w/roles.yaml" "$api" "$w/token" "  agent_token_file: $w/token.agent"
out=$("$NODE_AGENT" preflight --config "$w/roles.yaml" --role agent 2>&1); rc=$?
is "$rc" 0 "preflight --role agent: the agent token verifies"
unlike "$out" "holds the server token" "... and no warning for the agent token"
out=$("$NODE_AGENT" preflight --config "$w/ok.yaml" --role agent 2>&1); rc=$?
is "$rc" 0 "preflight --role agent with only the server token: still verifies"
like "$out" "warning: this agent holds the server token, which is administrator-equivalent" \
	"... and warns that an agent holds the server token"
out=$("$NODE_AGENT" preflight --config "$w/ok.yaml" --role server 2>&1)
unlike "$out" "holds the server token" "a server with the server token: no warning"
out=$("$NODE_AGENT" preflight --config "$w/ok.yaml" --role worker 2>&1); rc=$?
is "$rc" 2 "preflight --role worker: usage error"

# a port nothing listens on: bind one and close it
down=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cfg "$w/down.yaml" "https://127.0.0.1:$down" "$w/token"
out=$(pf "$w/down.yaml"); rc=$?
is "$rc" 1 "preflight: server down -> exit 1"
like "$out" "cannot connect" "message: cannot connect"

ctl -X POST "$api/_double/config" -d '{"delay": 5}' >/dev/null
t0=$(date +%s)
out=$(pf "$w/ok.yaml" 2); rc=$?
t1=$(date +%s)
ctl -X POST "$api/_double/config" -d '{"delay": 0}' >/dev/null
is "$rc" 1 "preflight: slow server -> exit 1"
like "$out" "timed out" "message: timed out"
ok "$([ $((t1 - t0)) -le 4 ] && echo 0 || echo 1)" "the timeout bounds it ($((t1 - t0)) s with --timeout 2)"

if unshare -n true 2>/dev/null; then
	cfg "$w/dns.yaml" "https://k3s-server.invalid:6443" "$w/token"
	out=$(unshare -n sh -c 'ip link set lo up 2>/dev/null; "$0" preflight --config "$1" --timeout 5 2>&1' \
		"$NODE_AGENT" "$w/dns.yaml"); rc=$?
	is "$rc" 1 "preflight: unresolvable name -> exit 1"
	like "$out" "DNS lookup failed" "message: DNS lookup failed"
else
	skip "preflight: DNS failure" "no network namespaces"
	skip "preflight: DNS failure message" "no network namespaces"
fi

cfg "$w/readable.yaml" "$api" "$w/token.readable"
out=$(pf "$w/readable.yaml"); rc=$?
is "$rc" 1 "preflight: token file readable by others -> refused"
like "$out" "mode 0644: group or others may read it" "message names the mode"
cfg "$w/missing.yaml" "$api" "$w/no-such-token"
out=$(pf "$w/missing.yaml"); rc=$?
is "$rc" 1 "preflight: token file missing -> exit 1"
like "$out" "token file $w/no-such-token cannot be read: No such file" "message: cannot be read"
out=$("$NODE_AGENT" preflight 2>&1); rc=$?
is "$rc" 2 "preflight without --config -> usage, exit 2"

# --- join and labels ---
# A node's filesystem as K3s leaves it: the kubelet's kubeconfig with certificate files,
# the admin kubeconfig on servers.
mktarget() { # mktarget DIR NODE
	d=$1 n=$2
	mkdir -p "$d/var/lib/rancher/k3s/agent" "$d/etc/rancher/k3s"
	cp "$w/pki/server-ca.crt" "$d/var/lib/rancher/k3s/agent/server-ca.crt"
	cp "$w/pki/client-kubelet-$n.crt" "$d/var/lib/rancher/k3s/agent/client-kubelet.crt"
	cp "$w/pki/client-kubelet-$n.key" "$d/var/lib/rancher/k3s/agent/client-kubelet.key"
	cat > "$d/var/lib/rancher/k3s/agent/kubelet.kubeconfig" <<EOK
apiVersion: v1
kind: Config
clusters:
- cluster:
    server: $api
    certificate-authority: /var/lib/rancher/k3s/agent/server-ca.crt
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
}
mktarget "$w/gpu1" gpu1
cfg "$w/cluster.yaml" "$api" "$w/token" \
	'node_name: "${hostname}"' \
	'rules:' \
	'  - name: all' \
	'    labels: {site: lab}' \
	'  - name: gpu' \
	'    match: {gpu_vendor: nvidia}' \
	'    node_role: gpu-worker' \
	'    labels: {workload: gpu}' \
	'    taints: ["nvidia.com/gpu=present:NoSchedule"]'
# the inventory of a GPU machine called gpu1, and the same machine with the GPU taken out
jq '.hostname = "gpu1"' tests/fixtures/gpu-nvidia-driver.expected.json > "$w/gpu1.json"
jq '.hostname = "gpu1" | .gpus = [] | .pci_devices |= map(select(.vendor_id != "10de"))' \
	tests/fixtures/gpu-nvidia-driver.expected.json > "$w/gpu1-nogpu.json"
join() { "$NODE_AGENT" join --config "$w/cluster.yaml" --inventory "$1" --target "$w/gpu1" --no-start \
	--timeout "${2:-20}" 2>"$w/join.err"; }
node() { ctl -s "$api/_double/nodes" | jq -c --arg n "$1" ".[\$n]$2"; }

out=$(join "$w/gpu1.json" 3); rc=$?
is "$rc" 1 "join: no Node registered within the timeout -> exit 1"
like "$(cat "$w/join.err")" "node gpu1 not Ready within 3 s: waiting for node gpu1 to register" \
	"the message says what it waited for"

ctl -X POST "$api/_double/nodes" -d '{"name": "gpu1", "ready": "False"}' >/dev/null
( sleep 2; ctl -X POST "$api/_double/nodes/gpu1/ready" -d '{"status": "True"}' >/dev/null ) &
ctl -X DELETE "$api/_double/log" >/dev/null
out=$(join "$w/gpu1.json"); rc=$?
is "$rc" 0 "join: waits until the Node turns Ready, then exit 0"
like "$(cat "$w/join.err")" "registered, not Ready yet" "progress shows the Not Ready phase"
is "$(node gpu1 '.metadata.labels | [."nvidia.com/gpu.present", ."nvidia.com/gpu.product", .site, .workload] | join(",")')" \
	'"true,NVIDIA-GeForce-RTX-3050,lab,gpu"' "self-settable labels are on the Node"
is "$(node gpu1 '.metadata.labels["node-role.kubernetes.io/gpu-worker"]')" null \
	"the role label was not set by the kubelet (NodeRestriction)"
is "$(node gpu1 '.metadata.annotations["node-agent.io/api-labels"]')" \
	'"{\"node-role.kubernetes.io/gpu-worker\":\"true\"}"' "the node asks for its role by annotation"
log=$(ctl -s "$api/_double/log")
is "$(printf '%s' "$log" | jq -r '[.[] | select(.method == "PATCH")] | .[0] | .auth + " " + .user + " " + .content_type')" \
	"x509 system:node:gpu1 application/merge-patch+json" \
	"labels were patched with the kubelet's own certificate, as a JSON merge patch"
is "$(printf '%s' "$log" | jq '[.[] | select(.code >= 400)] | length')" 0 "no request was refused"

# Ready means this boot: after a reboot the Node keeps the last boot's Ready=True and bootID
# until this boot's kubelet posts (kubelet nodestatus MachineInfo: BootID); the join waits.
mkdir -p "$w/gpu1/proc/sys/kernel/random"
echo 7d1c0b52-2f4e-4a55-9b3a-000000000002 >"$w/gpu1/proc/sys/kernel/random/boot_id"
ctl -X POST "$api/_double/nodes/gpu1/ready" -d '{"status": "True", "boot_id": "7d1c0b52-2f4e-4a55-9b3a-000000000001"}' >/dev/null
out=$(join "$w/gpu1.json" 3); rc=$?
is "$rc" 1 "join after a reboot: Ready=True of the earlier boot is not Ready -> exit 1 at the timeout"
like "$(cat "$w/join.err")" "Ready from an earlier boot \\(bootID 7d1c0b52-2f4e-4a55-9b3a-000000000001, this boot is 7d1c0b52-2f4e-4a55-9b3a-000000000002\\)" \
	"... and says it waits for this boot's kubelet"
( sleep 2; ctl -X POST "$api/_double/nodes/gpu1/ready" -d '{"status": "True", "boot_id": "7d1c0b52-2f4e-4a55-9b3a-000000000002"}' >/dev/null ) &
out=$(join "$w/gpu1.json"); rc=$?
is "$rc" 0 "join after a reboot: done once this boot's kubelet posts Ready"
rm -r "$w/gpu1/proc"

out=$("$NODE_AGENT" roles --config "$w/cluster.yaml" --target "$w/gpu1" 2>&1); rc=$?
is "$rc" 0 "roles (server, admin kubeconfig) exit 0"
like "$out" "node gpu1: label node-role.kubernetes.io/gpu-worker=true" "roles says what it applied"
is "$(node gpu1 '.metadata.labels["node-role.kubernetes.io/gpu-worker"]')" '"true"' \
	"the role label is on the Node: kubectl get nodes shows ROLES gpu-worker"
# taints: the Node was registered without one (a GPU added later, K3s's node-taint applies
# only at registration) and the kubelet may not add it (NodeRestriction); the node asks,
# the server applies what a rule gives
is "$(node gpu1 '.metadata.annotations["node-agent.io/api-taints"]')" '"nvidia.com/gpu=present:NoSchedule"' \
	"the node asks for its taint by annotation"
like "$out" "node gpu1: taint nvidia.com/gpu=present:NoSchedule" "roles says it applied the taint"
is "$(node gpu1 ' | [.spec.taints[] | select(.key == "nvidia.com/gpu")] | .[0] | [.value, .effect] | join(":")')" \
	'"present:NoSchedule"' "the taint is on the Node"

# a node asking for a role the config never gives is refused
ctl -X POST "$api/_double/nodes" -d '{"name": "rogue", "annotations": {"node-agent.io/api-labels": "{\"node-role.kubernetes.io/control-plane\":\"true\",\"kubernetes.io/evil\":\"x\"}"}}' >/dev/null
out=$("$NODE_AGENT" roles --config "$w/cluster.yaml" --target "$w/gpu1" 2>&1)
like "$out" "node rogue: refusing label node-role.kubernetes.io/control-plane=true: no rule of the config gives it" \
	"a role no rule gives is refused"
is "$(node rogue '.metadata.labels["node-role.kubernetes.io/control-plane"]')" null "and not applied"
ctl -X POST "$api/_double/nodes" -d '{"name": "rogue2", "annotations": {"node-agent.io/api-taints": "evil=x:NoExecute"}}' >/dev/null
out=$("$NODE_AGENT" roles --config "$w/cluster.yaml" --target "$w/gpu1" 2>&1)
like "$out" "node rogue2: refusing taint evil=x:NoExecute: no rule of the config gives it" \
	"a taint no rule gives is refused"
is "$(node rogue2 ' | .spec.taints // [] | map(select(.key == "evil")) | length')" 0 "and not applied"
# an administrator's own taint on gpu1 (kubectl taint) is never touched by node-agent
ctl -X PATCH -H 'Content-Type: application/merge-patch+json' --cert "$w/pki/client-admin.crt" --key "$w/pki/client-admin.key" \
	"$api/api/v1/nodes/gpu1" -d "$(node gpu1 ' | {spec: {taints: (.spec.taints + [{key: "maintenance", value: "true", effect: "NoSchedule"}])}}')" >/dev/null

ctl -X DELETE "$api/_double/log" >/dev/null
out=$(join "$w/gpu1.json"); rc=$?
out2=$("$NODE_AGENT" roles --config "$w/cluster.yaml" --target "$w/gpu1" 2>&1)
is "$rc" 0 "join again: exit 0"
like "$out" "labels current" "nothing to change"
is "$(ctl -s "$api/_double/log" | jq '[.[] | select(.method != "GET")] | length')" 0 \
	"a rerun sends no PATCH (join and roles)"

out=$(join "$w/gpu1-nogpu.json"); rc=$?
"$NODE_AGENT" roles --config "$w/cluster.yaml" --target "$w/gpu1" >/dev/null 2>&1
is "$rc" 0 "join after the GPU was taken out: exit 0"
is "$(node gpu1 '.metadata.labels | [has("nvidia.com/gpu.present"), has("workload"), has("node-role.kubernetes.io/gpu-worker"), .site] | map(tostring) | join(",")')" \
	'"false,false,false,lab"' "GPU labels, workload label and the role are gone; site stays"
is "$(node gpu1 ' | [.spec.taints // [] | .[].key] | join(",")')" '"maintenance"' \
	"the GPU taint is gone; the administrator's taint stays"
is "$(node gpu1 '.metadata.annotations | [has("node-agent.io/api-taints"), has("node-agent.io/applied-api-taints")] | map(tostring) | join(",")')" \
	'"false,false"' "and the taint annotations with it"

# --- GPU Feature Discovery and NFD own their labels once they run (issue 13) ---
# gfd1 has run GFD through NFD: nfd-master set GFD's values and listed the keys in
# nfd.node.kubernetes.io/feature-labels (node-feature-discovery pkg/nfd-master/
# nfd-master.go, updateNodeObject: keys under feature.node.kubernetes.io/ without that
# prefix), GFD's timestamp is there (k8s-device-plugin internal/lm/timestamp.go), the
# GPU Operator's nvidia.com/gpu.deploy.* too. GFD's values differ from the agent's: with
# time-slicing GFD's gpu.product ends in -SHARED (internal/lm/resource.go). An earlier boot
# of the agent had set gpu.product and gpu.memory itself (its managed-labels annotation).
# Run 1 without the driver loaded (as with the GPU Operator: the agent's plan has no
# gpu.product), run 2 with it (the plan's gpu.product is NVML's plain name): no key of GFD's,
# NFD's or the GPU Operator's changes or disappears; the agent's own are set.
mktarget "$w/gfd1" gfd1
gfd_labels='{"nvidia.com/gfd.timestamp": "1767225600", "nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-3050-SHARED",
 "nvidia.com/gpu.count": "1", "nvidia.com/gpu.replicas": "4", "nvidia.com/gpu.sharing-strategy": "time-slicing",
 "nvidia.com/gpu.memory": "8192", "nvidia.com/gpu.family": "ampere", "nvidia.com/gpu.compute.major": "8",
 "nvidia.com/gpu.compute.minor": "6", "nvidia.com/gpu.machine": "ThinkCentre-M720q", "nvidia.com/gpu.mode": "graphics",
 "nvidia.com/gpu.present": "true", "nvidia.com/gpu.deploy.driver": "true",
 "feature.node.kubernetes.io/pci-10de.present": "true", "feature.node.kubernetes.io/cpu-cpuid.AVX2": "true"}'
nfd_list='cpu-cpuid.AVX2,nvidia.com/gfd.timestamp,nvidia.com/gpu.compute.major,nvidia.com/gpu.compute.minor,nvidia.com/gpu.count,nvidia.com/gpu.family,nvidia.com/gpu.machine,nvidia.com/gpu.memory,nvidia.com/gpu.mode,nvidia.com/gpu.product,nvidia.com/gpu.replicas,nvidia.com/gpu.sharing-strategy,pci-10de.present'
ctl -X POST "$api/_double/nodes" -d "$(jq -n --argjson l "$gfd_labels" --arg nfd "$nfd_list" '{name: "gfd1", as: "admin",
	labels: ($l + {site: "lab"}), annotations: {"nfd.node.kubernetes.io/feature-labels": $nfd,
	"node-agent.io/managed-labels": "nvidia.com/gpu.memory,nvidia.com/gpu.product,site"}}')" >/dev/null
jq '.hostname = "gfd1"' tests/fixtures/gpu-nvidia-nodriver.expected.json > "$w/gfd1-1.json"
jq '.hostname = "gfd1"' tests/fixtures/gpu-nvidia-driver.expected.json > "$w/gfd1-2.json"
plan=$("$NODE_AGENT" plan --config "$w/cluster.yaml" --inventory "$w/gfd1-1.json" --target "$w/gfd1" 2>/dev/null)
is "$(printf '%s\n' "$plan" | jq -c '[.label_owners["nvidia.com/gpu.count"], .label_owners["nvidia.com/gpu.present"], .label_owners["feature.node.kubernetes.io/pci-10de.present"], .label_owners["gpu.node-agent.io/NVIDIA-GeForce-RTX-3050-8GB"], .label_owners.site]')" \
	'["gpu-feature-discovery","gpu-operator","node-feature-discovery",null,null]' \
	"the plan names who owns each hardware label (none for the agent's own or a rule's)"
ctl -X DELETE "$api/_double/log" >/dev/null
for i in 1 2; do
	"$NODE_AGENT" join --config "$w/cluster.yaml" --inventory "$w/gfd1-$i.json" --target "$w/gfd1" --no-start \
		--timeout 20 >/dev/null 2>"$w/join.err"
	is "$?" 0 "GFD's node, agent run $i: exit 0"
	is "$(ctl -s "$api/_double/nodes" | jq -c --argjson l "$gfd_labels" '.gfd1.metadata.labels as $have | $l | to_entries | map(select($have[.key] != .value)) | from_entries')" \
		'{}' "agent run $i: every GFD, NFD and GPU Operator label keeps its value"
done
is "$(ctl -s "$api/_double/log" | jq -c --argjson l "$gfd_labels" '[.[] | select(.method == "PATCH") | (.body | fromjson? // {}) | .metadata.labels // {} | keys[] | select($l[.] != null)]')" \
	'[]' "no PATCH of either run touched a key GFD, NFD or the GPU Operator manages"
is "$(node gfd1 '.metadata.labels | [."gpu.node-agent.io/NVIDIA-GeForce-RTX-3050-8GB", .workload, .site] | join(",")')" \
	'"1,gpu,lab"' "the agent's own per-model label and the rules' labels are set"
is "$(ctl -s "$api/_double/nodes" | jq -c --argjson l "$gfd_labels" '.gfd1.metadata.annotations["node-agent.io/managed-labels"] | split(",") | map(select($l[.] != null))')" \
	'[]' "the agent no longer counts a key GFD, NFD or the GPU Operator manages as its own"
like "$(ctl -s "$api/_double/nodes" | jq -r '.gfd1.metadata.annotations["node-agent.io/managed-labels"]')" \
	'feature.node.kubernetes.io/cpu-cpuid.AESNI' "keys NFD does not list stay the agent's"
# the kubelet's certificate of another node must not be able to change gpu1
mktarget "$w/imposter" node1
out=$("$NODE_AGENT" join --config "$w/cluster.yaml" --inventory "$w/gpu1.json" --target "$w/imposter" \
	--no-start --timeout 5 2>&1); rc=$?
is "$rc" 1 "join with another node's kubelet certificate -> exit 1"
like "$out" "HTTP 403" "the API server's refusal is shown"

# a kubeconfig that is broken is named
mkdir -p "$w/broken/var/lib/rancher/k3s/agent"
printf 'apiVersion: v1\nkind: Config\ncurrent-context: x\n' > "$w/broken/var/lib/rancher/k3s/agent/kubelet.kubeconfig"
out=$("$NODE_AGENT" join --config "$w/cluster.yaml" --inventory "$w/gpu1.json" --target "$w/broken" \
	--no-start --timeout 2 2>&1); rc=$?
is "$rc" 1 "join with a broken kubeconfig -> exit 1"
like "$out" "kubelet.kubeconfig: current-context x is not in contexts" "the kubeconfig problem is named"

# --- the whole boot job ---
t=$w/run
mktarget "$t" "$name"
out=$("$NODE_AGENT" run --root tests/fixtures/gpu-nvidia-driver --target "$t" --config "$w/cluster.yaml" \
	--no-start --join-timeout 3 2>"$w/run.err"); rc=$?
is "$rc" 1 "run: the Node of this machine is not registered yet -> join fails, exit 1"
is "$("$NODE_AGENT" status --target "$t" --json | jq -c '[.stages[] | .stage + ":" + .result]')" \
	'["detect:ok","config:ok","report:skipped","plan:ok","apply:ok","join:failed"]' \
	"state.json: stopped at join"
ctl -X POST "$api/_double/nodes" -d "{\"name\": \"$name\"}" >/dev/null
"$NODE_AGENT" run --root tests/fixtures/gpu-nvidia-driver --target "$t" --config "$w/cluster.yaml" \
	--no-start --join-timeout 10 2>"$w/run.err"
is "$?" 0 "run again after the Node registered: exit 0"
like "$(cat "$w/run.err")" "resuming: the last run stopped at join" "the run says it resumes where it stopped"
is "$("$NODE_AGENT" status --target "$t" --json | jq -c '[.resumed_from, [.stages[] | .stage + ":" + .result]]')" \
	'["join",["detect:ok","config:ok","report:skipped","plan:ok","apply:ok","join:ok","gitops:skipped"]]' \
	"state.json: every stage ok, resumed from join"
is "$(stat -c %a "$t/var/lib/node-agent/config.yaml")" 600 "the config the run used is kept (0600) for node-agent roles"
ctl -X DELETE "$api/_double/log" >/dev/null
before=$(find "$t" -type f -newer "$t/var/lib/node-agent/config.yaml" | grep -v var/lib/node-agent | sort)
"$NODE_AGENT" run --root tests/fixtures/gpu-nvidia-driver --target "$t" --config "$w/cluster.yaml" \
	--no-start --join-timeout 10 2>"$w/run.err"
is "$?" 0 "a third run: exit 0"
is "$(ctl -s "$api/_double/log" | jq '[.[] | select(.method != "GET")] | length')" 0 \
	"re-running after success sends no change to the API"
like "$(cat "$w/run.err")" "apply: ok: 0 changed" "and writes no file"

# --- the first server: join (its own role label applied with the admin kubeconfig), then
# the GitOps manifests from a pinned install manifest served over TLS on loopback ---
sh tests/tools/mkcert.sh "$w/tls" >/dev/null 2>&1
mkdir -p "$w/www" && cp tests/gitops/flux-install.yaml "$w/www/"
python3 tests/tools/testserver.py --dir "$w/www" --tls "$w/tls/server.pem" "$w/tls/server.key" \
	--portfile "$w/www.port" & pids="$pids $!"
for i in $(seq 50); do [ -s "$w/www.port" ] && break; sleep 0.1; done
cat > "$w/first.yaml" <<EOC
schema: node-agent/config/v1
node_name: srv1
# the target is a directory of this machine's disk, not a RAM root
persistent_root: true
rules:
  - name: first
    role: server-init
    node_role: storage
gitops:
  engine: flux
  install_url: https://127.0.0.1:$(cat "$w/www.port")/flux-install.yaml
  install_sha256: $(sha256sum tests/gitops/flux-install.yaml | cut -d' ' -f1)
  install_ca_file: $w/tls/ca.pem
  repository: https://git.example/homelab
  branch: main
  path: clusters/home
EOC
mktarget "$w/srv" srv1
ctl -X POST "$api/_double/nodes" -d '{"name": "srv1", "server": true, "as": "admin"}' >/dev/null
"$NODE_AGENT" run --root tests/fixtures/qemu-q35 --target "$w/srv" --config "$w/first.yaml" \
	--no-start --join-timeout 10 2>"$w/srv.err"
is "$?" 0 "run on the server-init node: exit 0"
is "$("$NODE_AGENT" status --target "$w/srv" --json | jq -c '[.stages[] | .stage + ":" + .result]')" \
	'["detect:ok","config:ok","report:skipped","plan:ok","apply:ok","join:ok","gitops:ok"]' \
	"state.json: join and gitops ok"
is "$(node srv1 '.metadata.labels["node-role.kubernetes.io/storage"]')" '"true"' \
	"the server applied its own role label with the admin kubeconfig"
like "$(cat "$w/srv.err")" "join: roles: node srv1: label node-role.kubernetes.io/storage=true" \
	"the journal says so"
ls "$w/srv/var/lib/rancher/k3s/server/manifests/" > "$w/manifests"
is "$(tr '\n' ' ' < "$w/manifests")" "node-agent-gitops-install.yaml node-agent-gitops-source.yaml " \
	"the Flux install manifest and GitRepository + Kustomization are in K3s's manifests directory"
cmp -s tests/gitops/flux-install.yaml "$w/srv/var/lib/rancher/k3s/server/manifests/node-agent-gitops-install.yaml"
is "$?" 0 "the install manifest is written byte for byte"
like "$(grep -E '^kind:' "$w/srv/var/lib/rancher/k3s/server/manifests/node-agent-gitops-source.yaml" | tr '\n' ' ')" \
	"kind: GitRepository kind: Kustomization" "source objects: GitRepository and Kustomization"
# an agent of the same cluster skips GitOps
is "$("$NODE_AGENT" status --target "$t" --json | jq -r '.stages[-1].message')" \
	"only the server-init node bootstraps GitOps" "other nodes skip the gitops stage"

# --- the first server with its state gone must not create a second cluster ---
# The token carries the CA hash of the running cluster; the target has no server CA (a
# RAM root, or a data disk that was replaced): join stops before starting K3s.
cat > "$w/init-lost.yaml" <<EOC
schema: node-agent/config/v1
cluster: {token_file: $w/token}
node_name: srv1
persistent_root: true
rules:
  - name: first
    role: server-init
EOC
mkdir -p "$w/lost"
"$NODE_AGENT" join --root tests/fixtures/qemu-q35 --target "$w/lost" --config "$w/init-lost.yaml" \
	--no-start --timeout 5 >"$w/lost.out" 2>"$w/lost.err"
is "$?" 1 "server-init without its state and a token of an existing cluster: join exits 1"
like "$(cat "$w/lost.err")" "no /var/lib/rancher/k3s/server/tls/server-ca.crt.*CA hash of an existing cluster.*second cluster" \
	"it says the state is gone and that starting K3s would create a second cluster"
mkdir -p "$w/lost/var/lib/rancher/k3s/server/tls" "$w/lost/etc/rancher/k3s"
cp "$w/pki/server-ca.crt" "$w/lost/var/lib/rancher/k3s/server/tls/server-ca.crt"
"$NODE_AGENT" join --root tests/fixtures/qemu-q35 --target "$w/lost" --config "$w/init-lost.yaml" \
	--no-start --timeout 5 >"$w/lost.out" 2>"$w/lost.err"
unlike "$(cat "$w/lost.err")" "second cluster" "with its server CA in place, the same node goes on to start K3s"

done_testing
