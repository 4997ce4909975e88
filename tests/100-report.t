#!/bin/sh
# Fleet reports (node-agent report: node-agent/fleet/) over the fixture inventories:
# the four formats match the golden files in tests/reports/ (UPDATE_GOLDEN=1 rewrites them),
# totals agree with what jq computes from the inputs, each format escapes hostile values
# for its reader, invalid inputs exit 2 naming the file and write nothing, and the HTML
# page sorts in headless Chromium (skipped only when chromium is not installed).
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
cleanup_dirs="$cleanup_dirs $tmp"
# the inputs, in the order the report lists them: each directory's *.json in name order
inputs="tests/fixtures tests/plans/inventories"
files=$(for d in $inputs; do LC_ALL=C ls "$d"/*.json; done)
n_files=$(printf '%s\n' "$files" | wc -l)

# --- golden files ---
for fmt in markdown csv html json; do
	ext=$fmt
	[ "$fmt" = markdown ] && ext=md
	golden=tests/reports/fleet.$ext
	# shellcheck disable=SC2086
	"$NODE_AGENT" report $inputs --format "$fmt" >"$tmp/fleet.$ext" 2>"$tmp/err.$ext"
	ok $? "report --format $fmt exits 0"
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		mkdir -p tests/reports
		cp "$tmp/fleet.$ext" "$golden"
		diag "rewrote $golden"
	fi
	if cmp -s "$tmp/fleet.$ext" "$golden"; then
		ok 0 "report --format $fmt matches $golden"
	else
		ok 1 "report --format $fmt matches $golden"
		diff -u "$golden" "$tmp/fleet.$ext" | head -30 | cut -c1-200 | sed "s/^/# /"
	fi
done
like "$(cat "$tmp/err.md")" 'warning: hostname "qemu-node1" is in 9 inventories' \
	"a hostname shared by several inventories is pointed out on stderr"
# shellcheck disable=SC2086
"$NODE_AGENT" report $inputs >"$tmp/default.md" 2>/dev/null
cmp -s "$tmp/default.md" "$tmp/fleet.md"
ok $? "markdown is the default format"
# shellcheck disable=SC2086
"$NODE_AGENT" report $files --format json >"$tmp/files.json" 2>/dev/null
cmp -s "$tmp/files.json" "$tmp/fleet.json"
ok $? "a directory means its *.json files in name order (README.md beside them ignored)"
# shellcheck disable=SC2086
env -u SOURCE_DATE_EPOCH "$NODE_AGENT" report $inputs --format json >"$tmp/nodate.json" 2>/dev/null
is "$(jq -r .generated_at "$tmp/nodate.json")" null \
	"without SOURCE_DATE_EPOCH there is no date in the output"
is "$(jq -r .generated_at "$tmp/fleet.json")" 2026-01-01T00:00:00Z \
	"the date comes from SOURCE_DATE_EPOCH"

# --- totals, computed independently from the inputs ---
# shellcheck disable=SC2086
jq -s '{
	nodes: length,
	cpu_cores: (map(.cpu.cores // 0) | add),
	cpu_threads: (map(.cpu.threads // 0) | add),
	memory_bytes: (map(.memory.physical_bytes // .memory.total_bytes // 0) | add),
	storage_bytes: ([.[].disks[].size_bytes // 0] | add),
	disks: ([.[].disks | length] | add),
	gpus: ([.[].gpus | length] | add),
	gpus_by_model: ([.[].gpus[].model] | group_by(.) | map({model: .[0], count: length})
		| sort_by(-.count, .model))
}' $files >"$tmp/expected-totals.json"
is "$(jq -S -c .totals "$tmp/fleet.json" | jq -c 'del(.memory, .storage, .nodes_failing, .nodes_warning)')" \
	"$(jq -S -c . "$tmp/expected-totals.json")" "JSON totals equal jq's sums over the inputs"
is "$(jq -r .totals.nodes "$tmp/fleet.json")" "$n_files" "one node per inventory file"
# problems first (failing, warning, note), otherwise in input order
i=0
expect_order=$(for f in $files; do
	i=$((i + 1))
	rank=$(jq -r --arg f "$f" '.nodes[] | select(.file == $f) | {failing: 3, warning: 2, note: 1}[.health // ""] // 0' "$tmp/fleet.json")
	echo "$rank $i $f"
done | sort -k1,1nr -k2,2n | cut -d' ' -f3 | tr '\n' ' ' | sed 's/ $//')
is "$(jq -r '.nodes | map(.file) | join(" ")' "$tmp/fleet.json")" "$expect_order" \
	"nodes are listed problems first, otherwise in input order"
# The fixtures: 9 QEMU clones (2C/2T, 1 GiB, 64+128+96 MiB disks), a UEFI QEMU (2C/2T,
# 1 GiB, 64 MiB), a QEMU with a multipath NVMe and a USB disk (2C/2T, 1 GiB, 64+48 MiB),
# a QEMU with 17 GiB (2C/2T, 64 MiB), Firecracker (2C/2T, 24 GiB, 256 GiB), the laptop
# fixtures' ThinkPad (4C/8T, 8 GiB, 512110190592 B) and MacBook Pro (2C/4T, 8 GiB, no
# disk), Mac mini (2C/4T, 8 GiB, 251000193024 B), ThinkPad (4C/8T, 16 GiB, 256060514304 B):
# sizes by hand.
mem=$((11 * 1024 + 17 * 1024 + 24 * 1024 + 8 * 1024 + 8 * 1024 + 8 * 1024 + 16 * 1024))
sto=$((9 * 288 * 1048576 + 64 * 1048576 + 112 * 1048576 + 64 * 1048576 + 256 * 1073741824 + 512110190592 + 251000193024 + 256060514304))
is "$(jq -r '[.totals.cpu_cores, .totals.cpu_threads, .totals.memory_bytes, .totals.storage_bytes] | join(" ")' "$tmp/fleet.json")" \
	"38 50 $((mem * 1048576)) $sto" "totals by hand: 38 cores, 50 threads, 92 GiB, storage bytes"
is "$(jq -r '[.totals.memory, .totals.storage] | join(", ")' "$tmp/fleet.json")" \
	"92.0 GiB, 1.2 TiB" "human totals: 92.0 GiB memory, 1.2 TiB storage"
grep -q '^| \*\*Total: 17 nodes\*\* |  |  |  | \*\*38/50\*\* | \*\*92.0 GiB\*\* | \*\*1.2 TiB\*\* | 35 disks | 18 GPUs |  | 0 failing, 0 warning |$' "$tmp/fleet.md"
ok $? "the Markdown totals row says the same"
is "$(jq -r '.nodes[] | select(.file | endswith("thinkpad-t480.json")) | [.system.model, .memory, (.disks | map(.size + " " + .type) | join("; ")), (.nics | map(.name + " " + (.speed // "-")) | join("; "))] | join(" | ")' "$tmp/fleet.json")" \
	"LENOVO ThinkPad T480 (20L5CTO1WW) | 16.0 GiB | 238.5 GiB NVMe SSD | enp0s31f6 1 Gb/s; wlp3s0 -" \
	"ThinkPad: Lenovo model name from product_version, 238.5 GiB NVMe SSD, 1 Gb/s"
is "$(jq -r '.nodes[] | select(.file | endswith("vm-firecracker.expected.json")) | [(.disks[0] | .size + " " + .type), (.nics | length)] | join(" ")' "$tmp/fleet.json")" \
	"256.0 GiB virtual disk 1" "Firecracker: a virtio disk is a virtual disk; ifb links are not NICs"

# --- CSV: RFC 4180 ---
python3 - "$tmp/fleet.csv" "$n_files" >"$tmp/csv.out" 2>&1 <<'EOF'
import csv, sys
data = open(sys.argv[1], newline="").read()
assert data.endswith("\r\n") and "\n" not in data.replace("\r\n", ""), "CRLF line ends"
rows = list(csv.reader(data.splitlines(True)))
assert len(rows) == int(sys.argv[2]) + 1, len(rows)
assert all(len(r) == len(rows[0]) for r in rows), "ragged rows"
h = rows[0]
mac = [r for r in rows if r[h.index("node")] == "localhost"][0]
assert mac[h.index("system_product")] == "Macmini7,1", mac
assert mac[h.index("storage_bytes")] == "251000193024", mac
print("ok")
EOF
is "$(cat "$tmp/csv.out")" ok "CSV: CRLF, header plus one row per node, quoted \"Macmini7,1\""

# --- roles, hostile values ---
jq '.role = "server-init" | .hostname = "evil|<b>\"x\",y</b>*_`&" | .cpu.model = "line\nbreak"' \
	tests/plans/inventories/thinkpad-t480.json >"$tmp/evil.json"
jq '.node_role = "gpu-worker"' tests/plans/inventories/macmini-2014.json >"$tmp/role2.json"
for fmt in markdown csv html json; do
	"$NODE_AGENT" report "$tmp/evil.json" "$tmp/role2.json" --format $fmt >"$tmp/out-evil.$fmt" 2>&1
	ok $? "hostile values: report --format $fmt exits 0"
done
like "$(sed -n 's/^| \(evil.*\)/\1/p' "$tmp/out-evil.markdown")" \
	'^evil\\\|&lt;b&gt;"x",y&lt;/b&gt;\\\*\\_\\`&amp; \| server-init \| .* \| line break \|' \
	"Markdown: | * _ \` escaped, < > & as entities, a newline becomes a space, role shown"
is "$(sed '/^###/q' "$tmp/out-evil.markdown" | grep -c '^|')" 5 \
	"Markdown: the fleet table is header, rule, two nodes, totals (no row split)"
grep -q 'gpu-worker' "$tmp/out-evil.markdown"
ok $? "a top-level node_role is the role too"
python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[1][1] == "evil|<b>\"x\",y</b>*_`&", rows[1][1]
assert rows[1][2] == "server-init" and rows[1][7] == "line\nbreak", rows[1]
' "$tmp/out-evil.csv"
ok $? "CSV: quotes doubled, comma and newline inside a quoted field, values intact"
grep -q '<td>evil|&lt;b&gt;&quot;x&quot;,y&lt;/b&gt;\*_`&amp;<div class="file"' "$tmp/out-evil.html" &&
	! grep -q '<b>"x"' "$tmp/out-evil.html"
ok $? "HTML: values escaped (no markup from the inventory reaches the page)"
is "$(jq -r '.nodes[0] | [.hostname, .role, .cpu.model] | join("/")' "$tmp/out-evil.json")" \
	"$(printf 'evil|<b>"x",y</b>*_`&/server-init/line\nbreak')" "JSON: values round-trip exactly"
! grep -Eq '(src|href)=|https?://|@import|url\(' "$tmp/out-evil.html"
ok $? "HTML: self-contained (no src/href/url(), nothing fetched)"

# --- invalid inputs: exit 2, the file named, nothing written ---
printf 'not json' >"$tmp/garbage.json"
printf '{"schema": "node-agent/inventory/v1", "disks": [' >"$tmp/truncated.json"
printf '{"schema": "node-agent/plan/v1"}' >"$tmp/schema.json"
printf '{"schema": "node-agent/inventory/v1", "memory": {"total_bytes": "lots"}}' >"$tmp/types.json"
printf '{"schema": "node-agent/inventory/v1", "role": 7}' >"$tmp/role.json"
printf '{"schema": "node-agent/inventory/v1"}\000' >"$tmp/nul.json"
head -c 17000000 /dev/zero | tr '\0' ' ' >"$tmp/huge.json"
mkdir -p "$tmp/emptydir/dir.json"
echo notes >"$tmp/emptydir/notes.txt"
for case in "garbage.json:invalid JSON at byte [0-9]+: " "truncated.json:invalid JSON at byte 48: unexpected end of data" \
	"schema.json:schema: expected \"node-agent/inventory/v1\"" \
	"types.json:memory: \"total_bytes\" must be a non-negative integer" \
	"role.json:role: must be a string" "nul.json:not JSON text: NUL byte at byte 37" \
	"huge.json:larger than 16777216 bytes" "missing.json:No such file or directory" \
	"emptydir:no \\*.json inventories"; do
	f=${case%%:*}
	want=${case#*:}
	"$NODE_AGENT" report tests/plans/inventories/thinkpad-t480.json "$tmp/$f" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	is "$rc" 2 "$f: exit 2"
	like "$(cat "$tmp/err")" "^$tmp/$f: $want" "$f: the error names the file: $want"
	[ ! -s "$tmp/out" ]
	ok $? "$f: no partial report on stdout"
done
"$NODE_AGENT" report "$tmp/garbage.json" "$tmp/types.json" >/dev/null 2>"$tmp/err"
like "$(cat "$tmp/err")" "2 of 2 inventories are not usable" "every bad file is named in one run"
"$NODE_AGENT" report --format pdf tests/fixtures >/dev/null 2>&1
is $? 2 "unknown format: exit 2"
"$NODE_AGENT" report >/dev/null 2>&1
is $? 2 "no files: exit 2"

# --- health (issue 16): a column in every format, problems first, counted in the totals ---
h=tests/plans/inventories/health
for fmt in markdown csv html json; do
	"$NODE_AGENT" report "$h" --format "$fmt" >"$tmp/health.$fmt" 2>/dev/null
	ok $? "health: report --format $fmt exits 0"
done
is "$(jq -c '[.nodes[] | [.hostname, .health, (.problems | length)]]' "$tmp/health.json")" \
	'[["thinkpad-worn","failing",3],["thinkpad-good","ok",0]]' \
	"health: the failing node first although its file comes second; its three problems, the healthy node ok"
is "$(jq -r '.nodes[0].problems[0]' "$tmp/health.json")" \
	'failing: disk nvme0n1 (SAMSUNG MZVLB256HAHQ-000L7): critical warning spare, reliability; 103% of rated endurance used; spare 2% below its threshold 10%; 17 media errors' \
	"health: the worst problem first, saying why"
is "$(jq -c '[.totals.nodes_failing, .totals.nodes_warning]' "$tmp/health.json")" '[1,0]' "health: JSON totals count failing and warning nodes"
like "$(cat "$tmp/health.markdown")" '^\| thinkpad-worn \|.*\| failing: disk nvme0n1 .*<br>warning: disk sda \(Samsung SSD 860 EVO 500GB\): 8 reallocated sectors<br>warning: memory: 3 corrected errors since boot \|$' \
	"health: Markdown column lists the problems worst first"
like "$(cat "$tmp/health.markdown")" '\| 1 failing, 0 warning \|$' "health: Markdown totals"
is "$(head -n 2 "$tmp/health.csv" | tr -d '\r' | awk -F, 'NR == 1 { print $(NF-1) "," $NF }')" "health,problems" \
	"health: CSV has health and problems columns"
like "$(sed -n 2p "$tmp/health.csv")" ',failing,"failing: disk nvme0n1 .*; warning: memory: 3 corrected errors since boot"' \
	"health: CSV row of the failing node"
like "$(cat "$tmp/health.html")" '<td data-sort="3" class="health failing"><ul><li>failing: disk nvme0n1' \
	"health: HTML cell sorts by severity and lists the problems"
like "$(cat "$tmp/health.html")" '<td>1 failing, 0 warning</td></tr></tfoot>' "health: HTML totals"


# --- HTML in headless Chromium: sorting by clicking a header (#sort= runs the same code),
# a screenshot kept in build/test-artifacts/report.png ---
chromium=$(command -v chromium || command -v chromium-browser)
if [ -z "$chromium" ]; then
	for t in "sorted by memory" "sorted by storage, descending" "screenshot"; do
		skip "HTML in Chromium: $t" "chromium is not installed"
	done
	done_testing
	exit
fi
cp "$tmp/fleet.html" "$tmp/report.html"
# no network at all when we can have a namespace of our own; file:// URLs only either way
netns=""
unshare -n true 2>/dev/null && netns="unshare -n"
chrome() {
	HOME=$tmp/home timeout 60 $netns "$chromium" --headless --no-sandbox --disable-gpu \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --disable-default-apps --disable-breakpad --no-pings \
		--user-data-dir="$tmp/profile" "$@" 2>>"$tmp/chromium.log"
}
rows() { # the dumped DOM's table rows as "memory storage file"
	python3 -c '
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    body = False; row = None; rows = []
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == "tbody" and not self.rows and self.row is None: self.body = True
        elif tag == "tr" and self.body: self.row = []
        elif tag == "td" and self.row is not None: self.row.append(a.get("data-sort"))
        elif tag == "div" and self.row is not None and a.get("class") == "file": self.row.append(a["title"])
    def handle_endtag(self, tag):
        if tag == "tr" and self.row is not None: self.rows.append(self.row); self.row = None
        if tag == "tbody": self.body = False
p = P(); p.feed(sys.stdin.read())
for r in p.rows: print(r[7], r[8], r[1])
'
}
start=$(date +%s)
chrome --dump-dom "file://$tmp/report.html#sort=memory" >"$tmp/dom1.html"
rows <"$tmp/dom1.html" >"$tmp/rows1"
# in the page's own order (problems first), which a stable sort keeps among equals
for f in $(jq -r '.nodes[].file' "$tmp/fleet.json"); do
	echo "$(jq '.memory.physical_bytes // .memory.total_bytes' "$f") $(jq '[.disks[].size_bytes] | add // 0' "$f") $f"
done >"$tmp/inputs"
sort -s -n -k1,1 "$tmp/inputs" >"$tmp/expect1"
is "$(wc -l <"$tmp/rows1")" "$n_files" "Chromium: the page has one row per node"
if cmp -s "$tmp/rows1" "$tmp/expect1"; then ok 0 "Chromium: #sort=memory orders rows by memory (stable)"; else
	ok 1 "Chromium: #sort=memory orders rows by memory (stable)"
	diff "$tmp/expect1" "$tmp/rows1" | head -20 | sed 's/^/# /'
fi
grep -q 'data-key="memory"[^>]*aria-sort="ascending"' "$tmp/dom1.html"
ok $? "Chromium: the memory header is marked ascending"
chrome --dump-dom "file://$tmp/report.html#sort=-storage" >"$tmp/dom2.html"
rows <"$tmp/dom2.html" >"$tmp/rows2"
sort -s -n -r -k2,2 "$tmp/inputs" >"$tmp/expect2"
if cmp -s "$tmp/rows2" "$tmp/expect2"; then ok 0 "Chromium: #sort=-storage orders rows by storage, descending"; else
	ok 1 "Chromium: #sort=-storage orders rows by storage, descending"
	diff "$tmp/expect2" "$tmp/rows2" | head -20 | sed 's/^/# /'
fi
mkdir -p build/test-artifacts
rm -f build/test-artifacts/report.png
chrome --screenshot="$PWD/build/test-artifacts/report.png" --window-size=1280,800 \
	"file://$tmp/report.html#sort=-memory" >/dev/null
python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR", "not a PNG"
w, h = struct.unpack(">II", d[16:24])
assert (w, h) == (1280, 800), (w, h)
assert len(d) > 20000, len(d)
' build/test-artifacts/report.png
ok $? "Chromium: a 1280x800 PNG screenshot in build/test-artifacts/report.png"
diag "three Chromium runs took $(($(date +%s) - start))s${netns:+ (in a network namespace of their own)}"
done_testing
