#!/bin/sh
# The inventory benchmark (tests/bench/inventory.sh) against lshw -json, with its goals as
# assertions: at least 15x faster, peak RSS under 4 MB, under 1000 system calls.
# Runs the optimised build (BENCH_AGENT), not the sanitizer build.
. "$(dirname "$0")/lib.sh"

agent=${BENCH_AGENT:-$NODE_AGENT}
for tool in lshw strace; do
	if ! command -v $tool >/dev/null; then
		skip "benchmark" "$tool not installed"
		done_testing
		exit 0
	fi
done
if [ ! -x "$(dirname "$agent")/tests/benchrun" ]; then
	skip "benchmark" "$(dirname "$agent")/tests/benchrun not built"
	done_testing
	exit 0
fi
res=$(mktemp)
cleanup_dirs="$cleanup_dirs $res"
bench() {
	BENCH_RESULT=$res sh "$TESTS_DIR/bench/inventory.sh" "$agent" 30 | sed 's/^/# /'
	# shellcheck disable=SC2034 # the floors and medians are printed, not asserted
	read -r na_ms ls_ms na_kb ls_kb na_sc ls_sc na_cpu ls_cpu tr_ms hp_ms tr_cpu hp_cpu \
		tr_kb hp_kb tr_sc hp_sc na_wmin ls_wmin na_cmin ls_cmin < "$res"
}
# Asserted on CPU time (user + system), and on the run that cost each program least, of 30
# runs of each taken in turn: what a program costs only grows with load from elsewhere
# (waiting for a CPU, caches shared with other jobs), so the least is the figure a busy
# 2-core CI machine moves least; wall time also measures the other jobs. The medians are
# printed above. When the goal is missed on a machine busier than it has CPUs, the
# benchmark is run once more and the better of the two counts.
fast() { awk -v a="$na_cmin" -v b="$ls_cmin" 'BEGIN { exit !(b / a >= 15) }'; }
bench
if ! fast && awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v n="$(nproc)" 'BEGIN { exit !(l >= n) }'; then
	diag "goal missed with load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) CPUs: once more"
	first="$na_cmin $ls_cmin"
	bench
	# shellcheck disable=SC2086
	set -- $first
	awk -v a="$na_cmin" -v b="$ls_cmin" -v c="$1" -v d="$2" 'BEGIN { exit !(d / c > b / a) }' &&
		na_cmin=$1 ls_cmin=$2
fi
fast
ok $? "node-agent inventory costs at least 15x less CPU than lshw -json (least of 30 runs: $na_cmin ms vs $ls_cmin ms)"
[ "$na_kb" -lt 4096 ]
ok $? "peak RSS under 4 MiB ($na_kb KiB; lshw $ls_kb KiB)"
[ "$na_sc" -lt 1000 ]
ok $? "under 1000 system calls ($na_sc; lshw $ls_sc)"
done_testing
