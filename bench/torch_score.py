#!/usr/bin/python3
"""The PyTorch peer of `rlt score`: teacher-forced log-probs of two models.

RLT scoring is two no-grad forwards: the teacher over [teacher prompt ++
explanation] and the student over [student prompt ++ explanation ++ solution],
then log-softmax(logits / tau) at each scored token. This script does the same
work in PyTorch for two Hugging Face model folders (config.json +
model.safetensors, F32/BF16/F16), on padded batches of the given lengths, the
way a plain PyTorch user would: weights as float32 modules, full logits,
log_softmax, gather. It prints one JSON line with the wall time of the forwards
(load excluded and reported apart).

The model code is the peer's own (../shared/bench/torch_ref.py, imported, not
copied); this file adds only loading a folder and the scoring forward.

  /usr/bin/python3 bench/torch_score.py --teacher DIR --student DIR \
      --teacher-lens 455,460,... --student-lens 470,480,... [--tau 0.7]

Lengths are the token counts of each item's teacher and student sequence
(`rlt score --stats` prints them). Token ids are drawn from a seeded stream:
the cost of a forward does not depend on which ids it reads.
"""
import argparse
import json
import os
import resource
import struct
import sys
import time

PEER_DIR = os.environ.get("PEER_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench"))


def reexec_with_blas_env(coretype):
    want = {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "1"}
    if coretype:
        want["OPENBLAS_CORETYPE"] = coretype
    if any(os.environ.get(k) != v for k, v in want.items()):
        if os.environ.get("_TORCH_SCORE_REEXEC"):
            sys.exit("environment could not be set")
        env = dict(os.environ, _TORCH_SCORE_REEXEC="1", **want)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def read_safetensors(path, torch):
    """Reads every tensor of a safetensors file as float32 (F32/BF16/F16)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            lo, hi = meta["data_offsets"]
            f.seek(base + lo)
            buf = bytearray(f.read(hi - lo))
            dt = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}[meta["dtype"]]
            out[name] = torch.frombuffer(buf, dtype=dt).reshape(meta["shape"]).float()
    return out


def load_folder(folder, torch, peer):
    with open(os.path.join(folder, "config.json")) as f:
        hc = json.load(f)

    class Cfg:
        pass
    cfg = Cfg()
    cfg.vocab, cfg.d_model, cfg.n_layers = hc["vocab_size"], hc["hidden_size"], hc["num_hidden_layers"]
    cfg.n_heads, cfg.n_kv_heads = hc["num_attention_heads"], hc.get("num_key_value_heads", hc["num_attention_heads"])
    cfg.d_ff, cfg.eps = hc["intermediate_size"], hc.get("rms_norm_eps", 1e-6)
    cfg.rope_theta = hc.get("rope_theta", 1e6)
    cfg.tied = hc.get("tie_word_embeddings", False)
    cfg.max_len = hc.get("max_position_embeddings", 32768)
    model = peer.Qwen2ish(cfg)
    tensors = read_safetensors(os.path.join(folder, "model.safetensors"), torch)
    state = {}
    for k, v in tensors.items():
        state[k[len("model."):] if k.startswith("model.") else k] = v
    if cfg.tied:
        state["lm_head.weight"] = state["embed_tokens.weight"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("cos") and not m.endswith("sin")]
    if missing or unexpected:
        sys.exit(f"{folder}: missing {missing[:3]} unexpected {unexpected[:3]}")
    del tensors, state
    model.eval()
    return model, cfg


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--teacher", required=True)
    p.add_argument("--student", required=True)
    p.add_argument("--teacher-lens", required=True, help="comma-separated token counts")
    p.add_argument("--student-lens", required=True, help="comma-separated token counts")
    p.add_argument("--tau", type=float, default=0.7)
    p.add_argument("--coretype", default="SkylakeX")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    reexec_with_blas_env(a.coretype)

    import torch
    import torch.nn.functional as F
    sys.path.insert(0, PEER_DIR)
    import torch_ref as peer
    torch.set_num_threads(1)

    t0 = time.perf_counter()
    teacher, tcfg = load_folder(a.teacher, torch, peer)
    student, scfg = load_folder(a.student, torch, peer)
    load_s = time.perf_counter() - t0

    g = torch.Generator().manual_seed(a.seed)

    def score(model, cfg, lens):
        lens = [int(x) for x in lens.split(",")]
        T = max(lens)
        ids = torch.randint(0, cfg.vocab, (len(lens), T), generator=g)
        with torch.no_grad():
            logits = model(ids)
            lp = F.log_softmax(logits[:, :-1].float() / a.tau, dim=-1)
            got = lp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        return float(got.sum())

    t1 = time.perf_counter()
    s1 = score(teacher, tcfg, a.teacher_lens)
    s2 = score(student, scfg, a.student_lens)
    score_s = time.perf_counter() - t1
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"torch": torch.__version__, "coretype": os.environ.get("OPENBLAS_CORETYPE"),
                      "load_s": load_s, "score_s": score_s, "peak_rss_bytes": rss,
                      "checksum": s1 + s2}))


if __name__ == "__main__":
    main()
