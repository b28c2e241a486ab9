package kernels

import "math"

// EmbeddingForward copies rows lo..hi of out from table: out[row] = table[ids[row]].
// table is [V, d], out is [N, d].
func EmbeddingForward(out, table []float32, ids []int32, d, lo, hi int) {
	for row := lo; row < hi; row++ {
		id := int(ids[row])
		copy(out[row*d:row*d+d], table[id*d:id*d+d])
	}
}

// EmbeddingBackward accumulates dTable[ids[row]] += dOut[row] for rows in [lo, hi).
// Rows with equal ids write the same table row: call it from one thread, or give
// each thread its own dTable.
func EmbeddingBackward(dTable, dOut []float32, ids []int32, d, lo, hi int) {
	for row := lo; row < hi; row++ {
		id := int(ids[row])
		dst := dTable[id*d : id*d+d]
		src := dOut[row*d : row*d+d]
		src = src[:len(dst)]
		for i, g := range src {
			dst[i] += g
		}
	}
}

// SwiGLUForward sets h = silu(gate)·up elementwise for i in [lo, hi),
// silu(g) = g·sigmoid(g), sigmoid evaluated in float64 and rounded.
func SwiGLUForward(h, gate, up []float32, lo, hi int) {
	if hi <= lo {
		return
	}
	hh := h[lo:hi]
	swigluFwd(hh, gate[lo:hi][:len(hh)], up[lo:hi][:len(hh)])
}

// SwiGLUBackward accumulates the gradients of h = silu(gate)·up for i in [lo, hi):
// dGate += dh·up·σ(g)·(1 + g·(1−σ(g))), dUp += dh·silu(g).
func SwiGLUBackward(dGate, dUp, dh, gate, up []float32, lo, hi int) {
	if hi <= lo {
		return
	}
	dg := dGate[lo:hi]
	n := len(dg)
	swigluBwd(dg, dUp[lo:hi][:n], dh[lo:hi][:n], gate[lo:hi][:n], up[lo:hi][:n])
}

// swigluFwdGo is the portable SwiGLU forward; the assembly does the same
// operations in the same order.
func swigluFwdGo(hh, g, u []float32) {
	g = g[:len(hh)]
	u = u[:len(hh)]
	for i, x := range g {
		e := exp64f(float64(-x))
		sig := float32(1 / (1 + e))
		hh[i] = float32(x*sig) * u[i]
	}
}

// swigluBwdGo is the portable SwiGLU backward.
func swigluBwdGo(dg, du, d, g, u []float32) {
	du = du[:len(dg)]
	d = d[:len(dg)]
	g = g[:len(dg)]
	u = u[:len(dg)]
	for i, x := range g {
		e := exp64f(float64(-x))
		sig := float32(1 / (1 + e))
		silu := x * sig
		gi := d[i]
		du[i] += float32(gi * silu)
		dg[i] += float32(float32(gi*u[i]) * (sig + float32(silu*(1-sig))))
	}
}

// AddBias adds bias [d] to rows lo..hi of y [N, d].
func AddBias(y, bias []float32, d, lo, hi int) {
	b := bias[:d]
	for row := lo; row < hi; row++ {
		r := y[row*d : row*d+d]
		r = r[:len(b)]
		for i, v := range b {
			r[i] += v
		}
	}
}

// BiasBackward accumulates dBias[i] += Σ_rows dy[row, i] over rows lo..hi.
func BiasBackward(dBias, dy []float32, d, lo, hi int) {
	db := dBias[:d]
	for row := lo; row < hi; row++ {
		r := dy[row*d : row*d+d]
		r = r[:len(db)]
		for i, v := range r {
			db[i] += v
		}
	}
}

// Add sets out = a + b elementwise for i in [lo, hi). out may alias a or b.
func Add(out, a, b []float32, lo, hi int) {
	if hi <= lo {
		return
	}
	o := out[lo:hi]
	x := a[lo:hi]
	y := b[lo:hi]
	x = x[:len(o)]
	y = y[:len(o)]
	for i := range o {
		o[i] = x[i] + y[i]
	}
}

// Accumulate sets dst += src elementwise for i in [lo, hi).
func Accumulate(dst, src []float32, lo, hi int) {
	if hi <= lo {
		return
	}
	d := dst[lo:hi]
	s := src[lo:hi]
	s = s[:len(d)]
	for i, v := range s {
		d[i] += v
	}
}

// Scale sets x *= s for i in [lo, hi).
func Scale(x []float32, s float32, lo, hi int) {
	if hi <= lo {
		return
	}
	v := x[lo:hi]
	for i := range v {
		v[i] *= s
	}
}

// Mix sets dst = alpha·src + (1−alpha)·dst for i in [lo, hi) (an exponential
// moving average of weights when alpha is small).
func Mix(dst, src []float32, alpha float32, lo, hi int) {
	if hi <= lo {
		return
	}
	d := dst[lo:hi]
	s := src[lo:hi]
	s = s[:len(d)]
	beta := 1 - alpha
	for i, v := range s {
		d[i] = alpha*v + beta*d[i]
	}
}

// SumSquares returns Σ x[i]² over [lo, hi), accumulated in float64.
func SumSquares(x []float32, lo, hi int) float64 {
	if hi <= lo {
		return 0
	}
	v := x[lo:hi]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		a, b, c, d := float64(v[i]), float64(v[i+1]), float64(v[i+2]), float64(v[i+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < len(v); i++ {
		a := float64(v[i])
		s0 += a * a
	}
	return (s0 + s1) + (s2 + s3)
}

// AllFinite reports whether every x[i], i in [lo, hi), is finite (not NaN or ±Inf).
func AllFinite(x []float32, lo, hi int) bool {
	if hi <= lo {
		return true
	}
	v := x[lo:hi]
	// x−x is 0 for finite x and NaN for NaN and ±Inf; a NaN sum stays NaN.
	var acc float32
	for _, f := range v {
		acc += f - f
	}
	return acc == 0
}

// AdamW performs one AdamW step on p[lo:hi] with PyTorch's semantics
// (torch.optim.AdamW, single-tensor path):
//
//	p *= 1 − lr·weightDecay
//	m  = beta1·m + (1−beta1)·g
//	v  = beta2·v + (1−beta2)·g²
//	p −= (lr/bc1) · m / (sqrt(v)/sqrt(bc2) + eps)
//
// with bc1 = 1−beta1^t and bc2 = 1−beta2^t for step t ≥ 1.
func AdamW(p, g, m, v []float32, lr, beta1, beta2, eps, weightDecay, bc1, bc2 float32, lo, hi int) {
	if hi <= lo {
		return
	}
	pp := p[lo:hi]
	gg := g[lo:hi]
	mm := m[lo:hi]
	vv := v[lo:hi]
	gg = gg[:len(pp)]
	mm = mm[:len(pp)]
	vv = vv[:len(pp)]
	// Scalars are formed in float64 and rounded once, as PyTorch does with its
	// Python-float scalars; the element operations follow its order.
	k := [8]float32{
		beta1, 1 - beta1, beta2, 1 - beta2,
		float32(math.Sqrt(float64(bc2))), eps,
		float32(1 - float64(lr)*float64(weightDecay)),
		float32(-float64(lr) / float64(bc1)),
	}
	adamwVec(pp, gg, mm, vv, &k)
}

// adamwGo is the portable AdamW loop; the explicit float32 conversions keep
// the compiler from fusing multiply-adds, so it matches the assembly exactly.
func adamwGo(pp, gg, mm, vv []float32, k *[8]float32) {
	beta1, a1, beta2, a2, sqrtBC2, eps, decay, negStep := k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]
	gg = gg[:len(pp)]
	mm = mm[:len(pp)]
	vv = vv[:len(pp)]
	for i, gi := range gg {
		mi := float32(beta1*mm[i]) + float32(a1*gi)
		vi := float32(beta2*vv[i]) + float32(float32(a2*gi)*gi)
		mm[i] = mi
		vv[i] = vi
		denom := float32(math.Sqrt(float64(vi)))/sqrtBC2 + eps
		pp[i] = float32(pp[i]*decay) + float32(negStep*mi)/denom
	}
}
