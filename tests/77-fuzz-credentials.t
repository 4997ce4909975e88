#!/bin/sh
# node-agent serve's answer to a join request under libFuzzer with ASan/UBSan (make
# fuzz-credentials, tests/fuzz/fuzz-credentials.c) for a bounded time: any crash, leak,
# sanitizer report, an accepted answer the credentials stage could not use as it is, or a
# secret quoted in a message fails. Skipped only where clang cannot link its fuzzer runtime
# (Debian: clang, libclang-rt-14-dev).
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
: "${FUZZ_SECONDS:=10}"
probe=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
cleanup_dirs="$cleanup_dirs $probe"

printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\n%s\n' \
	'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n > 1 && d[0] == 0; }' \
	>"$probe/probe.c"
cc=${FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "$cc: not found" >"$probe/cc.log"
	false
else
	"$cc" -fsanitize=fuzzer,address,undefined -o "$probe/probe" "$probe/probe.c" \
		>"$probe/cc.log" 2>&1
fi
if [ $? -ne 0 ]; then
	skip "make fuzz-credentials runs clean for ${FUZZ_SECONDS}s" \
		"no clang fuzzer runtime: $(grep -m 1 . "$probe/cc.log")"
	done_testing
	exit
fi

# A make above us (make check) must not hand down its flags or jobserver.
start=$(date +%s)
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory fuzz-credentials \
	FUZZ_SECONDS="$FUZZ_SECONDS" >"$probe/fuzz.log" 2>&1
rc=$?
ok $rc "make fuzz-credentials runs clean for ${FUZZ_SECONDS}s"
if [ $rc -ne 0 ]; then
	grep -aE 'ERROR|SUMMARY|secret|crash-|Test unit written' "$probe/fuzz.log" | head -n 20 |
		sed 's/^/# /'
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$probe/fuzz.log")
diag "fuzz-credentials: ${execs:-?} executions in $(($(date +%s) - start))s (build included)"
[ -n "$execs" ] && [ "$execs" -gt 1000 ]
ok $? "the fuzzer really ran (more than 1000 executions)"
done_testing
