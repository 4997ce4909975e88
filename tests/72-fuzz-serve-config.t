#!/bin/sh
# serve.yaml's parser (node-agent/serve/config.c) under libFuzzer with ASan/UBSan (make
# fuzz-serve-config, tests/fuzz/fuzz-serve-config.c) for 10 s: any crash, leak, sanitizer
# report, malformed error line, or accepted config that serve could not run with fails.
# Skipped only where clang cannot link its fuzzer runtime (Debian: clang, libclang-rt-14-dev).
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
make_fuzz fuzz-serve-config "${FUZZ_SECONDS:-10}" 'ERROR|SUMMARY|malformed|control character|accepted config|crash-|Test unit written'
done_testing
