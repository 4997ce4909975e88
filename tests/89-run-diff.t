#!/bin/sh
# The boot job keeps the previous inventory (inventory.json.previous) and logs what changed
# in the hardware since the last run, one journal entry per change.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

w=$(mktemp -d)
cleanup_dirs="$w"
trap cleanup EXIT
printf 'schema: node-agent/config/v1\ncluster: {server: "https://127.0.0.1:9", token_file: /nonexistent}\nrules: [{name: all, labels: {site: lab}}]\n' > "$w/c.yaml"
run() { "$NODE_AGENT" run --root "tests/fixtures/$1" --target "$w/t" --config "$w/c.yaml" 2>"$w/err"; }

mkdir -p "$w/t"
run gpu-dual-nvidia
is "$?" 0 "first run: exit 0"
ok "$([ ! -e "$w/t/var/lib/node-agent/inventory.json.previous" ] && echo 0 || echo 1)" \
	"first run: no previous inventory"
if grep -q "hardware changed" "$w/err"; then ok 1 "first run: no change logged"; else ok 0 "first run: no change logged"; fi

run gpu-dual-nvidia
is "$?" 0 "same hardware again: exit 0"
is "$(grep -c "hardware changed" "$w/err")" 0 "same hardware: no change logged"
cmp -s "$w/t/var/lib/node-agent/inventory.json" "$w/t/var/lib/node-agent/inventory.json.previous"
is "$?" 0 "the previous inventory is kept beside the new one"

# the same machine with its RTX 3050 taken out
run gpu-nvidia-driver
is "$?" 0 "after a GPU was taken out: exit 0"
like "$(grep "hardware changed" "$w/err")" "detect: hardware changed since the last run: gpu 0000:0[0-9a-f]:00.0 .*(removed|missing)" \
	"the missing GPU is logged"
"$NODE_AGENT" diff "$w/t/var/lib/node-agent/inventory.json.previous" "$w/t/var/lib/node-agent/inventory.json" >/dev/null
is "$?" 1 "node-agent diff of the kept pair: exit 1 (changes)"
done_testing
