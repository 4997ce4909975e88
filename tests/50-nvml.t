#!/bin/sh
# NVML through dlopen("libnvidia-ml.so.1"), with a stand-in library built from
# tests/nvml-stub.c (the real one ships with NVIDIA's driver, which cannot be installed here).
. "$(dirname "$0")/lib.sh"

stub=${NVML_STUB_DIR:-$(dirname "$NODE_AGENT")/tests/nvml}
if [ ! -e "$stub/libnvidia-ml.so.1" ]; then
	skip "NVML" "stand-in library not built ($stub)"
	done_testing
	exit 0
fi
export NVML_STUB_DEVICES="0000:01:00.0=NVIDIA GeForce RTX 5070=12817793024;00000000:02:00.0=NVIDIA GeForce RTX 3050=8589934592"
run() { LD_LIBRARY_PATH=$stub "$NODE_AGENT" inventory --quiet "$@"; }
q() { printf '%s\n' "$out" | jq -c "$1"; }

out=$(run --root "$FIXTURES/gpu-dual-nvidia" --nvml)
ok $? "inventory with NVML exits 0"
is "$(q '[.gpus[] | [.model, .model_source, .memory_bytes]]')" \
	'[["NVIDIA GeForce RTX 5070","nvidia-driver",12817793024],["NVIDIA GeForce RTX 3050","nvidia-driver",8589934592]]' \
	"dual GPU: memory from NVML, names from the driver's procfs (which wins)"

out=$(run --root "$FIXTURES/gpu-newer-than-pciids" --nvml)
is "$(q '.gpus[0] | [.model, .model_source, .memory_bytes]')" \
	'["NVIDIA GeForce RTX 5070","nvml",12817793024]' \
	"no procfs Model: line: NVML's name beats the built-in table"

out=$(run --root "$FIXTURES/gpu-dual-nvidia")
is "$(q '[.gpus[].memory_bytes]')" '[null,null]' "with a fixture root NVML is not consulted unless --nvml"

out=$(NVML_STUB_DEVICES= run --root "$FIXTURES/gpu-nvidia-nodriver" --nvml)
is "$(q '.gpus[0] | [.model, .model_source, .memory_bytes]')" \
	'["NVIDIA GeForce RTX 3050 8GB","pci.ids",null]' "NVML without the device: pci.ids name, memory unknown"

# GFD's labels from NVML (k8s-device-plugin internal/lm/resource.go): gpu.product from NVML's
# name, gpu.memory from its total in MiB, compute.major/minor from
# nvmlDeviceGetCudaComputeCapability and the family from them (getArchFamily). The stub's
# capability is 9.0, which no RTX 3050 has: the labels must come from NVML, not the chip.
out=$(NVML_STUB_DEVICES="0000:01:00.0=NVIDIA GeForce RTX 3050=8589934592=9.0" run --root "$FIXTURES/gpu-nvidia-nodriver" --nvml)
is "$(q '.gpus[0] | [.model, .model_source, .pci_ids_model, .memory_bytes, .compute_capability]')" \
	'["NVIDIA GeForce RTX 3050","nvml","NVIDIA GeForce RTX 3050 8GB",8589934592,"9.0"]' \
	"NVML: name, memory and compute capability; pci_ids_model keeps pci.ids' name"
tmp=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $tmp"
printf '%s\n' "$out" > "$tmp/inv.json"
labels=$("$NODE_AGENT" plan --config "$TESTS_DIR/../node-agent/examples/homelab.yaml" --inventory "$tmp/inv.json" \
	--target "$tmp" 2>/dev/null | jq -c '.labels')
is "$(printf '%s\n' "$labels" | jq -c '[."nvidia.com/gpu.product", ."nvidia.com/gpu.memory", ."nvidia.com/gpu.compute.major", ."nvidia.com/gpu.compute.minor", ."nvidia.com/gpu.family"]')" \
	'["NVIDIA-GeForce-RTX-3050","8192","9","0","hopper"]' "plan: GFD's product, memory, capability and family, from NVML"
is "$(printf '%s\n' "$labels" | jq -c '[."gpu.node-agent.io/NVIDIA-GeForce-RTX-3050-8GB", ."gpu.node-agent.io/NVIDIA-GeForce-RTX-3050"]')" \
	'["1",null]' "plan: the per-model label keeps pci.ids' name, as on a boot without the driver"
out=$(NVML_STUB_DEVICES="0000:01:00.0=NVIDIA GeForce RTX 3050=8589934592" run --root "$FIXTURES/gpu-nvidia-nodriver" --nvml)
is "$(q '.gpus[0].compute_capability')" 'null' "a driver that does not know the capability: null"

out=$(LD_LIBRARY_PATH=/nonexistent "$NODE_AGENT" inventory --quiet --root "$FIXTURES/gpu-dual-nvidia" --nvml)
is "$(q '[.gpus[].memory_bytes, (.warnings | length)]')" '[null,null,0]' \
	"no libnvidia-ml.so.1 at all: memory unknown, no warning"
done_testing
