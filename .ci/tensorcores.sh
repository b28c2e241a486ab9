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
#
# First it checks the committed SPIR-V: the tree has trixie's glslc, the
# compiler whose bytes are committed (compute/vulkan/shaders/build.sh says
# why that one), and build.sh run in it on a copy of the shaders' sources
# must make every committed .spv byte for byte and no other, so a shader
# changed without its .spv (or built by another glslc) fails CI (33 s here).
# `bash .ci/tensorcores.sh shaders` instead rebuilds the .spv of this
# checkout in place with that glslc, and runs no test.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
root=${RLT_TRIXIE:-/tmp/rlt-trixie}
packages=(./compute/vulkan ./engine/device ./engine/model ./engine/sample ./engine/rlt)
shaders=compute/vulkan/shaders

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
# glslc from trixie itself, not its backports: build.sh pins that version.
if [ ! -x "$root/usr/bin/glslc" ]; then
	if ! chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq glslc' >"$root/tmp/install.log" 2>&1; then
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
if [ "${1:-}" = shaders ]; then
	chroot "$root" sh "$repo/$shaders/build.sh"
	echo "rebuilt $shaders/*.spv with $(chroot "$root" glslc --version | sed -n 1p)"
	exit 0
fi
chroot "$root" vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|driverInfo' | sed 's/^/trixie: /'

status=0
built="$bin/shaders"
mkdir "$built"
cp -R "$shaders/." "$built"
rm -f "$built"/*.spv
if ! chroot "$root" sh "${built#"$root"}/build.sh" >"$bin/shaders.log" 2>&1; then
	cat "$bin/shaders.log"
	echo "FAIL	$shaders: build.sh fails with trixie's glslc"
	status=1
else
	# Bytes are compared only under the glslc build.sh pins: a Debian update
	# of trixie's shaderc would otherwise turn every CI run red for bytes no
	# source change made. Under another version the sources must still
	# compile and make the committed set of files, and the log says so.
	want=$(sed -n "s/^want='\(.*\)'$/\1/p" "$shaders/build.sh")
	have=$(chroot "$root" glslc --version | sed -n 1p)
	differ=()
	for name in $( { ls "$shaders"; ls "$built"; } | grep '\.spv$' | sort -u); do
		if [ ! -f "$shaders/$name" ] || [ ! -f "$built/$name" ]; then
			differ+=("$name")
		elif [ "$have" = "$want" ] && ! cmp -s "$shaders/$name" "$built/$name"; then
			differ+=("$name")
		fi
	done
	if [ ${#differ[@]} -gt 0 ]; then
		echo "FAIL	$shaders: build.sh with $have does not make the committed ${differ[*]} (missing on either side, or other bytes): rebuild with bash .ci/tensorcores.sh shaders and commit the .spv with their sources"
		status=1
	elif [ "$have" != "$want" ]; then
		echo "ok  	$shaders (every shader compiles; bytes not compared: the tree's glslc is $have, build.sh pins $want)"
	else
		echo "ok  	$shaders (every committed .spv rebuilt byte for byte)"
	fi
fi
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
