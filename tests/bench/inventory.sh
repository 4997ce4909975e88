#!/bin/sh
# Benchmark: `node-agent inventory` against what users run instead (`lshw -json`), in the
# same run on the same machine: wall time (hyperfine), peak RSS (/usr/bin/time -v) and
# system calls (strace -c). Prints the figures and the ratios, and how they compare with
# the goals of issue 2 (>= 15x faster than lshw -json, < 4 MB peak RSS, < 1000 syscalls).
#
# usage: tests/bench/inventory.sh [NODE_AGENT] [RUNS]
set -eu
agent=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build/node-agent}
runs=${2:-30}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for tool in hyperfine lshw strace /usr/bin/time jq; do
	command -v "$tool" >/dev/null || { echo "bench: $tool missing (make test-deps)" >&2; exit 1; }
done

na="$agent inventory --quiet"
ls="lshw -json -quiet"
echo "== wall time ($runs runs each, 3 warm-up)"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$out/h.json" \
	-n node-agent "$na" -n "lshw -json" "$ls" >"$out/h.txt" 2>&1 || { cat "$out/h.txt"; exit 1; }
grep -E 'Time|±|Range' "$out/h.txt" | sed 's/^/  /'
na_ms=$(jq '.results[0].mean * 1000' "$out/h.json")
ls_ms=$(jq '.results[1].mean * 1000' "$out/h.json")
# CPU time (user + system) is what the program costs; wall time also counts waiting for a
# busy CPU, so on a loaded 2-core machine it is the noisier of the two
na_cpu=$(jq '(.results[0].user + .results[0].system) * 1000' "$out/h.json")
ls_cpu=$(jq '(.results[1].user + .results[1].system) * 1000' "$out/h.json")

# shellcheck disable=SC2086 # the command lines are split into words on purpose
rss() { /usr/bin/time -f '%M' -o "$out/t" $1 >/dev/null 2>&1; cat "$out/t"; }
na_kb=$(rss "$na")
ls_kb=$(rss "$ls")

# strace's summary: "100.00 time seconds usecs/call calls errors total"
calls() {
	strace -f -c -o "$out/s" $1 >/dev/null 2>&1
	awk '$NF == "total" { print $4 }' "$out/s"
}
na_sc=$(calls "$na")
ls_sc=$(calls "$ls")

[ -n "${BENCH_RESULT:-}" ] && printf '%s %s %s %s %s %s %s %s\n' "$na_ms" "$ls_ms" "$na_kb" "$ls_kb" \
	"$na_sc" "$ls_sc" "$na_cpu" "$ls_cpu" > "$BENCH_RESULT"
awk -v c="$na_cpu" -v d="$ls_cpu" -v a="$na_ms" -v b="$ls_ms" -v ar="$na_kb" -v br="$ls_kb" -v as="$na_sc" -v bs="$ls_sc" 'BEGIN {
	printf "\n%-22s %12s %12s %10s\n", "", "node-agent", "lshw -json", "ratio"
	printf "%-22s %12.2f %12.2f %9.1fx\n", "mean wall time (ms)", a, b, b / a
	printf "%-22s %12.2f %12.2f %9.1fx\n", "mean CPU time (ms)", c, d, d / c
	printf "%-22s %12.1f %12.1f %9.1fx\n", "peak RSS (MiB)", ar / 1024, br / 1024, br / ar
	printf "%-22s %12d %12d %9.1fx\n", "syscalls", as, bs, bs / as
	printf "\ngoals: speed >= 15x (wall %s, CPU %s), RSS < 4 MB: %s, syscalls < 1000: %s\n",
		(b / a >= 15 ? "met" : "NOT met"), (d / c >= 15 ? "met" : "NOT met"), (ar < 4000 ? "met" : "NOT met"), (as < 1000 ? "met" : "NOT met")
}'
