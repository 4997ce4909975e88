#!/bin/sh
# End-to-end: the built image booted in QEMU over PXE (twice: a reboot that rejoins), as the
# first server (twice: it keeps its CA), diskless (a refused node password), from a USB
# disk, and with a
# broken config URL (tests/e2e/e2e.sh; `make test` builds the image first). Skipped only
# when there is no image or no QEMU. First, without QEMU: the machine-id logic of /init.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

# The image's /init (images/ramroot-init): its machine-id choice, run here with the DMI
# UUID file and the root pointed at a scratch directory (no QEMU needed).
mt=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $mt"
sed -n '/^undash()/,/^# everything at the top level/p' images/ramroot-init |
	sed "s|/sys/class/dmi/id/product_uuid|$mt/uuid|" >"$mt/fn.sh"
# mid_for UUID BOOTIF -> "machine-id written|log line"
mid_for() {
	printf '%s\n' "$1" >"$mt/uuid"
	mkdir -p "$mt/root/etc" && echo uninitialized >"$mt/root/etc/machine-id"
	dash -c 'log() { echo "$*"; }; bootif=$2; . "$1/fn.sh"; machine_id "$1/root" >"$1/log"' \
		sh "$mt" "$2"
	echo "$(cat "$mt/root/etc/machine-id")|$(cat "$mt/log")"
}
like "$(mid_for 6b1d4f2e-3c5a-4e7b-9d8c-1a2b3c4d5e6f '')" \
	'^6b1d4f2e3c5a4e7b9d8c1a2b3c4d5e6f\|machine-id 6b1d4f2e3c5a4e7b9d8c1a2b3c4d5e6f from the DMI product UUID$' \
	"/init: machine-id = the DMI product UUID without dashes"
like "$(mid_for 6B1D4F2E-3C5A-4E7B-9D8C-1A2B3C4D5E6F '')" '^6b1d4f2e3c5a4e7b9d8c1a2b3c4d5e6f\|' \
	"/init: an upper-case UUID is lower-cased"
bootif_id=$(printf 'node-agent machine-id %s' 01-52-54-00-e2-e0-01 | sha256sum | cut -c1-32)
for bad in 00000000-0000-0000-0000-000000000000 FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF \
	03000200-0400-0500-0006-000700080009 00020003-0004-0005-0006-000700080009 \
	6b1d4f2e3c5a4e7b9d8c1a2b3c4d5e6f 6b1d4f2e-3c5a-4e7b-9d8c-1a2b3c4d5e6g ''; do
	like "$(mid_for "$bad" 01-52-54-00-E2-E0-01)" "^$bootif_id\\|.*from the PXE MAC" \
		"/init: DMI UUID '$bad' is refused; the id comes from BOOTIF= (hashed, any case)"
done
r1=$(mid_for 03000200-0400-0500-0006-000700080009 '') r2=$(mid_for '' '')
like "$r1" '^[0-9a-f]{32}\|.*random: no usable DMI UUID and no PXE MAC' \
	"/init: neither a UUID nor BOOTIF=: random, and the log says it changes at every boot"
[ "${r1%%|*}" != "${r2%%|*}" ]
ok $? "/init: ... and it differs between boots"
printf '%s\n' 0123456789abcdef0123456789abcdef >"$mt/root/etc/machine-id"
dash -c 'log() { echo "$*"; }; bootif=; . "$1/fn.sh"; machine_id "$1/root"' sh "$mt" >/dev/null
is "$(cat "$mt/root/etc/machine-id")" 0123456789abcdef0123456789abcdef \
	"/init: a valid machine-id already in the root (e.g. from an extra initrd) is kept"

if [ "${NA_E2E:-1}" = 0 ]; then
	skip "QEMU end-to-end boots" "NA_E2E=0 (make test-fast)"
	done_testing
	exit 0
fi
if [ ! -s build/image/pxe/initrd ] || ! command -v qemu-system-x86_64 >/dev/null; then
	skip "QEMU end-to-end boots" "no image (make image) or no qemu-system-x86_64"
	done_testing
	exit 0
fi
# The five runs (seven boots: pxe and server boot twice) go side by side, E2E_JOBS at a time
# (default 2, one per core: TCG guests spend much of a boot waiting on timers and the
# loopback servers), longest first, a new one starting as soon as one ends; each keeps its
# own scratch directory and ports. Every run is bounded by e2e.sh's own timeouts.
jobs=${E2E_JOBS:-2}
res=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $res"
t0=$(date +%s)
running=""
for mode in pxe server diskless broken usb; do
	while [ "$(echo $running | wc -w)" -ge "$jobs" ]; do
		still=""
		for p in $running; do kill -0 "$p" 2>/dev/null && still="$still $p"; done
		running=$still
		[ "$(echo $running | wc -w)" -ge "$jobs" ] && sleep 1
	done
	sh tests/e2e/e2e.sh "$mode" >"$res/$mode" 2>&1 &
	running="$running $!"
done
wait
diag "e2e: five runs (seven boots) in $(($(date +%s) - t0)) s with E2E_JOBS=$jobs"
for mode in pxe server diskless usb broken; do
	out=$(cat "$res/$mode")
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
