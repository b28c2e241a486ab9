#!/bin/sh
# Compiles every GLSL compute shader here to SPIR-V with glslc (Debian:
# glslc). The .spv files are committed and embedded, so building the
# workbench needs no shader compiler. They are what Debian trixie's glslc
# (shaderc 2025.2-1: glslang 15.1.0, SPIRV-Tools 2025.1~rc1) makes, byte for
# byte; another version compiles the same sources to other bytes (bookworm's
# 2023.2 does for every shader it compiles, and cannot compile gemmcm and
# attn_cm at all), so rebuild with that one: `bash .ci/tensorcores.sh
# shaders` (root and deb.debian.org, the first time) runs this script in
# its trixie tree on this checkout. `go generate ./compute/vulkan` runs it
# with the glslc on PATH (or GLSLC) and says so when that is another
# version. CI (.ci/tensorcores.sh) checks that this script rebuilds every
# committed .spv from its source, and no other, so a shader changed without
# its .spv fails.
# gemm16, gemv16, rows16, gemv_glu16 and gemv3_16 are gemm, gemv, rows,
# gemv_glu and gemv3 compiled with -DB16:
# their weight or table operand is 16-bit (bfloat16 or float16) storage;
# gemm128_16 is gemm128 compiled so. The tiled attention kernels (attn_fa,
# attn_fa_dq, attn_fa_dkv) are compiled for tiles of 32 and of 16 rows
# (-DTT), e.g. attn_fa32.spv.
# gemmscale16 is gemmscale with -DB16; gemmcm (and gemmcm128, -DBIG; both
# again with -DB16 as gemmcm16, gemmcm128_16; gemmcm128w and gemmcm128k64
# are gemmcm128's other shapes, -DWIDE and -DK64) and attention's kernels
# on tensor cores (attn_cm, attn_cm_dq, attn_cm_dkv, which include
# attn_cm.glsl; again with -DHDP=128u as attn_cm128, attn_cm128_dq,
# attn_cm128_dkv) use GL_KHR_cooperative_matrix, which needs
# glslc from shaderc 2023.8 or later (Debian trixie's, not bookworm's
# 2023.2).
set -e
cd "$(dirname "$0")"
GLSLC=${GLSLC:-glslc}
want='shaderc 2025.2-1'
have=$($GLSLC --version | head -n 1)
if [ "$have" != "$want" ]; then
	echo "build.sh: $GLSLC is $have, not $want (Debian trixie's): the .spv will differ from the committed ones; bash .ci/tensorcores.sh shaders rebuilds them with $want" >&2
fi
for f in *.comp; do
	case $f in gemmcm.comp | attn_fa.comp | attn_fa_dq.comp | attn_fa_dkv.comp | attn_cm*.comp) continue ;; esac
	$GLSLC -O --target-env=vulkan1.1 -o "${f%.comp}.spv" "$f"
done
for k in gemm gemv rows gemv_glu; do
	$GLSLC -O --target-env=vulkan1.1 -DB16 -o "${k}16.spv" "$k.comp"
done
$GLSLC -O --target-env=vulkan1.1 -DB16 -o gemv3_16.spv gemv3.comp
$GLSLC -O --target-env=vulkan1.1 -DB16 -o gemm128_16.spv gemm128.comp
for k in attn_fa attn_fa_dq attn_fa_dkv; do
	for t in 32 16; do
		$GLSLC -O --target-env=vulkan1.1 -DTT=${t}u -o "$k$t.spv" "$k.comp"
	done
done
$GLSLC -O --target-env=vulkan1.1 -DB16 -o gemmscale16.spv gemmscale.comp
if ! $GLSLC -O --target-env=vulkan1.2 -o gemmcm.spv gemmcm.comp ||
	! $GLSLC -O --target-env=vulkan1.2 -DBIG -o gemmcm128.spv gemmcm.comp ||
	! $GLSLC -O --target-env=vulkan1.2 -DB16 -o gemmcm16.spv gemmcm.comp ||
	! $GLSLC -O --target-env=vulkan1.2 -DBIG -DB16 -o gemmcm128_16.spv gemmcm.comp ||
	! $GLSLC -O --target-env=vulkan1.2 -DBIG -DWIDE -o gemmcm128w.spv gemmcm.comp ||
	! $GLSLC -O --target-env=vulkan1.2 -DBIG -DK64 -o gemmcm128k64.spv gemmcm.comp ||
	! $GLSLC -O --target-env=vulkan1.2 -o attn_cm.spv attn_cm.comp ||
	! $GLSLC -O --target-env=vulkan1.2 -o attn_cm_dq.spv attn_cm_dq.comp ||
	! $GLSLC -O --target-env=vulkan1.2 -o attn_cm_dkv.spv attn_cm_dkv.comp ||
	! $GLSLC -O --target-env=vulkan1.2 -DHDP=128u -o attn_cm128.spv attn_cm.comp ||
	! $GLSLC -O --target-env=vulkan1.2 -DHDP=128u -o attn_cm128_dq.spv attn_cm_dq.comp ||
	! $GLSLC -O --target-env=vulkan1.2 -DHDP=128u -o attn_cm128_dkv.spv attn_cm_dkv.comp; then
	echo "build.sh: gemmcm and attn_cm need a glslc with GL_KHR_cooperative_matrix (shaderc 2023.8 or later; set GLSLC)" >&2
	exit 1
fi
