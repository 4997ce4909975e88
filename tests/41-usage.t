#!/bin/sh
# Bad command lines: every number is parsed whole and range-checked (no "4294967296" or ""
# taken as 0), and every verb takes only its own options. Each is a usage error: exit 2,
# nothing run, and a message that names the option and, for a number, the value.
. "$(dirname "$0")/lib.sh"

w=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
cleanup_dirs="$cleanup_dirs $w"

usage_error() { # usage_error PATTERN DESCRIPTION -- ARGS...: exit 2, stderr matches PATTERN
	pat=$1 desc=$2
	shift 3
	"$NODE_AGENT" "$@" >"$w/out" 2>"$w/err"
	rc=$?
	is "$rc" 2 "$desc: exit 2"
	like "$(cat "$w/err")" "$pat" "$desc: the message names it"
	[ ! -s "$w/out" ]
	ok $? "$desc: nothing on stdout"
}

# numbers: the defects of issue item 7, then the rest of what is not a number in range
usage_error 'run: --config-timeout "4294967296": out of range; expected seconds from 0 to 86400' \
	"run --config-timeout 2^32" -- run --config-timeout 4294967296
usage_error 'run: --config-timeout "": not a whole number' \
	"run --config-timeout ''" -- run --config-timeout ''
usage_error 'run: --config-timeout "": not a whole number' \
	"run --config-timeout=" -- run --config-timeout=
usage_error '--config-timeout "18446744073709551616": out of range' \
	"run --config-timeout 2^64" -- run --config-timeout 18446744073709551616
usage_error '--config-timeout "-1": out of range' \
	"run --config-timeout -1" -- run --config-timeout -1
usage_error '--config-timeout "86401": out of range' \
	"run --config-timeout above the maximum" -- run --config-timeout 86401
usage_error '--config-timeout "10s": not a whole number' \
	"run --config-timeout with trailing junk" -- run --config-timeout 10s
usage_error '--config-timeout " 10": not a whole number' \
	"run --config-timeout with a leading space" -- run --config-timeout ' 10'
usage_error '--config-timeout "0x10": not a whole number' \
	"run --config-timeout in hex" -- run --config-timeout 0x10
usage_error 'run: --join-timeout "0": out of range; expected seconds from 1 to 86400' \
	"run --join-timeout below the minimum" -- run --join-timeout 0
usage_error 'run: --join-timeout "4294967297": out of range' \
	"run --join-timeout 2^32+1" -- run --join-timeout 4294967297
usage_error 'preflight: --timeout "3601": out of range; expected seconds from 1 to 3600' \
	"preflight --timeout above the maximum" -- preflight --config /nonexistent --timeout 3601
usage_error 'join: --timeout "": not a whole number' \
	"join --timeout ''" -- join --config /nonexistent --timeout ''
# the bounds themselves are accepted: parsing goes on to the next argument
usage_error 'unexpected argument "extra"' \
	"run --config-timeout 0 --join-timeout 86400 is accepted" -- \
	run --config-timeout 0 --join-timeout 86400 extra
usage_error 'unexpected argument "extra"' \
	"run --config-timeout 86400 --join-timeout 1 is accepted" -- \
	run --config-timeout 86400 --join-timeout 1 extra

# each verb its own options
usage_error "unrecognized option '--config-timeout'" \
	"status --config-timeout (a run option)" -- status --config-timeout 5
usage_error "unrecognized option '--root'" "status --root (a run option)" -- status --root /
usage_error "unrecognized option '--no-start'" "status --no-start (a run option)" -- \
	status --target "$w" --no-start
usage_error "unrecognized option '--json'" "run --json (a status option)" -- run --json
usage_error "unrecognized option '--dry-run'" "plan --dry-run (an apply option)" -- \
	plan --config /nonexistent --dry-run
usage_error "unrecognized option '--format'" "apply --format (a plan option)" -- \
	apply --config /nonexistent --format yaml
usage_error 'status: unexpected argument "extra"' "status with an argument" -- \
	status --target "$w" extra
usage_error "unrecognized option '--format'" "serve --format (a machines option)" -- \
	serve --format json
usage_error 'serve: unexpected argument "extra"' "serve with an argument" -- \
	serve --config /nonexistent extra
usage_error 'serve: /nonexistent: No such file' "serve without its config" -- \
	serve --config /nonexistent
usage_error "usage: node-agent machines list" "machines without a verb" -- machines
usage_error "usage: node-agent machines list" "machines show without an ID" -- machines show
usage_error "--format: table or json" "machines --format yaml" -- machines list --format yaml
usage_error "--config is an option of machines rules" "machines list --config (a rules option)" -- \
	machines list --config x
usage_error "unrecognized option '--dry-run'" "machines accept --dry-run (the preview is machines rules)" -- \
	machines accept 1 --dry-run
usage_error "rules: --config FILE .* is required" "machines rules without --config" -- machines rules
usage_error "usage: node-agent machines list" "machines rules with an ID" -- machines rules 1 --config x
usage_error "usage: node-agent machines list" "machines wake without an ID" -- machines wake
usage_error "wake: --token-file FILE is required" "machines wake without --token-file" -- machines wake 1
usage_error "rules: /nonexistent: No such file" "machines rules with a missing candidate file" -- \
	machines rules --config /nonexistent

# what status still takes
"$NODE_AGENT" status --target "$w" --json >"$w/out" 2>"$w/err"
rc=$?
ok $([ "$rc" -ne 2 ] && echo 0 || echo 1) "status --target DIR --json is accepted (exit $rc: no state yet)"
done_testing
