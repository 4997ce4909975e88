#!/bin/sh
# A cluster from zero through node-agent serve, on a namespace LAN like 99-serve-lan.t's: a
# bridge, Debian's dnsmasq as the home router, `node-agent serve` with network boot, and three
# QEMU machines (TCG, SeaBIOS + QEMU's iPXE ROM) booting the built image from serve. The
# operator's node config has no cluster section: serve makes the cluster (issue 15). The K3s
# double (tests/tools/k3s-double.py) is the cluster's API on its own LAN address (10.79.0.3:6443,
# relayed by socat to the double on that namespace's loopback); every machine gets the stand-in
# k3s (tests/e2e/k3s-standin.c) from an initrd that serve serves: the image's initrd followed
# by a cpio of the stand-in, /etc/default/k3s pointing the server-init's stand-in at the
# double, and journald forwarding to the serial console.
#   m1 (serial NA990001, a data disk) server-init: gets serve's server token over HTTPS,
#      creates the cluster, posts the server URL and CA hash to serve;
#   m2, m3 (NA990002/3, diskless) agents, booted at once: wait (503) until serve knows the
#      CA hash, then join with serve's agent token; labels and a taint from the rules.
# A first boot fetches its config before its report got it accepted (by serve's rule): it is
# inventory only, and the machine is switched off and on again (the same identity).
# All three Ready with their roles, labels and taints; m2 is rebooted and rejoins under its
# name (serve keeps its node password: the double refuses another); m3 is retired through
# serve (cordon, evict, delete its Node with serve's ServiceAccount token) and refused at
# its next boot. Then every log, console, state file, stored report, API answer and the
# LAN's traffic (tests/tools/lan-capture.py) is searched for the tokens and node passwords.
# Skipped with NA_E2E=0, without root, namespaces, the image or the stand-in.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1
top=$(pwd)

# Where serve keeps the cluster's secrets in its database (state_dir/serve.db, read with
# python3's sqlite3: the sqlite3 CLI is not among tests/install-deps.sh's packages).
# The names are node-agent/serve/cluster.c's and db.c's (migration 2); secrets searched for
# below are the cluster table's keys with "token" or "key" in their names (server_token,
# agent_token, api_token, ticket_key) and every machine's node password.
DB_FILE=serve.db
DB_CLUSTER_TABLE=cluster            # (key TEXT PRIMARY KEY, value TEXT)
DB_KEY_SERVER_TOKEN=server_token    # the raw server token (K3s `token`)
DB_KEY_AGENT_TOKEN=agent_token      # the raw agent token (K3s `agent-token`)
DB_KEY_CA_HASH=ca_hash              # pinned by the server-init's POST /api/v1/cluster
DB_KEY_SERVER_URL=server            # the server URL it posted
DB_CRED_TABLE=credentials           # (machine_id, ticket, ..., node_password, node_name, role)
DB_CRED_PASSWORD=node_password
DB_CRED_TPM=tpm_key                 # the SPKI PEM pinned at the first signed join request
# The double's runtime hook for serve's tokens (k3s-double.py: users "server" and "node")
DOUBLE_TOKENS_HOOK=/_double/k3s-tokens
# The ServiceAccount serve retires with (contract section 3), as the double names its user.
SERVE_SA_USER=system:serviceaccount:kube-system:node-agent-serve

img=${IMAGE_DIR:-build/image}/pxe
standin=${K3S_STANDIN:-build/tests/k3s-standin}
why=""
[ "${NA_E2E:-1}" = 0 ] && why="NA_E2E=0 (no QEMU boots)"
[ -z "$why" ] && [ "$(id -u)" -ne 0 ] && why="needs root"
[ -z "$why" ] && [ ! -s "$img/vmlinuz" ] && why="no image in $img (make image)"
[ -z "$why" ] && [ ! -x "$standin" ] && why="no $standin (make)"
for p in dnsmasq qemu-system-x86_64 curl jq openssl socat cpio python3 mkfs.ext4 swtpm; do
	[ -z "$why" ] && ! command -v $p >/dev/null 2>&1 && why="$p not installed (tests/install-deps.sh test)"
done
id=$$
L=na-clan-$id R=na-crtr-$id S=na-csrv-$id K=na-ck3s-$id
if [ -z "$why" ] && ! ip netns add $L 2>/dev/null; then
	why="cannot create network namespaces here"
fi
if [ -n "$why" ]; then
	skip "a cluster from zero through node-agent serve on a namespace LAN" "$why"
	done_testing
	exit 0
fi
ip netns add $R
ip netns add $S
ip netns add $K
w=$(mktemp -d "${TMPDIR:-/tmp}/na-scl.XXXXXX")
pids=""
teardown() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	for ns in $L $R $S $K; do ip netns del $ns 2>/dev/null; done
	if [ "${E2E_KEEP:-0}" = 1 ]; then echo "# kept $w"; else rm -rf "$w"; fi
	cleanup
}
trap teardown EXIT
t0=$(date +%s)
since() { echo "$(($(date +%s) - t0)) s"; }

# wait_for FILE PATTERN SECONDS: bounded wait for a line
wait_for() {
	_i=0
	while [ $_i -lt "$3" ]; do
		grep -Eaq -- "$2" "$1" 2>/dev/null && return 0
		sleep 1
		_i=$((_i + 1))
	done
	return 1
}

# --- the LAN: br0 in L; the router (.1), serve (.2), the cluster's API (.3) ---
ip -n $L link add br0 type bridge
ip -n $L link set br0 up
for n in r s k; do
	eval "ns=\$$(echo $n | tr rsk RSK)"
	ip -n $L link add v${n}0 type veth peer name v${n}1 netns $ns
	ip -n $L link set v${n}0 master br0 up
	ip -n $ns link set v${n}1 up
	ip -n $ns link set lo up
done
ip -n $R addr add 10.79.0.1/24 dev vr1
ip -n $S addr add 10.79.0.2/24 dev vs1
ip -n $K addr add 10.79.0.3/24 dev vk1
# everything on the LAN, as it went over the wire (but the image's kernel and initrd)
ip netns exec $L python3 tests/tools/lan-capture.py br0 "$w/lan.capture" 2>"$w/lan-capture.log" &
capture_pid=$!
pids="$pids $capture_pid"
ip netns exec $R dnsmasq --no-daemon --port=0 --interface=vr1 --bind-interfaces --log-dhcp \
	--dhcp-range=10.79.0.100,10.79.0.199,255.255.255.0,1h --dhcp-leasefile="$w/leases" \
	--dhcp-authoritative >"$w/dnsmasq.log" 2>&1 &
pids="$pids $!"

# --- the cluster's API: the K3s double, its serving certificate also for 10.79.0.3 ---
K3S_PKI_EXTRA_SANS=IP:10.79.0.3 sh tests/tools/mk-k3s-pki.sh "$w/pki" >/dev/null 2>&1 &&
	sh tests/tools/mk-k3s-pki.sh -k -s https://10.79.0.3:6443 "$w/pki" >/dev/null 2>&1
ok $? "the K3s double's PKI, its certificate naming 10.79.0.3, the admin kubeconfig pointing there"
ip netns exec $K python3 tests/tools/k3s-double.py --pki "$w/pki" --port 0 --portfile "$w/k3s.port" \
	2>"$w/k3s-double.log" &
pids="$pids $!"
for i in $(seq 100); do [ -s "$w/k3s.port" ] && break; sleep 0.1; done
kport=$(cat "$w/k3s.port" 2>/dev/null)
ip netns exec $K socat TCP-LISTEN:6443,bind=10.79.0.3,reuseaddr,fork "TCP:127.0.0.1:$kport" \
	2>"$w/socat.log" &
pids="$pids $!"
# the double's control endpoints and its view of the cluster, from its own namespace
double() { ip netns exec $K curl -sS --max-time 10 --cacert "$w/pki/server-ca.crt" "https://127.0.0.1:$kport$1"; }
sleep 0.5
is "$(ip netns exec $S curl -s --max-time 10 --cacert "$w/pki/server-ca.crt" https://10.79.0.3:6443/ping)" pong \
	"the double answers on the LAN at https://10.79.0.3:6443 (serve's namespace, its CA trusted)"
double_ca_hash=$(cut -c4-67 "$w/pki/token")

# --- serve's image: the image's kernel; its initrd followed by the stand-in's cpio ---
# The kernel unpacks concatenated newc archives in order: the second adds to the first's
# root. The same overlay for every machine: /etc/default/k3s is read by k3s.service (the
# server's unit) only: its embedded agent joins the double and copies the double's admin
# kubeconfig (join.sh's join_setup_server).
o=$w/overlay
mkdir -p "$o/usr/local/bin" "$o/etc/default" "$o/etc/k3s-standin" "$o/etc/systemd/journald.conf.d"
install -m 0755 "$standin" "$o/usr/local/bin/k3s"
install -m 0600 "$w/pki/token" "$o/etc/k3s-standin/double-token"
install -m 0600 "$w/pki/k3s.yaml" "$o/etc/k3s-standin/admin.kubeconfig"
cat >"$o/etc/default/k3s" <<EOF
K3S_STANDIN_API=https://10.79.0.3:6443
K3S_STANDIN_API_TOKEN_FILE=/run/k3s-standin-api-token
K3S_STANDIN_ADMIN_KUBECONFIG=/etc/k3s-standin/admin.kubeconfig
EOF
# The server-init's embedded agent joins the double as the server that made the cluster would:
# with serve's server token (the double took it, below), pinned to the double's CA; with the
# double's own token when node-agent gave it none.
mkdir -p "$o/etc/systemd/system/k3s.service.d"
cat >"$o/usr/local/bin/k3s-standin-api-token" <<'EOS'
#!/bin/sh
umask 077
t=/run/node-agent/credentials/k3s-token
if [ -s $t ]; then
	tok=$(cat $t)
	printf 'K10%s::server:%s\n' "$(cut -c4-67 /etc/k3s-standin/double-token)" "${tok##*:}" >/run/k3s-standin-api-token
else
	cp /etc/k3s-standin/double-token /run/k3s-standin-api-token
fi
EOS
chmod 755 "$o/usr/local/bin/k3s-standin-api-token"
printf '[Service]\nExecStartPre=/usr/local/bin/k3s-standin-api-token\n' \
	>"$o/etc/systemd/system/k3s.service.d/50-standin-api-token.conf"
# serve's kernel command line has no systemd.journald.forward_to_console: the same, as a file
printf '[Journal]\nForwardToConsole=yes\nMaxLevelConsole=info\n' >"$o/etc/systemd/journald.conf.d/50-console.conf"
mkdir -p "$w/image"
ln -s "$(cd "$img" && pwd)/vmlinuz" "$w/image/vmlinuz"
# The kernel takes an uncompressed cpio after a compressed one only at an offset that is a
# multiple of 4 (init/initramfs.c: `*buf == '0' && !(this_header & 3)`), else "Initramfs
# unpacking failed: invalid magic" and the overlay is silently missing: zeros pad it (skipped).
isz=$(stat -c %s "$img/initrd")
{ cat "$img/initrd" && head -c $(((4 - isz % 4) % 4)) /dev/zero &&
	(cd "$o" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet); } >"$w/image/initrd"
ok $? "serve's image: the image's kernel, its initrd + the stand-in k3s ($(($(stat -c %s "$w/image/initrd") >> 20)) MiB)"

# --- serve: the operator's node config without a cluster section (serve makes the cluster) ---
cat >"$w/cluster.yaml" <<'EOF'
schema: node-agent/config/v1
node_name: "pc-${serial}"
data_disk: {match: {serial: [NA99DATA1]}, allow_wipe_serials: [], mount: /var/lib/rancher, label: k8s-data}
rules:
  - name: first-server
    match: {serial: [NA990001]}
    role: server-init
  - name: workers
    match: {serial: [NA990002, NA990003]}
    role: agent
    labels: {lab: cluster-e2e, tier: worker}
    taints: ["lab.node-agent.io/dedicated=e2e:NoSchedule"]
EOF
printf 'operator-token-cluster\n' >"$w/token"
chmod 600 "$w/token"
cat >"$w/serve.yaml" <<EOF
schema: node-agent/serve/v1
interface: vs1
state_dir: $w/state
image: {dir: $w/image}
node_config: $w/cluster.yaml
http: {port: 8080}
https: {port: 8443}
netboot: {tftp_root: /usr/lib/ipxe}
accept:
  - name: the-lab
    match: {serial: [NA990001, NA990002, NA990003]}
operators:
  - name: alice
    token_sha256: $(printf 'operator-token-cluster' | sha256sum | cut -d' ' -f1)
EOF
ip netns exec $S "$NODE_AGENT" serve --config "$w/serve.yaml" >"$w/serve.log" 2>&1 &
serve_pid=$!
pids="$pids $serve_pid"
wait_for "$w/serve.log" 'listening on' 20
ok $? "node-agent serve starts with network boot on vs1 (node config without a cluster section)"
cert=$w/state/tls-cert.pem
api() { ip netns exec $S curl -sf --max-time 10 --cacert "$cert" "https://10.79.0.2:8443$1"; }
machines() { ip netns exec $S "$NODE_AGENT" machines "$@" --server https://10.79.0.2:8443 --ca "$cert"; }

# dbq SQL: rows of serve's database, tab-separated (read-only; serve keeps it open, WAL)
dbq() {
	python3 - "$w/state/$DB_FILE" "$1" <<'EOF'
import sqlite3, sys
try:
    c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
    for row in c.execute(sys.argv[2]):
        print("\t".join("" if v is None else str(v) for v in row))
except sqlite3.Error as e:
    sys.exit("dbq: %s" % e)
EOF
}
dbkey() { dbq "SELECT value FROM $DB_CLUSTER_TABLE WHERE key = '$1';" 2>/dev/null; }
# Once serve has made the tokens (at the server-init's join request), the double takes them
# as its cluster's (K3s: `token` and `agent-token` of the server that created the cluster),
# before the server-init's stand-in asks the double for its kubelet certificates with them:
# a poller of serve's database, every 0.2 s (bounded), in the double's namespace. Its status
# file says 200 once the double took them; the tokens travel in a file, never an argument.
cat >"$w/give-tokens.py" <<'EOF'
import json, sqlite3, ssl, sys, time, urllib.request
db, keys, url, ca, status = sys.argv[1], sys.argv[2].split(","), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
for _ in range(int(float(sys.argv[6]) / 0.2)):
    try:
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=1)
        got = dict(c.execute("SELECT key, value FROM cluster WHERE key IN (?, ?)", keys).fetchall())
        c.close()
    except sqlite3.Error:
        got = {}
    if len(got) == 2:
        body = json.dumps({"server": got[keys[0]], "agent": got[keys[1]]}).encode()
        req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                code = r.status
        except OSError as e:
            code = getattr(e, "code", str(e))
        with open(status, "w") as f:
            f.write("%s %.1f\n" % (code, time.time()))
        sys.exit(0 if code == 200 else 1)
    time.sleep(0.2)
sys.exit(2)
EOF
ip netns exec $K python3 "$w/give-tokens.py" "$w/state/$DB_FILE" "$DB_KEY_SERVER_TOKEN,$DB_KEY_AGENT_TOKEN" \
	"https://127.0.0.1:$kport$DOUBLE_TOKENS_HOOK" "$w/pki/server-ca.crt" "$w/double-tokens.status" \
	"${NA_CLUSTER_WAIT:-900}" 2>"$w/give-tokens.log" &
pids="$pids $!"
tokens_given() { [ "$(cut -d' ' -f1 "$w/double-tokens.status" 2>/dev/null)" = 200 ]; }

# --- the machines: SeaBIOS + QEMU's iPXE ROM (e1000), one vCPU each (TCG) ---
# machine NAME SERIAL MAC UUID [QEMU ARGS]: boots (again: the same identity) with its console
# in $w/NAME.console, or $w/NAME.N.console for its boot after the Nth; con_NAME: the current
truncate -s 2G "$w/data1.img"
mkfs.ext4 -q -F -L k8s-data "$w/data1.img"
machine() {
	_n=$1 _serial=$2 _mac=$3 _uuid=$4
	shift 4
	_con=$_n
	[ -e "$w/$_n.console" ] && _con=$_n.$(ls "$w" | grep -c "^$_n\.\(console\|[0-9]*\.console\)$")
	ip -n $L link show tap-$_n >/dev/null 2>&1 || {
		ip -n $L tuntap add tap-$_n mode tap
		ip -n $L link set tap-$_n master br0 up
	}
	ip netns exec $L qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 1 -m 2048 \
		-nographic -nodefaults -no-reboot -serial "file:$w/$_con.console" \
		-smbios "type=1,manufacturer=HP,product=EliteDesk 800 G4,serial=$_serial,uuid=$_uuid" \
		-netdev tap,id=n0,ifname=tap-$_n,script=no,downscript=no \
		-device "e1000,netdev=n0,mac=$_mac" -boot n "$@" >"$w/$_con.qemu" 2>&1 &
	eval "qpid_$_n=\$! con_$_n=\$w/\$_con.console"
	pids="$pids $!"
}
stop_machine() { # NAME
	eval "_p=\$qpid_$1"
	kill "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
}
# m2 has a TPM 2.0: swtpm on a unix socket (QEMU's tpm-tis), its state kept across m2's boots
# (the same owner seed, the same machine key); it ends with the QEMU that used it (--terminate)
tpm_on() {
	rm -f "$w/tpm-m2.sock"
	mkdir -p "$w/tpm-m2"
	swtpm socket --tpm2 --tpmstate dir="$w/tpm-m2" --ctrl type=unixio,path="$w/tpm-m2.sock" \
		--terminate 2>>"$w/swtpm.log" &
	pids="$pids $!"
	for _i in $(seq 50); do
		[ -S "$w/tpm-m2.sock" ] && return 0
		sleep 0.1
	done
	return 1
}
m2_args="-chardev socket,id=chrtpm,path=$w/tpm-m2.sock -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0"
mac1=52:54:00:79:00:11 mac2=52:54:00:79:00:12 mac3=52:54:00:79:00:13
uuid1=6b1d4f2e-3c5a-4e7b-9d8c-790000000001
uuid2=6b1d4f2e-3c5a-4e7b-9d8c-790000000002
uuid3=6b1d4f2e-3c5a-4e7b-9d8c-790000000003
node1=pc-na990001 node2=pc-na990002 node3=pc-na990003

# the server-init first; the agents at once (serve answers them 503, waiting for the first
# server, until the server-init has told it the CA hash)
start=$(date +%s)
machine m1 NA990001 $mac1 $uuid1 -drive "file=$w/data1.img,if=none,id=d1,format=raw" \
	-device nvme,serial=NA99DATA1,drive=d1
sleep 5
tpm_on || diag "swtpm for m2 did not start: $(cat "$w/swtpm.log")"
machine m2 NA990002 $mac2 $uuid2 $m2_args
machine m3 NA990003 $mac3 $uuid3

# nodes_ready: the Ready nodes the double holds, sorted, space-separated
nodes_ready() {
	double /_double/nodes 2>/dev/null | jq -r '[to_entries[] | select(any(.value.status.conditions[]?;
		.type == "Ready" and .status == "True")) | .key] | sort | join(" ")' 2>/dev/null
}
want="$node1 $node2 $node3"
# A machine serve did not know yet when it fetched its config got the inventory-only one: its
# report got it accepted by the rule, and its next boot joins. The operator switches it off
# and on (once; m1 with its data disk).
m1_args="-drive file=$w/data1.img,if=none,id=d1,format=raw -device nvme,serial=NA99DATA1,drive=d1"
cycled=""
deadline=$(($(date +%s) + ${NA_CLUSTER_WAIT:-900}))
while [ "$(date +%s)" -lt $deadline ]; do
	[ "$(nodes_ready)" = "$want" ] && break
	grep -aq 'Initramfs unpacking failed' "$w"/m*.console 2>/dev/null && break
	for n in 1 2 3; do
		case " $cycled " in *" m$n "*) continue ;; esac
		eval "c=\$con_m$n"
		grep -aq 'node-agent\[[0-9]*\]: join: skipped: inventory only' "$c" 2>/dev/null || continue
		[ "$(api /api/machines | jq -r --arg s NA99000$n '.machines[] | select(.serial == $s) | .state')" = accepted ] ||
			continue
		diag "m$n: its first boot was inventory only (accepted by its report): switched off and on ($(since))"
		stop_machine m$n
		[ $n = 2 ] && tpm_on
		eval "machine m$n NA99000$n \$mac$n \$uuid$n \$m${n}_args"
		cycled="$cycled m$n"
	done
	# a machine that is off (QEMU exited) will not come
	for n in 1 2 3; do
		eval "kill -0 \$qpid_m$n" 2>/dev/null || break 2
	done
	sleep 1
done
unlike "$(cat "$w"/m*.console)" 'Initramfs unpacking failed' "every machine unpacked the image's initrd and the overlay"
tokens_given
ok $? "serve made the cluster's server and agent tokens (its database), the double took them$(tokens_given &&
	echo " $(($(cut -d' ' -f2 "$w/double-tokens.status" | cut -d. -f1) - t0)) s after the start")"
is "$(nodes_ready)" "$want" "from nothing: the server-init and two agents joined, their Nodes Ready ($(($(date +%s) - start)) s, TCG)"

double /_double/nodes >"$w/double-nodes.json"
nodeq() { jq -r --arg n "$1" ".[\$n] | $2" "$w/double-nodes.json"; }
is "$(nodeq $node1 '.metadata.labels["node-role.kubernetes.io/control-plane"]')" true \
	"$node1 (m1): a control-plane node"
for n in $node2 $node3; do
	is "$(nodeq $n '[.metadata.labels.lab, .metadata.labels.tier] | join(" ")')" "cluster-e2e worker" \
		"$n: the rule's labels"
	is "$(nodeq $n '[.spec.taints[]? | select(.key == "lab.node-agent.io/dedicated") | .value + ":" + .effect] | join(",")')" \
		"e2e:NoSchedule" "$n: the rule's taint"
	is "$(nodeq $n '.metadata.labels["node-role.kubernetes.io/control-plane"] // "none"')" none \
		"$n: an agent, no control-plane role"
done
double /_double/log >"$w/double-log.json"
for n in $node1 $node2 $node3; do
	is "$(jq -r --arg p /api/v1/nodes --arg n "$n" '[.[] | select(.method == "POST" and .path == $p and
		(.body | fromjson? | .metadata.name) == $n)][0].user' "$w/double-log.json")" "system:node:$n" \
		"$n was registered by its kubelet's identity"
done
grep -aq "node-agent\[[0-9]*\]: join: ok: node $node1 Ready as server-init" "$con_m1"
ok $? "m1's journal: join: ok, Ready as server-init"
for n in 2 3; do
	eval "nn=\$node$n"
	eval "c=\$con_m$n"
	grep -aq "node-agent\[[0-9]*\]: join: ok: node $nn Ready as agent" "$c"
	ok $? "m$n's journal: join: ok, Ready as agent"
	# whether it came before serve knew the CA hash (503) depends on the boots' pace
	grep -aq 'node-agent\[[0-9]*\]: credentials: serve waits for the first server' "$c" &&
		diag "m$n asked before the server-init had told serve the CA hash: it waited (503)"
done
is "$(dbkey $DB_KEY_CA_HASH)" "$double_ca_hash" "the server-init told serve the cluster's CA hash (the double's /cacerts)"
is "$(dbkey $DB_KEY_SERVER_URL)" https://10.79.0.3:6443 "... and its server URL (the admin kubeconfig's)"
is "$(dbq "SELECT m.serial || ' ' || c.role FROM $DB_CRED_TABLE c JOIN machines m ON m.id = c.machine_id ORDER BY m.serial;" |
	tr '\n' ,)" "NA990001 server-init,NA990002 agent,NA990003 agent," "serve's roles: the plan of each machine's inventory"
code() { api /api/machines | jq -r --arg s "$1" '.machines[] | select(.serial == $s) | .code'; }
# the node's report of its join follows its Ready (at most 60 s for all three to arrive)
for i in $(seq 60); do
	[ "$(api /api/machines | jq -r '[.machines[] | .state] | unique | join(",")')" = joined ] && break
	sleep 1
done
for n in 1 2 3; do
	c=$(code NA99000$n)
	eval "code$n=\$c"
	api "/api/machines/$c" >"$w/api-m$n.json"
	is "$(jq -r '.state + " " + .accepted_by' "$w/api-m$n.json")" "joined rule:the-lab" \
		"m$n ($c): accepted by serve's rule, joined"
done

# the node passwords serve keeps (the same at every boot of a machine)
dbq "SELECT m.serial, c.$DB_CRED_PASSWORD FROM $DB_CRED_TABLE c JOIN machines m ON m.id = c.machine_id
	WHERE c.$DB_CRED_PASSWORD IS NOT NULL ORDER BY m.serial;" >"$w/secret-passwords.tsv" 2>"$w/dbq.err"
is "$(cut -f1 "$w/secret-passwords.tsv" | tr '\n' ' ')" "NA990001 NA990002 NA990003 " \
	"serve keeps a node password for each machine"
is "$(cut -f2 "$w/secret-passwords.tsv" | grep -Ecx '[0-9a-f]{32}')" 3 "... 32 hex digits each"

# m2's TPM: its boot job signed the ticket with the TPM's key, serve pinned that key
grep -aq 'node-agent\[[0-9]*\]: credentials: the ticket is signed by this machine.s TPM key' "$con_m2"
ok $? "m2 (swtpm as tpm-tis): its boot job signed the ticket with the TPM's machine key"
grep -aq 'node-agent\[[0-9]*\]: credentials: no TPM 2.0 .*hardware identity' "$con_m1"
ok $? "m1 (no TPM): its boot job says serve knows it by its hardware identity"
is "$(dbq "SELECT m.serial FROM $DB_CRED_TABLE c JOIN machines m ON m.id = c.machine_id
	WHERE c.$DB_CRED_TPM IS NOT NULL ORDER BY m.serial;" | tr '\n' ' ')" "NA990002 " \
	"serve pinned m2's TPM key, and no key for the machines without a TPM"
tpm_key1=$(dbq "SELECT c.$DB_CRED_TPM FROM $DB_CRED_TABLE c JOIN machines m ON m.id = c.machine_id WHERE m.serial = 'NA990002';")
like "$(machines show "$code2" 2>&1)" "TPM key pinned" "machines show $code2: TPM key pinned"

# --- m2 (diskless) reboots: RAM kept nothing, serve gives it the same node password ---
secret_uid=$(double /_double/secrets | jq -r --arg s "$node2.node-password.k3s" '.[$s].metadata.uid')
boot_id1=$(nodeq $node2 .status.nodeInfo.bootID)
double /_double/log -X DELETE >/dev/null
stop_machine m2
start=$(date +%s)
tpm_on
machine m2 NA990002 $mac2 $uuid2 $m2_args
wait_for "$con_m2" "node-agent\\[[0-9]*\\]: join: (ok|failed|skipped)" "${NA_CLUSTER_WAIT:-900}"
grep -aq "node-agent\[[0-9]*\]: join: ok: node $node2 Ready as agent" "$con_m2"
ok $? "m2 rebooted (no disk) and joined again as $node2 ($(($(date +%s) - start)) s)"
double /_double/nodes >"$w/double-nodes2.json"
is "$(jq -r 'keys | join(" ")' "$w/double-nodes2.json")" "$want" "... under its name: still three Nodes"
b2=$(jq -r --arg n $node2 '.[$n].status.nodeInfo.bootID' "$w/double-nodes2.json")
[ -n "$b2" ] && [ "$b2" != null ] && [ "$b2" != "$boot_id1" ]
ok $? "... its Node carries the new boot's ID"
uid2=$(double /_double/secrets | jq -r --arg s "$node2.node-password.k3s" '.[$s].metadata.uid')
[ -n "$secret_uid" ] && [ "$secret_uid" != null ] && [ "$uid2" = "$secret_uid" ]
ok $? "... the cluster kept its node password secret ($secret_uid -> $uid2): the same password was sent"
double /_double/log >"$w/double-log2.json"
is "$(jq -r '[.[] | select(.path | startswith("/v1-k3s/")) | .status] | unique | join(",")' "$w/double-log2.json")" 200 \
	"... its kubelet certificates were given, none refused (no \"Node password rejected\")"
grep -aq 'k3s\[[0-9]*\]: .*Node password rejected' "$con_m2"
ok $((! $?)) "... and none on its console"
is "$(dbq "SELECT c.$DB_CRED_TPM FROM $DB_CRED_TABLE c JOIN machines m ON m.id = c.machine_id WHERE m.serial = 'NA990002';")" \
	"$tpm_key1" "... its ticket signed again by the TPM key serve pinned (the same key after the reboot)"

# --- m3 is retired through serve: cordoned, drained, its Node deleted with serve's token ---
double /_double/log -X DELETE >/dev/null
machines retire "$code3" --token-file "$w/token" >"$w/retire.out" 2>&1
ok $? "node-agent machines retire $code3 (the operator's token)"
gone=no
for i in $(seq 60); do
	if [ "$(double /_double/nodes | jq -r --arg n $node3 'has($n)')" = false ] &&
		[ "$(double /_double/secrets | jq -r --arg s "$node3.node-password.k3s" 'has($s)')" = false ]; then
		gone=yes
		break
	fi
	sleep 1
done
is "$gone" yes "its Node is deleted, and with it its node-password secret"
double /_double/log >"$w/double-log3.json"
is "$(jq -r --arg p /api/v1/nodes/$node3 '[.[] | select(.method == "PATCH" and .path == $p and .status == 200 and
	(.body | fromjson? | .spec.unschedulable) == true)] | length > 0' "$w/double-log3.json")" true "... cordoned first"
is "$(jq -r --arg p /api/v1/nodes/$node3 '[.[] | select(.method == "DELETE" and .path == $p)][0] | .user + " " + (.status | tostring)' \
	"$w/double-log3.json")" "$SERVE_SA_USER 200" "... deleted by serve's ServiceAccount"
is "$(api "/api/machines/$code3" | jq -r .state)" retired "serve: m3 is retired"
is "$(dbq "SELECT count(*) FROM $DB_CRED_TABLE c JOIN machines m ON m.id = c.machine_id
	WHERE m.serial = 'NA990003' AND c.$DB_CRED_PASSWORD IS NOT NULL;")" 0 "... its node password forgotten"
stop_machine m3
start=$(date +%s)
machine m3 NA990003 $mac3 $uuid3
# serve's proxy DHCP leaves a retired machine unanswered (iPXE: "Nothing to boot"); were it
# booted, its script, config or join credentials would be refused
wait_for "$con_m3" 'Nothing to boot|is not accepted|retired' 300
ok $? "m3 switched on again: refused ($(($(date +%s) - start)) s): $(grep -aEo 'Nothing to boot|is not accepted.*|[^ ]*retired.*' "$con_m3" | head -n 1)"
api "/api/machines/$code3" >"$w/api-m3-after.json"
like "$(jq -r '[.events[] | .kind + ": " + (.detail // "")] | .[-3:] | join(" / ")' "$w/api-m3-after.json")" \
	'(dhcp: not answered|script fetched): .*a retired machine|retired' "... serve's timeline: $(jq -r '.events[-1] | .kind + ": " + (.detail // "")' "$w/api-m3-after.json")"
sleep 5
is "$(double /_double/nodes | jq -r --arg n $node3 'has($n)')" false "... and it is not back in the cluster"
stop_machine m3

# --- the secrets: in serve's database and the double, nowhere else ---
# the served config of an accepted machine carries a ticket, not a token
ip netns exec $S curl -s --max-time 10 "http://10.79.0.2:8080/config/$mac1.yaml" >"$w/config-m1.yaml"
like "$(tr '\n' ' ' <"$w/config-m1.yaml")" 'credentials: *(url: *"?https://10\.79\.0\.2:8443/api/v1/join|ticket)' \
	"the served node config: join credentials by ticket over HTTPS (contract section 1)"
unlike "$(cat "$w/config-m1.yaml")" '^ *(token_file|server):' "... no token file, no server"
for p in $qpid_m1 $qpid_m2; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
kill $serve_pid
wait $serve_pid
is $? 0 "serve stops cleanly on SIGTERM"
kill $capture_pid
wait $capture_pid
diag "LAN capture: $(cat "$w/lan-capture.log")"
double /_double/log >"$w/double-log4.json"
dbq "SELECT inventory FROM reports;" >"$w/reports.dump" 2>>"$w/dbq.err"
ok "$([ -s "$w/reports.dump" ] && echo 0 || echo 1)" "the reports serve stored, dumped ($(wc -l <"$w/reports.dump") reports)"
# the secrets, one a line, for grep -F -f (never on a command line)
{
	cut -f2 "$w/secret-passwords.tsv"
	dbq "SELECT value FROM $DB_CLUSTER_TABLE WHERE key LIKE '%token%' OR key LIKE '%key%';"
} 2>>"$w/dbq.err" | awk 'length($0) >= 16' >"$w/secrets.list"
chmod 600 "$w/secrets.list"
nsec=$(wc -l <"$w/secrets.list")
ok "$([ "$nsec" -ge 5 ] && echo 0 || echo 1)" "$nsec secrets to look for (the tokens serve made, 3 node passwords)"
find "$w" -maxdepth 1 -type f \( -name '*.log' -o -name '*.console' -o -name '*.qemu' -o -name 'api-*.json' \
	-o -name 'double-*.json' -o -name '*.out' -o -name 'config-*.yaml' -o -name 'reports.dump' \
	-o -name 'lan.capture' -o -name leases \) >"$w/searched.list"
find "$w/state" -type f ! -name "$DB_FILE" ! -name "$DB_FILE-*" >>"$w/searched.list"
diag "searched: $(sed "s|^$w/||" "$w/searched.list" | tr '\n' ' ')"
found=$(xargs grep -laF -f "$w/secrets.list" <"$w/searched.list" | sed "s|^$w/||" | tr '\n' ' ')
is "$found" "" "no token and no node password in any log, console, state file, report, API answer or on the wire"
# the search itself finds them where they are: serve's database (the file or its WAL)
ok "$(cat "$w/state/$DB_FILE"* | grep -caF -f "$w/secrets.list" >/dev/null && echo 0 || echo 1)" \
	"... the same search finds them in serve's database"
ok "$([ -s "$w/lan.capture" ] && grep -aq '^GET /config/' "$w/lan.capture" && echo 0 || echo 1)" \
	"... the capture holds the LAN's plain HTTP ($(grep -ac '^GET /' "$w/lan.capture") requests)"

unlike "$(cat "$w/serve.log")" 'AddressSanitizer|LeakSanitizer|runtime error' "no sanitizer report from serve"
if [ $_tap_failed -ne 0 ]; then
	diag "serve:"
	tail -n 30 "$w/serve.log" | sed 's/^/#   /'
	for c in "$w"/*.console; do
		diag "$(basename "$c"):"
		tr -d '\033' <"$c" | grep -a 'node-agent\|k3s' | tail -n 20 | sed 's/^/#   /'
	done
fi
diag "whole test: $(since)"
done_testing
