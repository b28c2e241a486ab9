package compute

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute/allocstest"
)

func randT(be Backend, r *rand.Rand, name string, scale float32, dims ...int) *Tensor {
	t := be.New(name, dims...)
	v := make([]float32, t.Len())
	for i := range v {
		v[i] = scale * float32(r.NormFloat64())
	}
	be.Write(t, v)
	return t
}

func maxDiff(a, b []float32) (diff, scale float64) {
	for i := range a {
		diff = max(diff, math.Abs(float64(a[i])-float64(b[i])))
		scale = max(scale, math.Abs(float64(b[i])))
	}
	return diff, scale
}

func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	d, s := maxDiff(got, want)
	if d > tol*max(s, 1) {
		t.Errorf("%s: max difference %.3g (scale %.3g) > %.3g", what, d, s, tol)
	}
}

// TestHeadMatchesLogits: the fused head gives the log-probs, entropies and
// gradients of Linear → TokenLogProbs / Entropy, over one chunk or many,
// with ignored rows between active ones, frozen or not.
func TestHeadMatchesLogits(t *testing.T) {
	const N, d, V = 11, 8, 37
	cases := []struct {
		name         string
		floats, rows int // the tile's budget and row cap; 0: the defaults (one tile here)
		targets      []int32
		frozen       bool
	}{
		{"one tile", 0, 0, []int32{3, 0, 36, 5, 5, 1, 2, 9, 30, 7, 11}, false},
		{"tiles of 3 rows", 3 * V, 3, []int32{3, 0, 36, 5, 5, 1, 2, 9, 30, 7, 11}, false},
		{"ignored rows between", 4 * V, 4, []int32{3, -1, 36, -1, -1, 1, 2, -1, 30, 7, -1}, false},
		{"one row a tile", V, 1, []int32{-1, 4, -1, 5, 6, -1, -1, -1, 8, 9, 10}, false},
		{"frozen head", 2 * V, 2, []int32{3, -1, 36, 5, 5, 1, 2, 9, 30, 7, 11}, true},
		{"all ignored", 0, 0, []int32{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, false},
		{"vocabulary blocks of 10", 30, 3, []int32{3, 0, 36, 5, 5, 1, 2, 9, 30, 7, 11}, false},
		{"blocks of 8, one tile, ignored rows", 11 * 8, 0, []int32{3, -1, 36, -1, 9, 1, 2, -1, 30, 7, 10}, false},
		{"frozen head in blocks", 4 * 9, 4, []int32{3, -1, 36, 5, 5, 1, 2, 9, 30, 7, 11}, true},
		{"a block of one column", 2, 2, []int32{3, 0, 36, 5, 5, 1, 2, 9, 30, 7, 11}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			be := NewCPU()
			be.head.floats, be.head.rows = c.floats, c.rows
			h := randT(be, r, "h", 1, N, d)
			w := randT(be, r, "w", 0.7, V, d)
			seed := make([]float32, N)
			for i := range seed {
				seed[i] = float32(r.NormFloat64())
			}
			const invT = 1 / 0.7

			// today's ops
			hOld, wOld := randT(be, r, "h", 1, N, d), randT(be, r, "w", 1, V, d)
			be.Copy(hOld, h)
			be.Copy(wOld, w)
			RequireGrad(be, hOld)
			RequireGrad(be, wOld)
			tp := NewTape(be)
			logits := tp.Linear(hOld, wOld, nil)
			lpOld := tp.TokenLogProbs(logits, c.targets, invT)
			entOld := be.New("ent", N)
			be.Entropy(entOld, logits, invT)
			if err := tp.Backward(lpOld, seed); err != nil {
				t.Fatal(err)
			}

			RequireGrad(be, h)
			RequireGrad(be, w)
			if c.frozen {
				be.FreezeWeights([]*Tensor{w})
				defer be.ThawWeights([]*Tensor{w})
			}
			tp2 := NewTape(be)
			lp, ent := tp2.HeadLogProbsEntropy(h, w, c.targets, invT)
			if err := tp2.Err(); err != nil {
				t.Fatal(err)
			}
			wantEnt := read(be, entOld)
			for i, tg := range c.targets {
				if tg < 0 {
					wantEnt[i] = 0
				}
			}
			closeTo(t, "lp", read(be, lp), read(be, lpOld), 1e-5)
			closeTo(t, "entropy", read(be, ent), wantEnt, 1e-5)
			if c.frozen {
				be.ThawWeights([]*Tensor{w}) // dw accumulates into w's gradient, not w
			}
			if err := tp2.Backward(lp, seed); err != nil {
				t.Fatal(err)
			}
			closeTo(t, "dh", read(be, h.Grad), read(be, hOld.Grad), 1e-5)
			closeTo(t, "dw", read(be, w.Grad), read(be, wOld.Grad), 1e-5)
		})
	}
}

// TestHeadGradientsMatchFiniteDifferences differentiates Σ seed·lp of the
// fused head numerically, in tiles of two rows by vocabulary blocks of 4
// columns (the last one 1 column).
func TestHeadGradientsMatchFiniteDifferences(t *testing.T) {
	const N, d, V = 5, 4, 9
	r := rand.New(rand.NewPCG(3, 4))
	be := NewCPU()
	be.head.floats, be.head.rows = 8, 2
	h := randT(be, r, "h", 1, N, d)
	w := randT(be, r, "w", 1, V, d)
	targets := []int32{2, -1, 8, 0, 4}
	seed := []float32{1, 2, -0.5, 0.7, 1.3}
	RequireGrad(be, h)
	RequireGrad(be, w)
	tp := NewTape(be)
	lp := tp.HeadLogProbs(h, w, targets, 1.25)
	if err := tp.Backward(lp, seed); err != nil {
		t.Fatal(err)
	}
	loss := func() float64 {
		ntp := NewTape(be)
		ntp.SetRecording(false)
		var s float64
		for i, v := range read(be, ntp.HeadLogProbs(h, w, targets, 1.25)) {
			s += float64(seed[i]) * float64(v)
		}
		return s
	}
	for _, p := range []*Tensor{h, w} {
		analytic := read(be, p.Grad)
		vals := read(be, p)
		for i := range vals {
			const eps = 1e-2
			orig := vals[i]
			vals[i] = orig + eps
			be.Write(p, vals)
			up := loss()
			vals[i] = orig - eps
			be.Write(p, vals)
			down := loss()
			vals[i] = orig
			be.Write(p, vals)
			numeric := (up - down) / (2 * eps)
			if diff := math.Abs(numeric - float64(analytic[i])); diff > 1e-2*math.Max(1, math.Abs(numeric)) {
				t.Errorf("%s[%d]: analytic %.5f, finite difference %.5f", p.Name, i, analytic[i], numeric)
			}
		}
	}
}

// TestHeadKLMatchesLogits: HeadKL over tiles of rows and blocks of the
// vocabulary equals KL of the full logits.
func TestHeadKLMatchesLogits(t *testing.T) {
	const N, dp, dq, V = 7, 6, 10, 23
	for _, tile := range [][2]int{{0, 0}, {4 * V, 2}, {12 * V, 6}, {2 * 5 * 3, 3}, {2 * 7, 0}} {
		t.Run(fmt.Sprint(tile), func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, 6))
			be := NewCPU()
			be.head.floats, be.head.rows = tile[0], tile[1]
			hp, wp := randT(be, r, "hp", 1, N, dp), randT(be, r, "wp", 0.5, V, dp)
			hq, wq := randT(be, r, "hq", 1, N, dq), randT(be, r, "wq", 0.5, V, dq)
			tp := NewTape(be)
			tp.SetRecording(false)
			want := be.New("kl", N)
			be.KL(want, tp.Linear(hp, wp, nil), tp.Linear(hq, wq, nil), 0.8)
			got := tp.HeadKL(hp, wp, hq, wq, 0, 0.8)
			if err := tp.Err(); err != nil {
				t.Fatal(err)
			}
			closeTo(t, "kl", read(be, got), read(be, want), 1e-5)
		})
	}
}

func TestHeadRefusesMisuse(t *testing.T) {
	be := NewCPU()
	h, w := be.New("h", 3, 4), be.New("w", 5, 4)
	w3 := be.New("w3", 5, 3)
	g := be.New("g", 3, 4)
	RequireGrad(be, g)
	cases := []struct {
		name string
		run  func(tp *Tape) *Tensor
		want string
	}{
		{"width", func(tp *Tape) *Tensor { return tp.HeadLogProbs(h, w3, []int32{0, 1, 2}, 1) }, "want h [N, d] and w [V, d]"},
		{"rows", func(tp *Tape) *Tensor { return tp.HeadLogProbs(h, w, []int32{0, 1}, 1) }, "for 2 targets"},
		{"target", func(tp *Tape) *Tensor { return tp.HeadLogProbs(h, w, []int32{0, 5, 1}, 1) }, "target 5 at row 1 is outside the 5-row vocabulary"},
		{"row limit", func(tp *Tape) *Tensor { return tp.HeadLogProbsRows(h, w, 6, []int32{0, 1, 2}, 1) }, "6 vocabulary rows of head w"},
		{"row-limited target", func(tp *Tape) *Tensor { return tp.HeadLogProbsRows(h, w, 3, []int32{0, 3, 1}, 1) }, "target 3 at row 1 is outside the 3-row vocabulary"},
		{"kl row limit", func(tp *Tape) *Tensor { return tp.HeadKL(h, w, h, be.New("w6", 4, 4), 5, 1) }, "over 5 vocabulary rows"},
		{"kl rows", func(tp *Tape) *Tensor { return tp.HeadKL(h, w, be.New("x", 2, 4), w, 0, 1) }, "as many rows"},
		{"kl backward", func(tp *Tape) *Tensor { return tp.HeadKL(g, w, h, w, 0, 1) }, "has no backward"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := NewTape(be)
			if out := c.run(tp); out != nil {
				t.Fatalf("got a result, want an error")
			}
			if err := tp.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to say %q", err, c.want)
			}
		})
	}
}

// TestHeadAllocatesNothing: after the first step, forward and backward of
// the chunked head allocate nothing.
func TestHeadAllocatesNothing(t *testing.T) {
	const N, d, V = 9, 8, 31
	r := rand.New(rand.NewPCG(7, 8))
	be := NewCPU()
	be.head.floats, be.head.rows = 4*8, 4
	h, w := randT(be, r, "h", 1, N, d), randT(be, r, "w", 1, V, d)
	RequireGrad(be, h)
	RequireGrad(be, w)
	targets := []int32{1, -1, 3, 4, 5, -1, 7, 8, 9}
	seed := make([]float32, N)
	tp := NewTape(be)
	step := func() {
		tp.Reset()
		lp := tp.HeadLogProbs(h, w, targets, 1)
		if err := tp.Backward(lp, seed); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if n := allocstest.Fewest(5, step); n != 0 { // the pool's parks: see allocstest
		t.Errorf("%v allocations per step", n)
	}
}

// cutRows returns a copy of w's first n rows.
func cutRows(be Backend, w *Tensor, n int) *Tensor {
	d := w.Dim(1)
	all := read(be, w)
	c := be.New(w.Name+".cut", n, d)
	be.Write(c, all[:n*d])
	return c
}

// TestHeadRowLimit: the fused ops over the first V rows of a longer table
// (padded further) give what they give over a copy of those rows, frozen
// (packed) or not, over one chunk or many; the gradient reaches only those
// rows; HeadKL compares two differently padded heads over their shared rows.
func TestHeadRowLimit(t *testing.T) {
	const N, d, V, pad = 9, 6, 29, 7
	targets := []int32{3, -1, 28, 5, 0, 1, -1, 27, 9}
	for _, c := range []struct {
		name         string
		floats, rows int
		frozen       bool
	}{{"one tile", 0, 0, false}, {"tiles of 2 rows", 2 * V, 2, false}, {"frozen", 4 * V, 4, true}, {"blocks of 7", 3 * 7, 3, false}} {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 8))
			be := NewCPU()
			be.head.floats, be.head.rows = c.floats, c.rows
			h := randT(be, r, "h", 1, N, d)
			w := randT(be, r, "w", 0.7, V+pad, d)
			wCut := cutRows(be, w, V)
			hCut := cutRows(be, h, N)
			seed := make([]float32, N)
			for i := range seed {
				seed[i] = float32(r.NormFloat64())
			}
			for _, p := range []*Tensor{h, w, hCut, wCut} {
				RequireGrad(be, p)
			}
			want := NewTape(be)
			lpWant := want.HeadLogProbs(hCut, wCut, targets, 1.3)
			if err := want.Backward(lpWant, seed); err != nil {
				t.Fatal(err)
			}
			if c.frozen {
				be.FreezeWeights([]*Tensor{w})
			}
			got := NewTape(be)
			lp := got.HeadLogProbsRows(h, w, V, targets, 1.3)
			if err := got.Err(); err != nil {
				t.Fatal(err)
			}
			closeTo(t, "lp", read(be, lp), read(be, lpWant), 1e-5)
			if c.frozen {
				be.ThawWeights([]*Tensor{w})
			}
			if err := got.Backward(lp, seed); err != nil {
				t.Fatal(err)
			}
			closeTo(t, "dh", read(be, h.Grad), read(be, hCut.Grad), 1e-5)
			dw := read(be, w.Grad)
			closeTo(t, "dw shared rows", dw[:V*d], read(be, wCut.Grad), 1e-5)
			for i, g := range dw[V*d:] {
				if g != 0 {
					t.Fatalf("dw[%d] of a padding row = %g, want 0", V*d+i, g)
				}
			}

			// Two heads padded differently, over their V shared rows.
			hq := randT(be, r, "hq", 1, N, d+2)
			wq := randT(be, r, "wq", 0.5, V+2, d+2)
			nt := NewTape(be)
			nt.SetRecording(false)
			klWant := be.New("kl", N)
			be.Copy(klWant, nt.HeadKL(hCut, wCut, hq, cutRows(be, wq, V), 0, 0.9))
			kl := nt.HeadKL(h, w, hq, wq, V, 0.9)
			if err := nt.Err(); err != nil {
				t.Fatal(err)
			}
			closeTo(t, "kl", read(be, kl), read(be, klWant), 1e-5)
		})
	}
}
