#!/bin/sh
# Disk safety on real images (16 MiB, smaller than sysfs says, to keep the test fast)
# under the QEMU fixture's dev/: ext4, GPT, swap and LVM
# signatures are each refused; a blank disk is formatted; a disk whose serial is allowed
# is formatted; nothing else is touched; a stale plan never formats a disk that is no
# longer blank.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

root=$(scratch_copy qemu-q35)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
dev=$root/dev
mkdir -p "$dev"
cfg=$(dirname "$root")/disks.yaml

fresh() { # fresh KIND DEVICE SIZE: an image holding one kind of signature
	rm -f "$dev/$2"
	truncate -s "$3" "$dev/$2"
	case $1 in
	blank) ;;
	ext4) mkfs.ext4 -q -F -L olddata "$dev/$2" >/dev/null 2>&1 ;;
	gpt) printf 'label: gpt\n,,L\n' | sfdisk -q "$dev/$2" >/dev/null 2>&1 ;;
	swap) mkswap "$dev/$2" >/dev/null 2>&1 ;;
	lvm) l=$(losetup -f --show "$dev/$2") && pvcreate -ff -y "$l" >/dev/null 2>&1; losetup -d "$l" ;;
	esac
}
sums() { sha256sum "$dev/nvme0n1" "$dev/nvme1n1" "$dev/sda" | cut -c1-16 | tr '\n' ' '; }
run() { "$NODE_AGENT" apply --config "$cfg" --root "$root" --target "$root" "$@" 2>&1; }
allow() { sed "s/allow_wipe_serials: \[\]/allow_wipe_serials: [$1]/" tests/configs/disks.yaml > "$cfg"; }
lvm_ok=no
command -v pvcreate >/dev/null && [ -e /dev/loop-control ] && losetup -f >/dev/null 2>&1 && lvm_ok=yes

allow ""
truncate -s 16M "$dev/sda"
for pair in "ext4 gpt" "swap lvm"; do
	set -- $pair
	if [ "$2" = lvm ] && [ $lvm_ok = no ]; then
		skip "$1 and $2 signatures are refused" "no loop devices or lvm2 here"
		continue
	fi
	fresh "$1" nvme0n1 16M
	fresh "$2" nvme1n1 16M
	before=$(sums)
	out=$(run)
	is "$?" 0 "$1 + $2: apply exits 0 (refusing is not a failure)"
	like "$out" "refused|no disk can be used" "$1 + $2: the plan refuses both disks"
	is "$(sums)" "$before" "$1 + $2: no image was touched"
	[ ! -e "$root/etc/systemd/system/var-lib-rancher.mount" ]
	ok $? "$1 + $2: no mount unit written"
	plan=$("$NODE_AGENT" plan --config "$cfg" --root "$root" --target "$root" 2>/dev/null)
	is "$(printf '%s\n' "$plan" | jq -r '.disk_decisions | join("|")')" \
		"nvme0n1: refused: signatures $(printf '%s\n' "$plan" >/dev/null; "$NODE_AGENT" inventory --root "$root" -q | jq -r '.disks[] | select(.name == "nvme0n1") | .signatures | join(", ")') and serial NVME0001SN is not in allow_wipe_serials|nvme1n1: refused: signatures $("$NODE_AGENT" inventory --root "$root" -q | jq -r '.disks[] | select(.name == "nvme1n1") | .signatures | join(", ")') and serial NVME0002SN is not in allow_wipe_serials|sda: not a candidate: does not match data_disk.match" \
		"$1 + $2: the plan says which disk and why"
	like "$(printf '%s\n' "$plan" | jq -r '.disk_decisions[0]')" "signatures .*$1|signatures .*ext4|signatures .*swap" \
		"$1 + $2: the refusal names the signature found"
done

# A blank disk is formatted, the others are not touched.
fresh ext4 nvme0n1 16M
fresh blank nvme1n1 16M
s0=$(sha256sum < "$dev/nvme0n1")
ssda=$(sha256sum < "$dev/sda")
uuid=$("$NODE_AGENT" plan --config "$cfg" --root "$root" --target "$root" 2>/dev/null | jq -r .data_disk.filesystem_uuid)
out=$(run)
is "$?" 0 "blank disk: apply exits 0"
like "$out" "format $dev/nvme1n1: ext4, label node-data, uuid $uuid" "blank disk: apply formats nvme1n1"
is "$(blkid -p -o export "$dev/nvme1n1" | grep -E '^(TYPE|LABEL|UUID)=' | sort | tr '\n' ' ')" \
	"LABEL=node-data TYPE=ext4 UUID=$uuid " "blank disk: libblkid sees ext4 with the planned label and UUID"
is "$(sha256sum < "$dev/nvme0n1")" "$s0" "blank disk: the ext4 disk beside it is untouched"
is "$(sha256sum < "$dev/sda")" "$ssda" "blank disk: the SATA disk is untouched"
unit=$root/etc/systemd/system/var-lib-rancher.mount
like "$(cat "$unit" 2>/dev/null)" "^What=/dev/disk/by-uuid/$uuid$" "the mount unit mounts the new filesystem by UUID"
like "$(cat "$unit" 2>/dev/null)" '^Where=/var/lib/rancher$' "the mount unit mounts it on /var/lib/rancher"
is "$(readlink "$root/etc/systemd/system/local-fs.target.wants/var-lib-rancher.mount")" \
	"../var-lib-rancher.mount" "the mount unit is enabled for local-fs.target"
# What K3s must find again after a reboot is kept on the data disk: its data dir under the
# mount point as it is, /etc/rancher/node (the node password) by a bind mount from the disk;
# K3s's unit requires both mounts, so it never starts on the RAM root instead.
bind=$root/etc/systemd/system/etc-rancher-node.mount
like "$(cat "$bind" 2>/dev/null)" '^What=/var/lib/rancher/node-agent/etc/rancher/node$' \
	"/etc/rancher/node is bind-mounted from the data disk"
like "$(cat "$bind" 2>/dev/null)" '^RequiresMountsFor=/var/lib/rancher$' \
	"the bind mount comes after the data disk's mount and needs it"
like "$(cat "$bind" 2>/dev/null)" '^Options=bind$' "it is a bind mount"
is "$(readlink "$root/etc/systemd/system/local-fs.target.wants/etc-rancher-node.mount")" \
	"../etc-rancher-node.mount" "the bind mount is enabled for local-fs.target"
[ -d "$root/var/lib/rancher/node-agent/etc/rancher/node" ]
ok $? "apply made the bind mount's source directory on the data disk (a bind of a missing directory fails)"
like "$(cat "$root/etc/systemd/system/k3s-agent.service.d/10-node-agent-state.conf" 2>/dev/null)" \
	'^RequiresMountsFor=/etc/rancher/node /var/lib/rancher/k3s$' \
	"K3s's unit requires its node password and data dir to be mounted"
is "$("$NODE_AGENT" plan --config "$cfg" --root "$root" --target "$root" 2>/dev/null | jq -c '[.data_disk.persists, .units]')" \
	'[["/etc/rancher/node","/var/lib/rancher/k3s"],["var-lib-rancher.mount","etc-rancher-node.mount"]]' \
	"the plan says what the disk keeps, and the bind mount starts after the disk's mount"
# A data disk mounted elsewhere (/data) keeps K3s's data dir by a bind mount too.
sed 's|mount: /var/lib/rancher|mount: /data|' "$cfg" > "$cfg.data"
is "$("$NODE_AGENT" plan --config "$cfg.data" --root "$root" --target "$root" 2>/dev/null | jq -c '[.units, .data_disk.bind_dirs]')" \
	'[["data.mount","etc-rancher-node.mount","var-lib-rancher-k3s.mount"],["/data/node-agent/etc/rancher/node","/data/node-agent/var/lib/rancher/k3s"]]' \
	"data disk on /data: /etc/rancher/node and /var/lib/rancher/k3s are both bind-mounted from it"
rm -f "$cfg.data"
out=$(run)
like "$out" 'nothing to change' "next boot: the data disk is recognised by its label, nothing changes"
like "$("$NODE_AGENT" plan --config "$cfg" --root "$root" --target "$root" 2>/dev/null | jq -r .data_disk.action)" \
	'^mount$' "next boot: the plan mounts, never formats, the existing data filesystem"

# An allowed serial is formatted despite its signatures.
rm -rf "$root/etc/systemd"
fresh ext4 nvme0n1 16M
fresh blank nvme1n1 16M
s1=$(sha256sum < "$dev/nvme1n1")
allow NVME0001SN
out=$(run)
like "$out" "format $dev/nvme0n1: .*allow_wipe_serials" "allowed serial: nvme0n1 is formatted though it held ext4"
like "$(blkid -p -o export "$dev/nvme0n1")" 'LABEL=node-data' "allowed serial: it now holds the node-data filesystem"
is "$(sha256sum < "$dev/nvme1n1")" "$s1" "allowed serial: the blank disk after it is untouched"

# A stale inventory that still says "blank" never formats a disk that has since got data.
rm -rf "$root/etc/systemd"
allow ""
fresh ext4 nvme0n1 16M
fresh blank nvme1n1 16M
stale=$(dirname "$root")/stale.json
"$NODE_AGENT" inventory --root "$root" -q > "$stale"
mkswap "$dev/nvme1n1" >/dev/null 2>&1
s1=$(sha256sum < "$dev/nvme1n1")
out=$("$NODE_AGENT" apply --config "$cfg" --root "$root" --inventory "$stale" --target "$root" 2>&1)
is "$?" 1 "stale plan: apply fails"
like "$out" "refuse $dev/nvme1n1: it is no longer blank" "stale plan: libblkid is asked again right before formatting"
is "$(sha256sum < "$dev/nvme1n1")" "$s1" "stale plan: the disk is untouched"
[ ! -e "$unit" ]
ok $? "stale plan: no mount unit for a disk that was not prepared"
done_testing
