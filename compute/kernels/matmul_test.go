package kernels

import (
	"fmt"
	"math"
	"testing"
)

// TestSgemm checks the local sgemm (both the assembly and the Go loops) against
// a float64 triple loop, for every transpose combination, odd sizes, padded
// leading dimensions and several beta values.
func TestSgemm(t *testing.T) {
	sizes := [][3]int{{1, 1, 1}, {1, 7, 19}, {1, 144, 64}, {1, 4, 16}, {3, 5, 7}, {4, 64, 64}, {5, 67, 33}, {32, 128, 64}, {9, 130, 17}, {17, 6, 129}, {2, 16, 16}}
	paths := []bool{false}
	if useAVX512 {
		paths = append(paths, true)
	}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, beta := range []float32{0, 1, 0.5} {
					for _, asm := range paths {
						name := fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v_beta%v_asm%v", m, n, k, ta, tb, beta, asm)
						r := newRNG(40)
						ar, ac := m, k
						if ta {
							ar, ac = k, m
						}
						br, bc := k, n
						if tb {
							br, bc = n, k
						}
						lda, ldb, ldc := ac+3, bc+1, n+2
						a := randVec(r, ar*lda, 1)
						b := randVec(r, br*ldb, 1)
						c := randVec(r, m*ldc, 1)
						want := make([]float64, len(c))
						for i := range c {
							want[i] = float64(c[i])
						}
						const alpha = 0.75
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								var s float64
								for p := 0; p < k; p++ {
									var av, bv float32
									if ta {
										av = a[p*lda+i]
									} else {
										av = a[i*lda+p]
									}
									if tb {
										bv = b[j*ldb+p]
									} else {
										bv = b[p*ldb+j]
									}
									s += float64(av) * float64(bv)
								}
								want[i*ldc+j] = alpha*s + float64(beta)*float64(c[i*ldc+j])
							}
						}
						saved := useAVX512
						useAVX512 = asm
						sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
						useAVX512 = saved
						for i := range c {
							if math.Abs(float64(c[i])-want[i]) > 1e-5*math.Sqrt(float64(k))*2 {
								t.Fatalf("%s: c[%d] = %v, want %v", name, i, c[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}
