#!/bin/sh
# node-agent serve under a reduced load (tests/bench/serve-load.sh; `make bench-serve` is the
# full one): 20 machines download a 20 MiB initrd at once from serve and from nginx, 50
# 150 report at once over HTTPS (15 of them with a copy at the same time and another
# after): 165 connections at once, more than libmicrohttpd's connection limit and the listen
# queue held before (64 each), when the rest waited for TCP's SYN retransmissions (200
# reports took 91 s). Asserts what must hold whatever the machine's load, not speed: every
# download complete, every report stored once (every machine listed, one row and one key
# each), the copies answered 200 without a row, no connection waiting for a dropped SYN to
# be sent again, nginx (the anchor) answering every request. The figures are printed. Runs
# the optimised build (BENCH_AGENT) when given, like 60-bench.t.
. "$(dirname "$0")/lib.sh"

agent=${BENCH_AGENT:-$NODE_AGENT}
for tool in nginx curl python3 jq; do
	if ! command -v $tool >/dev/null; then
		skip "serve load" "$tool not installed (tests/install-deps.sh test)"
		done_testing
		exit 0
	fi
done
res=$(mktemp)
cleanup_dirs="$cleanup_dirs $res"
start=$(date +%s)
BENCH_RESULT=$res INITRD_MB=20 ROUNDS=1 timeout 150 sh "$TESTS_DIR/bench/serve-load.sh" "$agent" 20 150 |
	sed 's/^/# /'
took=$(($(date +%s) - start))
: >>"$res"
. "$res"
is "${dl_ok_serve:-x}" 20 "serve: all 20 downloads complete (200, every byte)"
is "${dl_ok_nginx:-x}" 20 "nginx: all 20 downloads complete"
is "${rep_201:-x}" 150 "serve: each of the 150 reports stored once (201)"
is "${rep_200:-x}" 15 "... the 15 copies sent at the same time answered 200"
is "${resend_200:-x}" 15 "... and the 15 sent after the burst too"
is "${rows:-x}" 150 "150 report rows in the database"
is "${keys:-x}" 150 "... with 150 distinct idempotency keys"
is "${machines:-x}" 150 "150 machines in the database"
is "${listed:-x}" 150 "150 machines listed by GET /api/machines"
is "${syn_waits:-x}" 0 "serve took all 165 connections at once: none waited for a dropped SYN"
is "${ngx_201:-x}" 165 "nginx answered every POST (the anchor ran)"
is "${ngx_files:-x}" 165 "nginx wrote every body to a file (client_body_in_file_only)"
diag "took ${took}s"
done_testing
