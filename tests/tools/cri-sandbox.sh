#!/bin/sh
# The inside of tests/82-containerd-cri.t: run as PID 1 of fresh PID, mount and network
# namespaces (unshare --pid --fork --kill-child --mount-proc --net), so that when it
# exits, containerd, its shims and every container die with it, its mounts vanish, and
# nothing any of them does reaches a network beyond this namespace's loopback.
#
#   cri-sandbox.sh WORK TARGET OUT STANDIN IMAGE_TAR PAUSE_IMAGE GEN_DIR CGROUP_PARENT
#
# TARGET is a scratch target that node-agent apply wrote; containerd reads its two files
# as written, but for the changes said below (paths, and one key where the sandbox needs it).
# STANDIN=yes puts a stand-in nvidia-container-runtime (argv to OUT/standin.log, then
# exec runc) at the drop-in's BinaryName; STANDIN=no makes sure nothing is there.
# Everything the test reads is written to OUT; a reason to skip goes to OUT/skip.
set -u
work=$1 target=$2 out=$3 standin=$4 image_tar=$5 pause=$6 gen=$7 cgparent=$8
tools=$(cd "$(dirname "$0")" && pwd)
sock=$work/containerd.sock
skip() { echo "$*" >"$out/skip"; exit 0; }
note() { echo "$*" >>"$out/setup.log"; }

mount --make-rprivate / || skip "cannot make the mounts private"
ip link set lo up || skip "cannot bring up loopback in the network namespace"
mount -t tmpfs -o size=256m,mode=0700 na-cri "$work" || skip "cannot mount a tmpfs"

# containerd and its runc shim also write below fixed paths (/run/containerd/{s,fifo,runc},
# the CRI plugin creates its CNI conf_dir /etc/cni/net.d): each gets an overlay whose upper
# layer is in this namespace's tmpfs, so the host's files are neither seen changed nor left.
n=0
private_dir() { # private_dir DIR: DIR exists here, writable, and writes do not reach the host
	a=$1
	while [ ! -d "$a" ]; do a=$(dirname "$a"); done
	n=$((n + 1))
	mkdir -p "$work/ov/$n/u" "$work/ov/$n/w"
	mount -t overlay "na-cri-$n" -o "lowerdir=$a,upperdir=$work/ov/$n/u,workdir=$work/ov/$n/w" "$a" ||
		skip "cannot mount an overlay on $a (overlayfs)"
	mkdir -p "$1"
	note "overlay on $a for $1"
}
private_dir /run/containerd
private_dir /etc/cni/net.d

bin=$(sed -n 's/^ *BinaryName = "\(.*\)"$/\1/p' "$target/etc/containerd/conf.d/99-nvidia.toml")
[ -n "$bin" ] || skip "the drop-in names no BinaryName"
echo "$bin" >"$out/binary-name"
if [ "$standin" = yes ]; then
	private_dir "$(dirname "$bin")"
	runc=$(command -v runc)
	cat >"$bin" <<-EOF
		#!/bin/sh
		# stand-in for nvidia-container-runtime (tests/82-containerd-cri.t): log, then runc
		echo "\$*" >>"$out/standin.log"
		exec $runc "\$@"
	EOF
	chmod 0755 "$bin"
elif [ -e "$bin" ] || [ -L "$bin" ]; then
	private_dir "$(dirname "$bin")"
	rm -f "$bin"
fi

# The drop-in, copied as node-agent wrote it. Where this process lacks CAP_SYS_RESOURCE (a
# container or VM sandbox that drops it), runc cannot give the pod sandbox the CRI plugin's
# oom_score_adj of -998: the copy then also says restrict_oom_score_adj = true (the CRI
# setting for such places), in its own table at the end. A key in the main config would not
# do: an import replaces the main config's whole CRI plugin table.
mkdir -p "$out/conf.d"
cp "$target/etc/containerd/conf.d/99-nvidia.toml" "$out/conf.d/"
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
if [ $((0x$capeff >> 24 & 1)) -eq 0 ]; then
	printf '\n[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n' \
		>>"$out/conf.d/99-nvidia.toml"
fi

# The main config is the generated one with these changes only, all for running beside the
# host's containerd: its imports glob points to the drop-in's copy, and containerd's own
# directories (root, state, the opt plugin's path) and socket are in this namespace's tmpfs.
sed -e "s|\"/etc/containerd/conf.d/\\*.toml\"|\"$out/conf.d/*.toml\"|" \
	-e "s|^\\( *path = \\)\"/var/lib/containerd/opt\"$|\\1\"$work/opt\"|" \
	-e "/^version = 2$/a root = \"$work/root\"\\nstate = \"$work/state\"" \
	"$target/etc/containerd/config.toml" >"$work/config.toml"
printf '\n[grpc]\n  address = "%s"\n' "$sock" >>"$work/config.toml"
cp "$work/config.toml" "$out/config.toml"

# no network here anyway; a pull that slipped through would also meet a closed proxy port
HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY= \
	containerd --config "$work/config.toml" >"$out/containerd.log" 2>&1 &
cpid=$!
c() { timeout 20 ctr --address "$sock" "$@"; }
i=0
until c version >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $cpid 2>/dev/null; then
		echo "containerd did not answer on $sock within 20 s" >"$out/error"
		exit 1
	fi
	sleep 0.2
done
c plugins ls >"$out/plugins.txt" 2>&1

c -n k8s.io images import "$image_tar" >"$out/import.log" 2>&1
c -n k8s.io images ls -q >"$out/images.txt" 2>&1
c -n k8s.io images ls -q | grep -qxF "$pause" || {
	# the CRI plugin would pull a sandbox image it does not have: never let it try
	echo "the sandbox image is not in containerd's k8s.io namespace after the import" >"$out/error"
	exit 1
}

client() { timeout 60 python3 "$tools/cri-client.py" --socket "$sock" --gen "$gen" "$@"; }
client status >"$out/status.json" 2>>"$out/client.err"
pod() { # pod LABEL HANDLER
	client run --handler "$2" --image localhost/busybox:test --name "pod-$1" \
		--cgroup-parent "$cgparent" --log-dir "$work/logs" --timeout 20 -- \
		/bin/sh -c 'echo ok; cat /proc/self/cgroup' >"$out/pod-$1.json" 2>>"$out/client.err"
}
pod default ""
pod runc runc
[ "$standin" = yes ] || pod nvidia nvidia

# a clean stop; what is left when this script (PID 1) exits, the kernel kills
kill $cpid
(sleep 10 && kill -9 $cpid 2>/dev/null) &
wait $cpid
exit 0
