#!/bin/sh
# The node config (schema node-agent/config/v1) against a corpus: every malformed config in
# tests/configs/bad/NAME.yaml is rejected by `config check` and by `plan` with exit 2, the
# exact stderr kept beside it in NAME.err, and plan writes nothing; the example and the
# valid-but-unusual configs in tests/configs/good/ are accepted. The test runs from the
# repository root, so the paths in the .err files are tests/configs/bad/NAME.yaml.
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
bad=tests/configs/bad
good=tests/configs/good
inventory=$PWD/tests/fixtures/qemu-q35.expected.json
scratch=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
cleanup_dirs="$cleanup_dirs $scratch"

# Cases that cannot live in the repository (a file over 1 MiB, a directory, a missing file)
# have only their NAME.err there; the file is made under $scratch/gen at the same relative
# path, and the agent runs from $scratch/gen.
generated="too-large is-a-directory nonexistent"
make_generated() {
	mkdir -p "$scratch/gen/$bad"
	case $1 in
	too-large) # valid, but padded with a comment past the 1 MiB limit
		{
			printf 'schema: node-agent/config/v1\n'
			head -c 1048576 /dev/zero | tr '\0' '#'
			printf '\n'
		} >"$scratch/gen/$bad/$1.yaml" ;;
	is-a-directory) mkdir -p "$scratch/gen/$bad/$1.yaml" ;;
	nonexistent) ;;
	esac
}

# same_file GOT EXPECTED DESCRIPTION: byte-for-byte, with a diff on failure
same_file() {
	if cmp -s "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diff -u "$2" "$1" | sed 's/^/#   /'
	fi
}

for yaml in "$bad"/*.yaml; do
	[ -f "${yaml%.yaml}.err" ]
	ok $? "$yaml has its expected stderr beside it"
done

for err in "$bad"/*.err; do
	name=$(basename "$err" .err)
	cfg=$bad/$name.yaml
	dir=$PWD
	case " $generated " in
	*" $name "*)
		make_generated "$name"
		dir=$scratch/gen
		;;
	esac

	(cd "$dir" && "$NODE_AGENT" config check "$cfg") >"$scratch/out" 2>"$scratch/err"
	is "$?" 2 "$name: config check exits 2"
	same_file "$scratch/err" "$err" "$name: config check stderr is $err"
	is "$(cat "$scratch/out")" "" "$name: config check prints nothing on stdout"

	target=$(mktemp -d "$scratch/target.XXXXXX")
	(cd "$dir" && "$NODE_AGENT" plan --config "$cfg" --inventory "$inventory" \
		--target "$target") >"$scratch/out" 2>"$scratch/err"
	is "$?" 2 "$name: plan exits 2"
	same_file "$scratch/err" "$err" "$name: plan stderr is $err"
	is "$(cat "$scratch/out")" "" "$name: plan prints no plan"
	is "$(ls -A "$target")" "" "$name: plan writes nothing into the target"
done

rules() { # FILE: the number of list items under rules:, as config check counts them
	case $1 in
	*/homelab.yaml) echo 6 ;;
	*/flow-style.yaml | */rule-without-match.yaml | */agent-token.yaml) echo 2 ;;
	*/comments-anchors.yaml) echo 3 ;;
	*) echo 1 ;;
	esac
}
for cfg in node-agent/examples/homelab.yaml "$good"/*.yaml; do
	name=$(basename "$cfg" .yaml)
	"$NODE_AGENT" config check "$cfg" >"$scratch/out" 2>"$scratch/err"
	is "$?" 0 "$name: config check exits 0"
	n_rules=$(rules "$cfg")
	is "$(cat "$scratch/out")" "$cfg: valid ($n_rules rule$([ "$n_rules" = 1 ] || echo s))" \
		"$name: reported valid"
	is "$(cat "$scratch/err")" "" "$name: no complaints on stderr"

	target=$(mktemp -d "$scratch/target.XXXXXX")
	"$NODE_AGENT" plan --config "$cfg" --inventory "$inventory" --target "$target" \
		>"$scratch/$name.plan" 2>"$scratch/err"
	is "$?" 0 "$name: plan exits 0"
	is "$(ls -A "$target")" "" "$name: plan writes nothing into the target"
done

# What the unusual spellings mean, seen through the plan.
q() { jq -c "$2" "$scratch/$1.plan"; }
is "$(q labels-empty-and-quoted '.labels | [."empty-quoted", ."empty-single", ."empty-plain", ."empty-tilde"]')" \
	'["","","",""]' "empty label values: quoted, single-quoted, plain and ~ are all \"\""
is "$(q labels-empty-and-quoted '.labels | [.rack, .version, .floor, .ssd, .legacy]')" \
	'["42","1.10","3","true","no"]' "label values stay as written: \"42\", \"1.10\", 3, true and no are text"
is "$(q labels-empty-and-quoted '.labels.token')" '"not-a-secret"' "a label may be called token"
is "$(q comments-anchors '[.matched_rules, .role]')" \
	'[["first-server","first-server-labels"],"server-init"]' "a match reused through an alias"
is "$(q comments-anchors '.labels | [.site, .rack]')" '["home","r1"]' "labels from an anchor"
is "$(q flow-style '[.matched_rules, .container_runtime.nvidia]')" '[["defaults"],false]' \
	"flow style: rules and containerd.nvidia: off"
is "$(q rule-without-match '[.matched_rules, .api_labels]')" \
	'[["everyone","nothing-else"],{"node-role.kubernetes.io/worker":"true"}]' \
	"rules without match apply to every node"
done_testing
