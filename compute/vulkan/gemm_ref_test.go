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
			if j < n {
				var s float64
				for k := range r.k {
					s += r.aAt(i, k) * r.bAt(k, j)
				}
				want = float64(r.alpha)*s + float64(r.beta)*want
				if r.bias != nil {
					want += float64(r.bias[j])
				}
			}
			if g := float64(got[i*r.ldc+j]); math.Abs(g-want) > 1e-5*(1+math.Abs(want))*math.Sqrt(float64(r.k)) {
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
