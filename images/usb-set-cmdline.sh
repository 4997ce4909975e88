#!/bin/sh
# Append kernel command line arguments to the boot entry of a USB image made by mkusb.sh,
# without mounting anything (mtools on the ESP at its 1 MiB offset).
#   usb-set-cmdline.sh disk.raw "nodeagent.config=http://server/nodes/\${mac}.yaml"
set -eu
disk=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MTOOLS_SKIP_CHECK=1
mcopy -n -i "$disk@@1M" ::/loader/entries/node.conf "$tmp/node.conf"
sed -i "s|^options .*|& $*|" "$tmp/node.conf"
mcopy -o -n -i "$disk@@1M" "$tmp/node.conf" ::/loader/entries/node.conf
grep '^options' "$tmp/node.conf"
