#!/bin/sh
# The report load benchmark (tests/bench/report-load.sh): 200 agents report at once to one
# overloaded loopback collector (429/503 for the first part of the burst, limited requests
# in flight). Every report must arrive exactly once, no agent may give up, the random
# initial delay must spread the first attempts, and the whole burst must be over within
# a minute. Runs the optimised build (BENCH_AGENT) when given, like 60-bench.t.
. "$(dirname "$0")/lib.sh"

agent=${BENCH_AGENT:-$NODE_AGENT}
for tool in python3 jq; do
	if ! command -v $tool >/dev/null; then
		skip "report load" "$tool not installed"
		done_testing
		exit 0
	fi
done
res=$(mktemp)
cleanup_dirs="$cleanup_dirs $res"
start=$(date +%s)
BENCH_RESULT=$res timeout 100 sh "$TESTS_DIR/bench/report-load.sh" "$agent" 200 | sed 's/^/# /'
took=$(($(date +%s) - start))
. "$res"
is "${failed:-x}" 0 "no agent failed (all 200 exited 0)"
is "${hosts:-x}" 200 "all 200 reports arrived"
is "${stored:-x}" 200 "none was stored twice"
ok "$([ "${requests:-0}" -gt 200 ]; echo $?)" "the collector pushed back and the agents retried ($requests requests for 200 reports)"
awk -v a="${first_min:-0}" -v b="${first_max:-0}" 'BEGIN { exit !(b - a >= 1.0) }'
ok $? "the initial delay spread the first attempts over $first_min-$first_max s"
# the agents' own initial delays are uniform over 0..2.5 s (report-load.sh's setting): with
# 200 draws the extremes lie within 0.1 s of the ends and the median near 1.25 s
awk -v a="${delay_min:-9}" -v m="${delay_median:-9}" -v b="${delay_max:-0}" \
	'BEGIN { exit !(a < 0.25 && b > 2.25 && m > 0.9 && m < 1.6) }'
ok $? "the random initial delays spread the fleet: min $delay_min s, median $delay_median s, max $delay_max s (0..2.5 s)"
awk -v t="${total:-999}" 'BEGIN { exit !(t < 60) }'
ok $? "the burst was over in $total s (< 60 s; the script took $took s)"
done_testing
