#!/bin/sh
# The inventory JSON reader (plan --inventory, report, diff) under libFuzzer with
# ASan/UBSan (make fuzz-inventory, tests/fuzz/fuzz-inventory.c) for a bounded time: any
# crash, leak, sanitizer report, malformed error line, an inventory that differs from
# itself or from its own round trip fails. Skipped only where clang cannot link its
# fuzzer runtime (Debian: clang, libclang-rt-14-dev).
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
make_fuzz fuzz-inventory "${FUZZ_SECONDS:-20}" 'ERROR|SUMMARY|malformed|differs|round trip|accepted|crash-|Test unit written'
done_testing
