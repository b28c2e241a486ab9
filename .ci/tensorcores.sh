#!/usr/bin/env bash
# Runs the GPU tests again on a Vulkan device with cooperative matrices
# (tensor cores' Vulkan face), so matmul f16 (compute/vulkan's gemmcm) is
# tested in every CI run, not only on a real GPU. Debian bookworm's lavapipe
# (Mesa 22.3) has none; Mesa 26.1's (trixie-backports) has 8×8×8 float16
# ones. This makes a minimal Debian trixie tree with debootstrap (cached in
# $RLT_TRIXIE, default /tmp/rlt-trixie), installs that Mesa in it, builds
# the test binaries of the packages that reach the GPU here, and runs them
# in the tree with the repository bind-mounted at its own path, under
# RLT_REQUIRE_GPU=1 and RLT_REQUIRE_COOPMAT=1: a missing device or missing
# cooperative matrices fail rather than skip. The tree has Khronos'
# validation layer too, so TestValidationLayer re-runs the tensor-core tests
# under it. Needs root (debootstrap, chroot, mount) and deb.debian.org.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
root=${RLT_TRIXIE:-/tmp/rlt-trixie}
packages=(./compute/vulkan ./engine/device ./engine/model ./engine/sample ./engine/rlt)

if [ ! -x "$root/usr/bin/vulkaninfo" ] || [ ! -f "$root/usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json" ]; then
	command -v debootstrap >/dev/null 2>&1 || {
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
	}
	rm -rf "$root"
	debootstrap --variant=minbase trixie "$root" http://deb.debian.org/debian >/dev/null
	echo "deb http://deb.debian.org/debian trixie-backports main" >"$root/etc/apt/sources.list.d/backports.list"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	if ! chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie-backports mesa-vulkan-drivers libvulkan1 vulkan-tools vulkan-validationlayers' >"$root/tmp/install.log" 2>&1; then
		cat "$root/tmp/install.log"
		exit 1
	fi
fi

bin=$(mktemp -d "$root/tmp/rlt-tests.XXXXXX")
mkdir -p "$root$repo"
cleanup() {
	umount "$root$repo" 2>/dev/null || true
	umount "$root/proc" 2>/dev/null || true
	rm -rf "$bin"
}
trap cleanup EXIT
mount --bind /proc "$root/proc"
mount --bind "$repo" "$root$repo"
chroot "$root" vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|driverInfo' | sed 's/^/trixie: /'

status=0
for p in "${packages[@]}"; do
	name=$(basename "$p")
	go test -c -o "$bin/$name.test" "$p"
	if ! chroot "$root" sh -c "cd '$repo/$p' && RLT_REQUIRE_GPU=1 RLT_REQUIRE_COOPMAT=1 '${bin#"$root"}/$name.test' -test.short -test.count=1" >"$bin/$name.log" 2>&1; then
		cat "$bin/$name.log"
		echo "FAIL	$p (on $(chroot "$root" vulkaninfo --summary 2>/dev/null | grep -m1 driverInfo | sed 's/.*= //'))"
		status=1
	else
		echo "ok  	$p (cooperative matrices)"
	fi
done
exit $status
