#!/bin/sh
# Load on `node-agent serve`, with Debian's nginx (nginx-light) as the anchor, in one run on
# 127.0.0.1:
#   1. CLIENTS machines (default 50) download the initrd at once over plain HTTP, from serve
#      (libmicrohttpd, sendfile) and from nginx serving the same file (sendfile, Debian's
#      defaults: a worker per CPU); ROUNDS rounds (default 2) taken in turn, so load from
#      elsewhere falls on both alike; the best round of each counts. One curl process per
#      machine (what 50 machines are: 50 clients, spread over the CPUs; a process start is
#      nothing beside a transfer of tens of MB), each from its own address (127.2.x.y, as
#      each machine has its own: serve limits connections per address).
#   2. NODES machines (default 200) report at once over HTTPS, each a node-agent/report/v1
#      envelope of its own inventory (a fixture with its UUID, serial, MACs, hostname and
#      machine-id changed) with its own idempotency key; one node in ten sends a second copy
#      at the same time and, after the burst, a third: none may be lost (every machine
#      listed, one report row each) and none stored twice (the copies answered 200, no second
#      row). The anchor: nginx, with serve's own certificate, answering the same POSTs with a
#      static 201 (TLS, HTTP and reading the body: what serve does before its own work), and
#      writing each body to a file before a proxied 201 (client_body_in_file_only: a write
#      per report, but no fsync, no JSON, no database). serve parses and checks each report
#      and commits it to SQLite with synchronous=FULL (an fsync per report) on its one
#      thread. One curl process drives all requests (--parallel, a fresh TLS session and its
#      own address 127.1.x.y per node, Connection: close as node-agent's one request per
#      process does; curl would otherwise keep every finished connection open until it
#      exits): with 200 small requests, 200 process starts would cost more than the
#      requests, and a single C client measures each request alike.
# Prints the figures and the ratios nginx/serve; `make bench-serve` runs it.
#
# usage: tests/bench/serve-load.sh [NODE_AGENT] [CLIENTS] [NODES]
# INITRD=FILE (default build/image/pxe/initrd when present, else INITRD_MB of random data,
# default 50), ROUNDS (default 2). BENCH_RESULT=FILE gets the figures as shell assignments.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
agent=${1:-$top/build/node-agent}
clients=${2:-50}
nodes=${3:-200}
rounds=${ROUNDS:-2}
initrd_mb=${INITRD_MB:-50}
for tool in nginx curl python3 jq; do
	command -v $tool >/dev/null || { echo "serve-load: $tool missing (tests/install-deps.sh test)" >&2; exit 1; }
done
[ "$clients" -le 1000 ] && [ "$nodes" -le 2500 ] || { echo "serve-load: at most 1000 clients, 2500 nodes" >&2; exit 2; }

w=$(mktemp -d "${TMPDIR:-/tmp}/na-serve-load.XXXXXX")
spid="" npid=""
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	[ -n "$npid" ] && kill "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
	rm -rf "$w"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap 'echo "kept $w"' EXIT
trap 'exit 1' INT TERM

mkdir -p "$w/img" "$w/state" "$w/nginx/body" "$w/nginx/tmp"
if [ -n "${INITRD:-}" ] || [ -f "$top/build/image/pxe/initrd" ]; then
	ln -s "${INITRD:-$top/build/image/pxe/initrd}" "$w/img/initrd"
	what="$(readlink "$w/img/initrd")"
else
	head -c $((initrd_mb * 1048576)) /dev/urandom >"$w/img/initrd"
	what="random data"
fi
size=$(stat -L -c %s "$w/img/initrd")
head -c 1000 /dev/urandom >"$w/img/vmlinuz"
cat >"$w/node.yaml" <<'EOF'
schema: node-agent/config/v1
cluster:
  server: https://10.0.0.10:6443
  token_file: /run/credentials/node-agent.service/k3s-token
EOF
cat >"$w/serve.yaml" <<EOF
schema: node-agent/serve/v1
address: 127.0.0.1
state_dir: $w/state
image: {dir: $w/img}
node_config: $w/node.yaml
http: {listen: 127.0.0.1, port: 0}
https: {port: 0}
unknown_machines: inventory
EOF

# --- serve: started as tests/99-serve.t does; its URLs from its log, at most 10 s
"$agent" serve --config "$w/serve.yaml" 2>"$w/serve.log" &
spid=$!
url="" surl=""
for _ in $(seq 100); do
	url=$(sed -n 's|.*listening on \(http://[0-9.:]*\) and .*|\1|p' "$w/serve.log" | tail -n 1)
	surl=$(sed -n 's|.*listening on http://[0-9.:]* and \(https://[0-9.:]*\) .*|\1|p' "$w/serve.log" | tail -n 1)
	[ -n "$url" ] && [ -n "$surl" ] && break
	sleep 0.1
done
[ -n "$url" ] || { echo "serve-load: serve did not start:" >&2; cat "$w/serve.log" >&2; exit 1; }
cert=$w/state/tls-cert.pem

# --- nginx, in the foreground of its own prefix, on two free ports, serve's key and certificate
set -- $(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
np=$1 nsp=$2
cat >"$w/nginx.conf" <<EOF
daemon off;
worker_processes auto;
user root;
pid $w/nginx/nginx.pid;
error_log $w/nginx/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	default_type application/octet-stream;
	client_body_temp_path $w/nginx/body;
	proxy_temp_path $w/nginx/tmp;
	fastcgi_temp_path $w/nginx/tmp;
	uwsgi_temp_path $w/nginx/tmp;
	scgi_temp_path $w/nginx/tmp;
	server {
		listen 127.0.0.1:$np;
		root $w/img;
		location = /ok { return 201 '{"stored":true}\n'; }
	}
	server {
		listen 127.0.0.1:$nsp ssl;
		ssl_certificate $cert;
		ssl_certificate_key $w/state/tls-key.pem;
		client_max_body_size 4m;
		location = /reports { return 201 '{"stored":true}\n'; }
		location = /reports-file {
			client_body_in_file_only on;
			proxy_pass http://127.0.0.1:$np/ok;
		}
	}
}
EOF
nginx -p "$w/nginx/" -e "$w/nginx/error.log" -c "$w/nginx.conf" &
npid=$!
nurl=http://127.0.0.1:$np nsurl=https://127.0.0.1:$nsp
for _ in $(seq 100); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$nurl/ok")" = 201 ] && break
	sleep 0.05
done

# --- 1. downloads: one curl per machine, each from its own address; wall time of the round
# from the first start to the last end, each client's own time from curl
download() { # NAME URL ROUND
	pids=""
	i=0
	t0=$(date +%s.%N)
	while [ $i -lt "$clients" ]; do
		curl -s -o /dev/null --max-time 300 --interface "127.2.$((i / 250)).$((i % 250 + 1))" \
			-w '%{http_code} %{size_download} %{time_total}\n' "$2/initrd" >"$w/dl-$1-$3-$i" 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do wait "$p" || true; done
	t1=$(date +%s.%N)
	echo "$1 $3 $t0 $t1" >>"$w/rounds"
}
# the headers, printed with the figures at the end
la=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $clients clients download the initrd ($(awk -v s="$size" 'BEGIN { printf "%.1f MiB", s / 1048576 }'), $what) at once over plain HTTP; $rounds rounds; load average $la on $(nproc) CPUs" >"$w/head-dl"
r=1
while [ $r -le "$rounds" ]; do
	download serve "$url" $r
	download nginx "$nurl" $r
	r=$((r + 1))
done

# --- 2. reports
python3 - "$top/tests/fixtures/qemu-q35.expected.json" "$w" "$nodes" "$surl" "$nsurl" "$cert" <<'EOF'
import copy, hashlib, json, sys
fixture, w, n, surl, nsurl, cert = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
base = json.load(open(fixture))
reqs = []  # (body file, key, source address)
for i in range(n):
    inv = copy.deepcopy(base)
    inv["hostname"] = "load-%04d" % i
    inv["machine_id"] = "%032x" % (0x5e4e0000 + i)
    inv["system"]["uuid"] = "5e4e%04x-0000-4000-8000-%012x" % (i, i)
    inv["system"]["serial"] = "LOAD%05d" % i
    for k, nic in enumerate(inv.get("nics") or []):
        if nic.get("mac"):
            nic["mac"] = "02:4c:%02x:%02x:%02x:%02x" % (k, i >> 16 & 255, i >> 8 & 255, i & 255)
    macs = [x["mac"] for x in inv.get("nics") or [] if x.get("mac") and not x.get("virtual")]
    if inv.get("boot") is not None and macs:
        inv["boot"]["pxe_mac"] = macs[0]
    text = json.dumps(inv, separators=(",", ":"))
    key = hashlib.md5(text.encode()).hexdigest()
    env = {"schema": "node-agent/report/v1", "machine_id": inv["machine_id"], "idempotency_key": key,
           "created_at": "2026-12-02T12:00:00Z", "inventory": inv}
    with open("%s/env-%04d.json" % (w, i), "w") as f:
        json.dump(env, f, separators=(",", ":"))
    addr = "127.1.%d.%d" % (i // 250, i % 250 + 1)
    reqs.append(("%s/env-%04d.json" % (w, i), key, addr))
dups = [r for i, r in enumerate(reqs) if i % 10 == 0]

def config(path, url, rs):
    with open(path, "w") as f:
        for j, (body, key, addr) in enumerate(rs):
            f.write("next\n" if j else "")
            f.write('url = "%s"\ninterface = "%s"\ncacert = "%s"\nno-sessionid\nmax-time = 120\n'
                    'data-binary = "@%s"\nheader = "Content-Type: application/json"\nheader = "Connection: close"\n'
                    'header = "Idempotency-Key: \\"%s\\""\noutput = "/dev/null"\n'
                    'write-out = "%%{http_code} %%{time_connect} %%{time_appconnect} %%{time_total} %s\\n"\n'
                    % (url, addr, cert, body, key, key))
config(w + "/burst-serve.cfg", surl + "/reports", reqs + dups)
config(w + "/burst-nginx.cfg", nsurl + "/reports", reqs + dups)
config(w + "/burst-nginx-file.cfg", nsurl + "/reports-file", reqs + dups)
config(w + "/resend.cfg", surl + "/reports", dups)
EOF
burst() { # NAME CONFIG
	t0=$(date +%s.%N)
	curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max 300 -K "$2" \
		>"$w/rep-$1" 2>"$w/rep-$1.err" || true
	t1=$(date +%s.%N)
	echo "$1 $t0 $t1" >>"$w/bursts"
}
ndup=$(((nodes + 9) / 10))
la2=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $nodes nodes report at once over HTTPS ($((nodes + ndup)) requests: one node in ten sends a copy at the same time, and a third after the burst); serve's state on $(df -T "$w/state" | awk 'NR == 2 { print $2 }'); load average $la2" >"$w/head-rep"
burst nginx "$w/burst-nginx.cfg"
burst serve "$w/burst-serve.cfg"
burst nginx-file "$w/burst-nginx-file.cfg"
# the third copy, one after the other, after the burst
curl -s --no-progress-meter -K "$w/resend.cfg" >"$w/rep-resend" 2>"$w/rep-resend.err" || true
listed=$(curl -s --cacert "$cert" "$surl/api/machines" | jq '.machines | length' 2>/dev/null || echo 0)
nfiles=$(find "$w/nginx/body" -type f | wc -l)
kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null || true
spid=""
kill "$npid" 2>/dev/null && wait "$npid" 2>/dev/null || true
npid=""

python3 - "$w" "$clients" "$size" "$nodes" "$listed" "$nfiles" "${BENCH_RESULT:-}" <<'EOF'
import glob, sqlite3, statistics, sys
w, clients, size, nodes, listed, nfiles, result = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
MiB = 1048576.0

def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")

# downloads: per round, ok clients, aggregate throughput, slowest / median client
rounds = {}
for line in open(w + "/rounds"):
    name, r, t0, t1 = line.split()
    ok, times = 0, []
    for f in glob.glob("%s/dl-%s-%s-*" % (w, name, r)):
        p = open(f).read().split()
        if len(p) == 3 and p[0] == "200" and int(float(p[1])) == size:
            ok += 1
        if len(p) == 3:
            times.append(float(p[2]))
    wall = float(t1) - float(t0)
    rounds.setdefault(name, []).append({"ok": ok, "wall": wall, "mibs": ok * size / MiB / wall,
                                        "slowest": max(times or [float("nan")]),
                                        "median": statistics.median(times or [float("nan")]),
                                        "fastest": min(times or [float("nan")])})
print(open(w + "/head-dl").read(), end="")
for name, rs in rounds.items():
    for i, r in enumerate(rs):
        print("  round %d %-6s %3d/%d complete, %7.1f MiB/s aggregate, clients %.2f-%.2f s (median %.2f), wall %.2f s"
              % (i + 1, name, r["ok"], clients, r["mibs"], r["fastest"], r["slowest"], r["median"], r["wall"]))
best = {n: max(rs, key=lambda r: r["mibs"]) for n, rs in rounds.items()}
s, n = best["serve"], best["nginx"]
print()
print("%-34s %12s %12s %12s" % ("downloads (best round)", "serve", "nginx", "ratio"))
print("%-34s %12.1f %12.1f %11.2fx" % ("aggregate throughput (MiB/s)", s["mibs"], n["mibs"], n["mibs"] / s["mibs"]))
print("%-34s %12.2f %12.2f %11.2fx" % ("slowest client (s)", s["slowest"], n["slowest"], s["slowest"] / n["slowest"]))
print("%-34s %12.2f %12.2f %11.2fx" % ("median client (s)", s["median"], n["median"], s["median"] / n["median"]))
print("%-34s %9d/%-3d %8d/%-3d" % ("complete downloads", s["ok"], clients, n["ok"], clients))

# reports
bursts = {}
for line in open(w + "/bursts"):
    name, t0, t1 = line.split()
    codes, lat, hs, waited = {}, [], [], 0
    for l in open("%s/rep-%s" % (w, name)):
        p = l.split()
        if len(p) != 5:
            continue
        codes[p[0]] = codes.get(p[0], 0) + 1
        # a TCP connect on loopback takes microseconds, unless the listen queue was full and
        # the SYN dropped: then the client sends it again after 1 s (3, 7, 15, 31 s ...)
        waited += float(p[1]) >= 1.0
        hs.append(float(p[2]))
        lat.append(float(p[3]))
    bursts[name] = {"wall": float(t1) - float(t0), "codes": codes, "p50": q(lat, 0.5), "p99": q(lat, 0.99),
                    "max": max(lat or [float("nan")]), "tls": q(hs, 0.5), "n": len(lat), "waited": waited}
resend = {}
for l in open(w + "/rep-resend"):
    p = l.split()
    if p:
        resend[p[0]] = resend.get(p[0], 0) + 1
db = sqlite3.connect("file:%s/state/serve.db?mode=ro" % w, uri=True)
rows, keys = db.execute("SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM reports").fetchone()
machines = db.execute("SELECT COUNT(*) FROM machines").fetchone()[0]
S, N, F = bursts["serve"], bursts["nginx"], bursts["nginx-file"]
print()
print(open(w + "/head-rep").read(), end="")
print("%-34s %12s %12s %12s %12s %12s" % ("reports (%d requests)" % S["n"], "serve", "nginx 201", "nginx file",
                                          "ratio 201", "ratio file"))
for label, k, scale in (("time to accept all (s)", "wall", 1), ("latency p50 (ms)", "p50", 1000),
                        ("latency p99 (ms)", "p99", 1000), ("latency max (ms)", "max", 1000),
                        ("TLS handshake done, p50 (ms)", "tls", 1000)):
    print("%-34s %12.1f %12.1f %12.1f %11.2fx %11.2fx" % (label, S[k] * scale, N[k] * scale, F[k] * scale,
                                                        S[k] / N[k], S[k] / F[k]))
print("%-34s %12.0f %12.0f %12.0f %11.2fx %11.2fx" % ("reports accepted per second", S["n"] / S["wall"],
      N["n"] / N["wall"], F["n"] / F["wall"], S["wall"] / N["wall"], S["wall"] / F["wall"]))
fmt = lambda c: ", ".join("%s x %d" % (k, c[k]) for k in sorted(c)) or "none"
print("%-34s %12d %12d %12d" % ("connects after a SYN was dropped", S["waited"], N["waited"], F["waited"]))
print("ratio: how many times better nginx does (its throughput over serve's, serve's time over its)")
print("answers: serve %s; nginx %s; nginx file %s (%d bodies on disk)" % (fmt(S["codes"]), fmt(N["codes"]),
      fmt(F["codes"]), nfiles))
print("serve: %d machines listed by the API, %d in the database, %d report rows (%d distinct keys); "
      "the third copies answered %s" % (listed, machines, rows, keys, fmt(resend)))
if result:
    with open(result, "w") as f:
        f.write("dl_ok_serve=%d dl_ok_nginx=%d dl_mibs_serve=%.1f dl_mibs_nginx=%.1f dl_slow_serve=%.2f "
                "dl_slow_nginx=%.2f rep_201=%d rep_200=%d rep_n=%d rep_wall=%.2f rep_p50=%.1f rep_p99=%.1f "
                "ngx_201=%d ngx_file_201=%d ngx_files=%d ngx_wall=%.2f ngx_p50=%.1f ngx_p99=%.1f "
                "listed=%d machines=%d rows=%d keys=%d resend_200=%d syn_waits=%d ngx_syn_waits=%d\n"
                % (s["ok"], n["ok"], s["mibs"], n["mibs"], s["slowest"], n["slowest"],
                   S["codes"].get("201", 0), S["codes"].get("200", 0), S["n"], S["wall"], S["p50"] * 1000,
                   S["p99"] * 1000, N["codes"].get("201", 0), F["codes"].get("201", 0), nfiles, N["wall"],
                   N["p50"] * 1000, N["p99"] * 1000, listed, machines, rows, keys, resend.get("200", 0), S["waited"],
                   N["waited"] + F["waited"]))
EOF
