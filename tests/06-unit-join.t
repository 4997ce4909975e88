#!/bin/sh
# C unit tests of the join stage's parsers (tests/unit/test-join.c: base64, K3s token files,
# kubeconfigs), built by the Makefile beside node-agent with node-agent's own objects.
. "$(dirname "$0")/lib.sh"

t=$(dirname "$NODE_AGENT")/tests/test-join
if [ ! -x "$t" ]; then
	ok 1 "test-join is built ($t)"
	done_testing
	exit
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
cleanup_dirs="$cleanup_dirs $out"
TMPDIR=$out "$t" >"$out/tap" 2>&1
rc=$?
sed 's/^/# /' "$out/tap" | grep -v '^# ok '
passed=$(grep -c '^ok' "$out/tap")
failed=$(grep -c '^not ok' "$out/tap")
ok $rc "test-join: $passed passed, $failed failed"
[ "$passed" -gt 100 ] && [ "$(sed -n 's/^1\.\.//p' "$out/tap")" = "$passed" ]
ok $? "test-join ran to the end (plan matches the $passed results)"
# nothing left behind in its scratch directory
is "$(find "$out" -mindepth 1 -name 'test-join.*' | wc -l)" 0 "test-join removed its scratch files"
done_testing
