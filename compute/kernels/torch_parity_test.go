package kernels

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestTorchParity compares the kernels with PyTorch (the peer's own RMSNorm,
// rope_cache and apply_rope, its attention arithmetic, F.silu, log_softmax,
// torch.optim.AdamW, and autograd for the gradients) through a fixture written
// by testdata/torch_parity.py. Skipped unless KERNELS_TORCH_FIXTURE names it.
func TestTorchParity(t *testing.T) {
	path := os.Getenv("KERNELS_TORCH_FIXTURE")
	if path == "" {
		t.Skip("set KERNELS_TORCH_FIXTURE to a file written by testdata/torch_parity.py")
	}
	fx := readSafetensors(t, path)
	f := func(name string) []float32 {
		v, ok := fx[name]
		if !ok {
			t.Fatalf("fixture lacks %s", name)
		}
		return v.f32
	}
	cmp := func(what string, got, want []float32, tol float64) {
		t.Helper()
		e := maxRelErr(got, to64(want), 1e-30)
		t.Logf("%-14s max error / max |ref| = %.2g", what, e)
		if e > tol || math.IsNaN(e) {
			t.Errorf("%s: %.3g > %.3g", what, e, tol)
		}
	}

	{ // RMSNorm
		x, w := f("rms.x"), f("rms.w")
		d := len(w)
		n := len(x) / d
		y, rs := make([]float32, len(x)), make([]float32, n)
		RMSNormForward(y, rs, x, w, d, 1e-6, 0, n)
		cmp("rms.y", y, f("rms.y"), 1e-6)
		dx, dw := make([]float32, len(x)), make([]float32, d)
		RMSNormBackward(dx, dw, f("rms.gy"), x, w, rs, d, 0, n)
		cmp("rms.dx", dx, f("rms.dx"), 1e-5)
		cmp("rms.dw", dw, f("rms.dw"), 1e-5)
	}
	{ // RoPE: [B, T, H, hd] with positions t; tables in float64 vs torch's float32
		const B, T, H, hd = 2, 128, 4, 16
		cos, sin := make([]float32, T*hd/2), make([]float32, T*hd/2)
		RoPETables(cos, sin, T, hd, 1e6)
		pos := make([]int32, B*T)
		for i := range pos {
			pos[i] = int32(i % T)
		}
		x := f("rope.x")
		y := make([]float32, len(x))
		RoPEForward(y, x, pos, cos, sin, H, hd, 0, B*T)
		cmp("rope.y", y, f("rope.y"), 2e-5)
		dx := make([]float32, len(x))
		RoPEBackward(dx, f("rope.gy"), pos, cos, sin, H, hd, 0, B*T)
		cmp("rope.dx", dx, f("rope.dx"), 2e-5)
	}
	{ // causal GQA attention
		const B, T, H, KV, hd = 2, 19, 4, 2, 16
		q, k, v := f("attn.q"), f("attn.k"), f("attn.v")
		out, lse := make([]float32, len(q)), make([]float32, B*H*T)
		scratch := make([]float32, AttentionScratch(T))
		AttentionForward(out, lse, q, k, v, B, T, H, KV, hd, nil, scratch, 0, B*H)
		cmp("attn.out", out, f("attn.out"), 2e-6)
		// the old kernel's probabilities (kept as a reference) against PyTorch's
		probs := make([]float32, B*H*T*T)
		attentionProbsForward(make([]float32, len(q)), probs, q, k, v, B, T, H, KV, hd, nil, 0, B*H)
		cmp("attn.probs", probs, f("attn.probs"), 2e-6)
		dq, dk, dv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
		AttentionBackward(dq, dk, dv, f("attn.gout"), out, lse, q, k, v, B, T, H, KV, hd, nil, scratch, 0, B*KV)
		cmp("attn.dq", dq, f("attn.dq"), 1e-5)
		cmp("attn.dk", dk, f("attn.dk"), 1e-5)
		cmp("attn.dv", dv, f("attn.dv"), 1e-5)
	}
	{ // SwiGLU
		g, u := f("swiglu.g"), f("swiglu.u")
		h := make([]float32, len(g))
		SwiGLUForward(h, g, u, 0, len(g))
		cmp("swiglu.h", h, f("swiglu.h"), 1e-6)
		dg, du := make([]float32, len(g)), make([]float32, len(g))
		SwiGLUBackward(dg, du, f("swiglu.gh"), g, u, 0, len(g))
		cmp("swiglu.dg", dg, f("swiglu.dg"), 1e-6)
		cmp("swiglu.du", du, f("swiglu.du"), 1e-6)
	}
	{ // token log-probs at temperature 0.7
		logits := f("lp.logits")
		tg := fx["lp.targets"].i32
		const V = 512
		invT := float32(1 / 0.7)
		n := len(tg)
		lp, lse := make([]float32, n), make([]float32, n)
		TokenLogProbs(lp, lse, logits, tg, V, invT, 0, n)
		cmp("lp.lp", lp, f("lp.lp"), 1e-6)
		dl := make([]float32, len(logits))
		TokenLogProbsBackward(dl, f("lp.glp"), logits, lse, tg, V, invT, 0, n)
		cmp("lp.dlogits", dl, f("lp.dlogits"), 1e-6)
	}
	{ // AdamW, three steps
		p := clone(f("adamw.p0"))
		n := len(p)
		grads := f("adamw.grads")
		m, v := make([]float32, n), make([]float32, n)
		for s := 1; s <= 3; s++ {
			bc1 := 1 - math.Pow(0.9, float64(s))
			bc2 := 1 - math.Pow(0.95, float64(s))
			AdamW64(p, grads[(s-1)*n:s*n], m, v, 1e-3, 0.9, 0.95, 1e-8, 0.1, bc1, bc2, 0, n)
		}
		for _, c := range []struct {
			name string
			got  []float32
		}{{"adamw.p", p}, {"adamw.m", m}, {"adamw.v", v}} {
			if !allEqual(c.got, f(c.name)) {
				cmp(c.name, c.got, f(c.name), 0)
			} else {
				t.Logf("%-14s bit-identical to PyTorch", c.name)
			}
		}
	}
}

type stTensor struct {
	f32 []float32
	i32 []int32
}

// readSafetensors reads the F32 and I32 tensors of a safetensors file.
func readSafetensors(t *testing.T, path string) map[string]stTensor {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hl := binary.LittleEndian.Uint64(raw)
	var hdr map[string]struct {
		Dtype   string `json:"dtype"`
		Offsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal(raw[8:8+hl], &hdr); err != nil {
		t.Fatal(err)
	}
	data := raw[8+hl:]
	out := map[string]stTensor{}
	for name, h := range hdr {
		if name == "__metadata__" {
			continue
		}
		b := data[h.Offsets[0]:h.Offsets[1]]
		var ts stTensor
		switch h.Dtype {
		case "F32":
			ts.f32 = make([]float32, len(b)/4)
			for i := range ts.f32 {
				ts.f32[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		case "I32":
			ts.i32 = make([]int32, len(b)/4)
			for i := range ts.i32 {
				ts.i32[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
		out[name] = ts
	}
	return out
}
