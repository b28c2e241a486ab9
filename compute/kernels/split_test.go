package kernels

import (
	"fmt"
	"testing"
)

// TestSplitRanges: running a kernel over pieces of its range gives results
// bit-identical to one call over the whole range, and empty ranges touch nothing.
func TestSplitRanges(t *testing.T) {
	r := newRNG(20)
	const N, d, V, heads, hd = 9, 12, 7, 2, 6
	x := randVec(r, N*d, 1)
	w := randVec(r, d, 1)
	dy := randVec(r, N*d, 1)
	up := randVec(r, N*d, 1)
	ids := make([]int32, N)
	targets := make([]int32, N)
	pos := make([]int32, N)
	for i := range ids {
		ids[i] = int32(r.IntN(V))
		targets[i] = int32(r.IntN(V))
		pos[i] = int32(r.IntN(20))
	}
	targets[2] = -1
	table := randVec(r, V*d, 1)
	logits := randVec(r, N*V, 2)
	logitsQ := randVec(r, N*V, 2)
	gRow := randVec(r, N, 1)
	cos := make([]float32, 20*hd/2)
	sin := make([]float32, 20*hd/2)
	RoPETables(cos, sin, 20, hd, 1e4)
	rstd := make([]float32, N)
	RMSNormForward(make([]float32, N*d), rstd, x, w, d, 1e-6, 0, N)
	lse := make([]float32, N)
	TokenLogProbs(make([]float32, N), lse, logits, targets, V, 0.8, 0, N)

	ac := attnCase{2, 7, 4, 2, 6, []int32{0, 2}}
	q := randVec(r, ac.B*ac.T*ac.H*ac.hd, 1)
	k := randVec(r, ac.B*ac.T*ac.KV*ac.hd, 1)
	v := randVec(r, ac.B*ac.T*ac.KV*ac.hd, 1)
	attnOut, attnLSE := make([]float32, len(q)), make([]float32, ac.B*ac.H*ac.T)
	AttentionForward(attnOut, attnLSE, q, k, v, ac.B, ac.T, ac.H, ac.KV, ac.hd, ac.kStart, make([]float32, AttentionScratch(ac.T)), 0, ac.B*ac.H)
	maxLen := 10
	kc := randVec(r, ac.B*ac.KV*maxLen*ac.hd, 1)
	vc := randVec(r, ac.B*ac.KV*maxLen*ac.hd, 1)
	qn := randVec(r, ac.B*2*ac.H*ac.hd, 1)

	p0 := randVec(r, N*d, 1)
	m0 := randVec(r, N*d, 0.1)
	v0 := make([]float32, N*d)
	for i := range v0 {
		v0[i] = float32(r.Float64() * 0.01)
	}

	type kernel struct {
		name string
		n    int                // size of the index range
		outs func() [][]float32 // fresh outputs (pre-filled, to see accumulation)
		run  func([][]float32, int, int)
	}
	fill := func(sizes ...int) func() [][]float32 {
		return func() [][]float32 {
			rr := newRNG(21)
			o := make([][]float32, len(sizes))
			for i, s := range sizes {
				o[i] = randVec(rr, s, 1)
			}
			return o
		}
	}
	kernels := []kernel{
		{"EmbeddingForward", N, fill(N * d), func(o [][]float32, lo, hi int) { EmbeddingForward(o[0], table, ids, d, lo, hi) }},
		{"EmbeddingBackward", N, fill(V * d), func(o [][]float32, lo, hi int) { EmbeddingBackward(o[0], dy, ids, d, lo, hi) }},
		{"RMSNormForward", N, fill(N*d, N), func(o [][]float32, lo, hi int) { RMSNormForward(o[0], o[1], x, w, d, 1e-6, lo, hi) }},
		{"RMSNormBackward", N, fill(N*d, d), func(o [][]float32, lo, hi int) { RMSNormBackward(o[0], o[1], dy, x, w, rstd, d, lo, hi) }},
		{"RoPEForward", N, fill(N * heads * hd), func(o [][]float32, lo, hi int) { RoPEForward(o[0], x, pos, cos, sin, heads, hd, lo, hi) }},
		{"RoPEBackward", N, fill(N * heads * hd), func(o [][]float32, lo, hi int) { RoPEBackward(o[0], dy, pos, cos, sin, heads, hd, lo, hi) }},
		{"AttentionForward", ac.B * ac.H, fill(len(q), len(attnLSE)), func(o [][]float32, lo, hi int) {
			AttentionForward(o[0], o[1], q, k, v, ac.B, ac.T, ac.H, ac.KV, ac.hd, ac.kStart, make([]float32, AttentionScratch(ac.T)), lo, hi)
		}},
		{"AttentionBackward", ac.B * ac.KV, fill(len(q), len(k), len(v)), func(o [][]float32, lo, hi int) {
			AttentionBackward(o[0], o[1], o[2], q, attnOut, attnLSE, q, k, v, ac.B, ac.T, ac.H, ac.KV, ac.hd, ac.kStart, make([]float32, AttentionScratch(ac.T)), lo, hi)
		}},
		{"AttentionDecode", ac.B * ac.H, fill(len(qn)), func(o [][]float32, lo, hi int) {
			AttentionDecode(o[0], qn, kc, vc, ac.B, 2, ac.H, ac.KV, ac.hd, maxLen, 5, ac.kStart, make([]float32, AttentionDecodeScratch(2, maxLen)), lo, hi)
		}},
		{"SwiGLUForward", N * d, fill(N * d), func(o [][]float32, lo, hi int) { SwiGLUForward(o[0], x, up, lo, hi) }},
		{"SwiGLUBackward", N * d, fill(N*d, N*d), func(o [][]float32, lo, hi int) { SwiGLUBackward(o[0], o[1], dy, x, up, lo, hi) }},
		{"AddBias", N, fill(N * d), func(o [][]float32, lo, hi int) { AddBias(o[0], w, d, lo, hi) }},
		{"BiasBackward", N, fill(d), func(o [][]float32, lo, hi int) { BiasBackward(o[0], dy, d, lo, hi) }},
		{"Add", N * d, fill(N * d), func(o [][]float32, lo, hi int) { Add(o[0], x, dy, lo, hi) }},
		{"Accumulate", N * d, fill(N * d), func(o [][]float32, lo, hi int) { Accumulate(o[0], x, lo, hi) }},
		{"Scale", N * d, fill(N * d), func(o [][]float32, lo, hi int) { Scale(o[0], 0.3, lo, hi) }},
		{"Mix", N * d, fill(N * d), func(o [][]float32, lo, hi int) { Mix(o[0], x, 0.3, lo, hi) }},
		{"ExpSlice", N * d, fill(N * d), func(o [][]float32, lo, hi int) { ExpSlice(o[0], x, lo, hi) }},
		{"TokenLogProbs", N, fill(N, N), func(o [][]float32, lo, hi int) { TokenLogProbs(o[0], o[1], logits, targets, V, 0.8, lo, hi) }},
		{"TokenLogProbsBackward", N, fill(N * V), func(o [][]float32, lo, hi int) {
			TokenLogProbsBackward(o[0], gRow, logits, lse, targets, V, 0.8, lo, hi)
		}},
		{"KLRows", N, fill(N), func(o [][]float32, lo, hi int) { KLRows(o[0], logits, logitsQ, V, 0.8, lo, hi) }},
		{"KLRowsBackward", N, fill(N*V, N*V), func(o [][]float32, lo, hi int) { KLRowsBackward(o[0], o[1], gRow, logits, logitsQ, V, 0.8, lo, hi) }},
		{"EntropyRows", N, fill(N), func(o [][]float32, lo, hi int) { EntropyRows(o[0], logits, V, 0.8, lo, hi) }},
		{"EntropyRowsBackward", N, fill(N * V), func(o [][]float32, lo, hi int) { EntropyRowsBackward(o[0], gRow, logits, V, 0.8, lo, hi) }},
		{"ArgmaxRows", N, fill(N), func(o [][]float32, lo, hi int) {
			am := make([]int32, N)
			for i := range am {
				am[i] = -5
			}
			ArgmaxRows(am, logits, V, lo, hi)
			for i := range am {
				if am[i] != -5 {
					o[0][i] = float32(am[i])
				}
			}
		}},
		{"AdamW", N * d, func() [][]float32 { return [][]float32{clone(p0), clone(m0), clone(v0)} }, func(o [][]float32, lo, hi int) {
			AdamW(o[0], dy, o[1], o[2], 1e-3, 0.9, 0.95, 1e-8, 0.1, 0.19, 0.0975, lo, hi)
		}},
	}
	for _, kn := range kernels {
		t.Run(kn.name, func(t *testing.T) {
			want := kn.outs()
			kn.run(want, 0, kn.n)
			for _, cuts := range splits(kn.n) {
				got := kn.outs()
				runSplit(cuts, func(lo, hi int) { kn.run(got, lo, hi) })
				for i := range want {
					if !allEqual(got[i], want[i]) {
						t.Errorf("cuts %v: output %d differs from one call", cuts, i)
					}
				}
			}
			// empty ranges leave outputs untouched
			for _, at := range []int{0, kn.n / 2, kn.n} {
				got := kn.outs()
				kn.run(got, at, at)
				for i, o := range kn.outs() {
					if !allEqual(got[i], o) {
						t.Errorf("empty range at %d changed output %d", at, i)
					}
				}
			}
		})
	}
}

// TestSumSquaresSplit: partial sums over pieces add up to the whole (to rounding).
func TestSumSquaresSplit(t *testing.T) {
	r := newRNG(22)
	x := randVec(r, 1001, 1)
	whole := SumSquares(x, 0, len(x))
	for _, cuts := range splits(len(x)) {
		var s float64
		ok := true
		runSplit(cuts, func(lo, hi int) {
			s += SumSquares(x, lo, hi)
			ok = ok && allFinite(x, lo, hi)
		})
		if d := s - whole; d > 1e-12*whole || d < -1e-12*whole || !ok {
			t.Errorf("cuts %s: %v vs %v", fmt.Sprint(cuts), s, whole)
		}
	}
}
