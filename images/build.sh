#!/bin/sh
# Build the node image (make image): stage the extra tree, run mkosi 14, compress the
# initrd, write boot.ipxe and the USB disk. Prints what went in and the sizes.
# Env: K3S_BINARY, K3S_SHA256 (include K3s after checking its hash), CONFIG_URL (default
# config URL of boot.ipxe), ZSTD_LEVEL (default 19), TRIM_MODULES (yes), MKOSI_CACHE
# (default /var/cache/node-agent/mkosi).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=build/image
stage=$out/stage
start=$(date +%s)

[ -x build/node-agent ] || { echo "image: build/node-agent missing (make)" >&2; exit 1; }
# K3s first: a wrong hash must stop the build before anything is replaced
k3s_note="not included (make image K3S_BINARY=/path/to/k3s K3S_SHA256=... to add it)"
if [ -n "${K3S_BINARY:-}" ]; then
	[ -n "${K3S_SHA256:-}" ] || { echo "image: K3S_BINARY needs K3S_SHA256 (the pinned hash)" >&2; exit 1; }
	got=$(sha256sum "$K3S_BINARY" | cut -d' ' -f1)
	if [ "$got" != "$K3S_SHA256" ]; then
		echo "image: $K3S_BINARY has sha256 $got, not the pinned $K3S_SHA256: refusing it" >&2
		exit 1
	fi
	k3s_version=$("$K3S_BINARY" --version 2>/dev/null | head -n 1 || true)
	k3s_note="included: $K3S_BINARY (${k3s_version:-version unknown}, sha256 $got)"
fi

rm -rf "$stage" "$out/mkosi" "$out/pxe" "$out/usb"
mkdir -p "$stage/usr/bin" "$stage/usr/lib/systemd/system" "$stage/usr/lib/tmpfiles.d" \
	"$out/pxe" "$out/usb"
# mkosi's package cache lives outside the clone, so a fresh clone on the same machine (CI)
# downloads nothing again: MKOSI_CACHE overrides it.
cache=${MKOSI_CACHE:-/var/cache/node-agent/mkosi}
mkdir -p "$cache"
cp -a images/extra/. "$stage/"
install -m 0755 build/node-agent "$stage/usr/bin/node-agent"
install -m 0644 init/node-agent.service init/k3s.service init/k3s-agent.service \
	init/node-agent-roles.service init/node-agent-roles.timer init/node-agent-report.service \
	init/node-agent-report.timer init/node-agent-selftest.service "$stage/usr/lib/systemd/system/"
# /init (tmpfs root, machine-id; see the file) and the e2e's self-test
mkdir -p "$stage/usr/lib/node-agent"
install -m 0755 images/ramroot-init images/selftest "$stage/usr/lib/node-agent/"
install -m 0644 init/node-agent.tmpfiles "$stage/usr/lib/tmpfiles.d/node-agent.conf"
if [ -n "${K3S_BINARY:-}" ]; then
	mkdir -p "$stage/usr/local/bin"
	install -m 0755 "$K3S_BINARY" "$stage/usr/local/bin/k3s"
	# the plan sets default-runtime: nvidia only where this K3s looks for the runtime
	[ -z "$k3s_version" ] || printf '%s\n' "$k3s_version" > "$stage/usr/lib/node-agent/k3s-version"
fi

# systemd-nspawn (used by mkosi) needs a lockable /run/systemd/nspawn; where systemd is not
# PID 1 and /run is not a mount point, give it a tmpfs
if ! mountpoint -q /run/systemd/nspawn 2>/dev/null && ! mountpoint -q /run; then
	mkdir -p /run/systemd/nspawn
	mount -t tmpfs tmpfs /run/systemd/nspawn
fi
export TRIM_MODULES="${TRIM_MODULES:-yes}" MKOSI_TRIM_LIST="$top/images/modules.drop"
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\/*\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
mkosi --force --cache="$cache" ${mirror:+--mirror="$mirror"} build
t_mkosi=$(date +%s)

m=$(dirname "$(find "$out/mkosi" -name initrd.cpio -type f | head -n 1)")
zstd -"${ZSTD_LEVEL:-19}" -T0 -q -f "$m/initrd.cpio" -o "$out/pxe/initrd"
cp "$m/vmlinuz" "$out/pxe/vmlinuz"
sed -e "s|@CONFIG_URL@|${CONFIG_URL:-http://boot.example.invalid/nodes/\${mac}.yaml}|" \
	init/boot.ipxe.in > "$out/pxe/boot.ipxe"
bash images/mkusb.sh "$out/pxe/vmlinuz" "$out/pxe/initrd" "$out/usb/disk.raw" >/dev/null
rm -f "$m/initrd.cpio"
end=$(date +%s)

size() { stat -c %s "$1"; }
k=$(size "$out/pxe/vmlinuz") i=$(size "$out/pxe/initrd")
echo "image: built in $((end - start)) s (mkosi $((t_mkosi - start)) s)"
echo "image: K3s $k3s_note"
awk -v k="$k" -v i="$i" -v r="$(cat "$m/rootfs-size.txt" 2>/dev/null | cut -f1)" 'BEGIN {
	printf "image: vmlinuz %.1f MB + initrd %.1f MB (zstd) = %.1f MB (goal <= 60 MB); root %s uncompressed\n",
		k / 1e6, i / 1e6, (k + i) / 1e6, r }'
echo "image: $out/pxe/vmlinuz $out/pxe/initrd $out/pxe/boot.ipxe"
echo "image: $out/usb/disk.raw ($(( $(size "$out/usb/disk.raw") / 1048576 )) MiB, GPT + EFI system partition)"
