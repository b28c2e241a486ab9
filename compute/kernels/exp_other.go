//go:build !amd64 || purego

package kernels

// useAVX512 is always false without the amd64 assembly.
var useAVX512 = false

func expAffine(dst, src []float32, a, c float64) float64 { return expAffineGo(dst, src, a, c) }

func expAffine64(dst []float64, src []float32, a, c float64) float64 {
	return expAffine64Go(dst, src, a, c)
}

func swigluFwd(h, g, u []float32)          { swigluFwdGo(h, g, u) }
func swigluBwd(dg, du, dh, g, u []float32) { swigluBwdGo(dg, du, dh, g, u) }

func gemmAxpyAVX512(m, n, k int, alpha float32, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int) {
	panic("unreachable")
}

func gemmDotAVX512(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	panic("unreachable")
}

func adamwVec(p, g, m, v []float32, k *[8]float32)    { adamwGo(p, g, m, v, k) }
func sumSq64(x []float32) float64                     { return sumSq64Go(x) }
func dot3(a, b, c []float32) float32                  { return dot3Go(a, b, c) }
func rmsScale(y, x, w []float32, r float32)           { rmsScaleGo(y, x, w, r) }
func rmsBwd(dx, dw, dy, x, w []float32, r, c float32) { rmsBwdGo(dx, dw, dy, x, w, r, c) }

func expAffineAcc(dst, src []float32, a, c, g float64) { expAffineAccGo(dst, src, a, c, g) }
func rowMax(z []float32) float32                       { return rowMaxGo(z) }

func ropeRow(out, x, c, s []float32, heads int)      { ropeRowGo(out, x, c, s, heads) }
func ropeRowBwd(dx, dout, c, s []float32, heads int) { ropeRowBwdGo(dx, dout, c, s, heads) }

func expDot(x, y1, y2 []float32, a, c float64) (s0, s1, s2 float64) { return expDotGo(x, y1, y2, a, c) }
