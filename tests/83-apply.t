#!/bin/sh
# apply: files written with their modes, a second run changes nothing and says so,
# --dry-run writes nothing and shows a diff, and a process killed between writes leaves
# every file either old or new; running again converges.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

cfg=tests/configs/standalone-containerd.yaml
src="--root tests/fixtures/gpu-nvidia-driver"
t=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $t"
cp -a tests/targets/containerd-1.6/. "$t/"
snapshot() { (cd "$t" && find . -type f -o -type l | sort | while read -r f; do
	printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -c1-16)"; done); }

# shellcheck disable=SC2086
out=$("$NODE_AGENT" apply --config $cfg $src --target "$t" --dry-run 2>/dev/null)
ok $? "--dry-run exits 0"
is "$(snapshot)" "$(cd tests/targets/containerd-1.6 && find . -type f -o -type l | sort | while read -r f; do
	printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -c1-16)"; done)" \
	"--dry-run wrote nothing"
like "$out" '^\+\+\+ /etc/rancher/k3s/config.yaml$' "--dry-run shows a diff for the new K3s config"
like "$out" '^-\[plugins\]$' "--dry-run shows Debian's config.toml lines being replaced"
like "$out" '^\+imports = \["/etc/containerd/conf.d/\*.toml"\]$' "--dry-run shows the new imports line"

# shellcheck disable=SC2086
out=$("$NODE_AGENT" apply --config $cfg $src --target "$t" 2>/dev/null)
ok $? "apply exits 0"
like "$out" '^3 changed, 0 unchanged, 0 failed$' "first apply writes the three files"
is "$(stat -c %a "$t/etc/rancher/k3s/config.yaml")" 600 "config.yaml is 0600"
is "$(stat -c %a "$t/etc/containerd/conf.d/99-nvidia.toml")" 644 "the containerd drop-in is 0644"
is "$(cat "$t/etc/rancher/k3s/config.yaml")" \
	"$("$NODE_AGENT" plan --config $cfg $src --target "$t" 2>/dev/null | jq -r '.files[0].content')" \
	"config.yaml holds exactly the planned content"
is "$(find "$t" -name '*.node-agent-tmp' | wc -l)" 0 "no temporary files left"

before=$(snapshot)
# shellcheck disable=SC2086
out=$("$NODE_AGENT" apply --config $cfg $src --target "$t" 2>/dev/null)
ok $? "second apply exits 0"
like "$out" '^nothing to change: .* already matches the plan$' "second apply says nothing changed"
like "$out" '^0 changed, 3 unchanged, 0 failed$' "second apply counts three unchanged files"
is "$(snapshot)" "$before" "second apply changed no byte and no mode"

# A hand edit and a mode change are shown by --dry-run, then repaired.
printf '# edited by hand\n' >> "$t/etc/rancher/k3s/config.yaml"
chmod 600 "$t/etc/containerd/conf.d/99-nvidia.toml"
# shellcheck disable=SC2086
out=$("$NODE_AGENT" apply --config $cfg $src --target "$t" --dry-run 2>/dev/null)
like "$out" '^-# edited by hand$' "--dry-run shows the hand edit going away"
like "$out" 'would write /etc/containerd/conf.d/99-nvidia.toml \(mode 0644, mode changes\)' \
	"--dry-run lists the drop-in whose mode changed"
# shellcheck disable=SC2086
"$NODE_AGENT" apply --config $cfg $src --target "$t" >/dev/null 2>&1
is "$(snapshot)" "$before" "apply repairs the edit"

# Crash safety: kill the process just before and just after the 2nd and 3rd renames, with
# the config changed so every file has an old and a new version.
cfg2=$(mktemp)
cleanup_dirs="$cleanup_dirs $cfg2"
sed 's/^node_name: .*/node_name: "renamed-${serial}"/; s/token_file: .*/token_file: \/etc\/node-agent\/other-token/
	s/^containerd: {nvidia: auto}$/containerd: {nvidia: auto, config_version: 3}/' $cfg > "$cfg2"
old=$(snapshot)
# shellcheck disable=SC2086
new=$(t2=$(mktemp -d); cp -a "$t/." "$t2/"; "$NODE_AGENT" apply --config "$cfg2" $src --target "$t2" >/dev/null 2>&1;
	(cd "$t2" && find . -type f -o -type l | sort | while read -r f; do
		printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -c1-16)"; done); rm -rf "$t2")
is "$(printf '%s\n%s\n' "$old" "$new" | sort | uniq -u | cut -d' ' -f1 | sort -u | wc -l)" 3 \
	"the changed config changes three files"
for fault in before-rename:1 after-rename:1 before-rename:2 after-rename:2 before-rename:3 after-rename:3; do
	t3=$(mktemp -d)
	cleanup_dirs="$cleanup_dirs $t3"
	cp -a "$t/." "$t3/"
	# shellcheck disable=SC2086
	NODE_AGENT_FAULT=$fault "$NODE_AGENT" apply --config "$cfg2" $src --target "$t3" >/dev/null 2>&1
	is "$?" 70 "$fault: the process stopped where the fault was injected"
	state=$(cd "$t3" && find . \( -type f -o -type l \) ! -name '*.node-agent-tmp' | sort | while read -r f; do
		printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -c1-16)"; done)
	torn=$(printf '%s\n' "$state" | while read -r line; do
		printf '%s\n' "$old" | grep -qxF "$line" || printf '%s\n' "$new" | grep -qxF "$line" || echo "$line"
	done)
	is "$torn" "" "$fault: every file is either the old or the new version"
	# shellcheck disable=SC2086
	"$NODE_AGENT" apply --config "$cfg2" $src --target "$t3" >/dev/null 2>&1
	ok $? "$fault: running again succeeds"
	state=$(cd "$t3" && find . -type f -o -type l | sort | while read -r f; do
		printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -c1-16)"; done)
	is "$state" "$new" "$fault: running again converges on the new state (no temporary file left)"
done
done_testing
