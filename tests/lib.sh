# TAP helpers for the shell tests (tests/*.t), read by prove.
# Each test file: . "$(dirname "$0")/lib.sh"; ...assertions...; done_testing

: "${NODE_AGENT:=$(cd "$(dirname "$0")/.." && pwd)/build/node-agent}"
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
FIXTURES=$TESTS_DIR/fixtures
export SOURCE_DATE_EPOCH=1767225600 # 2026-01-01T00:00:00Z: fixed collected_at
_tap_n=0
_tap_failed=0

ok() { # ok CONDITION_EXIT_STATUS DESCRIPTION
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		# a TAP TODO is reported but does not fail the file
		case $2 in *"# TODO"*) ;; *) _tap_failed=$((_tap_failed + 1)) ;; esac
	fi
}

is() { # is GOT EXPECTED DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
	fi
}

like() { # like GOT PATTERN(grep -E) DESCRIPTION
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got: %s\n#   want match: %s\n' "$(printf '%s' "$1" | head -c 400)" "$2"
	fi
}

unlike() { # unlike GOT PATTERN(grep -E) DESCRIPTION
	if printf '%s\n' "$1" | grep -qE -- "$2"; then
		ok 1 "$3"
		printf '#   got: %s\n#   want no match: %s\n' "$1" "$2"
	else
		ok 0 "$3"
	fi
}
skip() { # skip DESCRIPTION REASON
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP $2"
}

diag() { printf '# %s\n' "$*"; }

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

# Copy a fixture into a fresh scratch directory (removed at exit) and print its path.
scratch_copy() {
	_d=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
	cp -a "$FIXTURES/$1" "$_d/root"
	echo "$_d/root"
}

cleanup_dirs=""
cleanup() { for d in $cleanup_dirs; do rm -rf "$d"; done; }
trap cleanup EXIT
