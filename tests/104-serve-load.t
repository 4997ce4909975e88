#!/bin/sh
# node-agent serve under a reduced load (tests/bench/serve-load.sh; `make bench-serve` is the
# full one): 20 machines download a 20 MiB initrd at once from serve and from nginx, 50
# report at once over HTTPS (5 of them with a copy at the same time and another after).
# Asserts what must hold whatever the machine's load, not speed: every download complete,
# every report stored once (every machine listed, one row and one key each), the copies
# answered 200 without a row, nginx (the anchor) answering every request. The figures are
# printed. Runs the optimised build (BENCH_AGENT) when given, like 60-bench.t.
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
BENCH_RESULT=$res INITRD_MB=20 ROUNDS=1 timeout 120 sh "$TESTS_DIR/bench/serve-load.sh" "$agent" 20 50 |
	sed 's/^/# /'
took=$(($(date +%s) - start))
: >>"$res"
. "$res"
is "${dl_ok_serve:-x}" 20 "serve: all 20 downloads complete (200, every byte)"
is "${dl_ok_nginx:-x}" 20 "nginx: all 20 downloads complete"
is "${rep_201:-x}" 50 "serve: each of the 50 reports stored once (201)"
is "${rep_200:-x}" 5 "... the 5 copies sent at the same time answered 200"
is "${resend_200:-x}" 5 "... and the 5 sent after the burst too"
is "${rows:-x}" 50 "50 report rows in the database"
is "${keys:-x}" 50 "... with 50 distinct idempotency keys"
is "${machines:-x}" 50 "50 machines in the database"
is "${listed:-x}" 50 "50 machines listed by GET /api/machines"
is "${ngx_201:-x}" 55 "nginx answered every POST (the anchor ran)"
is "${ngx_files:-x}" 55 "nginx wrote every body to a file (client_body_in_file_only)"
diag "took ${took}s"
done_testing
