#!/usr/bin/env bash
# Training-step and sampling tokens/s on the GPU (compute/vulkan) at the toy
# shape (the PyTorch peer's, model.PeerConfig) and at Qwen2.5-0.5B's shape,
# on whatever Vulkan device is present (--device gpu), beside the CPU
# backend at the toy shape.
#
#   bash bench/gpu.sh              # from the repository root
#   SHAPES="toy 0.5b" bash bench/gpu.sh
#
# First it checks correctness on the device: the Backend conformance suite
# and whole-model parity against the CPU. On a CPU Vulkan device (Mesa's
# lavapipe) the benchmarks run at a reduced toy batch as a correctness run:
# lavapipe figures are never speed claims, and the 0.5B shape is skipped
# there (its 544 MB embedding passes lavapipe's 128 MiB buffer range).
#
# PyTorch on the same GPU: not written yet. A CUDA peer of
# ../shared/bench/torch_ref.py (bf16 where PyTorch uses bf16) is still to
# come, so speed on a real GPU, and against PyTorch, is not yet measured.
set -euo pipefail
cd "$(dirname "$0")/.."
SHAPES=${SHAPES:-"toy 0.5b"}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "== go: $(go version | cut -d' ' -f3-)"
go test -c -o "$TMP/vulkan.test" ./compute/vulkan
go test -c -o "$TMP/model.test" ./engine/model
info=$(cd compute/vulkan && RLT_REQUIRE_GPU=1 "$TMP/vulkan.test" -test.run '^TestDeviceInfo$' -test.v 2>&1 | grep 'device "' || true)
if [ -z "$info" ]; then
	echo "no Vulkan device: install a GPU driver (or libvulkan1 mesa-vulkan-drivers for lavapipe)" >&2
	exit 1
fi
echo "== device: $(echo "$info" | sed 's/^ *device_test.go:[0-9]*: //')"
lavapipe=0
echo "$info" | grep -q 'type cpu' && lavapipe=1

echo "== correctness on the device (conformance suite, whole-model parity)"
(cd compute/vulkan && RLT_REQUIRE_GPU=1 "$TMP/vulkan.test" -test.run '^TestBackendConformance$' -test.count=1)
(cd engine/model && RLT_REQUIRE_GPU=1 "$TMP/model.test" -test.run '^TestDeviceParity$' -test.count=1)

bench() { # device shape B T NEW
	echo "== $1 $2: batch $3 x $4 training, $3 x $5 sampled"
	(cd engine/model && RLT_BENCH_DEVICE=$1 RLT_BENCH_SHAPE=$2 RLT_BENCH_B=$3 RLT_BENCH_T=$4 RLT_BENCH_NEW=$5 \
		"$TMP/model.test" -test.run '^$' -test.bench '^BenchmarkDevice(TrainStep|Sample)$' -test.benchtime "${6:-3x}") |
		grep -E '^Benchmark|device '
}

if [ "$lavapipe" = 1 ]; then
	echo "(lavapipe: a correctness run at a reduced toy batch, not a speed measurement; 0.5B skipped)"
	bench gpu toy 2 16 4 1x
	bench cpu toy 2 16 4 1x
	echo "speed on a real GPU: not yet measured (no GPU here)"
	exit 0
fi
for s in $SHAPES; do
	case $s in
	toy) bench gpu toy 16 128 128; bench cpu toy 16 128 128 ;;
	0.5b) bench gpu 0.5b 8 512 128 2x ;;
	*) echo "unknown shape $s (toy or 0.5b)" >&2; exit 2 ;;
	esac
done
echo "PyTorch on this GPU: not compared yet (no CUDA peer written)"
