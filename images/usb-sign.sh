#!/bin/sh
# Sign the boot loader and kernel of a USB image made by mkusb.sh for Secure Boot with your
# own key, in place, without mounting anything (mtools on the ESP at its 1 MiB offset):
#   usb-sign.sh disk.raw db.key db.crt
# The key must be unencrypted PEM (sbsign asks for a passphrase on the terminal otherwise)
# and its certificate enrolled in the firmware's db (or signed by a KEK that is). systemd-boot
# (EFI/BOOT/BOOTX64.EFI) and the kernel (vmlinuz) are what the firmware verifies; the initrd
# is not signed (systemd-boot 252 type #1 entries): see the README, "Secure Boot".
# Debian's kernel keeps its own Debian signature beside this one. Tools: sbsigntool, mtools.
set -eu
[ $# -eq 3 ] || { echo "usage: usb-sign.sh DISK.raw KEY.pem CERT.pem" >&2; exit 2; }
disk=$1 key=$2 cert=$3
for f in "$disk" "$key" "$cert"; do
	[ -r "$f" ] || { echo "usb-sign.sh: cannot read $f" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MTOOLS_SKIP_CHECK=1
for f in /EFI/BOOT/BOOTX64.EFI /vmlinuz; do
	mcopy -n -i "$disk@@1M" "::$f" "$tmp/in.efi"
	sbsign --key "$key" --cert "$cert" --output "$tmp/out.efi" "$tmp/in.efi" 2>"$tmp/err" || {
		cat "$tmp/err" >&2
		exit 1
	}
	sbverify --cert "$cert" "$tmp/out.efi" >/dev/null 2>&1 || {
		echo "usb-sign.sh: $f does not verify with $cert after signing" >&2
		exit 1
	}
	mcopy -o -n -i "$disk@@1M" "$tmp/out.efi" "::$f"
	echo "signed $f"
	rm -f "$tmp/in.efi" "$tmp/out.efi"
done
