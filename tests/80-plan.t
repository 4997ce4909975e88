#!/bin/sh
# Table-driven plans: every (config, machine, target) case in tests/plans/cases.txt gives
# exactly the plan kept in tests/plans/; `plan` writes nothing; the YAML form says the same.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

y2j=$(dirname "$NODE_AGENT")/tests/yaml2json
[ -x "$y2j" ] || y2j=$(dirname "$NODE_AGENT")/../tests/yaml2json
cases=$(mktemp)
cleanup_dirs="$cleanup_dirs $cases"
grep -v '^#' tests/plans/cases.txt > "$cases"
while read -r config input target; do
	[ -n "$config" ] || continue
	case $input in
	fixture:*) src="--root tests/fixtures/${input#fixture:}" ;;
	inventory:*) src="--inventory tests/plans/inventories/${input#inventory:}.json" ;;
	esac
	name=$(basename "$config" .yaml)--$(basename "${input#*:}")--$target
	exp=tests/plans/$name.json
	before=$(find "tests/targets/$target" -type f -exec sha256sum {} + | sort)
	# shellcheck disable=SC2086
	out=$("$NODE_AGENT" plan --config "$config" $src --target "tests/targets/$target" 2>/dev/null)
	rc=$?
	# a refused plan (errors[], e.g. a server without a data disk) is printed, and exits 1
	if [ "$(jq '.errors | length' "$exp" 2>/dev/null)" = 0 ]; then
		is "$rc" 0 "$name: plan exits 0"
	else
		is "$rc" 1 "$name: plan is refused (exit 1): $(jq -r '.errors[0]' "$exp" | cut -c1-60)..."
	fi
	if [ "$out" = "$(cat "$exp" 2>/dev/null)" ]; then
		ok 0 "$name: plan matches $exp"
	else
		ok 1 "$name: plan matches $exp"
		printf '%s\n' "$out" | diff -u "$exp" - | sed 's/^/# /' | head -40
	fi
	after=$(find "tests/targets/$target" -type f -exec sha256sum {} + | sort)
	is "$after" "$before" "$name: plan wrote nothing"
	# shellcheck disable=SC2086
	yaml=$("$NODE_AGENT" plan --config "$config" $src --target "tests/targets/$target" --format yaml 2>/dev/null)
	is "$(printf '%s\n' "$yaml" | "$y2j" | jq -S -c .)" "$(printf '%s\n' "$out" | jq -S -c .)" \
		"$name: --format yaml says what the JSON says"
	# every label is valid Kubernetes syntax and on the right side of NodeRestriction
	bad=$(printf '%s\n' "$out" | jq -r '.labels | keys[]' |
		grep -E '^([^/]*\.)?(kubernetes\.io|k8s\.io)/' |
		grep -Ev '^(kubernetes\.io/(hostname|arch|os)|beta\.kubernetes\.io/(arch|os|instance-type)|node\.kubernetes\.io/instance-type|topology\.kubernetes\.io/(region|zone)|failure-domain\.beta\.kubernetes\.io/(region|zone))$' |
		grep -Ev '^([^/]*\.)?(kubelet|node)\.kubernetes\.io/')
	is "$bad" "" "$name: no restricted label among the kubelet's labels"
	badsyntax=$(printf '%s\n' "$out" | jq -r '(.labels, .api_labels) | to_entries[] | "\(.key)=\(.value)"' |
		grep -Ev '^(([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?=([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$')
	is "$badsyntax" "" "$name: every label key and value has Kubernetes syntax"
done < "$cases"

# A refused plan (a server without a data disk: its next boot would make a second cluster)
# names the rule and what is missing; apply writes nothing for it; persistent_root lifts it.
t=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $t"
out=$("$NODE_AGENT" plan --config node-agent/examples/homelab.yaml --root tests/fixtures/gpu-amd-apu \
	--target "$t" 2>&1 >/dev/null)
like "$out" "plan refused: role server \\(rule apu-control-plane\\) needs a data disk" \
	"a server without a data disk: the refusal names the role and the rule"
like "$out" "no disk matched data_disk" "... and says what is missing"
"$NODE_AGENT" apply --config node-agent/examples/homelab.yaml --root tests/fixtures/gpu-amd-apu \
	--target "$t" >/dev/null 2>"$t.err"
is "$?" 1 "apply of a refused plan exits 1"
is "$(find "$t" -mindepth 1 | wc -l)" 0 "apply of a refused plan writes nothing"
like "$(cat "$t.err")" "nothing was applied" "apply says it applied nothing"
rm -f "$t.err"
sed 's/^containerd:/persistent_root: true\ncontainerd:/' node-agent/examples/homelab.yaml > "$t.yaml"
"$NODE_AGENT" plan --config "$t.yaml" --root tests/fixtures/gpu-amd-apu --target "$t" >/dev/null 2>&1
is "$?" 0 "with persistent_root: true (an installed root) the same server is planned"
rm -f "$t.yaml"
done_testing
