# Sourced by e2e.sh (PXE boot): joining a K3s "cluster" through real systemd in the guest.
#
# On the host: the K3s / Kubernetes test double (tests/tools/k3s-double.py) with a PKI
# whose serving certificate also names 10.0.2.100, reached by the guest through a guestfwd
# rule like the other servers. In the guest: the image is unchanged; iPXE loads one more
# initrd (boot.ipxe's nodeagent-initrd) holding /usr/local/bin/k3s = the TEST STAND-IN
# tests/e2e/k3s-standin.c, and the K3s token arrives as a systemd credential on the kernel
# command line (systemd.set_credential=k3s-token:...). node-agent then does the real thing:
# preflight against the double, StartUnit k3s-agent.service over D-Bus, waits for the job
# and the unit (the stand-in gets its kubelet certificate with the token, registers the Node
# and says READY=1), waits for Ready with the kubelet kubeconfig, patches its labels.
#
# join_setup W TOP: sets join_fwd (a guestfwd rule), join_cmdline, join_initrd (a file
# name under W/www), join_config (YAML lines for the node config). join_wait: until
# node-agent's join stage ended (bounded; call before stopping QEMU). join_check: TAP.

join_setup() {
	jw=$1 jtop=$2
	K3S_PKI_EXTRA_SANS=IP:10.0.2.100 sh "$jtop/tests/tools/mk-k3s-pki.sh" "$jw/pki" >/dev/null 2>&1
	python3 "$jtop/tests/tools/k3s-double.py" --pki "$jw/pki" --port 0 --portfile "$jw/k3s.port" \
		2>"$jw/k3s-double.log" &
	pids="$pids $!"
	for i in $(seq 100); do [ -s "$jw/k3s.port" ] && break; sleep 0.1; done
	join_port=$(cat "$jw/k3s.port")
	join_fwd="guestfwd=tcp:10.0.2.100:6443-cmd:socat - TCP:127.0.0.1:$join_port"
	# the extra initrd: only the stand-in k3s binary (the image itself is not changed)
	mkdir -p "$jw/overlay/usr/local/bin"
	install -m 0755 "${K3S_STANDIN:-$jtop/build/tests/k3s-standin}" "$jw/overlay/usr/local/bin/k3s"
	(cd "$jw/overlay" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) \
		> "$jw/www/k3s-standin.cpio"
	join_initrd=k3s-standin.cpio
	join_cmdline="systemd.set_credential=k3s-token:$(cat "$jw/pki/token")"
	join_config="cluster: {server: \"https://10.0.2.100:6443\", token_file: /run/credentials/node-agent.service/k3s-token}"
}

# join_setup_server: as join_setup, for the machine that creates the cluster (server-init).
# Its stand-in k3s runs as a server: its own CA in /var/lib/rancher/k3s/server/tls (kept when
# there, created when not), /cacerts and /ping on 6443 (forwarded to the host port
# $server_port); the cluster's API is still the double, given to the stand-in through
# /etc/default/k3s (the unit's EnvironmentFile=) with the double's token and an admin
# kubeconfig (k3s.yaml). The node's own token has no CA hash: there is no cluster yet.
join_setup_server() {
	join_setup "$@"
	sh "$jtop/tests/tools/mk-k3s-pki.sh" -k -s https://10.0.2.100:6443 "$jw/pki" >/dev/null 2>&1
	mkdir -p "$jw/overlay/etc/default" "$jw/overlay/etc/k3s-standin"
	install -m 0600 "$jw/pki/token" "$jw/overlay/etc/k3s-standin/api-token"
	install -m 0600 "$jw/pki/k3s.yaml" "$jw/overlay/etc/k3s-standin/admin.kubeconfig"
	cat > "$jw/overlay/etc/default/k3s" <<EOD
K3S_STANDIN_API=https://10.0.2.100:6443
K3S_STANDIN_API_TOKEN_FILE=/etc/k3s-standin/api-token
K3S_STANDIN_ADMIN_KUBECONFIG=/etc/k3s-standin/admin.kubeconfig
EOD
	(cd "$jw/overlay" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) \
		> "$jw/www/k3s-standin.cpio"
	server_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	join_fwd="$join_fwd,hostfwd=tcp:127.0.0.1:$server_port-:6443"
	join_cmdline="systemd.set_credential=k3s-token:e2e-first-server-password"
	join_config="cluster: {token_file: /run/credentials/node-agent.service/k3s-token}"
}

# server_probe N: while boot N runs, what a second node sees of this server: the sha256 of
# its /cacerts (as a K10 token carries it), saved in $jw/ca.N
server_probe() {
	for i in $(seq 50); do
		curl -sk --max-time 3 "https://127.0.0.1:$server_port/cacerts" -o "$jw/cacerts.$1" && break
		sleep 0.2
	done
	sha256sum < "$jw/cacerts.$1" 2>/dev/null | cut -d' ' -f1 > "$jw/ca.$1"
	# the token a second node would be given after the first boot, checked by node-agent's
	# own preflight against the server now (the server's CA must still be the one it names)
	if [ "$1" = 2 ]; then
		printf 'K10%s::server:e2e-first-server-password\n' "$(cat "$jw/ca.1")" > "$jw/second.token"
		chmod 600 "$jw/second.token"
		printf 'schema: node-agent/config/v1\ncluster: {server: "https://127.0.0.1:%s", token_file: %s}\n' \
			"$server_port" "$jw/second.token" > "$jw/second.yaml"
		"$jtop/build/node-agent" preflight --config "$jw/second.yaml" --role agent --timeout 10 \
			> "$jw/preflight.out" 2>&1
		echo $? > "$jw/preflight.rc"
	fi
}

# join_check_server CONSOLE1 CONSOLE2: the server kept its cluster across the reboot.
join_check_server() {
	grep -aq "node-agent\[[0-9]*\]: join: ok: node $node Ready as server-init" "$1"
	ok $? "server: the first boot created the cluster and saw its node Ready as server-init"
	grep -aq 'k3s\[[0-9]*\]: .*server CA sha256 [0-9a-f]* created' "$1"
	ok $? "server: first boot: K3s (stand-in) created the cluster CA on the data disk"
	grep -aq "k3s\[[0-9]*\]: .*server CA sha256 $(cat "$jw/ca.1" 2>/dev/null) kept" "$2"
	ok $? "server: second boot: the same CA was found on the data disk and kept"
	grep -Eqx '[0-9a-f]{64}' "$jw/ca.1" 2>/dev/null
	ok $? "server: a second node saw a CA at the first boot"
	is "$(cat "$jw/ca.2" 2>/dev/null)" "$(cat "$jw/ca.1" 2>/dev/null)" \
		"server: ... and the same CA after the reboot (the CA hash of every K10 token still matches)"
	is "$(cat "$jw/preflight.rc" 2>/dev/null)" 0 \
		"server: node-agent preflight with the first boot's K10 token passes against the rebooted server"
	grep -aq "node-agent\[[0-9]*\]: join: ok: node $node Ready as server-init" "$2"
	ok $? "server: the second boot rejoined as the same server-init node"
	grep -aq 'second cluster' "$2"
	ok $((! $?)) "server: no second cluster"
	t=$(awk 'index($0, "node-agent[") && index($0, "]: join: ok") { print $1; exit }' "$2.ts" 2>/dev/null)
	[ -n "$t" ] && echo "# server: reboot: QEMU start to the end of the join stage: $t s (TCG)"
}

join_wait() { # CONSOLE_LOG: at most 60 s for node-agent's join stage to end
	for i in $(seq 300); do
		grep -aq 'node-agent\[[0-9]*\]: join: \(ok\|failed\|skipped\)' "$1" && return 0
		sleep 0.2
	done
	return 1
}

# The double, from the host; the Node and its password secret as the double holds them.
jdouble() { curl -sS --max-time 5 --cacert "$jw/pki/server-ca.crt" "https://127.0.0.1:$join_port$1"; }
jnode() { jdouble /_double/nodes | jq -r --arg n "$node" ".[\$n] | $1"; }
jsecret() { jdouble /_double/secrets | jq -r --arg n "$node.node-password.k3s" ".[\$n] | $1"; }

# TAP checks once the boot is over; $con is the console log, $jw the work directory.
join_check() {
	t=$(awk 'index($0, "node-agent[") && index($0, "]: join: ok") { print $1; exit }' "$con.ts" 2>/dev/null)
	[ -n "$t" ] && echo "# pxe: QEMU start to the end of the join stage (node Ready, labels patched): $t s (TCG)"
	node=$(jdouble /_double/nodes | jq -r 'keys[0] // ""')
	jlog=$(jdouble /_double/log)
	grep -aq 'node-agent\[[0-9]*\]: join: preflight: https://10.0.2.100:6443: CA sha256 [0-9a-f]* matches the token' "$con"
	ok $? "join: preflight verified the double's CA against the K10 token (credential from the kernel command line)"
	grep -aq 'Started k3s-agent.service\|Started Lightweight Kubernetes (agent)' "$con"
	ok $? "join: systemd started k3s-agent.service (node-agent's StartUnit over D-Bus)"
	grep -aq 'k3s (test stand-in): node .* registered and Ready' "$con"
	ok $? "join: the stand-in k3s agent got its kubelet certificate with the token and registered"
	is "$(printf '%s' "$jlog" | jq -r '[.[] | select(.method == "POST" and .path == "/api/v1/nodes")][0].user')" \
		"system:node:$node" "join: the Node was registered by its kubelet identity"
	grep -aq "node-agent\[[0-9]*\]: join: ok: node $node Ready as agent" "$con"
	ok $? "join: node-agent saw node $node Ready and says so in the journal"
	is "$(jdouble /_double/nodes | jq -r --arg n "$node" '.[$n].metadata.labels.lab')" e2e \
		"join: the config's label is on the Node"
	is "$(printf '%s' "$jlog" | jq -r '[.[] | select(.method == "PATCH" and (.path | endswith("/status") | not))][0] | .user + " " + .content_type')" \
		"system:node:$node application/merge-patch+json" \
		"join: node-agent patched its labels with the kubelet's own certificate (merge patch)"
	is "$(jdouble /_double/nodes | jq -r --arg n "$node" '.[$n].metadata.annotations["node-agent.io/managed-labels"] | split(",") | index("lab") != null')" \
		true "join: the labels node-agent manages are recorded on the Node"
	grep -aq 'node-agent\[[0-9]*\]: gitops: skipped: only the server-init node' "$con"
	ok $? "join: an agent skips the gitops stage"
}

# join_check_reboot CONSOLE1 CONSOLE2: the second boot of the same machine rejoined under
# the same name, with the node password and K3s's data dir from the data disk.
join_check_reboot() {
	t=$(awk 'index($0, "node-agent[") && index($0, "]: join: ok") { print $1; exit }' "$2.ts" 2>/dev/null)
	[ -n "$t" ] && echo "# pxe: reboot: QEMU start to the end of the join stage (node Ready again): $t s (TCG)"
	grep -aq "create /var/lib/rancher/node-agent/etc/rancher/node (directory)" "$1"
	ok $? "reboot: first boot: apply made /etc/rancher/node's home on the data disk"
	grep -aq "unchanged /var/lib/rancher/node-agent/etc/rancher/node (directory)" "$2"
	ok $? "reboot: second boot: it is still there (the data disk was mounted, not formatted)"
	grep -aq 'Mounted .*/etc/rancher/node\|etc-rancher-node.mount' "$2"
	ok $? "reboot: systemd bind-mounted /etc/rancher/node from the data disk"
	grep -aq "node-agent\[[0-9]*\]: join: ok: node $node Ready as agent" "$2"
	ok $? "reboot: node-agent saw node $node Ready again"
	is "$(jdouble /_double/nodes | jq -r 'keys | join(",")')" "$node" \
		"reboot: it rejoined under the same name (one Node in the cluster)"
	boot_id2=$(jnode '.status.nodeInfo.bootID')
	[ -n "$boot_id2" ] && [ "$boot_id2" != null ] && [ "$boot_id2" != "$boot_id1" ]
	ok $? "reboot: the Node carries the new boot's bootID ($boot_id1 -> $boot_id2)"
	is "$(jsecret '.metadata.uid')" "$secret1" \
		"reboot: the server kept the node password secret of the first boot (same password sent)"
	is "$(jdouble /_double/log | jq '[.[] | select((.path | startswith("/v1-k3s/")) and .status != 200)] | length')" 0 \
		"reboot: no kubelet certificate request was refused (no 400/403)"
	is "$(jnode '.metadata.labels.lab')" e2e "reboot: the config's label is still on the Node"
	is "$(jnode '[.spec.taints[]? | select(.key == "e2e.node-agent.io/reboot")] | .[0] | .value + ":" + .effect')" \
		kept:PreferNoSchedule "reboot: the taint its kubelet registered with is still on the Node"
	is "$(jnode '.metadata.annotations["node-agent.io/managed-labels"] | split(",") | index("lab") != null')" \
		true "reboot: node-agent's annotations are still on the Node"
}

# join_check_refused NAME: a node without a data disk, booted again after it joined: its
# new node password under the same name is refused, and the join says so, not a timeout.
join_check_refused() {
	grep -aq "node-agent\[[0-9]*\]: plan: .*nothing keeps K3s's node password" "$con"
	ok $? "diskless: the plan warned that nothing keeps the node password across reboots"
	grep -aq 'k3s\[[0-9]*\]: .*Node password rejected' "$con"
	ok $? "diskless: second boot: the stand-in k3s agent logged K3s's refusal"
	is "$(jdouble /_double/log | jq -r '[.[] | select(.path | startswith("/v1-k3s/")) | .status] | unique | join(",")')" \
		"200,403" "diskless: the server gave the first boot its certificates and refused the second (403)"
	grep -aq "node-agent\[[0-9]*\]: join: failed: node $1 cannot join: K3s: .*Node password rejected.*data disk" "$con"
	ok $? "diskless: second boot: the join stopped with K3s's refusal and the remedy"
	t=$(awk 'index($0, "node-agent[") && index($0, "]: join: failed") { print $1; exit }' "$con.ts" 2>/dev/null)
	r=$(awk 'index($0, "node-agent[") && index($0, "]: join: starting") { print $1; exit }' "$con.ts" 2>/dev/null)
	[ -n "$t" ] && [ -n "$r" ] && echo "# diskless: second boot: QEMU start to the join's diagnosis: $t s, $(echo "$t $r" | awk '{ printf "%.1f", $1 - $2 }') s after K3s was started (TCG)"
	is "$(jdouble /_double/nodes | jq -r --arg n "$1" '.[$n].metadata.name')" "$1" \
		"diskless: the Node of the first boot is still there (its Ready from the first boot)"
}
