#!/bin/sh
# Debian's real containerd parses what the plan writes for a standalone containerd:
# `containerd --config FILE config dump` shows the nvidia runtime with the right binary,
# runc still defined, the default named, and Debian's packaged settings kept.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

if ! command -v containerd >/dev/null; then
	skip "containerd parses the generated config" "containerd is not installed"
	done_testing
	exit 0
fi
diag "$(containerd --version)"

# apply_and_dump TARGET_TEMPLATE CONFIG: apply into a copy, then dump the merged config.
# The main config imports /etc/containerd/conf.d/*.toml; in a scratch target that path is
# rewritten to the scratch copy (the only change the test makes).
apply_and_dump() {
	t=$(mktemp -d)
	cleanup_dirs="$cleanup_dirs $t"
	cp -a "tests/targets/$1/." "$t/"
	[ -n "${3:-}" ] && rm -f "$t/usr/bin/nvidia-container-runtime"
	"$NODE_AGENT" apply --config "$2" --root tests/fixtures/gpu-nvidia-driver --target "$t" >/dev/null 2>&1
	ok $? "apply $(basename "$2") to a copy of targets/$1${3:+ without the NVIDIA runtime}"
	sed -i "s|\"/etc/containerd/conf.d/\*.toml\"|\"$t/etc/containerd/conf.d/*.toml\"|" \
		"$t/etc/containerd/config.toml"
	dump=$(containerd --config "$t/etc/containerd/config.toml" config dump 2>&1)
	ok $? "containerd config dump accepts the generated files"
}
sect() { # the lines of one TOML table of the dump
	printf '%s\n' "$dump" | awk -v h="$1" '$0 ~ /^ *\[/ { on = ($0 == h) } on'
}
P='plugins."io.containerd.grpc.v1.cri"'

apply_and_dump containerd-1.6 tests/configs/standalone-containerd.yaml
like "$dump" "^ *default_runtime_name = \"nvidia\"$" "the NVIDIA runtime is the default (its binary is installed)"
like "$(sect "        [$P.containerd.runtimes.nvidia]")" 'runtime_type = "io.containerd.runc.v2"' \
	"runtime nvidia uses the runc v2 shim"
like "$(sect "          [$P.containerd.runtimes.nvidia.options]")" 'BinaryName = "/usr/bin/nvidia-container-runtime"' \
	"runtime nvidia runs /usr/bin/nvidia-container-runtime"
like "$(sect "        [$P.containerd.runtimes.runc]")" 'runtime_type = "io.containerd.runc.v2"' \
	"runc is still defined (an import replaces the whole CRI section in containerd 1.x)"
like "$(sect "    [$P.cni]")" 'bin_dir = "/usr/lib/cni"' "Debian's CNI bin_dir is kept"
like "$dump" 'path = "/var/lib/containerd/opt"' "Debian's opt path is kept"

unlike "$(sect "          [$P.containerd.runtimes.runc.options]")" 'SystemdCgroup' \
	"runc's cgroup driver stays Debian's default (unset: false): the drop-in does not force systemd on every container"
unlike "$(sect "          [$P.containerd.runtimes.nvidia.options]")" 'SystemdCgroup' \
	"runtime nvidia has runc's options (none), as nvidia-ctk copies them"

# nvidia-container-runtime only where the GPU Operator's toolkit puts it: BinaryName is
# that path (a fixed /usr/bin path would make every container on this containerd fail).
apply_and_dump containerd-toolkit-dir tests/configs/standalone-containerd.yaml
like "$(sect "          [$P.containerd.runtimes.nvidia.options]")" \
	'BinaryName = "/usr/local/nvidia/toolkit/nvidia-container-runtime"' \
	"runtime nvidia runs the binary where it was found (/usr/local/nvidia/toolkit)"
like "$dump" "^ *default_runtime_name = \"nvidia\"$" "... and is the default, since that binary exists"

# An administrator's config with runc on the systemd cgroup driver: the drop-in keeps it
# (containerd parses the drop-in on its own here: the main file is not ours to rewrite).
t=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $t"
cp -a tests/targets/containerd-systemd-cgroup/. "$t/"
"$NODE_AGENT" apply --config tests/configs/standalone-containerd.yaml --root tests/fixtures/gpu-nvidia-driver \
	--target "$t" >/dev/null 2>&1
dump=$(containerd --config "$t/etc/containerd/conf.d/99-nvidia.toml" config dump 2>&1)
ok $? "containerd config dump accepts the drop-in made beside an administrator's config"
like "$(sect "          [$P.containerd.runtimes.runc.options]")" 'SystemdCgroup = true' \
	"runc keeps the administrator's SystemdCgroup = true"
like "$(sect "          [$P.containerd.runtimes.nvidia.options]")" 'SystemdCgroup = true' \
	"runtime nvidia gets the same cgroup driver as runc"

# docker's containerd.io: the CRI plugin is off; the plan says so plainly.
warn=$("$NODE_AGENT" plan --config tests/configs/standalone-containerd.yaml --root tests/fixtures/gpu-nvidia-driver \
	--target tests/targets/containerd-io 2>/dev/null | jq -r '.warnings[]')
like "$warn" 'disables containerd.s CRI plugin .*until "cri" is removed from disabled_plugins' \
	"containerd.io's disabled_plugins = [\"cri\"]: the plan says the drop-in cannot work until CRI is enabled"
dump=$(containerd --config tests/targets/containerd-io/etc/containerd/config.toml config dump 2>&1)
like "$dump" '^disabled_plugins = \["cri"\]$' \
	"containerd itself reads that config as the CRI plugin disabled"

apply_and_dump containerd-1.6 tests/configs/standalone-containerd.yaml no-runtime
like "$dump" "^ *default_runtime_name = \"runc\"$" "without the NVIDIA runtime binary, runc stays the default"
like "$(sect "          [$P.containerd.runtimes.nvidia.options]")" 'BinaryName = "/usr/bin/nvidia-container-runtime"' \
	"runtime nvidia is still offered for runtimeClassName: nvidia"
like "$(sect "        [$P.containerd.runtimes.runc]")" 'runtime_type' "runc is defined, so the CRI plugin loads"

# Config version 3 (containerd 2.x) cannot be loaded by Debian 12's containerd 1.6; check
# the plugin names nvidia-ctk uses for it.
cfg3=$(mktemp)
cleanup_dirs="$cleanup_dirs $cfg3"
sed 's/^containerd: {nvidia: auto}$/containerd: {nvidia: auto, config_version: 3}/' \
	tests/configs/standalone-containerd.yaml > "$cfg3"
plan=$("$NODE_AGENT" plan --config "$cfg3" --root tests/fixtures/gpu-nvidia-driver \
	--target tests/targets/containerd-1.6 2>/dev/null)
drop=$(printf '%s\n' "$plan" | jq -r '.files[] | select(.path == "/etc/containerd/conf.d/99-nvidia.toml") | .content')
like "$drop" '^version = 3$' "config_version 3: the drop-in says version = 3"
like "$drop" '^\[plugins\."io\.containerd\.cri\.v1\.runtime"\.containerd\.runtimes\.nvidia\]$' \
	"config_version 3: the runtime sits in io.containerd.cri.v1.runtime"
is "$(printf '%s\n' "$drop" | grep -c 'grpc.v1.cri')" 0 "config_version 3: no version-2 plugin names"
# K3s creates the nvidia RuntimeClass itself and so does the GPU Operator; a file under
# /var/lib/node-agent/manifests/ was applied by nothing (issue 13, item 9)
is "$(printf '%s\n' "$plan" | jq -r '[.files[].path | select(test("manifests|runtimeclass"))] | length')" 0 \
	"no RuntimeClass file nothing would apply"
done_testing
