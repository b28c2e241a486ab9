package gemm

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute/half"
	"github.com/rlt-workbench/rlt/compute/parallel"
)

// A 16-bit B widened while packing gives the very bits of Sgemm on a float32
// B holding the same values, for both formats, every kernel, block structure
// (several kc passes and nc blocks, edges), row stride and worker count.
func TestSgemmB16BitIdentical(t *testing.T) {
	shapes := []struct{ m, n, k int }{
		{1, 1, 1}, {2, 37, 19}, {15, 512, 700}, {29, 33, 600}, {64, 4200, 40},
	}
	if !testing.Short() {
		shapes = append(shapes, []struct{ m, n, k int }{{16, 256, 256}, {300, 333, 600}}...)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, kn := range allKernels() {
		t.Run(kn, func(t *testing.T) {
			useKernel(t, kn)
			for _, s := range shapes {
				for _, kind := range []half.Kind{half.BF16, half.F16} {
					for _, tA := range []bool{false, true} {
						lda := s.k
						if tA {
							lda = s.m
						}
						ldb := s.k + 3 // a strided B
						a := randSlice(r, s.m*s.k)
						b16 := make([]uint16, s.n*ldb)
						half.Narrow(kind, b16, randSlice(r, len(b16)))
						b := make([]float32, len(b16))
						half.Widen(kind, b, b16)
						c0 := randSlice(r, s.m*s.n)
						for _, w := range []int{1, 2} {
							old := parallel.Workers()
							parallel.SetWorkers(w)
							for _, beta := range []float32{0, 1} {
								want := append([]float32(nil), c0...)
								got := append([]float32(nil), c0...)
								Sgemm(tA, true, s.m, s.n, s.k, 1, a, lda, b, ldb, beta, want, s.n)
								SgemmB16(tA, s.m, s.n, s.k, 1, a, lda, b16, kind, ldb, beta, got, s.n)
								for i := range want {
									if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
										parallel.SetWorkers(old)
										t.Fatalf("%v %dx%dx%d tA=%v workers %d beta %v: C[%d] = %v from 16 bits, %v from float32",
											kind, s.m, s.n, s.k, tA, w, beta, i, got[i], want[i])
									}
								}
							}
							parallel.SetWorkers(old)
						}
					}
				}
			}
		})
	}
}

func TestSgemmB16Misuse(t *testing.T) {
	for _, c := range []struct {
		name, want string
		call       func()
	}{
		{"short B", "B too short", func() {
			SgemmB16(false, 2, 3, 4, 1, make([]float32, 8), 4, make([]uint16, 11), half.BF16, 4, 0, make([]float32, 6), 3)
		}},
		{"stride", "less than the 4 columns", func() {
			SgemmB16(false, 2, 3, 4, 1, make([]float32, 8), 4, make([]uint16, 12), half.BF16, 3, 0, make([]float32, 6), 3)
		}},
		{"kind", "unknown 16-bit kind", func() {
			SgemmB16(false, 2, 3, 4, 1, make([]float32, 8), 4, make([]uint16, 12), 0, 4, 0, make([]float32, 6), 3)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r, _ := recover().(string)
				if !strings.Contains(r, c.want) {
					t.Fatalf("recovered %q, want it to say %q", r, c.want)
				}
			}()
			c.call()
		})
	}
}
