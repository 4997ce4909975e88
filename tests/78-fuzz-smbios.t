#!/bin/sh
# The SMBIOS parser (hw/smbios.c, memory modules from /sys/firmware/dmi/entries) under
# libFuzzer with ASan/UBSan (make fuzz-smbios, tests/fuzz/fuzz-smbios.c) for a bounded time
# (10 s): any crash, leak, sanitizer report, a structure accepted that cannot be one, an
# untrimmed or unprintable string, slots that do not add up fails. Skipped only where clang
# cannot link its fuzzer runtime (Debian: clang, libclang-rt-14-dev).
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
make_fuzz fuzz-smbios "${FUZZ_SECONDS:-10}" 'ERROR|SUMMARY|untrimmed|unprintable|crash-|Test unit written'
done_testing
