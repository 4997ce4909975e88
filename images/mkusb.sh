#!/bin/bash
# Build a GPT disk.raw whose only partition is an EFI System Partition holding
# systemd-boot + the SAME vmlinuz and initrd as PXE; the node again runs from RAM.
# The partition's FAT label is NODEAGENT: copy a config.yaml onto the stick and
# node-agent finds it there (or put nodeagent.config=URL in loader/entries/node.conf,
# see images/usb-set-cmdline.sh).
# No loop devices, no mounts: sfdisk on a file, mkfs.vfat -C on a file, mtools, dd.
# Usage: mkusb.sh VMLINUZ INITRD OUT.raw   (env: ESP_MB=200, CMDLINE=..., SDBOOT=...)
set -euo pipefail
K=$1 I=$2 OUT=$3
ESP_MB=${ESP_MB:-200}
CMDLINE=${CMDLINE:-console=tty0 console=ttyS0,115200n8}
SDBOOT=${SDBOOT:-/usr/lib/systemd/boot/efi/systemd-bootx64.efi}   # pkg systemd-boot-efi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

need=$(( ($(stat -c %s "$K") + $(stat -c %s "$I") + $(stat -c %s "$SDBOOT")) / 1048576 + 2 ))
[ "$need" -lt "$ESP_MB" ] || { echo "ESP_MB=$ESP_MB too small, need > $need" >&2; exit 1; }

# ESP as a standalone FAT32 image, filled with mtools (works unprivileged, no mount)
mkfs.vfat -F 32 -n NODEAGENT -C "$tmp/esp.img" $((ESP_MB * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd   -i "$tmp/esp.img" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
mcopy -i "$tmp/esp.img" "$SDBOOT" ::/EFI/BOOT/BOOTX64.EFI      # removable-media fallback path
printf 'timeout 0\ndefault node.conf\neditor no\n' > "$tmp/loader.conf"
printf 'title node-agent (runs from RAM)\nlinux /vmlinuz\ninitrd /initrd.zst\noptions %s\n' "$CMDLINE" > "$tmp/node.conf"
mcopy -i "$tmp/esp.img" "$tmp/loader.conf" ::/loader/loader.conf
mcopy -i "$tmp/esp.img" "$tmp/node.conf"   ::/loader/entries/node.conf
mcopy -i "$tmp/esp.img" "$K" ::/vmlinuz
mcopy -i "$tmp/esp.img" "$I" ::/initrd.zst

# GPT: 1 MiB alignment, ESP, 1 MiB spare at the end for the backup GPT
rm -f "$OUT"; truncate -s $(( (ESP_MB + 2) * 1048576 )) "$OUT"
sfdisk -q "$OUT" <<EOT
label: gpt
start=2048, size=$((ESP_MB * 2048)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="ESP"
EOT
dd if="$tmp/esp.img" of="$OUT" bs=1M seek=1 conv=notrunc,sparse status=none
sfdisk -l "$OUT" | tail -2
