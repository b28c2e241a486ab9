//go:build amd64 && !purego

package kernels

//go:noescape
func ropeFwdAVX512(out, x, cos, sin *float32, heads, half int)

//go:noescape
func ropeBwdAVX512(dx, dout, cos, sin *float32, heads, half int)

//go:noescape
func adamwAVX512(p, grad, m, v *float32, n int, k *[8]float32)

//go:noescape
func sumSq64AVX512(x *float32, n int) float64

//go:noescape
func dot3AVX512(a, b, c *float32, n int) float32

//go:noescape
func rmsScaleAVX512(y, x, w *float32, n int, r float32)

//go:noescape
func rmsBwdAVX512(dx, dw, dy, x, w *float32, n int, r, c float32)

func adamwVec(p, g, m, v []float32, k *[8]float32) {
	if useAVX512 && len(p) > 0 {
		adamwAVX512(&p[0], &g[:len(p)][0], &m[:len(p)][0], &v[:len(p)][0], len(p), k)
		return
	}
	adamwGo(p, g, m, v, k)
}

func sumSq64(x []float32) float64 {
	if useAVX512 && len(x) > 0 {
		return sumSq64AVX512(&x[0], len(x))
	}
	return sumSq64Go(x)
}

func dot3(a, b, c []float32) float32 {
	if useAVX512 && len(a) > 0 {
		return dot3AVX512(&a[0], &b[:len(a)][0], &c[:len(a)][0], len(a))
	}
	return dot3Go(a, b, c)
}

func rmsScale(y, x, w []float32, r float32) {
	if useAVX512 && len(y) > 0 {
		rmsScaleAVX512(&y[0], &x[:len(y)][0], &w[:len(y)][0], len(y), r)
		return
	}
	rmsScaleGo(y, x, w, r)
}

func rmsBwd(dx, dw, dy, x, w []float32, r, c float32) {
	if useAVX512 && len(dx) > 0 {
		n := len(dx)
		rmsBwdAVX512(&dx[0], &dw[:n][0], &dy[:n][0], &x[:n][0], &w[:n][0], n, r, c)
		return
	}
	rmsBwdGo(dx, dw, dy, x, w, r, c)
}

// ropeRow rotates one token row of heads·2·len(c) floats.
func ropeRow(out, x, c, s []float32, heads int) {
	if useAVX512 && len(c) > 0 && heads > 0 {
		n := heads * 2 * len(c)
		ropeFwdAVX512(&out[:n][0], &x[:n][0], &c[0], &s[:len(c)][0], heads, len(c))
		return
	}
	ropeRowGo(out, x, c, s, heads)
}

// ropeRowBwd accumulates the transposed rotation of one token row into dx.
func ropeRowBwd(dx, dout, c, s []float32, heads int) {
	if useAVX512 && len(c) > 0 && heads > 0 {
		n := heads * 2 * len(c)
		ropeBwdAVX512(&dx[:n][0], &dout[:n][0], &c[0], &s[:len(c)][0], heads, len(c))
		return
	}
	ropeRowBwdGo(dx, dout, c, s, heads)
}
