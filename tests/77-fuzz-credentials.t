#!/bin/sh
# node-agent serve's answer to a join request under libFuzzer with ASan/UBSan (make
# fuzz-credentials, tests/fuzz/fuzz-credentials.c) for a bounded time: any crash, leak,
# sanitizer report, an accepted answer the credentials stage could not use as it is, or a
# secret quoted in a message fails. Skipped only where clang cannot link its fuzzer runtime
# (Debian: clang, libclang-rt-14-dev).
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
make_fuzz fuzz-credentials "${FUZZ_SECONDS:-10}" 'ERROR|SUMMARY|secret|crash-|Test unit written'
done_testing
