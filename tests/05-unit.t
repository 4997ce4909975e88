#!/bin/sh
# C unit tests (tests/unit/*.c), built by the Makefile beside node-agent; each prints TAP.
. "$(dirname "$0")/lib.sh"

dir=$(dirname "$NODE_AGENT")/tests
# the fixtures of the tests that read dumps (test-smart: tests/fixtures/smart)
NA_FIXTURES=$FIXTURES
export NA_FIXTURES
for t in test-hw-util test-hw-disk test-report-spool test-parse-util test-fetch test-yaml-emit \
	test-plan-disk test-plan-disk-oom test-inventory-schema test-capbuf test-yaml-load test-ethtool \
	test-smart test-smbios test-pcie test-serve test-serve-timeline test-pxe-dhcp test-pxe-server test-tftp \
	test-run-credentials; do
	if [ ! -x "$dir/$t" ]; then
		ok 1 "$t is built ($dir/$t)"
		continue
	fi
	"$dir/$t" > "$dir/$t.tap" 2>&1
	rc=$?
	sed 's/^/# /' "$dir/$t.tap" | grep -v '^# ok '
	ok $rc "$t: $(grep -c '^ok' "$dir/$t.tap") passed, $(grep -c '^not ok' "$dir/$t.tap") failed"
done
done_testing
