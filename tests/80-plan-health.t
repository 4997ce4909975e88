#!/bin/sh
# The plan and the machine's condition (issue 16): a disk whose own health report says
# "failing" is never the data disk (neither formatted nor mounted, even with our
# filesystem on it), one saying "warning" is used with a warning; node-agent.io/disk-health
# and memory-health labels; rules match on them (tests/configs/health.yaml).
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

inv=tests/plans/inventories/health
plan() { "$NODE_AGENT" plan --config tests/configs/health.yaml --inventory "$inv/$1.json" \
	--target tests/targets/empty 2>/dev/null; }

p=$(plan thinkpad-worn)
is "$(printf '%s\n' "$p" | jq -c '[.data_disk.device, .data_disk.action]')" '["sda","format"]' \
	"the failing NVMe holds our filesystem, but the blank SATA disk is the data disk"
like "$(printf '%s\n' "$p" | jq -r '.disk_decisions[0]')" \
	'^nvme0n1: refused: its health is "failing" .*never the data disk, and what it holds is left as it is$' \
	"disk_decisions says why the failing disk is refused"
like "$(printf '%s\n' "$p" | jq -r '.warnings[]')" 'sda is the data disk, and its health is "warning"' \
	"a data disk whose health is warning: a warning"
is "$(printf '%s\n' "$p" | jq -c '[.labels["node-agent.io/disk-health"], .labels["node-agent.io/memory-health"], .labels.memory, .labels.condition]')" \
	'["failing","warning","suspect",null]' "labels: the worst disk, the memory controller's errors; rules matched on them"
is "$(printf '%s\n' "$p" | jq -c .taints)" '["node-agent.io/disk-failing=true:NoSchedule"]' \
	"a rule turns the failing disk into a taint"

p=$(plan thinkpad-good)
is "$(printf '%s\n' "$p" | jq -c '[.data_disk.device, .labels["node-agent.io/disk-health"], .labels["node-agent.io/memory-health"], .labels.condition, .taints]')" \
	'["nvme0n1","ok","ok","good",[]]' "a healthy machine: its disk is used, ok labels, the healthy rule matches"

# no health known (an inventory of before): no health label, no health rule matches
p=$("$NODE_AGENT" plan --config tests/configs/health.yaml --inventory tests/plans/inventories/thinkpad-t480.json \
	--target tests/targets/empty 2>/dev/null)
is "$(printf '%s\n' "$p" | jq -c '[.labels["node-agent.io/disk-health"], .labels["node-agent.io/memory-health"], .labels.condition, .data_disk.device]')" \
	'[null,null,null,"nvme0n1"]' "health unknown: no label, no rule on health matches, the disk is used"

# a failing disk that is the only candidate: nothing is formatted or mounted
jq '.disks |= map(select(.name == "nvme0n1"))' "$inv/thinkpad-worn.json" > "${TMPDIR:-/tmp}/na-worn-$$.json"
p=$("$NODE_AGENT" plan --config tests/configs/health.yaml --inventory "${TMPDIR:-/tmp}/na-worn-$$.json" \
	--target tests/targets/empty 2>/dev/null)
rm -f "${TMPDIR:-/tmp}/na-worn-$$.json"
is "$(printf '%s\n' "$p" | jq -c '[.data_disk, (.warnings | map(select(test("no disk can be used"))) | length)]')" \
	'[null,1]' "the failing disk alone: no data disk, and the plan says so"
done_testing
