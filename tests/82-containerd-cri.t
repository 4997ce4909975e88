#!/bin/sh
# Pods through the CRI plugin that the generated files configure: Debian's containerd runs
# with node-agent's drop-in for a standalone containerd, and a minimal CRI client
# (tests/tools/cri-client.py, as a kubelet would ask) runs a pod on the node's network with
# the default runtime handler and with "runc". nvidia-container-runtime is a stand-in at the
# drop-in's BinaryName that logs its arguments and execs runc: the test proves which binary
# containerd runs for which pod, not GPU access. Everything runs in private PID, mount and
# network namespaces (tests/tools/cri-sandbox.sh); nothing is pulled. Needs root.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1
# Debian's programs, whatever else is on PATH (python3-grpcio is for Debian's python3)
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

need() { # need REASON: skip the whole file
	skip "pods through the CRI plugin configured by the generated files" "$1"
	done_testing
	exit 0
}
[ "$(id -u)" -eq 0 ] || need "needs root"
for p in unshare containerd ctr runc python3 ip timeout; do
	command -v "$p" >/dev/null || need "$p is not installed"
done
python3 -c 'import grpc, grpc_tools.protoc' 2>/dev/null ||
	need "python3-grpcio and python3-grpc-tools are not installed"
[ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" = "install ok installed" ] ||
	need "busybox-static is not installed (the test image's only program)"
unshare --pid --fork --kill-child --mount-proc --net true 2>/dev/null ||
	need "cannot create PID, mount and network namespaces here"
diag "$(containerd --version)"

T=$(mktemp -d "${TMPDIR:-/tmp}/na-cri.XXXXXX")
cleanup_dirs="$cleanup_dirs $T"
# the pods' cgroups are made below this parent (cgroupfs, as a kubelet's /kubepods);
# containerd removes each container's own, the parents are removed here
cgparent=/na-cri-test-$$
cg_cleanup() {
	for d in /sys/fs/cgroup"$cgparent" /sys/fs/cgroup/*"$cgparent"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	# KEEP_CRI_TMP=1 keeps the scratch directory (containerd's log, the pods' JSON) to read
	if [ -n "${KEEP_CRI_TMP:-}" ]; then
		diag "kept $T"
	else
		cleanup
	fi
}
trap cg_cleanup EXIT

# The sandbox image under the name this containerd's CRI plugin uses by default, so the
# configuration stays node-agent's and nothing needs pulling; both images share one layer.
pause=$(containerd config default 2>/dev/null | sed -n 's/^ *sandbox_image = "\(.*\)"$/\1/p')
python3 tests/tools/mk-oci-image.py "$T/image.tar" /bin/busybox "${pause:?}=/bin/sleep 86400" \
	"localhost/busybox:test=/bin/sh"
ok $? "an OCI image archive built here: busybox-static, tagged $pause and localhost/busybox:test"
mkdir "$T/gen"
python3 -m grpc_tools.protoc -I tests/tools --python_out="$T/gen" --grpc_python_out="$T/gen" \
	tests/tools/cri_runtime_v1.proto
ok $? "the CRI v1 messages compiled (tests/tools/cri_runtime_v1.proto)"

# Without CAP_SYS_RESOURCE (a sandbox that drops it), runc cannot give the pod sandbox the
# CRI plugin's oom_score_adj of -998: cri-sandbox.sh then appends this to the drop-in's copy.
restrict=
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
if [ $((0x$capeff >> 24 & 1)) -eq 0 ]; then
	restrict=$(printf '\n[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true')
	diag "no CAP_SYS_RESOURCE here: the drop-in's copy gets restrict_oom_score_adj = true"
fi

q() { jq -r "$2" "$out/$1" 2>/dev/null; }
pod_ran() { # pod_ran LABEL DESCRIPTION: the pod's container ran to exit 0 and printed ok
	is "$(q "pod-$1.json" '[.error, .state, .exit_code, .log[0]] | @json')" '[null,"CONTAINER_EXITED",0,"ok"]' "$2"
}

# cri_run NAME TARGET STANDIN [no-runtime]: apply into a copy of targets/TARGET and run the
# pods in the namespaces; sets $out (what cri-sandbox.sh wrote) and $drop (the drop-in)
cri_run() {
	d=$T/$1
	mkdir -p "$d/target" "$d/out" "$d/work"
	cp -a "tests/targets/$2/." "$d/target/"
	[ -n "${4:-}" ] && rm -f "$d/target/usr/bin/nvidia-container-runtime"
	"$NODE_AGENT" apply --config tests/configs/standalone-containerd.yaml --root tests/fixtures/gpu-nvidia-driver \
		--target "$d/target" >/dev/null 2>&1
	ok $? "apply to a copy of targets/$2${4:+ without the NVIDIA runtime}"
	out=$d/out
	drop=$d/target/etc/containerd/conf.d/99-nvidia.toml
	timeout -k 5 120 unshare --pid --fork --kill-child --mount-proc --net -- \
		sh tests/tools/cri-sandbox.sh "$d/work" "$d/target" "$out" "$3" "$T/image.tar" "$pause" "$T/gen" "$cgparent"
	rc=$?
	if [ -f "$out/skip" ]; then
		skip "pods through the CRI plugin ($1)" "$(cat "$out/skip")"
		return 1
	fi
	[ -f "$out/error" ] && rc=1 && diag "$(cat "$out/error")"
	ok $rc "containerd ran with the generated config in private namespaces ($1)"
	[ $rc -eq 0 ] || { diag "$(tail -n 20 "$out/containerd.log" 2>/dev/null)"; return 1; }

	n=$(wc -c <"$drop")
	head -c "$n" "$out/conf.d/99-nvidia.toml" | cmp -s - "$drop"
	ok $? "containerd read node-agent's drop-in as written"
	extra=$(tail -c +$((n + 1)) "$out/conf.d/99-nvidia.toml")
	is "$extra" "$restrict" "... with nothing added${restrict:+ but restrict_oom_score_adj (this sandbox lacks CAP_SYS_RESOURCE)}"
	like "$(cat "$out/plugins.txt")" '^io\.containerd\.grpc\.v1 +cri +[^ ]+ +ok' "the CRI plugin loaded"
	is "$(q status.json '.conditions.RuntimeReady')" true "the CRI plugin reports RuntimeReady"
	[ -s "$out/client.err" ] && diag "$(cat "$out/client.err")"
	return 0
}

# --- the NVIDIA runtime where Debian's nvidia-container-toolkit puts it ---------------------
if cri_run containerd-1.6 containerd-1.6 yes; then
	bin=/usr/bin/nvidia-container-runtime
	is "$(q status.json '.config.containerd.defaultRuntimeName')" nvidia "the CRI plugin's default runtime is nvidia"
	is "$(q status.json '.config.containerd.runtimes.nvidia.options.BinaryName')" $bin \
		"... and runs $bin"
	pod_ran default "a pod with the default runtime handler ran its container to exit 0"
	sid=$(q pod-default.json .sandbox_id) cid=$(q pod-default.json .container_id)
	is "$(q pod-default.json '.runtime_options.binary_name')" $bin "... through the nvidia runtime's binary"
	like "$(cat "$out/standin.log" 2>/dev/null)" " create --bundle .* $cid\$" \
		"the stand-in at $bin created the container"
	like "$(cat "$out/standin.log" 2>/dev/null)" " create --bundle .* $sid\$" "... and its pod sandbox"
	pod_ran runc "a pod with runtime handler runc ran its container to exit 0"
	unlike "$(cat "$out/standin.log" 2>/dev/null)" "$(q pod-runc.json .sandbox_id)|$(q pod-runc.json .container_id)" \
		"... without the stand-in"
	is "$(q pod-runc.json '.runtime_options | has("binary_name")')" false "... through runc itself"

	# runc's cgroup driver: Debian's config leaves SystemdCgroup unset (cgroupfs), and so
	# does the drop-in; a kubelet on cgroupfs gives a parent like /kubepods/.../pod<uid>
	is "$(q status.json '.config.containerd.runtimes | [.runc, .nvidia | .options | has("SystemdCgroup")] | @json')" \
		'[false,false]' "the CRI plugin runs runc and nvidia with SystemdCgroup unset (cgroupfs)"
	path=$(q pod-default.json .cgroups_path)
	like "$path" "^$cgparent/pod[0-9a-f-]+/$cid\$" "the container's cgroup is cgroupfs-style, below the pod's parent"
	unlike "$path" '\.slice|\.scope|:' "... not systemd's (slice:prefix:name)"
	like "$(q pod-default.json '.log[]')" "^[0-9]+:memory:$path\$" "the container runs in that memory cgroup"
fi

# --- where the GPU Operator's toolkit puts it ---------------------------------------------
if cri_run containerd-toolkit-dir containerd-toolkit-dir yes; then
	bin=/usr/local/nvidia/toolkit/nvidia-container-runtime
	is "$(q status.json '.config.containerd.defaultRuntimeName')" nvidia "the CRI plugin's default runtime is nvidia"
	pod_ran default "a pod with the default runtime handler ran its container to exit 0"
	cid=$(q pod-default.json .container_id)
	is "$(q pod-default.json '.runtime_options.binary_name')" $bin "... through $bin"
	like "$(cat "$out/standin.log" 2>/dev/null)" " create --bundle .* $cid\$" \
		"the stand-in at $bin created the container"
	pod_ran runc "a pod with runtime handler runc ran its container to exit 0"
	unlike "$(cat "$out/standin.log" 2>/dev/null)" "$(q pod-runc.json .sandbox_id)|$(q pod-runc.json .container_id)" \
		"... without the stand-in"
fi

# --- no NVIDIA runtime on the machine: runc stays the default and pods run --------------------
if cri_run no-runtime containerd-1.6 no no-runtime; then
	is "$(q status.json '.config.containerd.defaultRuntimeName')" runc "without the NVIDIA runtime, runc is the default"
	pod_ran default "a pod with the default runtime handler ran its container to exit 0"
	is "$(q pod-default.json '.runtime_options | has("binary_name")')" false "... through runc"
	pod_ran runc "a pod with runtime handler runc ran its container to exit 0"
	like "$(q pod-nvidia.json .error)" '^RunPodSandbox: .*/usr/bin/nvidia-container-runtime.*no such file' \
		"a pod asking for runtime handler nvidia fails at its sandbox, naming the missing binary"
fi
done_testing
