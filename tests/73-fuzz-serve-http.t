#!/bin/sh
# What node-agent serve's HTTP side parses, under libFuzzer with ASan/UBSan (make
# fuzz-serve-http, tests/fuzz/fuzz-serve-http.c) for 15 s: a report's body as http.c takes it
# before the database (envelope, Idempotency-Key, identity, inventory, acceptance rules),
# Range headers and MACs in URL paths. Any crash, leak, sanitizer report, a range outside the
# file, a MAC not normalized or an accepted report without its key or identity fails.
# Skipped only where clang cannot link its fuzzer runtime (Debian: clang, libclang-rt-14-dev).
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
make_fuzz fuzz-serve-http "${FUZZ_SECONDS:-15}" 'ERROR|SUMMARY|not a normalized|range |crash-|Test unit written'
done_testing
