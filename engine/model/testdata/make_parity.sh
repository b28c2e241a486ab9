#!/usr/bin/env bash
# Writes the PyTorch parity fixtures used by engine/model's tests: a tiny
# Qwen2-style model (tied and untied embeddings), its weights, one batch, the
# logits of sequence 0, the loss, every parameter gradient and the loss after
# one AdamW step. Needs Debian's python3-torch (run with /usr/bin/python3).
#   apt-get install -y python3-torch python3-numpy libopenblas0
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ref=${TORCH_REF:-$here/../../../../shared/bench/torch_ref.py}
shape=(--vocab 128 --d-model 64 --layers 2 --heads 4 --kv-heads 2 --d-ff 176 --seq 16 --batch 2 --seed 7)
/usr/bin/python3 "$ref" --export "$here/parity_tied" "${shape[@]}"
/usr/bin/python3 "$ref" --export "$here/parity_untied" "${shape[@]}" --untied
