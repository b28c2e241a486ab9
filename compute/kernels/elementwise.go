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
		// The conversions round each product, so no platform fuses them
		// into one multiply-add (Go may on arm64): the GPU's mix does the same.
		d[i] = float32(alpha*v) + float32(beta*d[i])
	}
}

// SumSquares returns Σ x[i]² over [lo, hi), accumulated in float64.
func SumSquares(x []float32, lo, hi int) float64 {
	if hi <= lo {
		return 0
	}
	return sumSq64(x[lo:hi])
}

// AdamW performs one AdamW step on p[lo:hi] with PyTorch's semantics
// (torch.optim.AdamW, single-tensor path):
//
//	p *= 1 − lr·weightDecay
//	m  = beta1·m + (1−beta1)·g
//	v  = beta2·v + (1−beta2)·g²
//	p −= (lr/bc1) · m / (sqrt(v)/sqrt(bc2) + eps)
//
// with bc1 = 1−beta1^t and bc2 = 1−beta2^t for step t ≥ 1. The float32
// hyper-parameters are widened as given (float32(0.9) is not 0.9, so 1−beta1
// differs in its last bit from PyTorch's); AdamW64 takes them in float64 and
// reproduces PyTorch 1.13's CPU results bit for bit.
func AdamW(p, g, m, v []float32, lr, beta1, beta2, eps, weightDecay, bc1, bc2 float32, lo, hi int) {
	AdamW64(p, g, m, v, float64(lr), float64(beta1), float64(beta2), float64(eps), float64(weightDecay), float64(bc1), float64(bc2), lo, hi)
}

// AdamW64 is AdamW with float64 hyper-parameters, used the way PyTorch uses its
// Python floats: each scalar (beta1, 1−beta1, beta2, 1−beta2, 1−lr·wd,
// −lr/bc1, sqrt(bc2), eps) is formed in float64 and rounded once to float32,
// and the element operations follow PyTorch's order, including its fused
// multiply-adds for m and v. Pass bc1 = 1 − beta1^t and bc2 = 1 − beta2^t
// computed in float64.
func AdamW64(p, g, m, v []float32, lr, beta1, beta2, eps, weightDecay, bc1, bc2 float64, lo, hi int) {
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
	k := [8]float32{
		float32(beta1), float32(1 - beta1), float32(beta2), float32(1 - beta2),
		float32(math.Sqrt(bc2)), float32(eps),
		float32(1 - lr*weightDecay),
		float32(-(lr / bc1)),
	}
	adamwVec(pp, gg, mm, vv, &k)
}

// fma32 returns a·b + c rounded once to float32 (through float64, whose
// exact product makes double rounding a rare halfway-case event).
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// adamwGo is the portable AdamW loop; the explicit float32 conversions keep
// the compiler from fusing other multiply-adds, so it matches the assembly.
func adamwGo(pp, gg, mm, vv []float32, k *[8]float32) {
	beta1, a1, beta2, a2, sqrtBC2, eps, decay, negStep := k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]
	gg = gg[:len(pp)]
	mm = mm[:len(pp)]
	vv = vv[:len(pp)]
	for i, gi := range gg {
		mi := fma32(gi, a1, float32(beta1*mm[i]))
		vi := fma32(float32(a2*gi), gi, float32(beta2*vv[i]))
		mm[i] = mi
		vv[i] = vi
		denom := float32(math.Sqrt(float64(vi)))/sqrtBC2 + eps
		pp[i] = float32(pp[i]*decay) + float32(negStep*mi)/denom
	}
}
