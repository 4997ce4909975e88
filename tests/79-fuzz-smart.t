#!/bin/sh
# The parsers of disk health (hw/smart.c: NVMe SMART logs, ATA SMART data, thresholds and
# RETURN STATUS sense data) under libFuzzer with ASan/UBSan (make fuzz-smart,
# tests/fuzz/fuzz-smart.c) for a bounded time: any crash, leak, sanitizer report, or a
# result against the status rule or out of its range fails. Skipped only where clang cannot
# link its fuzzer runtime (Debian: clang, libclang-rt-14-dev).
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
make_fuzz fuzz-smart "${FUZZ_SECONDS:-10}" 'ERROR|SUMMARY|contract broken|crash-|Test unit written'
done_testing
