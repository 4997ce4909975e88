#!/bin/sh
# The TPM response parsers (node-agent/tpm/tpm2.c: TPM2_CreatePrimary's and TPM2_Sign's
# answers) under libFuzzer with ASan/UBSan (make fuzz-tpm2, tests/fuzz/fuzz-tpm2.c) for a
# bounded time (10 s): any crash, leak, sanitizer report, a key without a transient handle or
# a signature whose DER does not read back as r and s fails. Skipped only where clang cannot
# link its fuzzer runtime (Debian: clang, libclang-rt-14-dev).
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
make_fuzz fuzz-tpm2 "${FUZZ_SECONDS:-10}" 'ERROR|SUMMARY|crash-|Test unit written'
done_testing
