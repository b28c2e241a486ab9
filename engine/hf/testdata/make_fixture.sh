#!/bin/sh
# Regenerates the PyTorch-written fixtures of package hf (committed; a few KB):
#   torch_tiny/          config.json, model.safetensors, fixture.safetensors from
#                        ../shared/bench/torch_ref.py --export at a tiny shape
#   torch_dtypes.safetensors  float32 values with torch's own BF16 and F16
#                        conversions of them, and half/bfloat16 bit patterns with
#                        torch's float32 widening, written by hand in the
#                        safetensors layout (as torch_ref.py does)
# Needs Debian's python3-torch: run with /usr/bin/python3, not a pyenv python.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)          # repository root
shared=$(cd "$root/../shared" && pwd)       # ../shared beside the repository
py=${PYTHON:-/usr/bin/python3}

rm -rf "$here/torch_tiny"
"$py" "$shared/bench/torch_ref.py" --export "$here/torch_tiny" \
	--vocab 16 --d-model 8 --layers 1 --heads 2 --kv-heads 1 --d-ff 12 \
	--seq 4 --batch 1 --prompt 2 --new-tokens 2 --seed 0

"$py" - "$here/torch_dtypes.safetensors" <<'PY'
import json, random, struct, sys
import numpy as np
import torch

out = sys.argv[1]
rng = random.Random(1234)
f32 = lambda bits: np.frombuffer(struct.pack("<%dI" % len(bits), *bits), dtype=np.float32)

# float32 values that exercise rounding to bfloat16 and float16.
bits = [
    0x00000000, 0x80000000,                          # +-0
    0x3f800000, 0x3f808000, 0x3f818000, 0x3f808001,  # 1, ties to even down/up, just above a tie
    0x3f807fff, 0xbf808000, 0xbf818000,              # just below a tie, negative ties
    0x7f7fffff, 0xff7fffff, 0x7f7f7fff, 0x7f7f8000,  # largest finite: overflow to inf or not
    0x7f800000, 0xff800000,                          # +-inf
    0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa00000,  # quiet/negative/signalling NaNs
    0x00000001, 0x00008000, 0x00018000, 0x007fffff,  # float32 subnormals (bf16 ties among them)
    0x00800000, 0x00808000, 0x80008000,              # smallest normal, ties near it
    0x33800000, 0x33000000, 0x33c00000, 0x387fc000,  # half subnormal range and its ties
    0x477fe000, 0x477ff000, 0x477fefff, 0x47800000,  # half max (65504) and overflow ties
]
bits += [rng.getrandbits(32) for _ in range(200)]
vals = [rng.gauss(0, 1) * 10 ** rng.uniform(-9, 6) for _ in range(200)]
src = torch.from_numpy(np.concatenate([f32(bits), np.array(vals, dtype=np.float32)]).copy())

def bf16_bits(t):
    return t.to(torch.bfloat16).view(torch.int16)

def f16_bits(t):
    return t.to(torch.float16).view(torch.int16)

# bit patterns of the 16-bit types, widened by torch.
h = list(range(0, 0x400, 7)) + list(range(0, 0x10000, 61)) + [
    0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0x7c01, 0x7dff, 0x7e00, 0x7fff,
    0x8001, 0x83ff, 0xfbff, 0xfc00, 0xfe00, 0xffff]
h16 = torch.tensor([x - 0x10000 if x >= 0x8000 else x for x in h], dtype=torch.int16)
b = [rng.getrandbits(16) for _ in range(300)] + [0x0001, 0x007f, 0x0080, 0x7f7f, 0x7f80, 0x7fc0, 0x7f81, 0xff80, 0x8001]
b16 = torch.tensor([x - 0x10000 if x >= 0x8000 else x for x in b], dtype=torch.int16)

tensors = {
    "src": ("F32", src),
    "src_bf16": ("BF16", bf16_bits(src)),
    "src_f16": ("F16", f16_bits(src)),
    "src_f16_f32": ("F32", src.to(torch.float16).float()),
    "f16_patterns": ("F16", h16),
    "f16_patterns_f32": ("F32", h16.view(torch.float16).float()),
    "bf16_patterns": ("BF16", b16),
    "bf16_patterns_f32": ("F32", b16.view(torch.bfloat16).float()),
    "i64": ("I64", torch.tensor([[0, 1, -1], [2**31 - 1, -2**31, 7]], dtype=torch.int64)),
    "scalar": ("F32", torch.tensor(3.5)),
    "empty": ("F32", torch.zeros(0, 3)),
}
header, blobs, off = {"__metadata__": {"format": "pt", "torch": torch.__version__}}, [], 0
for name in sorted(tensors):
    dt, t = tensors[name]
    raw = t.contiguous().numpy().tobytes()
    header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
    blobs.append(raw)
    off += len(raw)
hj = json.dumps(header, separators=(",", ":")).encode()
hj += b" " * ((8 - len(hj) % 8) % 8)
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(hj)))
    f.write(hj)
    for raw in blobs:
        f.write(raw)
print("# wrote", out, 8 + len(hj) + off, "bytes")
PY
ls -l "$here/torch_tiny" "$here/torch_dtypes.safetensors"
