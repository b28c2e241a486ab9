package vulkan

import (
	"math"
	"testing"
)

// refGemm is a product the GEMM tests check against: alpha·op(A)·op(B) +
// beta·C0 (+ bias) in float64, A and B row-major with leading dimensions
// lda and ldb, transposed when tA, tB; C0 has leading dimension ldc.
type refGemm struct {
	a, b, c0, bias []float32 // bias nil: none
	lda, ldb, ldc  int
	k              int
	tA, tB         bool
	alpha, beta    float32
	// f16: the product ran on float16 operands scaled per line (gemmcm),
	// each within 2⁻¹¹ of its value, so an output may be off by
	// 2⁻¹⁰·alpha·Σ|a||b| beyond float32's error.
	f16 bool
}

func (r refGemm) aAt(i, k int) float64 {
	if r.tA {
		return float64(r.a[k*r.lda+i])
	}
	return float64(r.a[i*r.lda+k])
}

func (r refGemm) bAt(k, j int) float64 {
	if r.tB {
		return float64(r.b[j*r.ldb+k])
	}
	return float64(r.b[k*r.ldb+j])
}

// check compares got [m, ldc] with the product over its first n columns
// and with C0 over the padding past them, within float32's summation
// error over k terms.
func (r refGemm) check(t *testing.T, got []float32, m, n int) {
	t.Helper()
	for i := range m {
		for j := range r.ldc {
			want := float64(r.c0[i*r.ldc+j]) // the padding keeps its values
			tol := 0.0
			if j < n {
				var s, abs float64
				for k := range r.k {
					s += r.aAt(i, k) * r.bAt(k, j)
					abs += math.Abs(r.aAt(i, k) * r.bAt(k, j))
				}
				rest := float64(r.beta) * want
				if r.bias != nil {
					rest += float64(r.bias[j])
				}
				want = float64(r.alpha)*s + rest
				tol = 1e-5 * (1 + math.Abs(want)) * math.Sqrt(float64(max(r.k, 1)))
				if r.f16 {
					// Relative to the terms, not to 1: the lines of
					// tiny values must keep their precision too.
					scaled := math.Abs(float64(r.alpha)) * abs
					tol = scaled/1024 + 1e-6*(scaled+math.Abs(rest))*math.Sqrt(float64(max(r.k, 1)))
				}
			}
			if g := float64(got[i*r.ldc+j]); !(math.Abs(g-want) <= tol) { // NaN fails
				t.Fatalf("c[%d, %d] = %v, want %v", i, j, g, want)
			}
		}
	}
}

// kernelRuns runs f under a profile and returns how many times each
// kernel ran.
func kernelRuns(t *testing.T, d *Device, f func()) map[string]int {
	t.Helper()
	if err := d.StartProfile(); err != nil {
		t.Fatal(err)
	}
	f()
	runs := map[string]int{}
	for _, k := range d.StopProfile().Kernels {
		runs[k.Name] = k.Count
	}
	return runs
}
