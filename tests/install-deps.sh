#!/bin/sh
# Install what building (profile "build"), the image ("image"), testing ("test") or capturing a
# QEMU fixture ("capture") needs, from Debian's archive. Idempotent: nothing is downloaded when
# every package is already installed. tests/01-deps.t checks that every program the scripts
# run comes from a package named here (tests/tools/check-deps.pl).
set -eu
profile=${1:-build}

build_pkgs="build-essential gcc make binutils pkg-config libsystemd-dev libnl-3-dev libnl-route-3-dev
	libblkid-dev libcurl4-openssl-dev libssl-dev libyaml-dev libjson-c-dev pci.ids"
# node-agent serve: the headers of the libraries it dlopen()s (basic/dl.h); the -dev packages
# bring the runtime ones, libmicrohttpd12 and libsqlite3-0
build_pkgs="$build_pkgs libmicrohttpd-dev libsqlite3-dev"
# its page (node-agent/serve/page/) is turned into C by a Perl script at build time
build_pkgs="$build_pkgs perl"
test_pkgs="$build_pkgs perl e2fsprogs fdisk lvm2 iproute2 util-linux mount mawk lshw hyperfine
	strace time jq containerd python3 openssl"
# the format check of make test (.clang-format)
test_pkgs="$test_pkgs clang-format"
# tests/86-k3s-double.t: the K3s API test double checked with the curl CLI
test_pkgs="$test_pkgs curl"
# tests/bench/serve-load.sh (make bench-serve, tests/104-serve-load.t): Debian's nginx as the
# plain static server node-agent serve is measured against (nginx-light: the program is in
# package nginx, which it depends on; the bench runs its own nginx in the foreground)
test_pkgs="$test_pkgs nginx-light nginx"
# tests/82-containerd-cri.t: pods through containerd's CRI plugin: runc, a CRI client in
# Python (gRPC and its protoc) and the static busybox of the test's image
test_pkgs="$test_pkgs runc python3-grpcio python3-grpc-tools busybox-static"
# make fuzz (tests/fuzz/): clang and its libFuzzer, ASan and UBSan runtimes
test_pkgs="$test_pkgs clang libclang-rt-14-dev"
# tests/100-report.t: the HTML fleet report rendered and sorted in headless Chromium
test_pkgs="$test_pkgs chromium"
# make image (mkosi.conf, images/): mkosi 14 and what it and the USB image use
image_pkgs="$build_pkgs mkosi systemd-container debootstrap dosfstools mtools zstd cpio kmod
	systemd-boot-efi e2fsprogs fdisk mount mawk"
# make e2e (tests/e2e/): QEMU with its iPXE ROMs, OVMF, the loopback relay and servers
e2e_pkgs="qemu-system-x86 ipxe-qemu ovmf socat python3 openssl jq"
# e2e.sh usb: Secure Boot with the stick signed by images/usb-sign.sh, and a TPM 2.0 (swtpm,
# also the TPM of tests/92-tpm.t, 92-run-credentials.t, 99-serve-join.t, 99-serve-cluster.t)
e2e_pkgs="$e2e_pkgs sbsigntool mtools swtpm"
test_pkgs="$test_pkgs $image_pkgs $e2e_pkgs"
# tests/98-pxe-lan.t: a LAN of network namespaces with dnsmasq as the home router (dnsmasq-base:
# the program without the system service that would start on the host), iPXE's boot programs
# (ipxe: undionly.kpxe, ipxe.efi, snponly.efi), QEMU with its iPXE ROMs and OVMF
test_pkgs="$test_pkgs dnsmasq-base ipxe qemu-system-x86 ipxe-qemu ovmf python3"
# make capture-qemu (tests/qemu-capture.sh): Debian's kernel and its modules booted in QEMU
# with a static busybox initramfs; OVMF for UEFI=1
capture_pkgs="qemu-system-x86 ovmf linux-image-amd64 busybox-static kmod cpio gzip file xz-utils
	mawk"
# tests/97-qemu-smart.t (tests/qemu-smart.sh): the same kernel in QEMU, with the readings of
# disk health that node-agent's are compared with: smartctl, nvme-cli, sg_raw
smart_pkgs="qemu-system-x86 linux-image-amd64 busybox-static kmod cpio gzip mawk smartmontools
	nvme-cli sg3-utils"
capture_pkgs="$capture_pkgs $smart_pkgs"
test_pkgs="$test_pkgs $smart_pkgs"

case "$profile" in
build) pkgs=$build_pkgs ;;
test) pkgs=$test_pkgs ;;
image) pkgs=$image_pkgs ;;
capture) pkgs=$capture_pkgs ;;
*) echo "usage: $0 build|test|image|capture" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	"install ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
