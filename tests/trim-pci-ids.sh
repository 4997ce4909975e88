#!/bin/sh
# Give a fixture tree its own pci.ids: the lines of the system's pci.ids (Debian 12's
# 2023-04-10 edition) for exactly the vendors and devices present in the fixture, so the
# expected names do not depend on the pci.ids of the machine running the tests.
# usage: trim-pci-ids.sh FIXTURE_DIR [SOURCE_PCI_IDS]
set -eu
fx=$1
src=${2:-/usr/share/misc/pci.ids}
ids=$(cat "$fx"/sys/bus/pci/devices/*/uevent 2>/dev/null | sed -n 's/^PCI_ID=//p' |
	tr 'A-F' 'a-f' | sort -u | tr '\n' ' ')
mkdir -p "$fx/usr/share/misc"
awk -v ids="$ids" '
BEGIN { n = split(ids, a, " "); for (i = 1; i <= n; i++) { split(a[i], p, ":"); want[p[1] ":" p[2]] = 1; wv[p[1]] = 1 } }
/^#/ { if (NR <= 12) print; next }
/^C / { exit }
/^[0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / { v = substr($0, 1, 4); if (v in wv) print; next }
/^\t[0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / { d = substr($0, 2, 4); if ((v ":" d) in want) print; next }
' "$src" > "$fx/usr/share/misc/pci.ids"
