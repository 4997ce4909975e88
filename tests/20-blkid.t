#!/bin/sh
# libblkid on real images: the disks of the QEMU capture get real contents under the
# fixture's dev/ (a regular file holding an image is probed like the device).
. "$(dirname "$0")/lib.sh"

root=$(scratch_copy qemu-q35)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
dev=$root/dev
mkdir -p "$dev"
# sizes as the captured sysfs says: nvme0n1 64 MiB, nvme1n1 128 MiB, sda 96 MiB
truncate -s 64M "$dev/nvme0n1"
truncate -s 128M "$dev/nvme1n1"
truncate -s 96M "$dev/sda"

# sda: GPT, partition 1 ext4 "DATA", partition 2 swap
printf 'label: gpt\n,40M,L\n,,S\n' | sfdisk -q "$dev/sda" >/dev/null 2>&1
ok $? "sfdisk writes a GPT to sda"
truncate -s 40M "$TMPDIR/p1" 2>/dev/null || true
p1=$(mktemp) && p2=$(mktemp)
cleanup_dirs="$cleanup_dirs $p1 $p2"
start1=$(sfdisk -d "$dev/sda" | awk -F'[=,]' '/sda1/ { gsub(/ /, "", $2); print $2 }')
size1=$(sfdisk -d "$dev/sda" | awk -F'[=,]' '/sda1/ { gsub(/ /, "", $4); print $4 }')
start2=$(sfdisk -d "$dev/sda" | awk -F'[=,]' '/sda2/ { gsub(/ /, "", $2); print $2 }')
size2=$(sfdisk -d "$dev/sda" | awk -F'[=,]' '/sda2/ { gsub(/ /, "", $4); print $4 }')
truncate -s $((size1 * 512)) "$p1"
truncate -s $((size2 * 512)) "$p2"
mkfs.ext4 -q -F -L DATA -U 0b1d3c5e-7f90-4a2b-8c4d-6e8f0a1b2c3d "$p1" >/dev/null 2>&1
mkswap -L SWAP1 -U 5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d "$p2" >/dev/null 2>&1
dd if="$p1" of="$dev/sda" bs=512 seek="$start1" conv=notrunc status=none
dd if="$p2" of="$dev/sda" bs=512 seek="$start2" conv=notrunc status=none
# nvme1n1: ext4 on the whole disk
mkfs.ext4 -q -F -L WHOLE -U 9f8e7d6c-5b4a-4392-8a1b-0c9d8e7f6a5b "$dev/nvme1n1" >/dev/null 2>&1
# nvme0n1 stays all zeroes

out=$("$NODE_AGENT" inventory --root "$root" --quiet)
ok $? "inventory over the images exits 0"
q() { printf '%s\n' "$out" | jq -c "$1"; }

is "$(q '.disks[] | select(.name == "sda") | .partition_table')" '"gpt"' "sda: GPT found"
is "$(q '.disks[] | select(.name == "sda") | .filesystems')" \
	'[{"device":"sda1","type":"ext4","label":"DATA","uuid":"0b1d3c5e-7f90-4a2b-8c4d-6e8f0a1b2c3d"},{"device":"sda2","type":"swap","label":"SWAP1","uuid":"5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"}]' \
	"sda: ext4 and swap partitions with label and uuid"
is "$(q '.disks[] | select(.name == "sda") | .has_signatures')" 'true' "sda: has signatures"
is "$(q '.disks[] | select(.name == "sda") | .signatures')" '["gpt","PMBR"]' \
	"sda: signature list as wipefs sees it (GPT and protective MBR)"
is "$(q '.disks[] | select(.name == "nvme1n1") | [.partition_table, .filesystems, .signatures, .has_signatures]')" \
	'[null,[{"device":"nvme1n1","type":"ext4","label":"WHOLE","uuid":"9f8e7d6c-5b4a-4392-8a1b-0c9d8e7f6a5b"}],["ext4"],true]' \
	"nvme1n1: ext4 on the whole disk"
is "$(q '.disks[] | select(.name == "nvme0n1") | [.partition_table, .filesystems, .signatures, .has_signatures]')" \
	'[null,[],[],false]' "nvme0n1: blank disk has no signatures"
is "$(q '.warnings')" '[]' "no warnings"

# Second layout: swap on a whole disk, an MBR partition table, an LVM physical volume.
rm -f "$dev/sda" "$dev/nvme0n1" "$dev/nvme1n1"
truncate -s 96M "$dev/sda"
truncate -s 64M "$dev/nvme0n1"
truncate -s 128M "$dev/nvme1n1"
mkswap -L SW -U 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f "$dev/sda" >/dev/null 2>&1
printf 'label: dos\n,,L\n' | sfdisk -q "$dev/nvme1n1" >/dev/null 2>&1
lvm=no
if command -v pvcreate >/dev/null && [ -e /dev/loop-control ]; then
	loopdev=$(losetup -f --show "$dev/nvme0n1" 2>/dev/null) &&
		pvcreate -ff -y "$loopdev" >/dev/null 2>&1 && lvm=yes
	[ -n "${loopdev:-}" ] && losetup -d "$loopdev"
fi
out=$("$NODE_AGENT" inventory --root "$root" --quiet)
is "$(q '.disks[] | select(.name == "sda") | [.signatures, .filesystems[0].type, .has_signatures]')" \
	'[["swap"],"swap",true]' "sda: whole-disk swap is a signature"
is "$(q '.disks[] | select(.name == "nvme1n1") | [.partition_table, .signatures, .has_signatures]')" \
	'["dos",["dos"],true]' "nvme1n1: MBR partition table (no filesystem) is a signature"
if [ $lvm = yes ]; then
	is "$(q '.disks[] | select(.name == "nvme0n1") | [.signatures, .filesystems[0].type, .has_signatures]')" \
		'[["LVM2_member"],"LVM2_member",true]' "nvme0n1: LVM physical volume is a signature"
else
	skip "nvme0n1: LVM physical volume is a signature" "no loop devices or lvm2 here"
fi

# A device node that cannot be opened: unknown, never "blank".
rm -f "$dev/nvme0n1"
mkdir "$dev/nvme0n1"
out=$("$NODE_AGENT" inventory --root "$root" --quiet)
is "$(q '.disks[] | select(.name == "nvme0n1") | [.signatures, .has_signatures]')" \
	'[null,null]' "unprobeable device: signatures unknown (null), not blank"
done_testing
