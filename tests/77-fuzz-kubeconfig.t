#!/bin/sh
# The join stage's parsers of outside input under libFuzzer with ASan/UBSan (make
# fuzz-kubeconfig, tests/fuzz/fuzz-kubeconfig.c) for a bounded time: kubeconfigs, base64,
# the API server's node list through roles_reconcile() and join_label_patch(), K3s token
# files. Any crash, leak, sanitizer report, a secret in a message, a label a server applies
# that the config does not give, or a patch that is not a fixed point fails. Seeded with the
# kubeconfigs tests/tools/mk-k3s-pki.sh makes. Skipped only where clang cannot link its
# fuzzer runtime (Debian: clang, libclang-rt-14-dev).
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
: "${FUZZ_SECONDS:=15}"
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
	skip "make fuzz-kubeconfig runs clean for ${FUZZ_SECONDS}s" \
		"no clang fuzzer runtime: $(grep -m 1 . "$probe/cc.log")"
	done_testing
	exit
fi
if ! command -v openssl >/dev/null 2>&1; then
	skip "make fuzz-kubeconfig runs clean for ${FUZZ_SECONDS}s" "openssl missing (seeds)"
	done_testing
	exit
fi

# A make above us (make check) must not hand down its flags or jobserver. The fuzzer's
# scratch directory (file references, token files) goes to our own TMPDIR.
start=$(date +%s)
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL TMPDIR="$probe" make --no-print-directory \
	fuzz-kubeconfig FUZZ_SECONDS="$FUZZ_SECONDS" >"$probe/fuzz.log" 2>&1
rc=$?
ok $rc "make fuzz-kubeconfig runs clean for ${FUZZ_SECONDS}s"
if [ $rc -ne 0 ]; then
	grep -aE 'ERROR|SUMMARY|malformed|secret|server (applied|removed)|fixed point|patched again|crash-|Test unit written' \
		"$probe/fuzz.log" | head -n 20 | sed 's/^/# /'
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$probe/fuzz.log")
cov=$(grep -aE '^#[0-9]+[[:space:]]+DONE' "$probe/fuzz.log" | sed -n 's/.*\(cov: [0-9]*\).*\(corp: [^ ]*\).*/\1 \2/p')
diag "fuzz-kubeconfig: ${execs:-?} executions in $(($(date +%s) - start))s (build included), ${cov:-no coverage line}"
[ -n "$execs" ] && [ "$execs" -gt 1000 ]
ok $? "the fuzzer really ran (more than 1000 executions)"
seeds=$(ls build/fuzz/kubeconfig-seed 2>/dev/null | grep -c '^pki-')
[ "$seeds" -ge 6 ]
ok $? "seeded with the kubeconfigs, CA and token mk-k3s-pki.sh makes ($seeds files)"
is "$(find "$probe" -maxdepth 1 -name 'fuzz-kubeconfig.*' | wc -l)" 0 \
	"the fuzzer removed its scratch directory"
done_testing
