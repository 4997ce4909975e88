/* SPDX-License-Identifier: MIT */
#pragma once

#include "hw.h"
#include "plan/plan.h"

/*
 * Labels derived from the hardware alone, in the formats the cluster's GPU tooling already
 * selects on, so GPU workloads schedule from the first minute without NFD or GFD running:
 *  - NVIDIA GPU Feature Discovery: nvidia.com/gpu.present|count|product|memory|family|machine
 *  - Node Feature Discovery defaults: feature.node.kubernetes.io/pci-<class>_<vendor>.present
 *    and the GPU Operator's pci-<vendor>.present, cpu-cpuid.<FLAG>, storage-nonrotationaldisk
 *  - AMD's node labeller: amd.com/gpu.device-id, .vram, .product-name
 *  - Intel's NFD rules: intel.feature.node.kubernetes.io/gpu, gpu.intel.com/device-id.*
 *  - one label per distinct GPU model, gpu.node-agent.io/<model>=<count>, so a workload can
 *    pick the node with a given model when nodes mix models
 *  - node-agent.io/disk-health and memory-health: ok, warning or failing (inventory/health.h)
 * Returns 0, or -ENOMEM when an allocation failed (OUT then holds only some labels).
 */
int labels_from_hardware(const hw_inventory *inv, na_kv_list *out);

/* The tool that owns KEY once it runs ("gpu-feature-discovery", "gpu-operator",
 * "node-feature-discovery", "amd-node-labeller"), or NULL for node-agent's own keys
 * (gpu.node-agent.io/). */
const char *labels_owner(const char *key);
