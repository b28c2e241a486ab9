package vulkan

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// attnRef is causal grouped-query attention and its gradients in float64,
// written from the definition: out = softmax(scale·q·kᵀ)·v over the keys
// kStart[b]..t, lse the row's log-sum-exp (0 for a row with no visible key),
// and dq, dk, dv for the upstream gradient dout.
func attnRef(q, k, v, dout []float32, a compute.AttnDims, kStart []int32) (out, lse, dq, dk, dv []float64) {
	B, T, H, KV, hd := a.B, a.T, a.H, a.KV, a.HeadDim
	rep := H / KV
	scale := float64(float32(1 / math.Sqrt(float64(hd))))
	out, lse = make([]float64, len(q)), make([]float64, B*H*T)
	dq, dk, dv = make([]float64, len(q)), make([]float64, len(k)), make([]float64, len(k))
	qi := func(b, t, h, e int) int { return ((b*T+t)*H+h)*hd + e }
	ki := func(b, j, g, e int) int { return ((b*T+j)*KV+g)*hd + e }
	for b := range B {
		ks0 := 0
		if kStart != nil {
			ks0 = min(max(int(kStart[b]), 0), T)
		}
		for h := range H {
			g := h / rep
			for t := ks0; t < T; t++ {
				s := make([]float64, t+1)
				m := math.Inf(-1)
				for j := ks0; j <= t; j++ {
					for e := range hd {
						s[j] += float64(q[qi(b, t, h, e)]) * float64(k[ki(b, j, g, e)])
					}
					s[j] *= scale
					m = math.Max(m, s[j])
				}
				z := 0.0
				for j := ks0; j <= t; j++ {
					z += math.Exp(s[j] - m)
				}
				l := m + math.Log(z)
				lse[(b*H+h)*T+t] = l
				p, dp := make([]float64, t+1), make([]float64, t+1)
				dsum := 0.0
				for j := ks0; j <= t; j++ {
					p[j] = math.Exp(s[j] - l)
					for e := range hd {
						out[qi(b, t, h, e)] += p[j] * float64(v[ki(b, j, g, e)])
						dp[j] += float64(dout[qi(b, t, h, e)]) * float64(v[ki(b, j, g, e)])
					}
					dsum += p[j] * dp[j]
				}
				for j := ks0; j <= t; j++ {
					ds := p[j] * (dp[j] - dsum)
					for e := range hd {
						dq[qi(b, t, h, e)] += scale * ds * float64(k[ki(b, j, g, e)])
						dk[ki(b, j, g, e)] += scale * ds * float64(q[qi(b, t, h, e)])
						dv[ki(b, j, g, e)] += p[j] * float64(dout[qi(b, t, h, e)])
					}
				}
			}
		}
	}
	return
}

// TestAttention checks the device's training attention (forward with saved
// log-sum-exp, backward by recomputation) against attnRef on random odd
// shapes, with and without left padding, and with scratch budgets so small
// that every call is split into many dispatches.
func TestAttention(t *testing.T) {
	d := openOrSkip(t)
	rng := rand.New(rand.NewSource(13))
	// Six random shapes, then head sizes the value sum splits differently:
	// 64 (four groups of keys), 100 (two, 56 invocations idle), 300 (past
	// 256: one invocation per element walks every key).
	fixed := []compute.AttnDims{
		{B: 1, T: 9, H: 2, KV: 1, HeadDim: 64},
		{B: 2, T: 5, H: 1, KV: 1, HeadDim: 100},
		{B: 1, T: 3, H: 1, KV: 1, HeadDim: 300},
	}
	for trial := range 6 + len(fixed) {
		a := compute.AttnDims{B: 1 + rng.Intn(3), T: 1 + rng.Intn(20), KV: 1 + rng.Intn(2), HeadDim: 1 + 2*rng.Intn(20)}
		a.H = a.KV * (1 + rng.Intn(3))
		if trial >= 6 {
			a = fixed[trial-6]
		}
		var kStart []int32
		if trial%2 == 1 {
			kStart = make([]int32, a.B)
			for i := range kStart {
				kStart[i] = int32(rng.Intn(a.T + 1))
			}
		}
		split := trial == 4 || trial == 5
		t.Run(fmt.Sprintf("%+v/kStart=%v/split=%v", a, kStart, split), func(t *testing.T) {
			if split {
				oldF, oldB := decodeScratchBytes, attnBackScratchBytes
				decodeScratchBytes, attnBackScratchBytes = 2*a.T*4, a.T*a.T*4
				defer func() { decodeScratchBytes, attnBackScratchBytes = oldF, oldB }()
			}
			nq, nk := a.B*a.T*a.H*a.HeadDim, a.B*a.T*a.KV*a.HeadDim
			vals := map[string][]float32{}
			tensors := map[string]*Tensor{}
			for _, s := range []struct {
				name string
				n    int
			}{{"q", nq}, {"k", nk}, {"v", nk}, {"dout", nq}, {"out", nq}, {"lse", a.B * a.H * a.T}, {"dq", nq}, {"dk", nk}, {"dv", nk}} {
				vals[s.name] = randVals(s.n, rng.Int63())
				x, err := d.New(s.name, s.n)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Free(x)
				if err := d.Write(x, vals[s.name]); err != nil {
					t.Fatal(err)
				}
				tensors[s.name] = x
			}
			tt := tensors
			d.Attention(tt["out"], tt["lse"], tt["q"], tt["k"], tt["v"], a, kStart)
			d.AttentionBackward(tt["dq"], tt["dk"], tt["dv"], tt["dout"], tt["q"], tt["k"], tt["v"], tt["lse"], a, kStart)
			out, lse, dq, dk, dv := attnRef(vals["q"], vals["k"], vals["v"], vals["dout"], a, kStart)
			for name, want := range map[string][]float64{"out": out, "lse": lse, "dq": dq, "dk": dk, "dv": dv} {
				got := make([]float32, len(want))
				if err := d.Read(got, tt[name]); err != nil {
					t.Fatal(err)
				}
				init := vals[name]
				for i := range want {
					w := want[i]
					if name == "dq" || name == "dk" || name == "dv" {
						w += float64(init[i]) // gradients accumulate
					}
					if e := math.Abs(float64(got[i])-w) / (1 + math.Abs(w)); e > 1e-5 || math.IsNaN(e) {
						t.Fatalf("%s[%d]: device %g, reference %g (relative error %.3g > 1e-5)", name, i, got[i], w, e)
					}
				}
			}
		})
	}
}
