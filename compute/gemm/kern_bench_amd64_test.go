//go:build amd64 && !purego

package gemm

import (
	"fmt"
	"testing"
)

// BenchmarkMicroKernel runs each micro-kernel on L1-resident panels (its peak).
func BenchmarkMicroKernel(b *testing.B) {
	for vi, kn := range kernelVariants {
		for _, kc := range []int{64, 256} {
			b.Run(fmt.Sprintf("%d_%s%dx%d/kc=%d", vi, kn.name, kn.mr, kn.nr, kc), func(b *testing.B) {
				if !kernelSupported(kn.name) {
					b.Skip()
				}
				a := make([]float32, kn.mr*kc)
				bb := make([]float32, kn.nr*kc)
				c := make([]float32, kn.mr*kn.nr)
				for b.Loop() {
					kn.fn(kc, &a[0], &bb[0], &c[0], kn.nr, 1)
				}
				b.ReportMetric(2*float64(kn.mr*kn.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkTune runs whole products with each kernel variant and blocking
// (a tuning aid: go test -bench Tune).
func BenchmarkTune(b *testing.B) {
	for vi, kv := range kernelVariants {
		for _, kc := range []int{128, 256, 320} {
			for _, mcPanels := range []int{12, 24} {
				for _, s := range benchShapes[:1] {
					for _, tB := range []bool{false, true} {
						k := *kv
						k.kc, k.mc, k.nc = kc, mcPanels*k.mr, 4096
						b.Run(fmt.Sprintf("%d_%dx%d/kc=%d/mc=%d/%dx%dx%d/tB=%v", vi, k.mr, k.nr, kc, k.mc, s.m, s.k, s.n, tB), func(b *testing.B) {
							if !kernelSupported(k.name) {
								b.Skip()
							}
							old := active
							active = &k
							defer func() { active = old }()
							benchGemmSerial(b, tB, s.m, s.k, s.n)
						})
					}
				}
			}
		}
	}
}
