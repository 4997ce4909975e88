#!/bin/sh
# The GPU and CPU labels of the plan, value by value, each with the upstream file that
# defines it (issue 13): what GPU Feature Discovery, Node Feature Discovery, AMD's node
# labeller and Intel's NodeFeatureRules would publish themselves, nothing they would not,
# and the K3s version floor of default-runtime. (The whole plans are goldens in 80-plan.t.)
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

cfg=node-agent/examples/homelab.yaml
inv=tests/plans/inventories/gpu
plan() { "$NODE_AGENT" plan --config "$cfg" "$@" 2>/dev/null; }
labels() { plan "$@" | jq -c .labels; }
pick() { printf '%s\n' "$l" | jq -c "$1"; }

# --- NVIDIA: k8s-device-plugin internal/lm/resource.go (product, count, memory, family,
# compute), internal/lm/nvml.go (mode), internal/lm/machine-type.go (machine) ---
l=$(labels --root tests/fixtures/gpu-nvidia-nodriver)
is "$(pick '."nvidia.com/gpu.product"')" null \
	"no driver: no gpu.product (GFD names it from NVML; pci.ids says \"RTX 3050 8GB\")"
is "$(pick '."nvidia.com/gpu.memory"')" null "no driver: no gpu.memory (GFD: NVML's total)"
is "$(pick '[."nvidia.com/gpu.count", ."nvidia.com/gpu.compute.major", ."nvidia.com/gpu.compute.minor", ."nvidia.com/gpu.family"]')" \
	'["1","8","6","ampere"]' "GA107: count 1, compute capability 8.6, family ampere (getArchFamily: 8.x below 8.9)"
is "$(pick '[."nvidia.com/gpu.mode", ."nvidia.com/gpu.machine", ."nvidia.com/gpu.present"]')" \
	'["graphics","ThinkCentre-M720q","true"]' \
	"class 030000: mode graphics (getModeForClasses); machine: DMI product sanitised; present (the GPU Operator's)"
is "$(pick '[."gpu.node-agent.io/NVIDIA-GeForce-RTX-3050-8GB", ."gpu.node-agent.io/NVIDIA-GeForce-RTX-3050-8GB.compute", ."gpu.node-agent.io/NVIDIA-GeForce-RTX-3050-8GB.family"]')" \
	'["1","8.6","ampere"]' "the per-model facts are node-agent's, under gpu.node-agent.io/"

l=$(labels --root tests/fixtures/gpu-nvidia-driver)
is "$(pick '."nvidia.com/gpu.product"')" '"NVIDIA-GeForce-RTX-3050"' \
	"the driver's name: gpu.product as GFD sanitises it (sanitise: [^A-Za-z0-9-_. ] removed, spaces to -)"
is "$(pick '."gpu.node-agent.io/NVIDIA-GeForce-RTX-3050-8GB"')" '"1"' \
	"the per-model label keeps pci.ids' name with the driver loaded: the same key on every boot"

l=$(labels --root tests/fixtures/gpu-dual-nvidia)
is "$(pick '[."nvidia.com/gpu.count", ."nvidia.com/gpu.product", ."nvidia.com/gpu.memory", ."nvidia.com/gpu.family", ."nvidia.com/gpu.compute.major"]')" \
	'[null,null,null,null,null]' \
	"two models (RTX 5070 + RTX 3050): none of GFD's per-model values (mig-strategy.go counts per model and one model wins each pass, k8s-device-plugin#731)"
is "$(pick '[."nvidia.com/gpu.present", ."nvidia.com/gpu.mode"]')" '["true","graphics"]' \
	"two models: present and mode (both VGA class) still hold for the node"
is "$(pick '[."gpu.node-agent.io/NVIDIA-GeForce-RTX-5070", ."gpu.node-agent.io/NVIDIA-GeForce-RTX-5070.compute", ."gpu.node-agent.io/NVIDIA-GeForce-RTX-5070.family", ."gpu.node-agent.io/NVIDIA-GeForce-RTX-3050-8GB.family"]')" \
	'["1","12.0","blackwell","ampere"]' "two models: each model's count, capability (GB205: 12.0) and family"

# --- Node Feature Discovery: source/cpu/cpuid_linux_arm64.go (HWCAP names), source/cpu/cpu.go,
# source/pci/pci.go ---
l=$(labels --inventory "$inv/rpi5-arm64.json")
is "$(pick '[keys[] | select(startswith("feature.node.kubernetes.io/cpu-cpuid."))] | map(sub("feature.node.kubernetes.io/cpu-cpuid."; "")) | sort')" \
	'["AES","ASIMD","ASIMDDP","ATOMICS","CRC32","SHA2"]' \
	"arm64: NFD's HWCAP names (cpuinfo's flags in upper case), no x86 AESNI"
l=$(labels --root tests/fixtures/gpu-nvidia-driver)
is "$(pick '[."feature.node.kubernetes.io/cpu-cpuid.AESNI", ."feature.node.kubernetes.io/cpu-cpuid.AES"]')" \
	'["true",null]' "x86: klauspost/cpuid's AESNI"
is "$(pick '[."feature.node.kubernetes.io/pci-0300_10de.present", ."feature.node.kubernetes.io/pci-10de.present"]')" \
	'["true","true"]' "NFD's pci-<class>_<vendor> and the GPU Operator's pci-<vendor> (deviceLabelFields [vendor])"

# --- AMD: ROCm k8s-device-plugin cmd/k8s-node-labeller/main.go (createLabels,
# removeOldNodeLabels): every GPU amdgpu drives counts, APUs too; one value: the plain key;
# values that differ: <kind>.<value>=<count> and no plain key ---
l=$(labels --inventory "$inv/ryzen-8700g-rx6600.json")
is "$(pick '[."amd.com/gpu.device-id", ."amd.com/gpu.vram", ."amd.com/gpu.product-name"]')" '[null,null,null]' \
	"APU + dGPU: no plain amd.com/gpu.* key (the labeller deletes them when values differ)"
is "$(pick '[."amd.com/gpu.device-id.15bf", ."amd.com/gpu.device-id.73ff", ."amd.com/gpu.vram.1G", ."amd.com/gpu.vram.8G"]')" \
	'["1","1","1","1"]' "APU + dGPU: one key per device id and per VRAM size (512 MiB rounds to 1G)"
is "$(pick '[keys[] | select(startswith("amd.com/gpu.product-name"))]')" \
	'["amd.com/gpu.product-name.AMD_Radeon_RX_6600"]' \
	"APU + dGPU: the form is chosen by the GPUs amdgpu drives (two), not the named ones (one): only the RX 6600's key"
l=$(labels --root tests/fixtures/gpu-amd-apu)
is "$(pick '[."amd.com/gpu.device-id", ."amd.com/gpu.vram", ."amd.com/gpu.product-name"]')" '["150e","4G",null]' \
	"one APU: plain keys; no product-name for a name Debian's amdgpu.ids does not have"
l=$(labels --root tests/fixtures/gpu-amd-dgpu)
is "$(pick '."amd.com/gpu.product-name"')" '"AMD_Radeon_RX_6600"' \
	"one dGPU: product-name from amdgpu.ids, spaces to _ (the labeller's sanitising)"

# --- Intel: intel-device-plugins-for-kubernetes deployments/nfd/overlays/node-feature-rules/
# platform-labeling-rules.yaml: .present per device, one .count per class on the first device
# in PCI order, counting all; node-feature-rules.yaml: intel.feature.node.kubernetes.io/gpu ---
l=$(labels --inventory "$inv/i5-12400-arc-a380.json")
is "$(pick '[."gpu.intel.com/device-id.0300-4692.present", ."gpu.intel.com/device-id.0300-56a5.present"]')" \
	'["true","true"]' "two Intel GPUs: .present for each device"
is "$(pick '[."gpu.intel.com/device-id.0300-4692.count", ."gpu.intel.com/device-id.0300-56a5.count"]')" \
	'["2",null]' "two Intel GPUs: one .count, on the first device (00:02.0), of both"
is "$(pick '."intel.feature.node.kubernetes.io/gpu"')" '"true"' "i915 drives them: intel.feature.node.kubernetes.io/gpu"

# --- who takes each label over, and K3s's node-label (k3s pkg/agent/run.go,
# updateMutableLabels: K3s re-applies node-label at every start) ---
p=$(plan --root tests/fixtures/gpu-nvidia-driver)
is "$(printf '%s\n' "$p" | jq -c '.label_owners | to_entries | map(.value) | unique')" \
	'["gpu-feature-discovery","gpu-operator","node-feature-discovery"]' "the owners of an NVIDIA node's hardware labels"
y2j=$(dirname "$NODE_AGENT")/tests/yaml2json
[ -x "$y2j" ] || y2j=$(dirname "$NODE_AGENT")/../tests/yaml2json
is "$(printf '%s\n' "$p" | jq -r '.files[] | select(.path == "/etc/rancher/k3s/config.yaml") | .content' |
	"$y2j" | jq -c '[."node-label"[] | select(test("^(nvidia\\.com|feature\\.node\\.kubernetes\\.io|amd\\.com|gpu\\.intel\\.com)/"))]')" '[]' \
	"none of them in K3s's node-label"

# --- default-runtime and the K3s version (k3s pkg/agent/containerd/config_linux.go; #9311,
# #10761 / PR #10953) ---
for c in "nvidia-runtime-local-bin:null:no K3s version known: taken as the oldest" \
	"nvidia-runtime-local-bin-k3s-1.29.1:null:v1.29.1 looks only in /usr/local/nvidia/toolkit and /usr/bin" \
	"nvidia-runtime-local-bin-k3s-1.31.2:\"nvidia\":v1.31.2 looks in its PATH" \
	"nvidia-toolkit:\"nvidia\":/usr/bin: every K3s looks there"; do
	t=${c%%:*} rest=${c#*:}
	is "$(plan --root tests/fixtures/gpu-nvidia-driver --target "tests/targets/$t" | jq -c .container_runtime.default_runtime)" \
		"${rest%%:*}" "runtime in $t: default-runtime ${rest%%:*} (${rest#*:})"
done
like "$(plan --root tests/fixtures/gpu-nvidia-driver --target tests/targets/nvidia-runtime-local-bin-k3s-1.29.1 | jq -r '.warnings[0]')" \
	'is in /usr/local/bin, where K3s v1.29.1 does not look.*link the runtime into /usr/bin' \
	"the warning names the directory, the version and the remedy"
done_testing
