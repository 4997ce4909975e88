#!/bin/sh
# End-to-end: the built image booted in QEMU over PXE and from a USB disk, and with a
# broken config URL (tests/e2e/e2e.sh; `make test` builds the image first). Skipped only
# when there is no image or no QEMU.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

if [ ! -s build/image/pxe/initrd ] || ! command -v qemu-system-x86_64 >/dev/null; then
	skip "QEMU end-to-end boots" "no image (make image) or no qemu-system-x86_64"
	done_testing
	exit 0
fi
for mode in pxe usb broken; do
	out=$(sh tests/e2e/e2e.sh "$mode" 2>&1)
	printf '%s\n' "$out" | grep -v '^ok \|^not ok \|^1\.\.' | sed 's/^/# /'
	lines=$(mktemp)
	printf '%s\n' "$out" | grep '^ok \|^not ok ' > "$lines"
	# an e2e run that printed nothing must fail, not pass silently
	[ -s "$lines" ] || echo "not ok 0 - $mode: e2e.sh printed no result" > "$lines"
	while read -r line; do
		case $line in
		"not ok "*) ok 1 "${line#not ok * - }" ;;
		"ok "*) ok 0 "${line#ok * - }" ;;
		esac
	done < "$lines"
	rm -f "$lines"
done
done_testing
