#!/usr/bin/env bash
# Peak memory of loading a Qwen2.5-0.5B-shaped BF16 checkpoint through the
# model loader (engine/model.Load, as every command uses it): writes a
# synthetic checkpoint (random BF16, ~988 MB, not kept), then runs
# `rlt logprobs` on two tokens under /usr/bin/time -v and compares the peak
# RSS with the float32 weights (494M parameters × 4 bytes = 1.976 GB).
#   bash bench/load_qwen05b.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$(mktemp -d /tmp/qwen05b-XXXXXX)}
mkdir -p "$dir"
go test -c -o "$dir/hf.test" ./engine/hf
RLT_HF_QWEN05B_DIR=$dir "$dir/hf.test" -test.run '^TestQwen05BWrite$' >/dev/null
go build -o "$dir/rlt" .
echo '{"ids": [1, 2]}' | /usr/bin/time -v "$dir/rlt" logprobs --model "$dir" >/dev/null 2>"$dir/time.txt" || { cat "$dir/time.txt"; exit 1; }
rss_kb=$(grep 'Maximum resident set size' "$dir/time.txt" | awk '{print $NF}')
wall=$(grep 'Elapsed (wall' "$dir/time.txt" | awk '{print $NF}')
python3 -c "
rss=$rss_kb*1024; f32=494032768*4
print(f'peak RSS {rss/1e9:.3f} GB for {f32/1e9:.3f} GB of float32 weights: {rss/f32:.3f}x (limit 1.10x); wall {\"$wall\"}')"
rm -rf "$dir"
