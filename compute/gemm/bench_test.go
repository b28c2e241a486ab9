package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rlt-workbench/rlt/compute/parallel"
)

// benchShapes are m×k×n products: the NN form multiplies an m×k by a k×n
// matrix; the NT form multiplies m×k by the transpose of an n×k matrix (a
// linear layer X·Wᵀ).
var benchShapes = []struct{ m, k, n int }{{512, 256, 1024}, {2048, 256, 688}}

func benchGemm(b *testing.B, tB bool, m, k, n int) {
	r := rand.New(rand.NewPCG(1, 1))
	a, bb, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	ldb := n
	if tB {
		ldb = k
	}
	Sgemm(false, tB, m, n, k, 1, a, k, bb, ldb, 0, c, n)
	b.ResetTimer()
	for b.Loop() {
		Sgemm(false, tB, m, n, k, 1, a, k, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// benchGemmSerial is benchGemm with SgemmSerial.
func benchGemmSerial(b *testing.B, tB bool, m, k, n int) {
	r := rand.New(rand.NewPCG(1, 1))
	a, bb, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	ldb := n
	if tB {
		ldb = k
	}
	SgemmSerial(false, tB, m, n, k, 1, a, k, bb, ldb, 0, c, n)
	b.ResetTimer()
	for b.Loop() {
		SgemmSerial(false, tB, m, n, k, 1, a, k, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm reports GFLOP/s for the transformer shapes with 1 and 2 workers.
func BenchmarkSgemm(b *testing.B) {
	for _, form := range []string{"NN", "NT"} {
		for _, s := range benchShapes {
			for _, w := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%dx%dx%d/workers=%d", form, s.m, s.k, s.n, w), func(b *testing.B) {
					old := parallel.Workers()
					parallel.SetWorkers(w)
					defer parallel.SetWorkers(old)
					benchGemm(b, form == "NT", s.m, s.k, s.n)
				})
			}
		}
	}
}

// BenchmarkSgemmSmall is an attention-sized tile (128×64 by 64×128), which
// stays on the calling goroutine.
func BenchmarkSgemmSmall(b *testing.B) {
	for _, form := range []string{"NN", "NT"} {
		b.Run(form, func(b *testing.B) { benchGemm(b, form == "NT", 128, 64, 128) })
	}
}

// BenchmarkSgemmKernels runs the 512×256×1024 NT product with each kernel on
// one worker.
func BenchmarkSgemmKernels(b *testing.B) {
	for _, kn := range allKernels() {
		b.Run(kn, func(b *testing.B) {
			useKernel(b, kn)
			old := parallel.Workers()
			parallel.SetWorkers(1)
			defer parallel.SetWorkers(old)
			benchGemm(b, true, 512, 256, 1024)
		})
	}
}

// BenchmarkSgemmShapes covers decode-sized (small m) and near-threshold
// products, NT form, with 1 and 2 workers.
func BenchmarkSgemmShapes(b *testing.B) {
	for _, s := range []struct{ m, k, n int }{{1, 256, 1024}, {4, 256, 1024}, {16, 256, 1024}, {64, 256, 768}, {128, 128, 128}, {256, 256, 256}} {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("%dx%dx%d/workers=%d", s.m, s.k, s.n, w), func(b *testing.B) {
				old := parallel.Workers()
				parallel.SetWorkers(w)
				defer parallel.SetWorkers(old)
				benchGemm(b, true, s.m, s.k, s.n)
			})
		}
	}
}

// BenchmarkSgemmDecode is a decode step's linear layer (16 rows by a
// transposed weight) with the weight packed at every call (Sgemm) and packed
// once ahead (SgemmPacked, what Model.Freeze gives decoding).
func BenchmarkSgemmDecode(b *testing.B) {
	for _, s := range []struct{ m, k, n int }{{16, 256, 256}, {16, 256, 688}, {16, 688, 256}, {16, 256, 512}, {1, 896, 4864}} {
		for _, w := range []int{1, 2} {
			for _, packed := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%d/workers=%d/packed=%v", s.m, s.k, s.n, w, packed)
				b.Run(name, func(b *testing.B) {
					old := parallel.Workers()
					parallel.SetWorkers(w)
					defer parallel.SetWorkers(old)
					if !packed {
						benchGemm(b, true, s.m, s.k, s.n)
						return
					}
					r := rand.New(rand.NewPCG(1, 1))
					a, bb, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
					var pb PackedB
					pb.Pack(true, s.n, s.k, bb, s.k)
					for b.Loop() {
						SgemmPacked(false, s.m, 1, a, s.k, &pb, 0, c, s.n)
					}
					b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
