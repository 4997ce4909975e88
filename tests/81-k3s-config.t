#!/bin/sh
# The K3s config.yaml of every expected plan: valid YAML (libyaml), only keys the role's
# k3s command accepts (node-agent/k3s-config-keys.txt, with its upstream source), the
# right types, node-label entries that a kubelet may set, and cluster-init only on the
# first server.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

y2j=$(dirname "$NODE_AGENT")/tests/yaml2json
[ -x "$y2j" ] || y2j=$(dirname "$NODE_AGENT")/../tests/yaml2json
keys=node-agent/k3s-config-keys.txt
agent_keys=$(awk '$1 == "agent" { print $2 }' "$keys" | tr '\n' ' ')
server_keys=$(awk '$1 == "server" || $1 == "agent" { print $2 }' "$keys" |
	grep -vxF "$(awk '$1 == "agent-only" { print $2 }' "$keys")" | tr '\n' ' ')

for plan in tests/plans/*.json; do
	name=$(basename "$plan" .json)
	role=$(jq -r .role "$plan")
	content=$(jq -r '.files[] | select(.path == "/etc/rancher/k3s/config.yaml") | .content' "$plan")
	is "$(jq -r '.files[] | select(.path == "/etc/rancher/k3s/config.yaml") | .mode' "$plan")" 0600 \
		"$name: config.yaml has mode 0600 (it names the token file)"
	cfg=$(printf '%s\n' "$content" | "$y2j")
	ok $? "$name: config.yaml is valid YAML"
	if [ "$role" = agent ]; then allowed=$agent_keys; else allowed=$server_keys; fi
	unknown=""
	for k in $(printf '%s\n' "$cfg" | jq -r 'keys[]'); do
		case " $allowed " in *" $k "*) ;; *) unknown="$unknown $k" ;; esac
	done
	is "$unknown" "" "$name: every key is a k3s $([ "$role" = agent ] && echo agent || echo server) flag"
	is "$(printf '%s\n' "$cfg" | jq -c '[((."node-label" // []) | type), ((."node-taint" // []) | type), (."node-name" | type)]')" \
		'["array","array","string"]' "$name: node-label and node-taint are lists, node-name a string"
	restricted=$(printf '%s\n' "$cfg" | jq -r '(."node-label" // [])[] | split("=")[0]' |
		grep -E '^([^/]*\.)?(kubernetes\.io|k8s\.io)/' |
		grep -Ev '^(kubernetes\.io/(hostname|arch|os)|beta\.kubernetes\.io/(arch|os|instance-type)|node\.kubernetes\.io/instance-type|topology\.kubernetes\.io/(region|zone)|failure-domain\.beta\.kubernetes\.io/(region|zone))$' |
		grep -Ev '^([^/]*\.)?(kubelet|node)\.kubernetes\.io/')
	is "$restricted" "" "$name: no restricted label in node-label (K3s would refuse to start)"
	is "$(printf '%s\n' "$cfg" | jq -c '."node-label" // [] | map(split("=") | {(.[0]): .[1]}) | add // {}')" \
		"$(jq -c '.labels as $l | .label_owners as $o | $l | with_entries(select($o[.key] == null))' "$plan")" \
		"$name: node-label is exactly the plan's labels but those another tool owns (K3s re-applies node-label at every start)"
	is "$(printf '%s\n' "$cfg" | jq -r '(."node-label" // [])[] | split("=")[0]' |
		grep -E '^(nvidia\.com|amd\.com|gpu\.intel\.com|intel\.feature\.node\.kubernetes\.io|feature\.node\.kubernetes\.io)/')" "" \
		"$name: no GFD, NFD or AMD labeller key in node-label"
	if [ "$role" = server-init ]; then
		is "$(printf '%s\n' "$cfg" | jq -c '[."cluster-init", has("server")]')" '[true,false]' \
			"$name: the first server has cluster-init and no server"
	else
		is "$(printf '%s\n' "$cfg" | jq -c '[has("cluster-init"), (.server // "" | startswith("https://"))]')" \
			'[false,true]' "$name: other nodes join an https server, without cluster-init"
	fi
	if [ "$(jq -r .container_runtime.default_runtime "$plan")" = nvidia ]; then
		is "$(printf '%s\n' "$cfg" | jq -r '."default-runtime"')" nvidia "$name: default-runtime nvidia"
	else
		is "$(printf '%s\n' "$cfg" | jq -r 'has("default-runtime")')" false \
			"$name: no default-runtime without the NVIDIA runtime binary"
	fi
done

# Tokens by role (tests/configs/good/agent-token.yaml): a server joins with the server token,
# an agent with the agent token, each read from its own K3s unit's credentials.
for c in vm-firecracker:server:k3s.service/k3s-token qemu-q35:agent:k3s-agent.service/k3s-agent-token; do
	fx=${c%%:*} rest=${c#*:}
	want_role=${rest%%:*} want_file=/run/credentials/${rest#*:}
	out=$("$NODE_AGENT" plan --config tests/configs/good/agent-token.yaml \
		--inventory "tests/fixtures/$fx.expected.json" 2>/dev/null)
	is "$(printf '%s\n' "$out" | jq -r .role)" "$want_role" "tokens by role: $fx is a $want_role"
	tf=$(printf '%s\n' "$out" | jq -r '.files[] | select(.path == "/etc/rancher/k3s/config.yaml") | .content' |
		"$y2j" | jq -r '."token-file"')
	is "$tf" "$want_file" "tokens by role: the $want_role's token-file is $want_file"
done
done_testing
