#!/bin/sh
# Writes a synthetic checkpoint with Qwen2.5-0.5B's shapes (vocab 151936,
# hidden 896, 24 layers, 14 heads, 2 KV heads, ff 4864, tied embeddings;
# random BF16 values, ~988 MB) into DIR, then reads every tensor into float32
# buffers (~1.98 GB) in a fresh process under /usr/bin/time -v and reports
# its peak resident set size. Nothing is written to the repository.
#   engine/hf/testdata/make_qwen05b.sh [DIR]    (default: a new /tmp dir)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$(mktemp -d /tmp/qwen05b-XXXXXX)}
mkdir -p "$dir"
cd "$here/.."
go test -c -o "$dir/hf.test" .
RLT_HF_QWEN05B_DIR=$dir "$dir/hf.test" -test.run '^TestQwen05BWrite$' -test.v
RLT_HF_QWEN05B_DIR=$dir /usr/bin/time -v "$dir/hf.test" -test.run '^TestQwen05BRead$' -test.v 2>"$dir/time.txt"
grep -E 'Maximum resident set size|Elapsed \(wall' "$dir/time.txt"
ls -l "$dir"
echo "# remove with: rm -r $dir"
