#!/bin/sh
# Compiles every GLSL compute shader here to SPIR-V with glslc (Debian:
# glslc). Run through `go generate ./compute/vulkan`; the .spv files are
# committed and embedded, so building the workbench needs no shader compiler.
set -e
cd "$(dirname "$0")"
for f in *.comp; do
	glslc -O --target-env=vulkan1.1 -o "${f%.comp}.spv" "$f"
done
