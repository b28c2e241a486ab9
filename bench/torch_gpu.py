#!/usr/bin/env python3
"""PyTorch eager peer for bench/gpu.sh: a Qwen2-shaped decoder's training
step and KV-cache sampling on CUDA (or the CPU, for a smoke test), printing
one JSON line.

The model is Qwen2's (as ../shared/bench/torch_ref.py and engine/model):
tied embeddings, RMSNorm (eps 1e-6), q/k/v bias, rotate-half RoPE (theta
1e6), grouped-query attention, SwiGLU MLP. The step is the workbench's:
forward, cross-entropy over every position, backward, AdamW (lr 1e-3,
betas 0.9/0.95, eps 1e-8, weight decay 0.1). Sampling prefills a 16-token
prompt, then decodes greedily (argmax, as BenchmarkDeviceSample) with a
preallocated KV cache; decode tokens/s counts the new_tokens-1 decode steps
of the whole batch.

--dtype bf16 runs forward and backward under torch.autocast(bfloat16) with
float32 weights, gradients and AdamW state (the workbench trainer keeps its
weights in float32 too); the loss is computed in float32. --dtype f32 is
plain float32 (TF32 matmuls off).

    python3 bench/torch_gpu.py --device cuda --dtype bf16 --vocab 151936 \
        --d-model 896 --layers 24 --heads 14 --kv-heads 2 --d-ff 4864 \
        --batch 8 --seq 512 --new-tokens 128
    /usr/bin/python3 bench/torch_gpu.py --device cpu --dtype f32 --batch 2 --seq 16 --new-tokens 4
"""
import argparse
import contextlib
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Norm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight).to(x.dtype)


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    turned = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos.to(x.dtype) + turned * sin.to(x.dtype)


class Layer(nn.Module):
    def __init__(self, a):
        super().__init__()
        d, hd = a.d_model, a.d_model // a.heads
        self.h, self.kv, self.hd = a.heads, a.kv_heads, hd
        self.ln1, self.ln2 = Norm(d), Norm(d)
        self.q = nn.Linear(d, a.heads * hd)
        self.k = nn.Linear(d, a.kv_heads * hd)
        self.v = nn.Linear(d, a.kv_heads * hd)
        self.o = nn.Linear(a.heads * hd, d, bias=False)
        self.gate = nn.Linear(d, a.d_ff, bias=False)
        self.up = nn.Linear(d, a.d_ff, bias=False)
        self.down = nn.Linear(a.d_ff, d, bias=False)

    def attend(self, x, cos, sin, cache, past):
        B, T, _ = x.shape
        q = self.q(x).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k(x).view(B, T, self.kv, self.hd).transpose(1, 2)
        v = self.v(x).view(B, T, self.kv, self.hd).transpose(1, 2)
        c, s = cos[past:past + T], sin[past:past + T]
        q, k = rotate(q, c, s), rotate(k, c, s)
        if cache is not None:
            kc, vc = cache
            kc[:, :, past:past + T] = k.to(kc.dtype)
            vc[:, :, past:past + T] = v.to(vc.dtype)
            k, v = kc[:, :, :past + T], vc[:, :, :past + T]
        group = self.h // self.kv
        if group > 1:
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
        S = k.shape[2]
        if hasattr(F, "scaled_dot_product_attention"):
            k, v = k.to(q.dtype), v.to(q.dtype)
            if T == S:  # training and prefill: the fused causal kernels
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            elif T == 1:  # a decode step sees every cached position
                y = F.scaled_dot_product_attention(q, k, v)
            else:
                mask = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(S - T)
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            w = (q @ k.transpose(-1, -2).to(q.dtype)) / math.sqrt(self.hd)
            if T > 1:
                keep = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(S - T)
                w = w.masked_fill(~keep, float("-inf"))
            y = w.softmax(-1) @ v.to(q.dtype)
        return self.o(y.transpose(1, 2).reshape(B, T, self.h * self.hd))

    def forward(self, x, cos, sin, cache=None, past=0):
        x = x + self.attend(self.ln1(x), cos, sin, cache, past)
        h = self.ln2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self, a, max_len):
        super().__init__()
        self.embed = nn.Embedding(a.vocab, a.d_model)
        self.layers = nn.ModuleList(Layer(a) for _ in range(a.layers))
        self.norm = Norm(a.d_model)
        hd = a.d_model // a.heads
        inv = 1.0 / (1e6 ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        ang = torch.outer(torch.arange(max_len, dtype=torch.float64), inv)
        ang = torch.cat((ang, ang), dim=-1)
        self.register_buffer("cos", ang.cos().float(), persistent=False)
        self.register_buffer("sin", ang.sin().float(), persistent=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)

    def forward(self, ids, caches=None, past=0):
        x = self.embed(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, self.cos, self.sin, None if caches is None else caches[i], past)
        return F.linear(self.norm(x), self.embed.weight)  # tied LM head


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--vocab", type=int, default=512)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--d-ff", type=int, default=688)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--prompt", type=int, default=16)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    p.add_argument("--dtype", choices=["bf16", "f32"], default="bf16")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.d_model % a.heads or a.heads % a.kv_heads or (a.d_model // a.heads) % 2:
        sys.exit(f"torch_gpu.py: d-model {a.d_model}, heads {a.heads}, kv-heads {a.kv_heads}: "
                 "heads must divide d-model into an even head size, and kv-heads divide heads")
    if a.new_tokens < 2 or a.steps < 1:
        sys.exit("torch_gpu.py: --new-tokens must be at least 2 and --steps at least 1")
    if a.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_gpu.py: --device cuda, but this torch has no CUDA device "
                 f"(torch {torch.__version__}, built for CUDA {torch.version.cuda})")
    dev = torch.device(a.device)
    torch.manual_seed(a.seed)
    if a.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    def sync():
        if a.device == "cuda":
            torch.cuda.synchronize()

    def autocast():
        if a.dtype == "bf16":
            return torch.autocast(device_type=a.device, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    max_len = max(a.seq, a.prompt + a.new_tokens)
    model = Model(a, max_len).to(dev)
    params = sum(t.numel() for t in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    gen = torch.Generator().manual_seed(a.seed + 1)
    data = torch.randint(0, a.vocab, (a.batch, a.seq + 1), generator=gen).to(dev)
    inp, tgt = data[:, :-1], data[:, 1:]

    def step():
        t0 = time.perf_counter()
        with autocast():
            logits = model(inp)
        loss = F.cross_entropy(logits.float().reshape(-1, a.vocab), tgt.reshape(-1))
        sync()
        t1 = time.perf_counter()
        loss.backward()
        sync()
        t2 = time.perf_counter()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync()
        t3 = time.perf_counter()
        return loss.item(), (t1 - t0, t2 - t1, t3 - t2)

    for _ in range(2):  # warm-up: kernels chosen, allocator filled
        step()
    runs = [step() for _ in range(a.steps)]
    loss = runs[-1][0]
    phases = [r[1] for r in runs]
    med = lambda xs: sorted(xs)[len(xs) // 2]
    step_s = med([sum(ph) for ph in phases])
    if a.device == "cuda":
        peak_train = torch.cuda.max_memory_allocated() / 2**20
        del opt
        for t in model.parameters():
            t.grad = None
        torch.cuda.empty_cache()

    model.eval()
    hd = a.d_model // a.heads
    cache_dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    prompt = torch.randint(0, a.vocab, (a.batch, a.prompt), generator=gen).to(dev)

    def sample():
        caches = [(torch.zeros(a.batch, a.kv_heads, max_len, hd, device=dev, dtype=cache_dtype),
                   torch.zeros(a.batch, a.kv_heads, max_len, hd, device=dev, dtype=cache_dtype))
                  for _ in range(a.layers)]
        with torch.no_grad(), autocast():
            sync()
            t0 = time.perf_counter()
            tok = model(prompt, caches, 0)[:, -1].argmax(-1, keepdim=True)
            sync()
            t1 = time.perf_counter()
            past = a.prompt
            for _ in range(a.new_tokens - 1):
                tok = model(tok, caches, past)[:, -1].argmax(-1, keepdim=True)
                past += 1
            tok.cpu()  # the host reads the last token, as the sampler does
            t2 = time.perf_counter()
        return t1 - t0, t2 - t1

    sample()
    samples = sorted((sample() for _ in range(3)), key=lambda r: r[1])
    prefill, decode = samples[1]
    out = {
        "peer": "pytorch-eager", "torch": torch.__version__, "device": a.device,
        "device_name": torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu",
        "dtype": a.dtype,
        "precision": ("autocast bfloat16, float32 weights and AdamW state" if a.dtype == "bf16"
                      else "float32, TF32 off"),
        "attention": "sdpa" if hasattr(F, "scaled_dot_product_attention") else "matmul-softmax",
        "params": params, "vocab": a.vocab, "d_model": a.d_model, "layers": a.layers,
        "heads": a.heads, "kv_heads": a.kv_heads, "d_ff": a.d_ff, "batch": a.batch, "seq": a.seq,
        "new_tokens": a.new_tokens, "prompt": a.prompt, "steps": a.steps,
        "step_ms": step_s * 1e3,
        "fwd_ms": med([ph[0] for ph in phases]) * 1e3,
        "bwd_ms": med([ph[1] for ph in phases]) * 1e3,
        "opt_ms": med([ph[2] for ph in phases]) * 1e3,
        "train_tok_s": a.batch * a.seq / step_s,
        "prefill_ms": prefill * 1e3,
        "decode_tok_s": a.batch * (a.new_tokens - 1) / decode,
        "loss": loss,
    }
    if a.device == "cuda":
        out["peak_train_mib"] = peak_train
    print(json.dumps(out))


if __name__ == "__main__":
    main()
