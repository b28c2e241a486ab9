package sample

import (
	"fmt"
	"testing"

	"github.com/rlt-workbench/rlt/compute/gemm"
	"github.com/rlt-workbench/rlt/compute/parallel"
)

func BenchmarkProbeGemm(b *testing.B) {
	for _, sh := range [][2]int{{768, 256}, {688, 256}, {256, 688}, {512, 256}} {
		n, k := sh[0], sh[1]
		for _, m := range []int{16, 14, 8} {
			for _, tb := range []bool{true, false} {
				for _, w := range []int{1, 2} {
					b.Run(fmt.Sprintf("m%d_n%d_k%d_transB%v_w%d", m, n, k, tb, w), func(b *testing.B) {
						parallel.SetWorkers(w)
						defer parallel.SetWorkers(2)
						a := make([]float32, m*k)
						bb := make([]float32, n*k)
						c := make([]float32, m*n)
						ldb := k
						if !tb {
							ldb = n
						}
						for i := 0; i < b.N; i++ {
							gemm.Sgemm(false, tb, m, n, k, 1, a, k, bb, ldb, 0, c, n)
						}
						b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}
