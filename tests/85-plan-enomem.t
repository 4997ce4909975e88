#!/bin/sh
# Out of memory while planning. tests/tools/failmalloc.c, preloaded, makes one allocation
# fail: each one `node-agent plan` makes after it opens its --target directory (the
# planning and the YAML output; the config and inventory are read before), in turn. Every
# such run must either fail, exit 1, with nothing on stdout, or, when the allocation was
# one a program can do without (a stdio buffer, qsort's scratch space), print exactly what
# a run without failures prints. Never exit 0 with a plan that lacks a file or a label,
# never crash. `config check` gets the same treatment from the config's open() on.
#
# The optimised build (BENCH_AGENT, or NODE_AGENT when it is not a sanitizer build) is run
# for every allocation; an AddressSanitizer build (NODE_AGENT under make check-san) for
# every FAILMALLOC_STRIDE-th (default: about 60 runs per case), so leaks and use after free
# on the error paths are found too. JSON output is not used: json-c 0.16's serialiser
# ignores a buffer that cannot grow and leaves text out (see the report of this test).
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

is_asan() { grep -q __asan_init "$1" 2>/dev/null; }
opt=${BENCH_AGENT:-}
[ -z "$opt" ] && ! is_asan "$NODE_AGENT" && opt=$NODE_AGENT
san=
is_asan "$NODE_AGENT" && san=$NODE_AGENT
if [ -z "$opt$san" ]; then
	skip "out-of-memory plans" "no build to run"
	done_testing
	exit 0
fi

w=$(mktemp -d "${TMPDIR:-/tmp}/na-test.XXXXXX")
cleanup_dirs="$cleanup_dirs $w"
# a target with the NVIDIA runtime and Debian's containerd 1.6: every file the plan can have
mkdir -p "$w/target"
cp -a tests/targets/nvidia-toolkit/. tests/targets/containerd-1.6/. "$w/target/"
"${opt:-$san}" inventory --root tests/fixtures/gpu-dual-nvidia --quiet > "$w/inv.json"
# a data disk taken by serial, a node IP interface, taints, node roles, gitops
cat > "$w/disk.yaml" <<'EOF'
schema: node-agent/config/v1
cluster: {server: "https://10.0.0.10:6443", token_file: /etc/node-agent/k3s-token}
node_name: "${product}-${uuid}"
rules:
  - name: all
    labels: {site: lab, rack: r1}
    node_ip_interface: "eth*"
  - name: gpu
    match: {gpu_vendor: nvidia, min_gpus: 2}
    role: server
    node_role: gpu
    taints: ["gpu=yes:NoSchedule", "dedicated:NoExecute"]
data_disk:
  match: {transport: nvme, min_size_gib: 0}
  allow_wipe_serials: [NVME0002SN]
  mount: /var/lib/rancher
gitops:
  engine: flux
  install_url: https://example.com/install.yaml
  install_sha256: 0000000000000000000000000000000000000000000000000000000000000000
  repository: https://example.com/repo
EOF

# ASan must not insist on coming first; json-c 0.16 leaks a key it copied when its table
# cannot grow (json_object_object_add_ex), which is not ours to fix: suppressed, which needs
# whole allocation stacks (json-c is built without frame pointers)
asan_opts="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:fast_unwind_on_malloc=0"
lsan_opts="suppressions=$TESTS_DIR/tools/failmalloc.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

# fault AGENT STRIDE NAME ARM CMD...: fail allocation 1, 1+STRIDE, ... counted after ARM
# is opened; report runs that break the rule
fault() {
	agent=$1 stride=$2 name=$3 arm=$4
	shift 4
	shim=$(dirname "$agent")/tests/failmalloc.so
	if [ ! -f "$shim" ]; then
		ok 1 "$name: $shim is built"
		return
	fi
	run() { # run N ARGS...: exit status; stdout in $w/out, stderr in $w/err
		fail=$1
		shift
		ASAN_OPTIONS=$asan_opts LSAN_OPTIONS=$lsan_opts LD_PRELOAD=$shim \
			FAILMALLOC_AFTER_OPEN=$arm FAILMALLOC_FAIL=$fail FAILMALLOC_REPORT=$w/count \
			"$agent" "$@" >"$w/out" 2>"$w/err"
	}
	rm -f "$w/count"
	run 0 "$@"
	is "$?" 0 "$name: exits 0 with the shim preloaded and no failure"
	cp "$w/out" "$w/ref"
	total=$(cat "$w/count" 2>/dev/null || echo 0)
	[ "$total" -gt 50 ]
	ok $? "$name: $total allocations after $arm is opened"
	n=1 runs=0 failed=0 enomem=0 bad=""
	while [ "$n" -le "$total" ]; do
		run "$n" "$@"
		rc=$?
		runs=$((runs + 1))
		if [ "$rc" -eq 1 ] && [ ! -s "$w/out" ] && grep -q '^node-agent: ' "$w/err"; then
			failed=$((failed + 1))
			grep -q 'Cannot allocate memory' "$w/err" && enomem=$((enomem + 1))
		elif [ "$rc" -ne 0 ] || ! cmp -s "$w/out" "$w/ref"; then
			bad="$bad $n"
			[ "$(echo $bad | wc -w)" -le 3 ] && {
				diag "allocation $n: exit $rc, stdout $(wc -c < "$w/out") bytes"
				grep -m 12 -v '^ *$' "$w/err" | sed 's/^/#   /'
			}
		fi
		n=$((n + stride))
	done
	is "$bad" "" "$name: each of $runs runs failed (exit 1, a message, nothing on stdout) or printed what a run without failures prints"
	[ "$enomem" -gt $((runs / 2)) ]
	ok $? "$name: $failed of $runs runs failed, $enomem saying 'Cannot allocate memory'"
}

plan_a="plan --config node-agent/examples/homelab.yaml --inventory $w/inv.json --target $w/target --format yaml"
plan_b="plan --config $w/disk.yaml --inventory $w/inv.json --target $w/target --format yaml"
check="config check $w/disk.yaml"
for agent in $opt $san; do
	if [ "$agent" = "$san" ]; then
		kind=asan stride=${FAILMALLOC_STRIDE:-0}
	else
		kind=opt stride=1
	fi
	for c in a b check; do
		case $c in
		a) set -- $plan_a; arm=$w/target; what="plan homelab.yaml" ;;
		b) set -- $plan_b; arm=$w/target; what="plan with a data disk" ;;
		check) set -- $check; arm=$w/disk.yaml; what="config check" ;;
		esac
		s=$stride
		if [ "$s" -eq 0 ]; then # about 60 runs: count first
			rm -f "$w/count"
			ASAN_OPTIONS=$asan_opts LD_PRELOAD=$(dirname "$agent")/tests/failmalloc.so \
				FAILMALLOC_AFTER_OPEN=$arm FAILMALLOC_REPORT=$w/count \
				"$agent" "$@" >/dev/null 2>&1
			s=$(( $(cat "$w/count" 2>/dev/null || echo 60) / 60 + 1 ))
		fi
		fault "$agent" "$s" "$kind: $what" "$arm" "$@"
	done
done

# apply and plan stop at the first allocation that fails in planning: exit 1, nothing written
agent=${opt:-$san}
before=$(find "$w/target" | sort)
ASAN_OPTIONS=$asan_opts LD_PRELOAD=$(dirname "$agent")/tests/failmalloc.so \
	FAILMALLOC_AFTER_OPEN=$w/target FAILMALLOC_FAIL=1 "$agent" apply --config "$w/disk.yaml" --inventory "$w/inv.json" \
	--target "$w/target" >"$w/out" 2>"$w/err"
is "$?" 1 "apply: the plan's first allocation fails: exit 1"
like "$(cat "$w/err")" '^node-agent: cannot (make a plan|open target [^ ]*): Cannot allocate memory' "apply: says why"
is "$(find "$w/target" | sort)" "$before" "apply: nothing written"
done_testing
