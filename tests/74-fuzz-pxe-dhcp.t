#!/bin/sh
# The network-boot parsers of serve (node-agent/serve/pxe-dhcp.c, tftp.c) under libFuzzer with
# ASan/UBSan (make fuzz-pxe-dhcp, tests/fuzz/fuzz-pxe-dhcp.c) for a bounded time: any crash,
# leak or sanitizer report, a refusal without a reason, a reply above 576 bytes or one that does
# not parse back, a TFTP name outside the root accepted fails. Skipped only where clang cannot
# link its fuzzer runtime (Debian: clang, libclang-rt-14-dev).
. "$(dirname "$0")/lib.sh"

cd "$TESTS_DIR/.." || exit 1
make_fuzz fuzz-pxe-dhcp "${FUZZ_SECONDS:-20}" 'ERROR|SUMMARY|fuzz-pxe-dhcp:|crash-|Test unit written'
done_testing
