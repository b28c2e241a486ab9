package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed*7+1)) }

func randVec(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

func to64(v []float32) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = float64(x)
	}
	return o
}

func clone(v []float32) []float32 { return append([]float32(nil), v...) }

// maxRelErr returns max|got−want| / max(max|want|, floor).
func maxRelErr(got []float32, want []float64, floor float64) float64 {
	var e, m float64
	for i := range want {
		e = max(e, math.Abs(float64(got[i])-want[i]))
		m = max(m, math.Abs(want[i]))
	}
	return e / max(m, floor)
}

func checkClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.IsNaN(float64(got[i])) != math.IsNaN(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
	if e := maxRelErr(got, want, 1e-30); e > tol || math.IsNaN(e) {
		t.Errorf("%s: max relative error %.3g > %.3g", what, e, tol)
	}
}

// checkCloseFloor is checkClose with errors relative to max(floor, max |want|).
func checkCloseFloor(t *testing.T, what string, got []float32, want []float64, tol, floor float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	if e := maxRelErr(got, want, floor); e > tol || math.IsNaN(e) {
		t.Errorf("%s: max error %.3g relative to max(%g, max |want|) > %.3g", what, e, floor, tol)
	}
}

// fdGrad returns the central finite-difference gradient of L = Σ f(in)·gy with
// respect to in[which], in float64.
func fdGrad(f func([][]float64) []float64, in [][]float64, gy []float64, which int) []float64 {
	x := in[which]
	g := make([]float64, len(x))
	loss := func() float64 {
		y := f(in)
		var s float64
		for i := range y {
			s += y[i] * gy[i]
		}
		return s
	}
	for j := range x {
		orig := x[j]
		h := 1e-6 * max(1, math.Abs(orig))
		x[j] = orig + h
		lp := loss()
		x[j] = orig - h
		lm := loss()
		x[j] = orig
		g[j] = (lp - lm) / (2 * h)
	}
	return g
}

// gradTol is the relative tolerance (against the gradient's largest entry) for
// float32 analytic gradients against float64 finite differences.
const gradTol = 1e-3

// fwdTol is the relative tolerance for float32 forward passes against float64
// references.
const fwdTol = 1e-5

func allEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// splits returns ways to cut [0, n) into consecutive pieces.
func splits(n int) [][]int {
	out := [][]int{{0, n}}
	if n >= 2 {
		out = append(out, []int{0, n / 2, n})
	}
	if n >= 3 {
		out = append(out, []int{0, 1, n - 1, n})
		cuts := []int{0}
		for c := 1; c < n; c += 2 {
			cuts = append(cuts, c)
		}
		out = append(out, append(cuts, n))
	}
	out = append(out, []int{0, 0, n, n}) // empty pieces
	return out
}

// runSplit calls f over every piece of cuts.
func runSplit(cuts []int, f func(lo, hi int)) {
	for i := 0; i+1 < len(cuts); i++ {
		f(cuts[i], cuts[i+1])
	}
}
