package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlt-workbench/rlt/compute/allocstest"
	"github.com/rlt-workbench/rlt/compute/parallel"
)

// A prepacked B gives the very bits of an unpacked one, for every kernel,
// transpose, block structure (several kc passes, several nc blocks, edges)
// and worker count, and a PackedB can be packed again with other shapes.
func TestSgemmPackedBitIdentical(t *testing.T) {
	shapes := []struct{ m, n, k int }{
		{1, 1, 1}, {16, 256, 256}, {16, 688, 256}, {16, 256, 688}, {2, 37, 19},
		{15, 512, 256}, {29, 33, 600}, {64, 4200, 40}, {300, 333, 600}, {3, 1500, 300},
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, kn := range allKernels() {
		t.Run(kn, func(t *testing.T) {
			useKernel(t, kn)
			var pb PackedB // reused across shapes on purpose
			for _, s := range shapes {
				for tr := 0; tr < 4; tr++ {
					tA, tB := tr&1 == 1, tr&2 == 2
					lda, ldb := s.k, s.n
					if tA {
						lda = s.m
					}
					if tB {
						ldb = s.k
					}
					a := randSlice(r, s.m*s.k)
					b := randSlice(r, s.k*s.n)
					c0 := randSlice(r, s.m*s.n)
					pb.Pack(tB, s.n, s.k, b, ldb)
					for _, w := range []int{1, 2, 3} {
						old := parallel.Workers()
						parallel.SetWorkers(w)
						for _, beta := range []float32{0, 0.5} {
							want := append([]float32(nil), c0...)
							got := append([]float32(nil), c0...)
							Sgemm(tA, tB, s.m, s.n, s.k, 1.5, a, lda, b, ldb, beta, want, s.n)
							SgemmPacked(tA, s.m, 1.5, a, lda, &pb, beta, got, s.n)
							for i := range want {
								if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
									parallel.SetWorkers(old)
									t.Fatalf("%dx%dx%d tA=%v tB=%v workers %d beta %v: C[%d] = %v packed, %v unpacked",
										s.m, s.n, s.k, tA, tB, w, beta, i, got[i], want[i])
								}
							}
						}
						parallel.SetWorkers(old)
					}
				}
			}
		})
	}
}

func TestSgemmPackedMisuse(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"never packed", func() { SgemmPacked(false, 1, 1, make([]float32, 4), 4, &PackedB{}, 0, make([]float32, 4), 4) }},
		{"short B", func() { new(PackedB).Pack(true, 4, 4, make([]float32, 15), 4) }},
		{"short A", func() {
			var pb PackedB
			pb.Pack(false, 4, 4, make([]float32, 16), 4)
			SgemmPacked(false, 2, 1, make([]float32, 7), 4, &pb, 0, make([]float32, 8), 4)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Fatalf("no panic")
				} else {
					t.Log(fmt.Sprint(r))
				}
			}()
			c.f()
		})
	}
}

func TestSgemmPackedZeroAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	a, b, c := randSlice(r, 16*256), randSlice(r, 688*256), make([]float32, 16*688)
	var pb PackedB
	pb.Pack(true, 688, 256, b, 256)
	SgemmPacked(false, 16, 1, a, 256, &pb, 0, c, 688)
	if n := allocstest.Fewest(20, func() { SgemmPacked(false, 16, 1, a, 256, &pb, 0, c, 688) }); n != 0 {
		t.Fatalf("%v allocations per call", n)
	}
}

// PackedLen is the floats Pack holds, which a memory estimate counts for a
// frozen weight: its columns rounded up to the kernel's strips.
func TestPackedLen(t *testing.T) {
	for _, s := range [][2]int{{896, 896}, {128, 896}, {272, 128}, {33, 7}, {1, 1}, {151936, 8}} {
		n, k := s[0], s[1]
		var p PackedB
		p.Pack(true, n, k, make([]float32, n*k), k)
		if got := PackedLen(n, k); got != len(p.data) || got < n*k {
			t.Errorf("PackedLen(%d, %d) = %d, Pack holds %d", n, k, got, len(p.data))
		}
	}
}
