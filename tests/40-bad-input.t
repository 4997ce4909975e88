#!/bin/sh
# Broken attribute files: truncated, empty, non-numeric, huge, unreadable, NUL bytes,
# missing directories, dangling symlinks. Never a crash; the field becomes null and a
# warning names the file. (make test runs this against the ASan/UBSan build.)
# Blank or placeholder DMI strings are not broken (firmware leaves them so on many
# boards): null without a warning.
. "$(dirname "$0")/lib.sh"

root=$(scratch_copy qemu-q35)
cleanup_dirs="$cleanup_dirs $(dirname "$root")"
S=$root/sys
real() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd -P)" "$(basename "$1")"); }
nvme0=$(real "$S/block/nvme0n1")
sda=$(real "$S/block/sda")
eth0=$(real "$S/class/net/eth0")
dmi=$(real "$S/class/dmi/id")

: > "$dmi/product_name"                                    # empty (blank DMI: no warning)
printf '      \n' > "$dmi/board_name"                      # only spaces (blank DMI)
printf 'To be filled by O.E.M.\n' > "$dmi/product_serial"  # placeholder
printf '2014/13/01\n' > "$dmi/bios_date"                   # not a date
rm "$dmi/sys_vendor" && mkdir "$dmi/sys_vendor"            # unreadable (EISDIR)
printf 'LENOVO\000\001garbage\n' > "$dmi/board_vendor"     # NUL bytes
printf 'abc\n' > "$nvme0/size"                             # not a number
printf '99999999999999999999999999\n' > "$sda/size"        # overflows 64 bits
head -c 10000 /dev/zero | tr '\0' '7' > "$eth0/mtu"        # larger than a sysfs page
printf -- '-5\n' > "$eth0/../eth0/carrier"                 # negative where 0/1 is expected
printf '\200' > "$sda/device/vpd_pg80"                     # truncated VPD page
pci_dev=$(real "$S/bus/pci/devices/0000:00:02.0")
printf 'DRIVER=e1000e\nPCI_CLASS=20000\nPCI_ID=80' > "$pci_dev/uevent" # truncated uevent
ln -s ../../devices/pci0000:00/0000:00:09.0/net/eth9 "$S/class/net/eth9" # dangling
printf 'BOOTIF=01-zz-54-00-12-34-01\n' > "$root/proc/cmdline"           # malformed BOOTIF
# a stepping the kernel does not know (normal), a microcode revision that is junk
sed -i 's/^stepping\t: .*/stepping\t: unknown/; s/^microcode\t: .*/microcode\t: 0xzz/' "$root/proc/cpuinfo"

out=$("$NODE_AGENT" inventory --root "$root" 2>"$root/../stderr")
ok $? "inventory exits 0 over broken files"
err=$(cat "$root/../stderr")
q() { printf '%s\n' "$out" | jq -c "$1"; }
w() { printf '%s\n' "$out" | jq -r '.warnings[]'; }

is "$(q '.system.product')" 'null' "empty product_name -> null"
is "$(q '.system.board_name')" 'null' "blank board_name -> null"
is "$(q '.system.serial')" 'null' "placeholder product_serial -> null"
is "$(w | grep -c -e product_name -e board_name -e product_serial)" 0 \
	"blank and placeholder DMI strings give no warning"
is "$(q '.system.bios_date')" 'null' "a BIOS date that is not one -> null"
like "$(w)" '^/sys/class/dmi/id/bios_date: not a date \(MM/DD/YYYY\): "2014/13/01"$' \
	"warning names bios_date and the value"
is "$(q '.system.vendor')" 'null' "unreadable sys_vendor -> null"
like "$(w)" 'dmi/id/sys_vendor: Is a directory' "warning names sys_vendor and the error"
is "$(q '.system.board_vendor')" 'null' "NUL bytes in board_vendor -> null"
like "$(w)" 'dmi/id/board_vendor: contains NUL bytes' "warning names board_vendor"
is "$(q '.disks[] | select(.name == "nvme0n1") | .size_bytes')" 'null' "non-numeric size -> null"
like "$(w)" '^/sys/block/nvme0n1/size: not a number: "abc"$' "warning names nvme0n1/size"
is "$(q '.disks[] | select(.name == "sda") | .size_bytes')" 'null' "overflowing size -> null"
like "$(w)" '^/sys/block/sda/size: not a number' "warning names sda/size"
is "$(q '.nics[] | select(.name == "eth0") | .mtu')" 'null' "huge mtu file -> null"
like "$(w)" '^/sys/class/net/eth0/mtu: larger than 4096 bytes' "warning names eth0/mtu"
is "$(q '.nics[] | select(.name == "eth0") | .carrier')" 'null' "negative carrier -> null"
like "$(w)" '^/sys/class/net/eth0/carrier: not a number' "warning names eth0/carrier"
is "$(q '.disks[] | select(.name == "sda") | .serial')" 'null' "truncated VPD page -> serial null"
like "$(w)" '^/sys/block/sda/device/vpd_pg80: truncated VPD page' "warning names vpd_pg80"
is "$(q '.pci_devices[] | select(.address == "0000:00:02.0") | [.vendor_id, .device_id, .driver]')" \
	'["8086","10d3","e1000e"]' "truncated uevent: ids from the vendor/device attribute files"
like "$(w)" '^/sys/bus/pci/devices/0000:00:02.0/uevent: bad PCI_ID "80"$' "warning names the uevent"
is "$(q '[.nics[].name]')" '["eth0","eth1"]' "dangling eth9 link is skipped"
like "$(w)" '^/sys/class/net/eth9: dangling symlink' "warning names the dangling link"
is "$(q '.boot.pxe_mac')" 'null' "malformed BOOTIF -> null"
is "$(q '[.cpu.family, .cpu.model_id, .cpu.stepping, .cpu.microcode]')" '[15,107,null,null]' \
	"stepping unknown and junk microcode -> null, family and model kept"
is "$(w | grep -c 'proc/cpuinfo: stepping')" 0 "stepping \"unknown\" is no warning"
like "$(w)" '^/proc/cpuinfo: microcode: not a hex revision: "0xzz"$' "junk microcode is a warning"
like "$err" "warning: $root/sys/class/net/eth9: dangling" "stderr repeats warnings with the root prefix"

# Missing directories and files: an empty root is a machine we know nothing about.
empty=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $empty"
out=$("$NODE_AGENT" inventory --root "$empty" --quiet)
ok $? "an empty root gives exit 0"
is "$(q '[.cpu.threads, .memory.total_bytes, .system.vendor, .gpus, .disks, .nics, .pci_devices]')" \
	'[null,null,null,[],[],[],[]]' "an empty root gives nulls and empty lists"
like "$(w)" '^/proc/cpuinfo: No such file or directory$' "missing /proc/cpuinfo is named"

# Garbage where text is expected.
mkdir -p "$empty/proc" "$empty/sys/block/sdz"
head -c 65536 /dev/urandom > "$empty/proc/cpuinfo"
head -c 4096 /dev/urandom > "$empty/proc/meminfo"
head -c 2048 /dev/urandom > "$empty/proc/cmdline"
out=$("$NODE_AGENT" inventory --root "$empty" --quiet)
ok $? "random bytes in cpuinfo, meminfo and cmdline: exit 0"
like "$(w)" '^/sys/block/sdz: not a symlink' "a block entry that is not a symlink is named"

# Nonexistent root: a usage error.
"$NODE_AGENT" inventory --root /nonexistent/na-root >/dev/null 2>&1
is "$?" 2 "nonexistent --root exits 2"
done_testing
