package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestColumnSplitsGiveTheRowKernelsBits: the weight gradients summed by
// columns (BiasBackwardCols, RMSNormWeightGrad), in any split of the
// columns, have the bits of BiasBackward and RMSNormBackward's dw over all
// rows on one thread, on the assembly path and the Go one.
func TestColumnSplitsGiveTheRowKernelsBits(t *testing.T) {
	const rows, d = 37, 45
	r := rand.New(rand.NewPCG(3, 4))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	dy, x, w, rstd := vec(rows*d), vec(rows*d), vec(d), vec(rows)
	for _, asm := range []bool{true, false} {
		saved := useAVX512
		useAVX512 = asm && saved
		wantB, wantW := make([]float32, d), make([]float32, d)
		BiasBackward(wantB, dy, d, 0, rows)
		RMSNormBackward(make([]float32, rows*d), wantW, dy, x, w, rstd, d, 0, rows)
		for _, cut := range []int{0, 1, 16, 44, d} {
			gotB, gotW := make([]float32, d), make([]float32, d)
			BiasBackwardCols(gotB, dy, d, rows, cut, d)
			BiasBackwardCols(gotB, dy, d, rows, 0, cut)
			RMSNormWeightGrad(gotW, dy, x, rstd, d, rows, cut, d)
			RMSNormWeightGrad(gotW, dy, x, rstd, d, rows, 0, cut)
			if !sameBits(gotB, wantB) {
				t.Errorf("asm %v, cut %d: BiasBackwardCols differs from BiasBackward", asm, cut)
			}
			if !sameBits(gotW, wantW) {
				t.Errorf("asm %v, cut %d: RMSNormWeightGrad differs from RMSNormBackward's dw", asm, cut)
			}
		}
		useAVX512 = saved
	}
}
