# TAP helpers for the shell tests (tests/*.t), read by prove.
# Each test file: . "$(dirname "$0")/lib.sh"; ...assertions...; done_testing

: "${NODE_AGENT:=$(cd "$(dirname "$0")/.." && pwd)/build/node-agent}"
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
FIXTURES=$TESTS_DIR/fixtures
export SOURCE_DATE_EPOCH=1767225600 # 2026-01-01T00:00:00Z: fixed collected_at
_tap_n=0
_tap_failed=0

ok() { # ok CONDITION_EXIT_STATUS DESCRIPTION
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		# a TAP TODO is reported but does not fail the file
		case $2 in *"# TODO"*) ;; *) _tap_failed=$((_tap_failed + 1)) ;; esac
	fi
}

is() { # is GOT EXPECTED DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
	fi
}

like() { # like GOT PATTERN(grep -E) DESCRIPTION
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got: %s\n#   want match: %s\n' "$(printf '%s' "$1" | head -c 400)" "$2"
	fi
}

unlike() { # unlike GOT PATTERN(grep -E) DESCRIPTION
	if printf '%s\n' "$1" | grep -qE -- "$2"; then
		ok 1 "$3"
		printf '#   got: %s\n#   want no match: %s\n' "$1" "$2"
	else
		ok 0 "$3"
	fi
}
skip() { # skip DESCRIPTION REASON
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP $2"
}

diag() { printf '# %s\n' "$*"; }

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

# Copy a fixture into a fresh scratch directory (removed at exit) and print its path.
scratch_copy() {
	_d=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
	cp -a "$FIXTURES/$1" "$_d/root"
	echo "$_d/root"
}

# make_fuzz TARGET SECONDS PATTERN: `make TARGET` (a libFuzzer target of the Makefile) for
# SECONDS, from the repository's top; ok when it runs clean, the lines of its log matching
# PATTERN (grep -E) shown when not, and ok when it really ran (over 1000 executions). Both
# are skipped where clang cannot link its fuzzer runtime (Debian: clang, libclang-rt-14-dev).
make_fuzz() {
	_fz_t=$1 _fz_s=$2 _fz_pat=$3
	_fz_d=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
	cleanup_dirs="$cleanup_dirs $_fz_d"
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\n%s\n' \
		'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n > 1 && d[0] == 0; }' \
		>"$_fz_d/probe.c"
	_fz_cc=${FUZZ_CC:-clang}
	if ! command -v "$_fz_cc" >/dev/null 2>&1; then
		echo "$_fz_cc: not found" >"$_fz_d/cc.log"
		false
	else
		"$_fz_cc" -fsanitize=fuzzer,address,undefined -o "$_fz_d/probe" "$_fz_d/probe.c" \
			>"$_fz_d/cc.log" 2>&1
	fi
	if [ $? -ne 0 ]; then
		skip "make $_fz_t runs clean for ${_fz_s}s" \
			"no clang fuzzer runtime: $(grep -m 1 . "$_fz_d/cc.log")"
		return 0
	fi
	# A make above us (make check) must not hand down its flags or jobserver.
	_fz_start=$(date +%s)
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory "$_fz_t" \
		FUZZ_SECONDS="$_fz_s" >"$_fz_d/fuzz.log" 2>&1
	_fz_rc=$?
	ok $_fz_rc "make $_fz_t runs clean for ${_fz_s}s"
	if [ $_fz_rc -ne 0 ]; then
		grep -E "$_fz_pat" "$_fz_d/fuzz.log" | head -n 20 | sed 's/^/# /'
	fi
	_fz_execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$_fz_d/fuzz.log")
	_fz_cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$_fz_d/fuzz.log" |
		sed -n 's/.*\(cov: [0-9]*\).*\(corp: [^ ]*\).*/\1 \2/p')
	diag "$_fz_t: ${_fz_execs:-?} executions in $(($(date +%s) - _fz_start))s (build included), ${_fz_cov:-no coverage line}"
	[ -n "$_fz_execs" ] && [ "$_fz_execs" -gt 1000 ]
	ok $? "the fuzzer really ran (more than 1000 executions)"
}

cleanup_dirs=""
cleanup() { for d in $cleanup_dirs; do rm -rf "$d"; done; }
trap cleanup EXIT

# --- swtpm, a software TPM 2.0, on loopback TCP (92-tpm, 99-serve-join) ---
swtpm_pid=""
stop_swtpm() {
	[ -n "$swtpm_pid" ] || return 0
	kill "$swtpm_pid" 2>/dev/null
	# bounded: swtpm ends on SIGTERM at once; KILL after 5 s
	_i=0
	while kill -0 "$swtpm_pid" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -9 "$swtpm_pid" 2>/dev/null
	wait "$swtpm_pid" 2>/dev/null
	swtpm_pid=""
}

# a random loopback port in 20000..49999 that nothing listens on (100 draws at most)
free_port() {
	for _t in $(seq 100); do
		_p=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000))
		[ -z "$(ss -Hltn "sport = :$_p")" ] && break
	done
	echo "$_p"
}

# start_swtpm STATEDIR LOG: swtpm in the background on a free loopback port, its data channel
# in NODE_AGENT_TPM_TCP; a few tries, as another process may take the port in between
start_swtpm() {
	mkdir -p "$1"
	for _try in 1 2 3 4 5; do
		_port=$(free_port)
		_ctrl=$(free_port)
		swtpm socket --tpm2 --tpmstate dir="$1" --flags not-need-init,startup-clear \
			--server type=tcp,port="$_port",bindaddr=127.0.0.1 \
			--ctrl type=tcp,port="$_ctrl",bindaddr=127.0.0.1 2>>"$2" &
		swtpm_pid=$!
		_i=0
		while [ $_i -lt 100 ] && kill -0 "$swtpm_pid" 2>/dev/null; do
			if [ -n "$(ss -Hltn "sport = :$_port")" ]; then
				NODE_AGENT_TPM_TCP=127.0.0.1:$_port
				export NODE_AGENT_TPM_TCP
				return 0
			fi
			sleep 0.1
			_i=$((_i + 1))
		done
		stop_swtpm
	done
	return 1
}
