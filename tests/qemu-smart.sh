#!/bin/sh
# Disk health for real: boot the host's Debian kernel in QEMU (q35, TCG) with a busybox
# initramfs, three NVMe controllers and an AHCI disk, and run `node-agent inventory` there,
# as root and as an unprivileged user; beside it, independent readings of the same disks:
# `smartctl --json -a` (smartmontools), the raw NVMe SMART log from `nvme smart-log -o
# binary` (nvme-cli) and the raw ATA SMART pages and RETURN STATUS sense from `sg_raw`
# (sg3-utils), each sending its own commands. tests/97-qemu-smart.t compares them.
#
#   nvme0  QEMU's NVMe as it is (no warning)
#   nvme1  smart_critical_warning=0x14 (QEMU's property: reliability, volatile backup)
#   nvme2  its over-temperature threshold set to 300 K by Set Features (FID 04h) from the
#          guest, below QEMU's 323 K: the controller sets the temperature bit itself
#   sda    QEMU's ide-hd on AHCI, which answers SMART READ DATA, READ THRESHOLDS and
#          RETURN STATUS
#
# usage: tests/qemu-smart.sh OUTDIR    (writes OUTDIR/out/: inventory-root.json,
#        inventory-user.json/.err, smartctl-*.json, nvme*.bin, sda.*.bin, sg_raw-status.txt,
#        dmesg.txt, and OUTDIR/console.log)
# env:   NODE_AGENT=<binary> (default build/node-agent), KVER, QEMU_TIMEOUT (default 300)
#        SMART_FIXTURES=<dir>  also write the raw dumps there under their fixture names
#        (tests/fixtures/smart: nvme-qemu*.bin, ata-qemu.{data,thresholds,sense}.bin)
# needs: qemu-system-x86, busybox-static, linux-image-amd64, kmod, cpio, gzip, smartmontools,
#        nvme-cli, sg3-utils (sh tests/install-deps.sh capture)
set -eu
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: qemu-smart.sh OUTDIR}
agent=${NODE_AGENT:-$here/../build/node-agent}
kver=${KVER:-$(ls /lib/modules | sort -V | tail -n 1)}
kernel=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
qtimeout=${QEMU_TIMEOUT:-300}
busybox=$(command -v busybox || true)
die() { echo "qemu-smart: $*" >&2; exit 1; }

[ -r "$kernel" ] || die "no readable kernel $kernel"
[ -x "$agent" ] || die "no node-agent at $agent"
[ -n "$busybox" ] || die "busybox not found (apt-get install busybox-static)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"
tools=""
for t in smartctl nvme sg_raw; do
	p=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$t") || die "$t not found (smartmontools, nvme-cli, sg3-utils)"
	tools="$tools $p"
done

mkdir -p "$work"
root=$work/root
rm -rf "$root" "$work/out"
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" "$root/proc" \
	"$root/sys" "$root/dev" "$root/tmp" "$root/out" "$root/lib/modules"
cp "$busybox" "$root/bin/busybox"
"$busybox" --list-full | while read -r a; do
	[ "$a" = bin/busybox ] && continue
	mkdir -p "$root/$(dirname "$a")"
	ln -sf /bin/busybox "$root/$a"
done

# the programs with the shared libraries they load (ldd), at the same paths
cp "$agent" "$root/usr/bin/node-agent"
for b in $agent $tools; do
	case $b in "$agent") ;; *) cp "$b" "$root$b" ;; esac
	ldd "$b" | awk '/=> \// { print $3 } /^[[:space:]]*\/lib/ { print $1 }'
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

# nvme, ahci, sd_mod and what they need, in load order (as tests/qemu-capture.sh)
for m in crct10dif_generic crc64_rocksoft_generic nvme ahci sd_mod; do
	modprobe -S "$kver" --show-depends "$m" || die "module $m not found for $kver"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r path; do
	case $path in
	*.ko.xz) xz -dc "$path" ;;
	*.ko.zst) zstd -qdc "$path" ;;
	*.ko.gz) gzip -dc "$path" ;;
	*) cat "$path" ;;
	esac > "$root/lib/modules/$(basename "${path%.ko*}").ko"
	echo "/lib/modules/$(basename "${path%.ko*}").ko" >> "$root/lib/modules/load-order"
done
echo "qemu-smart-node" > "$root/etc/hostname"
echo 3c1f5a9e7b2d4c80a6e4f1b2c3d4e5f6 > "$root/etc/machine-id"
echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> "$root/etc/passwd"

cat > "$root/init" <<'EOF'
#!/bin/sh
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
hostname -F /etc/hostname
# probe the PCI functions one at a time in address order, so nvme0..2 are 04.0..06.0
echo 0 > /sys/bus/pci/drivers_autoprobe
while read -r m; do insmod "$m" || echo "init: insmod $m failed"; done < /lib/modules/load-order
for d in /sys/bus/pci/devices/*; do
	echo "${d##*/}" > /sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(cat "$d/class")" = 0x010802 ] || continue
	i=0
	while ! ls "$d"/nvme/nvme*/nvme*n1/size >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
done
i=0
while ! [ -e /sys/block/sda/size ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ls /sys/block
cd /out
# the guest asks nvme2 to warn above 300 K (Temperature Threshold, composite, over)
nvme set-feature /dev/nvme2 --feature-id=4 --value=300 > set-feature.txt 2>&1
echo "rc=$?" >> set-feature.txt
dmesg > dmesg.txt
node-agent inventory > inventory-root.json 2> inventory-root.err
# unprivileged: the device nodes readable, so the ioctls themselves are refused
chmod 0666 /dev/nvme0n1 /dev/nvme1n1 /dev/nvme2n1 /dev/sda
su -s /bin/sh -c 'node-agent inventory' nobody > inventory-user.json 2> inventory-user.err
for n in 0 1 2; do
	nvme smart-log /dev/nvme$n --output-format=binary > nvme$n.bin 2> nvme$n.err
	smartctl --json -a /dev/nvme$n > smartctl-nvme$n.json 2>&1
done
smartctl --json -a /dev/sda > smartctl-sda.json 2>&1
# ATA PASS-THROUGH (16): PIO data-in of one sector, SMART READ DATA (D0h) / THRESHOLDS (D1h)
sg_raw -r 512 -o sda.data.bin -R /dev/sda 85 08 0e 00 d0 00 01 00 00 00 4f 00 c2 00 b0 00 > sg_raw-data.txt 2>&1
sg_raw -r 512 -o sda.thresholds.bin -R /dev/sda 85 08 0e 00 d1 00 01 00 00 00 4f 00 c2 00 b0 00 > sg_raw-thresholds.txt 2>&1
# non-data with CK_COND: RETURN STATUS (DAh), the registers come back in the sense data
sg_raw -vvv -R /dev/sda 85 06 20 00 da 00 00 00 00 00 4f 00 c2 00 b0 00 > sg_raw-status.txt 2>&1
(cd /out && tar cf - .) | gzip -9 > /tmp/out.tar.gz
stty -F /dev/ttyS1 raw -echo 2>/dev/null
{
	echo "=== QEMU-SMART BEGIN ==="
	echo "sha256 $(sha256sum /tmp/out.tar.gz | cut -d' ' -f1)"
	base64 /tmp/out.tar.gz
	echo "=== QEMU-SMART END ==="
} > /dev/ttyS1
sync
poweroff -f
EOF
chmod 755 "$root/init"
(cd "$root" && find . | sort | cpio --quiet -o -H newc -R 0:0) | gzip -1 > "$work/initrd.gz"

for d in nvme0 nvme1 nvme2 sata0; do truncate -s 64M "$work/$d.img"; done
rc=0
timeout "$qtimeout" qemu-system-x86_64 \
	-machine q35 -accel tcg -cpu max -smp 2 -m 1024 \
	-nographic -nodefaults -no-reboot -monitor none \
	-kernel "$kernel" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 quiet" \
	-serial "file:$work/console.log" \
	-serial "file:$work/capture.txt" \
	-nic none \
	-drive "file=$work/nvme0.img,if=none,id=nv0,format=raw" \
	-device nvme,serial=SMARTOK0001,drive=nv0,addr=04.0 \
	-drive "file=$work/nvme1.img,if=none,id=nv1,format=raw" \
	-device nvme,serial=SMARTWARN0002,drive=nv1,addr=05.0,smart_critical_warning=0x14 \
	-drive "file=$work/nvme2.img,if=none,id=nv2,format=raw" \
	-device nvme,serial=SMARTHOT0003,drive=nv2,addr=06.0 \
	-drive "file=$work/sata0.img,if=none,id=sd0,format=raw" \
	-device ahci,id=ahci,addr=07.0 \
	-device "ide-hd,bus=ahci.0,drive=sd0,model=QEMU SMART DISK,serial=QM00SMART1" \
	</dev/null || rc=$?
[ $rc -eq 0 ] || { tail -n 40 "$work/console.log" >&2; die "qemu exited with status $rc (124 = timeout)"; }

tr -d '\r' < "$work/capture.txt" > "$work/capture.clean"
grep -qx '=== QEMU-SMART END ===' "$work/capture.clean" || { tail -n 40 "$work/console.log" >&2; die "no complete answer on the second serial port"; }
want=$(sed -n 's/^sha256 //p' "$work/capture.clean")
sed -n '/^=== QEMU-SMART BEGIN ===$/,/^=== QEMU-SMART END ===$/p' "$work/capture.clean" |
	sed '1d;2d;$d' | base64 -d > "$work/out.tar.gz"
[ "$(sha256sum "$work/out.tar.gz" | cut -d' ' -f1)" = "$want" ] || die "checksum mismatch"
mkdir "$work/out"
tar -xzf "$work/out.tar.gz" -C "$work/out" --no-same-owner
rm -rf "$root" "$work"/*.img "$work/initrd.gz"

# the sense data sg_raw printed in hex, as bytes
sense_bytes() {
	sed -n '/Raw sense data (in hex)/,/^$/p' "$1" | sed '1d' |
		awk 'function hex(s) { s = tolower(s); return (index("0123456789abcdef", substr(s, 1, 1)) - 1) * 16 + index("0123456789abcdef", substr(s, 2, 1)) - 1 }
			{ for (i = 1; i <= NF; i++) printf "\\%03o", hex($i) }'
}
if [ -n "${SMART_FIXTURES:-}" ]; then
	o=$work/out
	cp "$o/nvme0.bin" "$SMART_FIXTURES/nvme-qemu.bin"
	cp "$o/nvme1.bin" "$SMART_FIXTURES/nvme-qemu-critical-warning.bin"
	cp "$o/nvme2.bin" "$SMART_FIXTURES/nvme-qemu-temperature.bin"
	cp "$o/sda.data.bin" "$SMART_FIXTURES/ata-qemu.data.bin"
	cp "$o/sda.thresholds.bin" "$SMART_FIXTURES/ata-qemu.thresholds.bin"
	# shellcheck disable=SC2059
	printf "$(sense_bytes "$o/sg_raw-status.txt")" > "$SMART_FIXTURES/ata-qemu.sense.bin"
	echo "qemu-smart: dumps written to $SMART_FIXTURES"
fi
echo "qemu-smart: results in $work/out"
