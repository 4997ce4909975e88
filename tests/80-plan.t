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
	name=$(basename "$config" .yaml)--${input#*:}--$target
	exp=tests/plans/$name.json
	before=$(find "tests/targets/$target" -type f -exec sha256sum {} + | sort)
	# shellcheck disable=SC2086
	out=$("$NODE_AGENT" plan --config "$config" $src --target "tests/targets/$target" 2>/dev/null)
	ok $? "$name: plan exits 0"
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
done_testing
