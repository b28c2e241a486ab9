package vulkan

import (
	"errors"
	"math"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
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

// storedShapes are the stored rows and columns of A and B for op(A) [m, k]
// and op(B) [k, n]: A is [m, k] or, transposed, [k, m]; B is [k, n] or
// [n, k].
func storedShapes(m, n, k int, tA, tB bool) (aRows, aCols, bRows, bCols int) {
	aRows, aCols, bRows, bCols = m, k, k, n
	if tA {
		aRows, aCols = k, m
	}
	if tB {
		bRows, bCols = n, k
	}
	return
}

// run puts r's operands on d (B as dt, its values in r.b rounded to dt in
// place), records C [m, n] = alpha·op(A)·op(B) + beta·C (+ bias) through
// Device.gemm, checks C, and returns how many times each kernel ran.
func (r refGemm) run(t *testing.T, d *Device, m, n int, dt compute.DType) map[string]int {
	t.Helper()
	aRows, _, bRows, _ := storedShapes(m, n, r.k, r.tA, r.tB)
	a, _ := d.New("a", aRows, r.lda)
	y, _ := d.New("c", m, r.ldc)
	b := newOperand(t, d, "b", dt, r.b, bRows, r.ldb)
	var bias *Tensor
	if r.bias != nil {
		bias, _ = d.New("bias", n)
		defer d.Free(bias)
	}
	defer func() { d.Free(a); d.Free(b); d.Free(y) }()
	errs := []error{d.Write(a, r.a), d.Write(y, r.c0)}
	if bias != nil {
		errs = append(errs, d.Write(bias, r.bias))
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	p := gemmPush{m: uint32(m), n: uint32(n), k: uint32(r.k), lda: uint32(r.lda), ldb: uint32(r.ldb), ldc: uint32(r.ldc),
		alpha: r.alpha, beta: r.beta}
	if r.tA {
		p.flags |= gemmTransA
	}
	if r.tB {
		p.flags |= gemmTransB
	}
	runs := kernelRuns(t, d, func() { d.gemm(y, a, b, bias, p) })
	got := make([]float32, m*r.ldc)
	if err := d.Read(got, y); err != nil {
		t.Fatal(err)
	}
	r.check(t, got, m, n)
	return runs
}
