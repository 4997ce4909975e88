#!/bin/sh
# Every captured/constructed fixture tree gives exactly the inventory kept beside it
# (tests/fixtures/NAME.expected.json), in JSON; YAML and table render from the same data.
. "$(dirname "$0")/lib.sh"

for exp in "$FIXTURES"/*.expected.json; do
	name=$(basename "$exp" .expected.json)
	root=$FIXTURES/$name
	out=$("$NODE_AGENT" inventory --root "$root" --quiet 2>&1)
	ok $? "$name: inventory exits 0"
	if [ "$out" = "$(cat "$exp")" ]; then
		ok 0 "$name: JSON matches $name.expected.json"
	else
		ok 1 "$name: JSON matches $name.expected.json"
		printf '%s\n' "$out" | diff -u "$exp" - | sed 's/^/# /' | head -60
	fi
	printf '%s\n' "$out" | jq -e '.schema == "node-agent/inventory/v1"' >/dev/null
	ok $? "$name: output is JSON with the v1 schema"
	yaml=$("$NODE_AGENT" inventory --root "$root" --quiet --format yaml)
	ok $? "$name: YAML renders"
	like "$yaml" '^schema: node-agent/inventory/v1$' "$name: YAML has the schema line"
	# parsed back with libyaml (tests/tools/yaml2json.c), the YAML says what the JSON says
	y2j=$(dirname "$NODE_AGENT")/tests/yaml2json
	[ -x "$y2j" ] || y2j=$(dirname "$NODE_AGENT")/../tests/yaml2json
	is "$(printf '%s\n' "$yaml" | "$y2j" | jq -S -c .)" "$(printf '%s\n' "$out" | jq -S -c .)" \
		"$name: YAML parses back to the same tree as the JSON"
	table=$("$NODE_AGENT" inventory --root "$root" --quiet --format table)
	ok $? "$name: table renders"
	like "$table" '^CPU ' "$name: table has a CPU line"
done
done_testing
