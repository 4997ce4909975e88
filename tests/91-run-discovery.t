#!/bin/sh
# Config discovery without a URL on the kernel command line: a filesystem labelled
# NODEAGENT (found with libblkid on the live system, mounted read-only for the read;
# here an ext4 image on a loop device), then /etc/node-agent/config.yaml under the root.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

w=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $w"
cfg='schema: node-agent/config/v1
cluster: {server: https://10.0.0.10:6443, token_file: /etc/node-agent/token}
rules:
  - name: all
    labels: {found-in: SOURCE}'

# 1. /etc/node-agent/config.yaml under a fixture root whose command line has no URL
root=$(scratch_copy qemu-q35)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
printf 'console=ttyS0 quiet\n' > "$root/proc/cmdline"
mkdir -p "$root/etc/node-agent"
printf '%s\n' "$cfg" | sed 's/SOURCE/etc/' > "$root/etc/node-agent/config.yaml"
t=$w/t1
mkdir -p "$t"
"$NODE_AGENT" run --root "$root" --target "$t" > "$w/out1" 2>&1
is "$?" 0 "run with /etc/node-agent/config.yaml exits 0"
like "$(cat "$w/out1")" "config: ok: $root/etc/node-agent/config.yaml" "the config came from /etc/node-agent/config.yaml"
like "$(cat "$t/etc/rancher/k3s/config.yaml")" '"found-in=etc"' "and was applied"

# 2. no config anywhere: a clear failure, nothing applied
rm "$root/etc/node-agent/config.yaml"
t=$w/t2
mkdir -p "$t"
"$NODE_AGENT" run --root "$root" --target "$t" > "$w/out2" 2>&1
is "$?" 1 "run without any config fails"
like "$(cat "$w/out2")" 'no nodeagent.config= on the kernel command line, no filesystem labelled NODEAGENT, no /etc/node-agent/config.yaml' \
	"and names every place it looked"
[ ! -e "$t/etc/rancher" ]
ok $? "nothing was applied"

# 3. a filesystem labelled NODEAGENT on the live system
if ! grep -q 'nodeagent.config=' /proc/cmdline && [ -e /dev/loop-control ] &&
	loop=$(losetup -f 2>/dev/null) && [ -n "$loop" ] && [ "$(id -u)" = 0 ]; then
	img=$w/stick.img
	truncate -s 16M "$img"
	mkfs.ext4 -q -F -L NODEAGENT "$img"
	loop=$(losetup -f --show "$img")
	mkdir -p "$w/mnt"
	mount "$loop" "$w/mnt" && printf '%s\n' "$cfg" | sed 's/SOURCE/label/' > "$w/mnt/config.yaml" && umount "$w/mnt"
	t=$w/t3
	mkdir -p "$t"
	"$NODE_AGENT" run --target "$t" > "$w/out3" 2>&1
	rc=$?
	losetup -d "$loop"
	is "$rc" 0 "run on the live system exits 0"
	like "$(cat "$w/out3")" "config: ok: $loop \\(label NODEAGENT\\)/config.yaml" \
		"the config came from the filesystem labelled NODEAGENT"
	like "$(cat "$t/etc/rancher/k3s/config.yaml")" '"found-in=label"' "and was applied"
	is "$(grep -c " /run/node-agent/nodeagent-fs " /proc/mounts)" 0 "node-agent leaves nothing mounted"
else
	skip "config from a filesystem labelled NODEAGENT" "needs root, loop devices and no nodeagent.config= here"
fi
done_testing
