package kernels

import (
	"math"
	"testing"

	"github.com/rlt-workbench/rlt/compute/half"
)

// TestFirstNonFinite: the first NaN or ±Inf is found in every place of
// short and odd lengths (the word scan's tails) and of a long slice (a
// block after the first), float32 and both 16-bit types; finite values,
// the largest and the subnormals included, are not.
func TestFirstNonFinite(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8, 9, 1500} {
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
			for at := -1; at < n; at++ {
				if n > 16 && at > 2 && at != 700 && at != n-1 {
					continue
				}
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(i%5) - 2
				}
				x[0] = math.SmallestNonzeroFloat32
				if at >= 0 {
					x[at] = bad
				}
				if got := FirstNonFinite(x); got != at {
					t.Errorf("float32 n %d, %v at %d: found %d", n, bad, at, got)
				}
				for _, k := range []half.Kind{half.BF16, half.F16} {
					bits := make([]uint16, n)
					half.Narrow(k, bits, x)
					if at != 0 {
						bits[0] = 0x7f7f // the largest finite bfloat16
						if k == half.F16 {
							bits[0] = 0x7bff
						}
					}
					if got := FirstNonFinite16(bits, k == half.F16); got != at {
						t.Errorf("%v n %d, %v at %d: found %d", k, n, bad, at, got)
					}
				}
			}
		}
	}
}
