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

out=$(LD_LIBRARY_PATH=/nonexistent "$NODE_AGENT" inventory --quiet --root "$FIXTURES/gpu-dual-nvidia" --nvml)
is "$(q '[.gpus[].memory_bytes, (.warnings | length)]')" '[null,null,0]' \
	"no libnvidia-ml.so.1 at all: memory unknown, no warning"
done_testing
