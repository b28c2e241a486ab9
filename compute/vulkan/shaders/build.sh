#!/bin/sh
# Compiles every GLSL compute shader here to SPIR-V with glslc (Debian:
# glslc). Run through `go generate ./compute/vulkan`; the .spv files are
# committed and embedded, so building the workbench needs no shader compiler.
# gemm16, gemv16 and rows16 are gemm, gemv and rows compiled with -DB16:
# their weight or table operand is 16-bit (bfloat16 or float16) storage;
# gemm128_16 is gemm128 compiled so.
set -e
cd "$(dirname "$0")"
for f in *.comp; do
	glslc -O --target-env=vulkan1.1 -o "${f%.comp}.spv" "$f"
done
for k in gemm gemv rows; do
	glslc -O --target-env=vulkan1.1 -DB16 -o "${k}16.spv" "$k.comp"
done
glslc -O --target-env=vulkan1.1 -DB16 -o gemm128_16.spv gemm128.comp
