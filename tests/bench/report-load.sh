#!/bin/sh
# Load: N agents (default 200 processes of `node-agent report-send`, one spool each) report
# at once to one loopback collector (tests/tools/flaky-collector.py, a thread per request)
# that is overloaded: the first OVERLOAD requests are answered 429 with Retry-After: 1 or
# 503 without, and more than MAX_INFLIGHT requests at a time get 503. Prints how the
# retry schedule spreads the burst (first attempts and retries: min/median/p90/max, the
# requests in each second), whether every report arrived exactly once, and the total time.
#
# usage: tests/bench/report-load.sh [NODE_AGENT] [N]
# Timing knobs (environment): the NODE_AGENT_REPORT_* variables of node-agent/deliver.h;
# the defaults below are the agent's defaults scaled down 2x so the run stays well under
# a minute. BENCH_RESULT=FILE gets the figures as shell assignments (n= stored= hosts= dup_stored=
# dup_keys= failed= total= requests= first_min= first_max= busiest= delay_min= delay_median=
# delay_max=).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
agent=${1:-$top/build/node-agent}
n=${2:-200}
overload=${OVERLOAD:-$((n * 3 / 4))}
inflight=${MAX_INFLIGHT:-16}
w=$(mktemp -d)
cpid=""
trap '[ -n "$cpid" ] && kill $cpid 2>/dev/null; rm -rf "$w"' EXIT

export NODE_AGENT_REPORT_DELAY_MS=${NODE_AGENT_REPORT_DELAY_MS:-2500}
export NODE_AGENT_REPORT_BASE_MS=${NODE_AGENT_REPORT_BASE_MS:-500}
export NODE_AGENT_REPORT_CAP_MS=${NODE_AGENT_REPORT_CAP_MS:-15000}
export NODE_AGENT_REPORT_BUDGET_MS=${NODE_AGENT_REPORT_BUDGET_MS:-45000}
export NODE_AGENT_REPORT_ATTEMPTS=${NODE_AGENT_REPORT_ATTEMPTS:-20}
export NODE_AGENT_REPORT_RETRY_AFTER_CAP_MS=${NODE_AGENT_REPORT_RETRY_AFTER_CAP_MS:-15000}
export NODE_AGENT_REPORT_TIMEOUT_MS=${NODE_AGENT_REPORT_TIMEOUT_MS:-10000}

"$agent" inventory --root "$top/tests/fixtures/qemu-q35" --quiet > "$w/base.json" 2>/dev/null
python3 - "$w" "$n" <<'EOF'
import json, sys
w, n = sys.argv[1], int(sys.argv[2])
base = json.load(open(w + "/base.json"))
for i in range(n):
    base["hostname"] = "load-%03d" % i
    base["machine_id"] = "%032x" % (0x10000 + i)
    with open("%s/inv-%03d.json" % (w, i), "w") as f:
        json.dump(base, f, indent=2)
EOF
python3 "$top/tests/tools/flaky-collector.py" --portfile "$w/port" --state "$w/state.json" \
	--overload "$overload" --max-inflight "$inflight" --delay-ms 20 --max-seconds 120 \
	--save-interval 1 &
cpid=$!
for i in $(seq 100); do [ -s "$w/port" ] && break; sleep 0.05; done
port=$(cat "$w/port")

echo "== $n agents -> one collector on 127.0.0.1:$port (first $overload requests 429/503, at most" \
	"$inflight in flight)"
echo "   delay 0..${NODE_AGENT_REPORT_DELAY_MS} ms, backoff base ${NODE_AGENT_REPORT_BASE_MS} ms cap" \
	"${NODE_AGENT_REPORT_CAP_MS} ms (full jitter), budget ${NODE_AGENT_REPORT_BUDGET_MS} ms"
start=$(date +%s.%N)
i=0
while [ $i -lt "$n" ]; do
	f=$(printf '%03d' $i)
	( "$agent" report-send --url "http://127.0.0.1:$port/reports" --state-dir "$w/agent-$f" \
		--inventory "$w/inv-$f.json" > "$w/out-$f" 2> "$w/err-$f"
	  echo $? > "$w/rc-$f" ) &
	i=$((i + 1))
done
wait_start=$(date +%s.%N)
i=0
while [ $i -lt "$n" ]; do
	f=$(printf '%03d' $i)
	for k in $(seq 1200); do [ -s "$w/rc-$f" ] && break; sleep 0.05; done
	i=$((i + 1))
done
end=$(date +%s.%N)
kill $cpid 2>/dev/null || true
wait $cpid 2>/dev/null || true
cpid=""

python3 - "$w" "$n" "$start" "$wait_start" "$end" "${BENCH_RESULT:-}" <<'EOF'
import glob, json, os, statistics, sys
w, n, start, launched, end, result = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
    float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
st = json.load(open(w + "/state.json"))
off = st["started_wall"] - start   # collector t + off = seconds since the burst started
rcs = [open(f).read().strip() for f in sorted(glob.glob(w + "/rc-*"))]
failed = sum(1 for r in rcs if r != "0") + (n - len(rcs))
agent_attempts, delays = 0, []
for f in glob.glob(w + "/out-*"):
    line = open(f).read()
    if "attempts" in line:
        agent_attempts += int(line.split(";")[1].split()[0])
        delays.append(int(line.split("initial delay ")[1].split()[0]) / 1000)
seen, first, retry = set(), [], []
for e in st["log"]:
    t = e["t"] + off
    (retry if e["key"] in seen else first).append(t)
    seen.add(e["key"])
stored_t = [s["t"] + off for s in st["stored"]]
hosts = [s["hostname"] for s in st["stored"]]

def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")

def row(name, v):
    if not v:
        print("  %-16s none" % name)
        return
    print("  %-16s %4d  min %5.2f  median %5.2f  p90 %5.2f  max %5.2f s" %
          (name, len(v), min(v), statistics.median(v), q(v, 0.9), max(v)))

print("== the agents' random initial delays (seconds after each process started)")
row("initial delay", delays)
print("== requests as the collector saw them (seconds after the burst started)")
row("first attempts", first)
row("retries", retry)
row("accepted (201)", stored_t)
answers = {}
for e in st["log"]:
    k = {"ok": "201", "busy": "503 (busy)", "503": "503 (overload)",
         "429:1": "429 Retry-After: 1 (overload)"}.get(e["action"], e["action"])
    answers[k] = answers.get(k, 0) + 1
print("  answers: " + ", ".join("%s x %d" % (k, answers[k]) for k in sorted(answers)))
print("== requests per second (first attempts / retries)")
last = int(max(first + retry + [0])) + 1
busiest = 0
for s in range(last):
    a = sum(1 for t in first if s <= t < s + 1)
    b = sum(1 for t in retry if s <= t < s + 1)
    print("  %3d-%3d s  %4d / %-4d %s" % (s, s + 1, a, b, "#" * ((a + b + 3) // 4)))
    busiest = max(busiest, a + b)
total = end - start
dups = len(hosts) - len(set(hosts))
print("== result")
print("  agents: %d, exit 0: %d, failed: %d; reports stored: %d (distinct hosts %d), duplicate "
      "stores: %d, duplicate keys answered 200: %d" %
      (n, n - failed, failed, len(hosts), len(set(hosts)), dups, st["duplicates"]))
print("  requests: %d at the collector, %d counted by the agents; launch %.2f s; total %.2f s" %
      (st["requests"], agent_attempts, launched - start, total))
if result:
    with open(result, "w") as f:
        f.write("n=%d stored=%d hosts=%d dup_stored=%d dup_keys=%d failed=%d total=%.2f "
                "requests=%d first_min=%.2f first_max=%.2f busiest=%d delay_min=%.2f delay_median=%.2f "
                "delay_max=%.2f\n" %
                (n, len(hosts), len(set(hosts)), dups, st["duplicates"], failed, total,
                 st["requests"], min(first) if first else -1, max(first) if first else -1,
                 busiest, min(delays or [-1]), statistics.median(delays or [-1]),
                 max(delays or [-1])))
EOF
