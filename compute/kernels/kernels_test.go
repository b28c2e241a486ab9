package kernels

import (
	"fmt"
	"math"
	"testing"
)

func TestEmbedding(t *testing.T) {
	for _, c := range []struct{ V, d, N int }{{5, 3, 7}, {1, 1, 3}, {4, 8, 1}} {
		t.Run(fmt.Sprintf("V%d_d%d_N%d", c.V, c.d, c.N), func(t *testing.T) {
			r := newRNG(2)
			table := randVec(r, c.V*c.d, 1)
			ids := make([]int32, c.N)
			for i := range ids {
				ids[i] = int32(r.IntN(c.V))
			}
			out := make([]float32, c.N*c.d)
			EmbeddingForward(out, table, ids, c.d, 0, c.N)
			ref := func(in [][]float64) []float64 {
				o := make([]float64, c.N*c.d)
				for n, id := range ids {
					copy(o[n*c.d:(n+1)*c.d], in[0][int(id)*c.d:])
				}
				return o
			}
			in := [][]float64{to64(table)}
			checkClose(t, "forward", out, ref(in), 0)
			gy := randVec(r, c.N*c.d, 1)
			dT := randVec(r, c.V*c.d, 1)
			base := clone(dT)
			EmbeddingBackward(dT, gy, ids, c.d, 0, c.N)
			for i := range dT {
				dT[i] -= base[i]
			}
			checkClose(t, "dTable", dT, fdGrad(ref, in, to64(gy), 0), gradTol)
		})
	}
}

func TestRMSNorm(t *testing.T) {
	for _, c := range []struct {
		N, d int
		eps  float32
	}{{5, 7, 1e-6}, {3, 1, 1e-6}, {4, 64, 1e-5}, {2, 33, 1e-2}} {
		t.Run(fmt.Sprintf("N%d_d%d", c.N, c.d), func(t *testing.T) {
			r := newRNG(3)
			x := randVec(r, c.N*c.d, 1.5)
			w := randVec(r, c.d, 1)
			y := make([]float32, len(x))
			rstd := make([]float32, c.N)
			RMSNormForward(y, rstd, x, w, c.d, c.eps, 0, c.N)
			ref := func(in [][]float64) []float64 { return refRMSNorm(in[0], in[1], c.d, float64(c.eps)) }
			in := [][]float64{to64(x), to64(w)}
			checkClose(t, "forward", y, ref(in), fwdTol)
			gy := randVec(r, len(x), 1)
			dx := make([]float32, len(x))
			dw := make([]float32, c.d)
			RMSNormBackward(dx, dw, gy, x, w, rstd, c.d, 0, c.N)
			checkClose(t, "dx", dx, fdGrad(ref, in, to64(gy), 0), gradTol)
			checkClose(t, "dw", dw, fdGrad(ref, in, to64(gy), 1), gradTol)
			// in place
			y2 := clone(x)
			RMSNormForward(y2, rstd, y2, w, c.d, c.eps, 0, c.N)
			if !allEqual(y, y2) {
				t.Errorf("in-place forward differs")
			}
		})
	}
}

func TestRoPE(t *testing.T) {
	for _, c := range []struct {
		N, heads, hd, maxPos int
		theta                float64
	}{{5, 2, 8, 40, 1e6}, {3, 1, 2, 10, 10000}, {4, 3, 16, 300, 1e4}} {
		t.Run(fmt.Sprintf("N%d_h%d_hd%d", c.N, c.heads, c.hd), func(t *testing.T) {
			r := newRNG(4)
			cos := make([]float32, c.maxPos*c.hd/2)
			sin := make([]float32, c.maxPos*c.hd/2)
			RoPETables(cos, sin, c.maxPos, c.hd, c.theta)
			pos := make([]int32, c.N)
			for i := range pos {
				pos[i] = int32(r.IntN(c.maxPos))
			}
			pos[0] = int32(c.maxPos - 1)
			x := randVec(r, c.N*c.heads*c.hd, 1)
			y := make([]float32, len(x))
			RoPEForward(y, x, pos, cos, sin, c.heads, c.hd, 0, c.N)
			ref := func(in [][]float64) []float64 { return refRoPE(in[0], pos, c.heads, c.hd, c.theta) }
			in := [][]float64{to64(x)}
			checkClose(t, "forward", y, ref(in), fwdTol)
			gy := randVec(r, len(x), 1)
			dx := randVec(r, len(x), 1)
			base := clone(dx)
			RoPEBackward(dx, gy, pos, cos, sin, c.heads, c.hd, 0, c.N)
			for i := range dx {
				dx[i] -= base[i]
			}
			checkClose(t, "dx", dx, fdGrad(ref, in, to64(gy), 0), gradTol)
			y2 := clone(x)
			RoPEForward(y2, y2, pos, cos, sin, c.heads, c.hd, 0, c.N)
			if !allEqual(y, y2) {
				t.Errorf("in-place forward differs")
			}
		})
	}
}

type attnCase struct {
	B, T, H, KV, hd int
	kStart          []int32
}

var attnCases = []attnCase{
	{2, 7, 4, 2, 6, nil},
	{2, 7, 4, 2, 6, []int32{0, 3}},
	{2, 9, 4, 4, 8, []int32{1, 0}},
	{1, 5, 2, 2, 4, []int32{5}}, // every row masked
	{1, 1, 1, 1, 3, nil},
	{1, 41, 2, 1, 4, []int32{6}}, // more than one query tile
	{3, 11, 6, 2, 2, []int32{0, 10, 4}},
	{1, 140, 2, 1, 2, []int32{3}}, // more than one key block: the online softmax rescales
}

func (c attnCase) String() string {
	return fmt.Sprintf("B%d_T%d_H%d_KV%d_hd%d_ks%v", c.B, c.T, c.H, c.KV, c.hd, c.kStart)
}

func TestAttention(t *testing.T) {
	for _, c := range attnCases {
		t.Run(c.String(), func(t *testing.T) {
			r := newRNG(5)
			q := randVec(r, c.B*c.T*c.H*c.hd, 1)
			k := randVec(r, c.B*c.T*c.KV*c.hd, 1)
			v := randVec(r, c.B*c.T*c.KV*c.hd, 1)
			out := randVec(r, len(q), 1) // garbage must be overwritten
			lse := randVec(r, c.B*c.H*c.T, 1)
			scratch := make([]float32, AttentionScratch(c.T))
			AttentionForward(out, lse, q, k, v, c.B, c.T, c.H, c.KV, c.hd, c.kStart, scratch, 0, c.B*c.H)
			ref := func(in [][]float64) []float64 {
				return refAttention(in[0], in[1], in[2], c.B, c.T, c.H, c.KV, c.hd, c.kStart)
			}
			in := [][]float64{to64(q), to64(k), to64(v)}
			checkClose(t, "forward", out, ref(in), fwdTol)
			checkClose(t, "lse", lse, refAttentionLSE(in[0], in[1], c.B, c.T, c.H, c.KV, c.hd, c.kStart), fwdTol)
			// the kernel that kept [B, H, T, T] probabilities gives the same output
			old := make([]float32, len(q))
			attentionProbsForward(old, make([]float32, c.B*c.H*c.T*c.T), q, k, v, c.B, c.T, c.H, c.KV, c.hd, c.kStart, 0, c.B*c.H)
			checkClose(t, "forward vs probs kernel", out, to64(old), fwdTol)
			gy := randVec(r, len(q), 1)
			dq := make([]float32, len(q))
			dk := make([]float32, len(k))
			dv := make([]float32, len(v))
			AttentionBackward(dq, dk, dv, gy, out, lse, q, k, v, c.B, c.T, c.H, c.KV, c.hd, c.kStart, scratch, 0, c.B*c.KV)
			g := to64(gy)
			// D = Σ dO⊙O stands in for Σ P⊙dP, equal only up to rounding: a
			// gradient that is exactly zero (a single visible key) comes out
			// as rounding noise, so errors are relative to at least 1.
			checkCloseFloor(t, "dq", dq, fdGrad(ref, in, g, 0), gradTol, 1)
			checkCloseFloor(t, "dk", dk, fdGrad(ref, in, g, 1), gradTol, 1)
			checkClose(t, "dv", dv, fdGrad(ref, in, g, 2), gradTol)
			// accumulation: a second call adds the same amount again
			dq2, dk2, dv2 := clone(dq), clone(dk), clone(dv)
			AttentionBackward(dq2, dk2, dv2, gy, out, lse, q, k, v, c.B, c.T, c.H, c.KV, c.hd, c.kStart, scratch, 0, c.B*c.KV)
			for i := range dq {
				dq[i] *= 2
			}
			for i := range dk {
				dk[i] *= 2
				dv[i] *= 2
			}
			checkClose(t, "dq accumulates", dq2, to64(dq), 1e-6)
			checkClose(t, "dk accumulates", dk2, to64(dk), 1e-6)
			checkClose(t, "dv accumulates", dv2, to64(dv), 1e-6)
		})
	}
}

// TestAttentionDecode checks that prefill plus decode with a KV cache gives the
// full-sequence attention output at the same positions.
func TestAttentionDecode(t *testing.T) {
	for _, c := range attnCases {
		for _, chunk := range []int{1, 3, c.T} {
			t.Run(fmt.Sprintf("%v_chunk%d", c, chunk), func(t *testing.T) {
				r := newRNG(6)
				q := randVec(r, c.B*c.T*c.H*c.hd, 1)
				k := randVec(r, c.B*c.T*c.KV*c.hd, 1)
				v := randVec(r, c.B*c.T*c.KV*c.hd, 1)
				full := make([]float32, len(q))
				AttentionForward(full, make([]float32, c.B*c.H*c.T), q, k, v, c.B, c.T, c.H, c.KV, c.hd, c.kStart, make([]float32, AttentionScratch(c.T)), 0, c.B*c.H)

				maxLen := c.T + 3
				kc := randVec(r, c.B*c.KV*maxLen*c.hd, 1) // unused tail holds garbage
				vc := randVec(r, c.B*c.KV*maxLen*c.hd, 1)
				got := make([]float32, len(q))
				for past := 0; past < c.T; past += chunk {
					tn := min(chunk, c.T-past)
					qn := make([]float32, c.B*tn*c.H*c.hd)
					for b := 0; b < c.B; b++ {
						for i := 0; i < tn; i++ {
							tt := past + i
							copy(qn[(b*tn+i)*c.H*c.hd:][:c.H*c.hd], q[(b*c.T+tt)*c.H*c.hd:])
							for g := 0; g < c.KV; g++ {
								copy(kc[((b*c.KV+g)*maxLen+tt)*c.hd:][:c.hd], k[((b*c.T+tt)*c.KV+g)*c.hd:])
								copy(vc[((b*c.KV+g)*maxLen+tt)*c.hd:][:c.hd], v[((b*c.T+tt)*c.KV+g)*c.hd:])
							}
						}
					}
					on := randVec(r, len(qn), 1)
					scratch := make([]float32, AttentionDecodeScratch(tn, maxLen))
					AttentionDecode(on, qn, kc, vc, c.B, tn, c.H, c.KV, c.hd, maxLen, past, c.kStart, scratch, 0, c.B*c.H)
					for b := 0; b < c.B; b++ {
						for i := 0; i < tn; i++ {
							copy(got[(b*c.T+past+i)*c.H*c.hd:][:c.H*c.hd], on[(b*tn+i)*c.H*c.hd:])
						}
					}
				}
				checkClose(t, "decode vs full", got, to64(full), 1e-6)
			})
		}
	}
}

func TestSwiGLU(t *testing.T) {
	r := newRNG(7)
	n := 301
	gate := randVec(r, n, 3)
	gate[0], gate[1], gate[2], gate[3], gate[4] = 30, -30, 100, -100, 0
	up := randVec(r, n, 1)
	h := make([]float32, n)
	SwiGLUForward(h, gate, up, 0, n)
	ref := func(in [][]float64) []float64 {
		o := make([]float64, n)
		for i := range o {
			o[i] = refSilu(in[0][i]) * in[1][i]
		}
		return o
	}
	in := [][]float64{to64(gate), to64(up)}
	want := ref(in)
	for i := range h { // elementwise: check each element relatively
		if math.Abs(float64(h[i])-want[i]) > 1e-6*math.Abs(want[i])+1e-30 {
			t.Errorf("h[%d] = %v, want %v (gate %v up %v)", i, h[i], want[i], gate[i], up[i])
		}
	}
	gy := randVec(r, n, 1)
	dg := make([]float32, n)
	du := make([]float32, n)
	SwiGLUBackward(dg, du, gy, gate, up, 0, n)
	checkClose(t, "dGate", dg, fdGrad(ref, in, to64(gy), 0), gradTol)
	checkClose(t, "dUp", du, fdGrad(ref, in, to64(gy), 1), gradTol)
	// elementwise relative check of dGate against the analytic float64 derivative
	for i := range dg {
		x := float64(gate[i])
		s := 1 / (1 + math.Exp(-x))
		w := float64(gy[i]) * float64(up[i]) * (s + x*s*(1-s))
		if math.Abs(float64(dg[i])-w) > 1e-5*math.Abs(w)+1e-30 {
			t.Errorf("dGate[%d] = %v, want %v", i, dg[i], w)
		}
	}
}

func TestBias(t *testing.T) {
	for _, c := range []struct{ N, d int }{{5, 7}, {1, 1}, {3, 64}} {
		r := newRNG(8)
		y := randVec(r, c.N*c.d, 1)
		bias := randVec(r, c.d, 1)
		y0 := clone(y)
		AddBias(y, bias, c.d, 0, c.N)
		ref := func(in [][]float64) []float64 {
			o := append([]float64(nil), in[0]...)
			for i := range o {
				o[i] += in[1][i%c.d]
			}
			return o
		}
		in := [][]float64{to64(y0), to64(bias)}
		checkClose(t, "AddBias", y, ref(in), fwdTol)
		gy := randVec(r, len(y), 1)
		db := make([]float32, c.d)
		BiasBackward(db, gy, c.d, 0, c.N)
		checkClose(t, "dBias", db, fdGrad(ref, in, to64(gy), 1), gradTol)
	}
}

type lpCase struct {
	N, V    int
	invTemp float32
	scale   float64
}

var lpCases = []lpCase{{6, 17, 1, 3}, {4, 1, 1, 1}, {5, 64, 0.7, 10}, {3, 33, 2, 1}, {2, 512, 1, 30}}

func TestTokenLogProbs(t *testing.T) {
	for _, c := range lpCases {
		t.Run(fmt.Sprintf("N%d_V%d_T%v", c.N, c.V, c.invTemp), func(t *testing.T) {
			r := newRNG(9)
			logits := randVec(r, c.N*c.V, c.scale)
			targets := make([]int32, c.N)
			for i := range targets {
				targets[i] = int32(r.IntN(c.V))
			}
			targets[1] = -1
			lp := randVec(r, c.N, 1)
			lse := randVec(r, c.N, 1)
			TokenLogProbs(lp, lse, logits, targets, c.V, c.invTemp, 0, c.N)
			if lp[1] != 0 || lse[1] != 0 {
				t.Errorf("ignored row: lp %v lse %v", lp[1], lse[1])
			}
			ref := func(in [][]float64) []float64 { return refTokenLogProbs(in[0], targets, c.V, float64(c.invTemp)) }
			in := [][]float64{to64(logits)}
			want := ref(in)
			for i := range lp {
				if math.Abs(float64(lp[i])-want[i]) > 1e-6*max(1, math.Abs(want[i])) {
					t.Errorf("lp[%d] = %v, want %v", i, lp[i], want[i])
				}
			}
			gy := randVec(r, c.N, 1)
			dl := make([]float32, len(logits))
			TokenLogProbsBackward(dl, gy, logits, lse, targets, c.V, c.invTemp, 0, c.N)
			checkClose(t, "dlogits", dl, fdGrad(ref, in, to64(gy), 0), gradTol)
			for j := 0; j < c.V; j++ {
				if dl[c.V+j] != 0 {
					t.Fatalf("ignored row touched")
				}
			}
		})
	}
}

func TestKLRows(t *testing.T) {
	for _, c := range lpCases {
		t.Run(fmt.Sprintf("N%d_V%d_T%v", c.N, c.V, c.invTemp), func(t *testing.T) {
			r := newRNG(10)
			lp := randVec(r, c.N*c.V, c.scale)
			lq := clone(lp)
			for i := range lq {
				lq[i] += float32(r.NormFloat64() * 0.5)
			}
			kl := make([]float32, c.N)
			KLRows(kl, lp, lq, c.V, c.invTemp, 0, c.N)
			ref := func(in [][]float64) []float64 { return refKL(in[0], in[1], c.V, float64(c.invTemp)) }
			in := [][]float64{to64(lp), to64(lq)}
			want := ref(in)
			for i := range kl {
				if math.Abs(float64(kl[i])-want[i]) > 1e-5*math.Abs(want[i])+1e-7 {
					t.Errorf("kl[%d] = %v, want %v", i, kl[i], want[i])
				}
			}
			gy := randVec(r, c.N, 1)
			dP := make([]float32, len(lp))
			dQ := make([]float32, len(lq))
			KLRowsBackward(dP, dQ, gy, lp, lq, c.V, c.invTemp, 0, c.N)
			if c.V > 1 {
				checkClose(t, "dP", dP, fdGrad(ref, in, to64(gy), 0), gradTol)
				checkClose(t, "dQ", dQ, fdGrad(ref, in, to64(gy), 1), gradTol)
			}
			// nil outputs are skipped and do not change the other gradient
			dQ2 := make([]float32, len(lq))
			KLRowsBackward(nil, dQ2, gy, lp, lq, c.V, c.invTemp, 0, c.N)
			if !allEqual(dQ, dQ2) {
				t.Errorf("dQ with dP nil differs")
			}
			dP2 := make([]float32, len(lq))
			KLRowsBackward(dP2, nil, gy, lp, lq, c.V, c.invTemp, 0, c.N)
			if !allEqual(dP, dP2) {
				t.Errorf("dP with dQ nil differs")
			}
		})
	}
}

func TestEntropyRows(t *testing.T) {
	for _, c := range lpCases {
		t.Run(fmt.Sprintf("N%d_V%d_T%v", c.N, c.V, c.invTemp), func(t *testing.T) {
			r := newRNG(11)
			z := randVec(r, c.N*c.V, c.scale)
			ent := make([]float32, c.N)
			EntropyRows(ent, z, c.V, c.invTemp, 0, c.N)
			ref := func(in [][]float64) []float64 { return refEntropy(in[0], c.V, float64(c.invTemp)) }
			in := [][]float64{to64(z)}
			want := ref(in)
			for i := range ent {
				if math.Abs(float64(ent[i])-want[i]) > 1e-5*math.Abs(want[i])+1e-7 {
					t.Errorf("ent[%d] = %v, want %v", i, ent[i], want[i])
				}
			}
			gy := randVec(r, c.N, 1)
			d := make([]float32, len(z))
			EntropyRowsBackward(d, gy, z, c.V, c.invTemp, 0, c.N)
			if c.V > 1 {
				checkClose(t, "dlogits", d, fdGrad(ref, in, to64(gy), 0), gradTol)
			}
		})
	}
}

// TestSoftmaxMaskedVocab: −Inf logits (a masked vocabulary) give finite results.
func TestSoftmaxMaskedVocab(t *testing.T) {
	ninf := float32(math.Inf(-1))
	z := []float32{1, ninf, 2, ninf}
	zq := []float32{0.5, ninf, 2.5, ninf}
	lp, lse := make([]float32, 1), make([]float32, 1)
	TokenLogProbs(lp, lse, z, []int32{2}, 4, 1, 0, 1)
	want := 2 - math.Log(math.Exp(1)+math.Exp(2))
	if math.Abs(float64(lp[0])-want) > 1e-6 {
		t.Errorf("lp = %v, want %v", lp[0], want)
	}
	d := make([]float32, 4)
	TokenLogProbsBackward(d, []float32{1}, z, lse, []int32{2}, 4, 1, 0, 1)
	ent, kl := make([]float32, 1), make([]float32, 1)
	EntropyRows(ent, z, 4, 1, 0, 1)
	KLRows(kl, z, zq, 4, 1, 0, 1)
	EntropyRowsBackward(d, []float32{1}, z, 4, 1, 0, 1)
	dq := make([]float32, 4)
	KLRowsBackward(d, dq, []float32{1}, z, zq, 4, 1, 0, 1)
	if !allFinite(d, 0, 4) || !allFinite(dq, 0, 4) || !allFinite(ent, 0, 1) || !allFinite(kl, 0, 1) {
		t.Errorf("non-finite: d %v dq %v ent %v kl %v", d, dq, ent, kl)
	}
	if d[1] != 0 || d[3] != 0 {
		t.Errorf("masked entries got gradient %v", d)
	}
}

func TestArgmaxRows(t *testing.T) {
	nan := float32(math.NaN())
	ninf := float32(math.Inf(-1))
	cases := []struct {
		row  []float32
		want int32
	}{
		{[]float32{1, 3, 2}, 1},
		{[]float32{5}, 0},
		{[]float32{2, 2, 1}, 0},
		{[]float32{nan, 1, 2}, 2},
		{[]float32{ninf, ninf}, 0},
		{[]float32{nan, nan}, 0},
		{[]float32{-1, ninf, -0.5}, 2},
	}
	for _, c := range cases {
		out := []int32{-7}
		ArgmaxRows(out, c.row, len(c.row), 0, 1)
		if out[0] != c.want {
			t.Errorf("ArgmaxRows(%v) = %d, want %d", c.row, out[0], c.want)
		}
	}
}

func TestAdamW(t *testing.T) {
	r := newRNG(12)
	n := 37
	p := randVec(r, n, 1)
	m := make([]float32, n)
	v := make([]float32, n)
	p64, m64, v64 := to64(p), make([]float64, n), make([]float64, n)
	lr, b1, b2, eps, wd := 1e-3, 0.9, 0.95, 1e-8, 0.1
	for step := 1; step <= 5; step++ {
		g := randVec(r, n, 1)
		if step == 3 {
			g[0] = 0 // zero gradient: v small, eps matters
		}
		bc1, bc2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
		AdamW(p, g, m, v, float32(lr), float32(b1), float32(b2), float32(eps), float32(wd), float32(bc1), float32(bc2), 0, n)
		for i := range p64 {
			gi := float64(g[i])
			p64[i] *= 1 - lr*wd
			m64[i] = b1*m64[i] + (1-b1)*gi
			v64[i] = b2*v64[i] + (1-b2)*gi*gi
			p64[i] -= lr * (m64[i] / bc1) / (math.Sqrt(v64[i]/bc2) + eps)
		}
	}
	checkClose(t, "p", p, p64, 1e-6)
	checkClose(t, "m", m, m64, 1e-5)
	checkClose(t, "v", v, v64, 1e-5)
}

func TestElementwise(t *testing.T) {
	r := newRNG(13)
	n := 23
	a, b := randVec(r, n, 1), randVec(r, n, 1)
	out := make([]float32, n)
	Add(out, a, b, 0, n)
	acc := clone(a)
	Accumulate(acc, b, 0, n)
	sc := clone(a)
	Scale(sc, 0.5, 0, n)
	mix := clone(a)
	Mix(mix, b, 0.25, 0, n)
	var ss float64
	for i := 0; i < n; i++ {
		if out[i] != a[i]+b[i] || acc[i] != a[i]+b[i] || sc[i] != a[i]*0.5 {
			t.Fatalf("elementwise mismatch at %d", i)
		}
		if w := 0.25*float64(b[i]) + 0.75*float64(a[i]); math.Abs(float64(mix[i])-w) > 1e-6 {
			t.Fatalf("Mix[%d] = %v, want %v", i, mix[i], w)
		}
		ss += float64(a[i]) * float64(a[i])
	}
	if got := SumSquares(a, 0, n); math.Abs(got-ss) > 1e-12*ss {
		t.Errorf("SumSquares = %v, want %v", got, ss)
	}
	al := clone(a)
	Add(al, al, b, 0, n) // out aliases a
	if !allEqual(al, out) {
		t.Errorf("aliased Add differs")
	}
	if !allFinite(a, 0, n) {
		t.Errorf("AllFinite false on finite data")
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		x := clone(a)
		x[n-1] = bad
		if allFinite(x, 0, n) {
			t.Errorf("AllFinite true with %v", bad)
		}
		if !allFinite(x, 0, n-1) {
			t.Errorf("AllFinite false on finite prefix")
		}
	}
	big := []float32{3e38, 3e38, -3e38}
	if !allFinite(big, 0, 3) {
		t.Errorf("AllFinite false on large finite values")
	}
	if SumSquares(a, 3, 3) != 0 || !allFinite(nil, 0, 0) {
		t.Errorf("empty ranges")
	}
}

// TestKLSmall: nearly equal distributions (KL ~ 1e-7) keep their relative accuracy.
func TestKLSmall(t *testing.T) {
	r := newRNG(60)
	const N, V = 4, 4096
	lp := randVec(r, N*V, 8)
	lq := clone(lp)
	for i := range lq {
		lq[i] += float32(r.NormFloat64() * 1e-3)
	}
	kl := make([]float32, N)
	KLRows(kl, lp, lq, V, 1, 0, N)
	want := refKL(to64(lp), to64(lq), V, 1)
	for i := range kl {
		if e := math.Abs(float64(kl[i])-want[i]) / want[i]; e > 1e-4 {
			t.Errorf("kl[%d] = %g, want %g (rel err %.2g)", i, kl[i], want[i], e)
		}
	}
	t.Logf("KL %g vs %g", kl[0], want[0])
}

// allFinite reports whether x[lo:hi] holds no NaN or ±Inf.
func allFinite(x []float32, lo, hi int) bool { return FirstNonFinite(x[lo:hi]) < 0 }
