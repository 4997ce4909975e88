#!/bin/sh
# Benchmark: `node-agent inventory` against what users run instead (`lshw -json`), in the
# same run on the same machine, with two floors: `/bin/true` (what any process start costs
# here) and `node-agent --help` (the agent's own start: loading, relocation, no detection).
# For each: wall time and CPU time (user + system) per run, from tests/tools/benchrun.c,
# which runs the four in turn, round after round, and reports medians, so that load from
# elsewhere falls on all four alike; peak RSS (/usr/bin/time -v); system calls (strace -c).
# Prints the figures, the ratios to node-agent inventory, and how they compare with the
# goals of issue 2 (>= 15x faster than lshw -json, < 4 MB peak RSS, < 1000 syscalls).
#
# usage: tests/bench/inventory.sh [NODE_AGENT] [RUNS]
# BENCH_RESULT=FILE: also write, on one line, na_wall ls_wall na_kb ls_kb na_sc ls_sc
# na_cpu ls_cpu true_wall help_wall true_cpu help_cpu true_kb help_kb true_sc help_sc
# (medians, ms) and na_wall_min ls_wall_min na_cpu_min ls_cpu_min for tests/60-bench.t.
set -eu
agent=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/node-agent}
runs=${2:-30}
benchrun=${BENCHRUN:-$(dirname "$agent")/tests/benchrun}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for tool in lshw strace /usr/bin/time "$benchrun"; do
	command -v "$tool" >/dev/null || { echo "bench: $tool missing (make all test-deps)" >&2; exit 1; }
done

na="$agent inventory --quiet"
ls="lshw -json -quiet"
tr=/bin/true
hp="$agent --help"
echo "== wall and CPU time: $runs runs of each, in turn, after 3 warm-up rounds; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
"$benchrun" -r "$runs" -w 3 "$na" "$ls" "$tr" "$hp" > "$out/times"
# fields: wall_min wall_median wall_mean cpu_min cpu_median cpu_mean command
field() { sed -n "${1}p" "$out/times" | cut -d' ' -f"$2"; }

# shellcheck disable=SC2086 # the command lines are split into words on purpose
rss() { /usr/bin/time -f '%M' -o "$out/t" $1 >/dev/null 2>&1; cat "$out/t"; }
# strace's summary: "100.00 time seconds usecs/call calls errors total"
# shellcheck disable=SC2086
calls() {
	strace -f -c -o "$out/s" $1 >/dev/null 2>&1
	awk '$NF == "total" { print $4 }' "$out/s"
}
i=0
for c in "$na" "$ls" "$tr" "$hp"; do
	i=$((i + 1))
	printf '%s %s %s %s %s %s\n' "$(field $i 2)" "$(field $i 5)" "$(rss "$c")" "$(calls "$c")" \
		"$(field $i 1)" "$(field $i 4)" >> "$out/all"
done
# one line per command: wall_median cpu_median kb syscalls wall_min cpu_min
set -- $(cat "$out/all")
na_ms=$1 na_cpu=$2 na_kb=$3 na_sc=$4 na_wmin=$5 na_cmin=$6
ls_ms=$7 ls_cpu=$8 ls_kb=$9 ls_sc=${10} ls_wmin=${11} ls_cmin=${12}
tr_ms=${13} tr_cpu=${14} tr_kb=${15} tr_sc=${16}
hp_ms=${19} hp_cpu=${20} hp_kb=${21} hp_sc=${22}

[ -n "${BENCH_RESULT:-}" ] && echo "$na_ms $ls_ms $na_kb $ls_kb $na_sc $ls_sc $na_cpu $ls_cpu" \
	"$tr_ms $hp_ms $tr_cpu $hp_cpu $tr_kb $hp_kb $tr_sc $hp_sc" \
	"$na_wmin $ls_wmin $na_cmin $ls_cmin" > "$BENCH_RESULT"
awk -v na="$na_ms $na_cpu $na_kb $na_sc $na_wmin $na_cmin" -v ls="$ls_ms $ls_cpu $ls_kb $ls_sc $ls_wmin $ls_cmin" \
	-v tr="$tr_ms $tr_cpu $tr_kb $tr_sc" -v hp="$hp_ms $hp_cpu $hp_kb $hp_sc" 'BEGIN {
	split(na, a); split(ls, b); split(tr, t); split(hp, h)
	printf "\n%-26s %11s %11s %11s %11s %10s\n", "", "node-agent", "lshw -json", "/bin/true", "na --help", "lshw/na"
	printf "%-26s %11.2f %11.2f %11.2f %11.2f %9.1fx\n", "median wall time (ms)", a[1], b[1], t[1], h[1], b[1] / a[1]
	printf "%-26s %11.2f %11.2f %11s %11s %9.1fx\n", "  fastest run (ms)", a[5], b[5], "", "", b[5] / a[5]
	printf "%-26s %11.2f %11.2f %11.2f %11.2f %9.1fx\n", "median CPU time (ms)", a[2], b[2], t[2], h[2], b[2] / a[2]
	printf "%-26s %11.2f %11.2f %11s %11s %9.1fx\n", "  least CPU (ms)", a[6], b[6], "", "", b[6] / a[6]
	printf "%-26s %11.1f %11.1f %11.1f %11.1f %9.1fx\n", "peak RSS (MiB)", a[3] / 1024, b[3] / 1024, t[3] / 1024, h[3] / 1024, b[3] / a[3]
	printf "%-26s %11d %11d %11d %11d %9.1fx\n", "syscalls", a[4], b[4], t[4], h[4], b[4] / a[4]
	printf "\nnode-agent inventory beyond its floors: %.2f ms CPU over /bin/true, %.2f ms over its own --help\n",
		a[2] - t[2], a[2] - h[2]
	printf "goals: speed >= 15x (median wall %s, median CPU %s, least CPU %s), RSS < 4 MB: %s, syscalls < 1000: %s\n",
		(b[1] / a[1] >= 15 ? "met" : "NOT met"), (b[2] / a[2] >= 15 ? "met" : "NOT met"),
		(b[6] / a[6] >= 15 ? "met" : "NOT met"),
		(a[3] < 4096 ? "met" : "NOT met"), (a[4] < 1000 ? "met" : "NOT met")
}'
