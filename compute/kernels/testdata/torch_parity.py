#!/usr/bin/python3
"""Writes a parity fixture for the kernels from the PyTorch peer's own code.

    /usr/bin/python3 compute/kernels/testdata/torch_parity.py /tmp/kernels_parity.safetensors
    KERNELS_TORCH_FIXTURE=/tmp/kernels_parity.safetensors go test ./compute/kernels/ -run TorchParity -v

Uses RMSNorm, rope_cache, apply_rope and write_safetensors from
shared/bench/torch_ref.py (path in $TORCH_REF_DIR, default ../../../../shared/bench
relative to this file), and torch autograd for every gradient.
"""
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("TORCH_REF_DIR", os.path.join(here, "../../../../shared/bench")))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torch_ref as R  # noqa: E402

torch.manual_seed(0)
out = {}


def rnd(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_(True)


# RMSNorm [N, d]
N, d = 6, 32
norm = R.RMSNorm(d, 1e-6)
with torch.no_grad():
    norm.weight.copy_(torch.randn(d))
x = rnd(N, d, scale=2)
y = norm(x)
gy = torch.randn(N, d)
y.backward(gy)
out.update({"rms.x": x, "rms.w": norm.weight, "rms.y": y, "rms.gy": gy, "rms.dx": x.grad, "rms.dw": norm.weight.grad})

# RoPE on [B, T, H, hd] (positions 0..T-1), theta 1e6
B, T, H, KV, hd = 2, 128, 4, 2, 16
cos, sin = R.rope_cache(T, hd, 1e6)
xr = rnd(B, T, H, hd)
yr = R.apply_rope(xr.transpose(1, 2), cos, sin).transpose(1, 2)
gr = torch.randn(B, T, H, hd)
yr.backward(gr)
out.update({"rope.x": xr, "rope.y": yr, "rope.gy": gr, "rope.dx": xr.grad})

# Causal GQA attention exactly as torch_ref.Attention.forward after the projections
T = 19
q, k, v = rnd(B, T, H, hd), rnd(B, T, KV, hd), rnd(B, T, KV, hd)
qh, kh, vh = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
rep = H // KV
kh, vh = kh.repeat_interleave(rep, dim=1), vh.repeat_interleave(rep, dim=1)
att = (qh @ kh.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
mask = torch.ones(T, T, dtype=torch.bool).tril(diagonal=0)
att = att.masked_fill(~mask, float("-inf")).softmax(-1)
o = (att @ vh).transpose(1, 2).contiguous()
go = torch.randn(B, T, H, hd)
o.backward(go)
out.update({"attn.q": q, "attn.k": k, "attn.v": v, "attn.out": o, "attn.gout": go,
            "attn.dq": q.grad, "attn.dk": k.grad, "attn.dv": v.grad, "attn.probs": att})

# SwiGLU
g, u = rnd(1000, scale=4), rnd(1000)
h = F.silu(g) * u
gh = torch.randn(1000)
h.backward(gh)
out.update({"swiglu.g": g, "swiglu.u": u, "swiglu.h": h, "swiglu.gh": gh, "swiglu.dg": g.grad, "swiglu.du": u.grad})

# Token log-probs at temperature 0.7 (logits·invTemp), with gradient
V, invT = 512, 1 / 0.7
lg = rnd(8, V, scale=3)
tg = torch.randint(0, V, (8,))
lp = F.log_softmax(lg * invT, -1).gather(1, tg[:, None])[:, 0]
glp = torch.randn(8)
lp.backward(glp)
out.update({"lp.logits": lg, "lp.targets": tg.to(torch.int32), "lp.lp": lp, "lp.glp": glp, "lp.dlogits": lg.grad})

# AdamW, three steps with the peer's hyper-parameters
p0 = torch.randn(333)
prm = torch.nn.Parameter(p0.clone())
opt = torch.optim.AdamW([prm], lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
grads = torch.randn(3, 333)
for s in range(3):
    prm.grad = grads[s].clone()
    opt.step()
st = opt.state[prm]
out.update({"adamw.p0": p0, "adamw.grads": grads, "adamw.p": prm, "adamw.m": st["exp_avg"], "adamw.v": st["exp_avg_sq"]})

R.write_safetensors(sys.argv[1], {k: t.detach().contiguous() for k, t in out.items()})
print("wrote", sys.argv[1], len(out), "tensors")
