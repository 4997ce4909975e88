#!/bin/sh
# Boot the host's Debian kernel in QEMU (q35, TCG; no KVM needed) with a minimal busybox
# initramfs and a fixed device mix (SMBIOS identity, 2 NVMe, 1 SATA disk behind AHCI,
# e1000e + virtio-net NICs, std VGA), run tests/capture-sysfs.sh inside the guest and
# write the captured tree to tests/fixtures/qemu-q35/ (replacing the old one).
#
# The guest has no network access (user-mode netdevs with restrict=on, nothing else).
# The capture comes back as a base64 gzip'd tar on the guest's second serial port
# (ttyS1), between begin/end markers, together with its sha256.
#
# With UEFI=1 the same kernel and initramfs are booted through OVMF firmware instead
# (pflash code + a writable copy of the vars store; -kernel/-initrd are handed over by
# fw_cfg and the kernel starts through its EFI stub, so the guest has /sys/firmware/efi),
# with a different identity and a smaller device mix: HP SMBIOS identity, 1 NVMe, no SATA
# disk, one e1000e NIC, std VGA; the tree goes to tests/fixtures/qemu-q35-uefi/.
#
# With MACHINE=usb-nvme-subsys (BIOS boot, like the default) the disks are the kinds that
# real nodes have and the default mix lacks: a USB SSD (usb-storage with a serial, on a
# qemu-xhci controller) and a dual-controller NVMe drive (an nvme-subsys with two nvme
# controllers sharing one namespace, so the kernel's native multipath shows the namespace
# as the subsystem head nvme0n1 plus one hidden path node per controller); Dell SMBIOS
# identity, one e1000e NIC, std VGA; the tree goes to tests/fixtures/qemu-q35-usb-nvme-subsys/.
#
# With MACHINE=health (BIOS boot) the guest shows what issue 16 reads from files: SMBIOS
# memory devices (QEMU's type 16 and 17 structures, one 16 GiB DIMM per 16 GiB of RAM, the
# strings given with -smbios type=17) and PCIe links: a pcie-root-port narrowed to
# 8 GT/s x4 (x-speed, x-width) with an NVMe controller behind it, a second root port
# (16 GT/s x16) with a virtio-gpu, beside the root-complex integrated devices of bus 0;
# 17 GiB of RAM (two DIMMs), one e1000e NIC, no VGA; the tree goes to
# tests/fixtures/qemu-q35-health/.
#
# usage: tests/qemu-capture.sh            (run as any user that can read /boot/vmlinuz-*)
# env:   KVER=<version>  kernel/modules to use (default: newest in /lib/modules)
#        QEMU_TIMEOUT=<s> bound for the whole guest run (default 300)
#        KEEP_WORK=1      keep the temporary work directory (initramfs, console log)
#        UEFI=1           boot through OVMF, write tests/fixtures/qemu-q35-uefi/
#        MACHINE=q35|usb-nvme-subsys|health  device mix (default q35; the others write
#                         tests/fixtures/qemu-q35-<MACHINE>/, not with UEFI=1)
#        OVMF_CODE=<file> OVMF_VARS=<file>  firmware images for UEFI=1 (default:
#                         /usr/share/OVMF/OVMF_CODE.fd and OVMF_VARS.fd, package ovmf)
# needs: qemu-system-x86, busybox-static, linux-image-amd64, kmod (modprobe, depmod), cpio, gzip
#        (UEFI=1: ovmf); all of them: sh tests/install-deps.sh capture

set -eu
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")" && pwd)
uefi=${UEFI:-0}
case $uefi in 0|1) ;; *) echo "qemu-capture: UEFI must be 0 or 1" >&2; exit 1;; esac
machine=${MACHINE:-q35}
case $machine in q35|usb-nvme-subsys|health) ;; *) echo "qemu-capture: MACHINE must be q35, usb-nvme-subsys or health" >&2; exit 1;; esac
[ "$uefi" = 0 ] || [ "$machine" = q35 ] || { echo "qemu-capture: UEFI=1 only with MACHINE=q35" >&2; exit 1; }
if [ "$uefi" = 1 ]; then
	out=$here/fixtures/qemu-q35-uefi
elif [ "$machine" != q35 ]; then
	out=$here/fixtures/qemu-q35-$machine
else
	out=$here/fixtures/qemu-q35
fi
capture=$here/capture-sysfs.sh
kver=${KVER:-$(ls /lib/modules | sort -V | tail -n 1)}
kernel=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
qtimeout=${QEMU_TIMEOUT:-300}
busybox=$(command -v busybox || true)

start=$(date +%s)
die() { echo "qemu-capture: $*" >&2; exit 1; }

[ -r "$kernel" ] || die "no readable kernel $kernel"
[ -d "$moddir" ] || die "no module directory $moddir"
[ -r "$capture" ] || die "missing $capture"
[ -n "$busybox" ] || die "busybox not found (apt-get install busybox-static)"
file_out=$(file -L "$busybox" 2>/dev/null || true)
case $file_out in *"statically linked"*|"") ;; *) die "$busybox is not static (install busybox-static)";; esac
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"
if [ "$uefi" = 1 ]; then
	ovmf_code=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE.fd}
	ovmf_vars=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS.fd}
	[ -r "$ovmf_code" ] || die "no readable OVMF firmware $ovmf_code (apt-get install ovmf)"
	[ -r "$ovmf_vars" ] || die "no readable OVMF vars template $ovmf_vars (apt-get install ovmf)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/qemu-capture.XXXXXX")
if [ "${KEEP_WORK:-0}" = 1 ]; then
	trap 'echo "qemu-capture: work dir kept: $work" >&2' EXIT
else
	trap 'rm -rf "$work"' EXIT
fi
root=$work/root

# ---------------------------------------------------------------- initramfs
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" \
	"$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/lib/modules/$kver"
cp "$busybox" "$root/bin/busybox"
"$busybox" --list-full | while read -r a; do
	[ "$a" = bin/busybox ] && continue
	mkdir -p "$root/$(dirname "$a")"
	ln -sf /bin/busybox "$root/$a"
done

# Modules for the device mix, with their dependencies (and softdeps), in load order.
# crct10dif_generic / crc64_rocksoft_generic: the crypto backends crc-t10dif and
# crc64-rocksoft ask for (they are only found through request_module otherwise).
mods="crct10dif_generic crc64_rocksoft_generic nvme ahci sd_mod e1000e virtio_pci virtio_net"
if [ "$machine" = usb-nvme-subsys ]; then
	mods="$mods xhci_pci usb_storage"
fi
# efivarfs (a module in Debian's kernel): the UEFI variables, SecureBoot among them
[ "$uefi" = 1 ] && mods="$mods efivarfs"
: > "$work/modlist"
for m in $mods; do
	modprobe -S "$kver" --show-depends "$m" || die "module $m not found for $kver"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' > "$work/modlist"
: > "$root/lib/modules/capture-load-order"
while read -r path; do
	rel=${path#"$moddir"/}
	case $rel in
	*.ko.xz)  dst=${rel%.xz};  mkdir -p "$root/$moddir/$(dirname "$rel")"; xz -dc "$path" > "$root/$moddir/$dst" ;;
	*.ko.zst) dst=${rel%.zst}; mkdir -p "$root/$moddir/$(dirname "$rel")"; zstd -qdc "$path" > "$root/$moddir/$dst" ;;
	*.ko.gz)  dst=${rel%.gz};  mkdir -p "$root/$moddir/$(dirname "$rel")"; gzip -dc "$path" > "$root/$moddir/$dst" ;;
	*.ko)     dst=$rel;        mkdir -p "$root/$moddir/$(dirname "$rel")"; cp "$path" "$root/$moddir/$dst" ;;
	*) die "unexpected module file $path" ;;
	esac
	echo "$moddir/$dst" >> "$root/lib/modules/capture-load-order"
done < "$work/modlist"
# modules.dep/alias for the copied set, so the kernel's request_module (busybox modprobe) works.
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$moddir/$f" ] && cp "$moddir/$f" "$root/$moddir/"
done
depmod -b "$root" "$kver"

# Identity, and what the init waits for (block devices; whether sda is the SATA disk
# whose VPD pages must be there; number of NICs bound to a driver).
if [ "$uefi" = 1 ]; then
	echo qemu-uefi-node > "$root/etc/hostname"
	echo 9e4c7a1f2b8d4e63a0f5c2d7b1e8a346 > "$root/etc/machine-id"
	printf '%s\n' 'want_blocks="nvme0n1"' 'want_sata=0' 'want_nics=1' > "$root/etc/capture-want"
elif [ "$machine" = health ]; then
	echo qemu-health-node > "$root/etc/hostname"
	echo 3f9a1c7e5b2d4806a1e3c5f7092b4d6e > "$root/etc/machine-id"
	printf '%s\n' 'want_blocks="nvme0n1"' 'want_sata=0' 'want_nics=1' > "$root/etc/capture-want"
elif [ "$machine" = usb-nvme-subsys ]; then
	# nvme0n1: the subsystem head; nvme0c0n1/nvme0c1n1: its paths; sda: the USB disk
	echo qemu-usb-node > "$root/etc/hostname"
	echo 0b8e5c7d2a194f36b1d0e4a7c9f3265e > "$root/etc/machine-id"
	printf '%s\n' 'want_blocks="nvme0n1 nvme0c0n1 nvme0c1n1 sda"' 'want_sata=0' 'want_nics=1' \
		> "$root/etc/capture-want"
else
	echo qemu-node1 > "$root/etc/hostname"
	echo 5d2f8a0c3b7e4916a4c1e8f2d0b6a973 > "$root/etc/machine-id"
	printf '%s\n' 'want_blocks="nvme0n1 nvme1n1 sda"' 'want_sata=1' 'want_nics=2' > "$root/etc/capture-want"
fi
cp "$capture" "$root/capture-sysfs.sh"

cat > "$root/init" <<'EOF'
#!/bin/sh
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# as systemd mounts them: the kernel's lockdown mode, the UEFI variables
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
[ -d /sys/firmware/efi/efivars ] && mount -t efivarfs efivarfs /sys/firmware/efi/efivars 2>/dev/null
hostname -F /etc/hostname
# Load the drivers with PCI autoprobe off, then probe the PCI functions one at a time in
# address order (a drivers_probe write probes synchronously, even for drivers that prefer
# async probing like nvme), waiting for each NVMe controller's namespace before the next:
# controller/namespace names, block minors and DISKSEQ then come out the same every boot.
echo "init: loading modules"
echo 0 > /sys/bus/pci/drivers_autoprobe
while read -r m; do insmod "$m" || echo "init: insmod $m failed"; done < /lib/modules/capture-load-order
have() { for f in "$@"; do [ -e "$f" ] && return 0; done; return 1; }
for d in /sys/bus/pci/devices/*; do
	echo "${d##*/}" > /sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(cat "$d/class")" = 0x010802 ] || continue
	i=0
	while ! have "$d"/nvme/nvme*/nvme*n1/size && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
done
echo 1 > /sys/bus/pci/drivers_autoprobe

# wait (bounded, 10 s) until the NVMe namespaces, the SATA disk with its VPD (if any) and
# the NICs listed in /etc/capture-want are there
. /etc/capture-want
ready() {
	for b in $want_blocks; do [ -e /sys/block/$b/size ] || return 1; done
	if [ "$want_sata" = 1 ]; then
		[ -e /sys/block/sda/device/vpd_pg80 ] || return 1
		[ -e /sys/block/sda/device/wwid ] || return 1
	fi
	n=0
	for d in /sys/class/net/*/device/driver; do [ -e "$d" ] && n=$((n + 1)); done
	[ "$n" -ge "$want_nics" ]
}
i=0
while ! ready && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ready || echo "init: WARNING: not all devices appeared"

# bring up the e1000e NIC only (link up, carrier on), leave the virtio one down
for n in /sys/class/net/*; do
	drv=$(readlink "$n/device/driver" 2>/dev/null) || continue
	[ "${drv##*/}" = e1000e ] || continue
	ip link set "${n##*/}" up
	i=0
	while [ "$(cat "$n/carrier" 2>/dev/null)" != 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	# operstate follows carrier through the linkwatch work
	i=0
	while [ "$(cat "$n/operstate")" != up ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
done

echo "init: devices:"
ls /sys/block /sys/class/net
echo "init: capturing"
sh /capture-sysfs.sh /out
(cd /out && tar cf - .) | gzip -9 > /tmp/capture.tar.gz
stty -F /dev/ttyS1 raw -echo 2>/dev/null
{
	echo "=== QEMU-CAPTURE BEGIN ==="
	echo "sha256 $(sha256sum /tmp/capture.tar.gz | cut -d' ' -f1)"
	base64 /tmp/capture.tar.gz
	echo "=== QEMU-CAPTURE END ==="
} > /dev/ttyS1
echo "init: capture sent"
sync
poweroff -f
EOF
chmod 755 "$root/init" "$root/capture-sysfs.sh"

(cd "$root" && find . | sort | cpio --quiet -o -H newc -R 0:0) | gzip -9 > "$work/initrd.gz"

# ---------------------------------------------------------------- disks
truncate -s 64M "$work/nvme0.img"
if [ "$machine" = usb-nvme-subsys ]; then
	truncate -s 48M "$work/usb0.img"
elif [ "$uefi" = 0 ] && [ "$machine" = q35 ]; then
	truncate -s 128M "$work/nvme1.img"
	truncate -s 96M "$work/sata0.img"
fi

# ---------------------------------------------------------------- run
rc=0
if [ "$uefi" = 1 ]; then
	# OVMF: read-only code, a private writable copy of the variable store
	cp "$ovmf_vars" "$work/OVMF_VARS.fd"
	chmod u+w "$work/OVMF_VARS.fd"
	echo "qemu-capture: booting $kernel through OVMF (UEFI, TCG) ..."
	timeout "$qtimeout" qemu-system-x86_64 \
		-machine q35 -accel tcg -cpu max -smp 2 -m 1024 \
		-nographic -nodefaults -no-reboot -monitor none \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf_code" \
		-drive "if=pflash,format=raw,unit=1,file=$work/OVMF_VARS.fd" \
		-kernel "$kernel" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 BOOTIF=01-52-54-00-aa-00-01 quiet" \
		-serial "file:$work/console.log" \
		-serial "file:$work/capture.txt" \
		-smbios "type=1,manufacturer=HP,product=HP EliteDesk 800 G2 DM 65W,serial=CZC7281ABC,uuid=5b0e3a2c-8d71-4f6e-9a4b-2c1d0e9f8a7b,family=103C_53307F HP EliteDesk" \
		-smbios "type=2,manufacturer=HP,serial=PGABC0012X" \
		-smbios "type=3,manufacturer=HP,serial=CZC7281ABC" \
		-device VGA,addr=01.0 \
		-nic none \
		-netdev user,id=n0,restrict=on \
		-device e1000e,netdev=n0,mac=52:54:00:aa:00:01,addr=02.0,romfile= \
		-drive "file=$work/nvme0.img,if=none,id=nv0,format=raw" \
		-device nvme,serial=NVME-UEFI-0001,drive=nv0,addr=04.0 \
		</dev/null || rc=$?
elif [ "$machine" = usb-nvme-subsys ]; then
	# Both controllers of the subsystem must exist before the shared namespace, which
	# QEMU attaches to every controller of the subsystem when it is created. The namespace
	# UUID is fixed rather than random (the kernel ignores the namespace IDs of QEMU's
	# controller, NVME_QUIRK_BOGUS_NID, so the wwid is the nvme.<vid>-<serial>-... form).
	echo "qemu-capture: booting $kernel (TCG, USB disk + NVMe subsystem) ..."
	timeout "$qtimeout" qemu-system-x86_64 \
		-machine q35 -accel tcg -cpu max -smp 2 -m 1024 \
		-nographic -nodefaults -no-reboot -monitor none \
		-kernel "$kernel" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 BOOTIF=01-52-54-00-5e-00-01 quiet" \
		-serial "file:$work/console.log" \
		-serial "file:$work/capture.txt" \
		-smbios "type=1,manufacturer=Dell Inc.,product=OptiPlex 7070,serial=7XK2QF3,uuid=4c4c4544-0058-4b10-8032-b7c04f514633,sku=085A,family=OptiPlex" \
		-smbios "type=2,manufacturer=Dell Inc.,product=0YNVJG,serial=/7XK2QF3/CNFCW0097J00LA/" \
		-smbios "type=3,manufacturer=Dell Inc.,serial=7XK2QF3" \
		-device VGA,addr=01.0 \
		-nic none \
		-netdev user,id=n0,restrict=on \
		-device e1000e,netdev=n0,mac=52:54:00:5e:00:01,addr=02.0,romfile= \
		-device nvme-subsys,id=subsys0,nqn=nqn.2014-08.org.example:dualport-ssd-0001 \
		-device nvme,id=nvmec0,serial=DPSSD0001SN,subsys=subsys0,addr=04.0 \
		-device nvme,id=nvmec1,serial=DPSSD0001SN,subsys=subsys0,addr=05.0 \
		-drive "file=$work/nvme0.img,if=none,id=nv0,format=raw" \
		-device nvme-ns,drive=nv0,bus=nvmec0,nsid=1,shared=on,uuid=5b8a3c1e-2f47-4d69-9e0b-7c1d2a3f4e50 \
		-device qemu-xhci,id=xhci,addr=07.0 \
		-drive "file=$work/usb0.img,if=none,id=usb0,format=raw" \
		-device usb-storage,bus=xhci.0,port=1,drive=usb0,serial=S5SXNG0R300117Z \
		</dev/null || rc=$?
elif [ "$machine" = health ]; then
	echo "qemu-capture: booting $kernel (TCG, SMBIOS memory devices, narrowed PCIe links) ..."
	timeout "$qtimeout" qemu-system-x86_64 \
		-machine q35 -accel tcg -cpu max -smp 2 -m 17G \
		-nographic -nodefaults -no-reboot -monitor none \
		-kernel "$kernel" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 BOOTIF=01-52-54-00-1b-00-01 quiet" \
		-serial "file:$work/console.log" \
		-serial "file:$work/capture.txt" \
		-smbios "type=1,manufacturer=LENOVO,product=ThinkStation P330,version=ThinkStation P330,serial=S1HEALTH,uuid=6a1f3e2c-9b7d-4e58-a0c4-1d2e3f4a5b6c,family=ThinkStation" \
		-smbios "type=17,loc_pfx=DIMM,bank=BANK 0,manufacturer=Samsung,serial=5B2A7C91,part=M378A2K43CB1-CTD,speed=2666" \
		-nic none \
		-netdev user,id=n0,restrict=on \
		-device e1000e,netdev=n0,mac=52:54:00:1b:00:01,addr=02.0,romfile= \
		-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1,slot=0,addr=1c.0,x-speed=8,x-width=4 \
		-drive "file=$work/nvme0.img,if=none,id=nv0,format=raw" \
		-device nvme,serial=NVME-HEALTH-01,drive=nv0,bus=rp0 \
		-device pcie-root-port,id=rp1,bus=pcie.0,chassis=2,slot=1,addr=1d.0,x-speed=16,x-width=16 \
		-device virtio-gpu-pci,bus=rp1 \
		</dev/null || rc=$?
else
	echo "qemu-capture: booting $kernel (TCG) ..."
	timeout "$qtimeout" qemu-system-x86_64 \
		-machine q35 -accel tcg -cpu max -smp 2 -m 1024 \
		-nographic -nodefaults -no-reboot -monitor none \
		-kernel "$kernel" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 BOOTIF=01-52-54-00-12-34-01 quiet" \
		-serial "file:$work/console.log" \
		-serial "file:$work/capture.txt" \
		-smbios "type=1,manufacturer=LENOVO,product=ThinkCentre M720q,version=M720q,serial=PC1ABCDE,uuid=4c4c4544-0042-3510-8052-b4c04f4a3232,sku=LENOVO_MT_10T7,family=ThinkCentre" \
		-smbios "type=2,manufacturer=LENOVO,product=3136,version=SDK0J40697 WIN,serial=L1HF91A00XY" \
		-smbios "type=3,manufacturer=LENOVO,serial=PC1ABCDE" \
		-device VGA,addr=01.0 \
		-nic none \
		-netdev user,id=n0,restrict=on \
		-device e1000e,netdev=n0,mac=52:54:00:12:34:01,addr=02.0,romfile= \
		-netdev user,id=n1,restrict=on \
		-device virtio-net-pci,netdev=n1,mac=52:54:00:12:34:02,addr=03.0,romfile= \
		-drive "file=$work/nvme0.img,if=none,id=nv0,format=raw" \
		-device nvme,serial=NVME0001SN,drive=nv0,addr=04.0 \
		-drive "file=$work/nvme1.img,if=none,id=nv1,format=raw" \
		-device nvme,serial=NVME0002SN,drive=nv1,addr=05.0 \
		-drive "file=$work/sata0.img,if=none,id=sd0,format=raw" \
		-device ahci,id=ahci,addr=06.0 \
		-device "ide-hd,bus=ahci.0,drive=sd0,model=WDC WD10EZEX-08WN4A0,serial=WD-WCC6Y0ABCDEF,wwn=0x50014ee2b1234567" \
		</dev/null || rc=$?
fi

if [ $rc -ne 0 ]; then
	echo "qemu-capture: qemu exited with status $rc (124 = timeout); console:" >&2
	tail -n 60 "$work/console.log" >&2 || true
	exit 1
fi

# ---------------------------------------------------------------- decode
# (OVMF's terminal driver writes screen-clearing escape sequences to every serial port
# before the kernel starts, so with UEFI=1 the begin marker does not start its line.)
tr -d '\r' < "$work/capture.txt" |
	sed 's/^.*\(=== QEMU-CAPTURE BEGIN ===\)$/\1/' > "$work/capture.clean"
if ! grep -qx '=== QEMU-CAPTURE END ===' "$work/capture.clean"; then
	echo "qemu-capture: no complete capture on the second serial port; console:" >&2
	tail -n 60 "$work/console.log" >&2 || true
	exit 1
fi
want=$(sed -n '/^=== QEMU-CAPTURE BEGIN ===$/,/^=== QEMU-CAPTURE END ===$/{s/^sha256 //p}' "$work/capture.clean")
sed -n '/^=== QEMU-CAPTURE BEGIN ===$/,/^=== QEMU-CAPTURE END ===$/p' "$work/capture.clean" |
	sed '1d;2d;$d' | base64 -d > "$work/capture.tar.gz"
got=$(sha256sum "$work/capture.tar.gz" | cut -d' ' -f1)
[ "$want" = "$got" ] || die "capture checksum mismatch (guest $want, host $got)"

mkdir "$work/new"
tar -xzf "$work/capture.tar.gz" -C "$work/new" --no-same-owner --no-same-permissions
for d in sys proc etc; do [ -d "$work/new/$d" ] || die "capture has no $d/"; done

rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$work/new" "$out"
chmod 755 "$out"
# the fixture carries the pci.ids lines it needs, so results do not depend on the host's
sh "$here/trim-pci-ids.sh" "$out"

end=$(date +%s)
echo "qemu-capture: wrote $out ($(find "$out" | wc -l) entries) in $((end - start)) s"
