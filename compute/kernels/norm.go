package kernels

import "math"

// RMSNormForward normalises rows lo..hi of x [N, d]:
// y = x · rsqrt(mean(x²) + eps) · w, and saves rstd[row] = rsqrt(mean(x²) + eps).
// The mean is accumulated in float64. y may alias x.
func RMSNormForward(y, rstd, x, w []float32, d int, eps float32, lo, hi int) {
	ww := w[:d]
	for row := lo; row < hi; row++ {
		xr := x[row*d : row*d+d]
		yr := y[row*d : row*d+d]
		ss := sumSq64(xr)
		r := float32(1 / math.Sqrt(ss/float64(d)+float64(eps)))
		rstd[row] = r
		rmsScale(yr, xr, ww, r)
	}
}

// RMSNormBackward accumulates the gradients of RMSNormForward for rows lo..hi:
//
//	dx += r·w⊙dy − (r³/d)·x·Σ(dy⊙w⊙x)
//	dw += dy⊙x·r
//
// with r = rstd[row] as saved by the forward pass.
func RMSNormBackward(dx, dw, dy, x, w, rstd []float32, d, lo, hi int) {
	ww := w[:d]
	dww := dw[:d]
	for row := lo; row < hi; row++ {
		xr := x[row*d : row*d+d]
		dyr := dy[row*d : row*d+d]
		dxr := dx[row*d : row*d+d]
		r := rstd[row]
		dot := dot3(dyr, ww, xr)
		c := r * r * r * dot / float32(d)
		rmsBwd(dxr, dww, dyr, xr, ww, r, c)
	}
}

// sumSq64Go returns Σ x² accumulated in float64 with four partial sums.
func sumSq64Go(v []float32) float64 {
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

// dot3Go returns Σ a·b·c in float32 with four partial sums.
func dot3Go(a, b, c []float32) float32 {
	b = b[:len(a)]
	c = c[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i] * c[i]
		s1 += a[i+1] * b[i+1] * c[i+1]
		s2 += a[i+2] * b[i+2] * c[i+2]
		s3 += a[i+3] * b[i+3] * c[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i] * c[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// rmsScaleGo sets y = x·r·w (the assembly does the same operations).
func rmsScaleGo(y, x, w []float32, r float32) {
	x = x[:len(y)]
	w = w[:len(y)]
	for i, v := range x {
		y[i] = float32(v*r) * w[i]
	}
}

// rmsBwdGo: dx += dy·w·r − c·x; dw += dy·x·r.
func rmsBwdGo(dx, dw, dy, x, w []float32, r, c float32) {
	dw = dw[:len(dx)]
	dy = dy[:len(dx)]
	x = x[:len(dx)]
	w = w[:len(dx)]
	for i, v := range x {
		g := dy[i]
		dx[i] += float32(float32(g*w[i])*r) - float32(c*v)
		dw[i] += float32(float32(g*v) * r)
	}
}

// RoPETables fills cos and sin [maxPos, hd/2] with cos(p·θ^(−2j/hd)) and
// sin(p·θ^(−2j/hd)), computed in float64 and rounded to float32. The Hugging
// Face layout repeats these for elements j and j+hd/2 (cat([freqs, freqs])),
// so only the first half is stored.
func RoPETables(cos, sin []float32, maxPos, hd int, theta float64) {
	half := hd / 2
	for j := 0; j < half; j++ {
		inv := 1 / math.Pow(theta, float64(2*j)/float64(hd))
		for p := 0; p < maxPos; p++ {
			s, c := math.Sincos(float64(p) * inv)
			cos[p*half+j] = float32(c)
			sin[p*half+j] = float32(s)
		}
	}
}

// RoPEForward rotates rows lo..hi of x [N, heads, hd] (one row per token, at
// position pos[row]) with the Hugging Face rotate-half pairing:
//
//	out[j]      = x[j]·cos_j − x[j+hd/2]·sin_j
//	out[j+hd/2] = x[j+hd/2]·cos_j + x[j]·sin_j
//
// out may alias x.
func RoPEForward(out, x []float32, pos []int32, cos, sin []float32, heads, hd, lo, hi int) {
	half := hd / 2
	rowLen := heads * hd
	for row := lo; row < hi; row++ {
		p := int(pos[row])
		ropeRow(out[row*rowLen:row*rowLen+rowLen], x[row*rowLen:row*rowLen+rowLen],
			cos[p*half:p*half+half], sin[p*half:p*half+half], heads)
	}
}

// ropeRowGo rotates one token row (heads × hd) with the tables c, s of length hd/2.
func ropeRowGo(out, x, c, s []float32, heads int) {
	half := len(c)
	hd := 2 * half
	s = s[:half]
	for h := 0; h < heads; h++ {
		base := h * hd
		x1 := x[base : base+half]
		x2 := x[base+half : base+hd]
		o1 := out[base : base+half]
		o2 := out[base+half : base+hd]
		x2 = x2[:len(x1)]
		o1 = o1[:len(x1)]
		o2 = o2[:len(x1)]
		for j, cj := range c {
			a, b, sj := x1[j], x2[j], s[j]
			o1[j] = float32(a*cj) - float32(b*sj)
			o2[j] = float32(b*cj) + float32(a*sj)
		}
	}
}

// RoPEBackward accumulates the gradient of RoPEForward for rows lo..hi
// (the transpose rotation):
//
//	dx[j]      += dout[j]·cos_j + dout[j+hd/2]·sin_j
//	dx[j+hd/2] += dout[j+hd/2]·cos_j − dout[j]·sin_j
func RoPEBackward(dx, dout []float32, pos []int32, cos, sin []float32, heads, hd, lo, hi int) {
	half := hd / 2
	rowLen := heads * hd
	for row := lo; row < hi; row++ {
		p := int(pos[row])
		ropeRowBwd(dx[row*rowLen:row*rowLen+rowLen], dout[row*rowLen:row*rowLen+rowLen],
			cos[p*half:p*half+half], sin[p*half:p*half+half], heads)
	}
}

// ropeRowBwdGo accumulates the transposed rotation of one token row.
func ropeRowBwdGo(dx, dout, c, s []float32, heads int) {
	half := len(c)
	hd := 2 * half
	s = s[:half]
	for h := 0; h < heads; h++ {
		base := h * hd
		g1 := dout[base : base+half]
		g2 := dout[base+half : base+hd]
		d1 := dx[base : base+half]
		d2 := dx[base+half : base+hd]
		g2 = g2[:len(g1)]
		d1 = d1[:len(g1)]
		d2 = d2[:len(g1)]
		for j, cj := range c {
			a, b, sj := g1[j], g2[j], s[j]
			d1[j] += float32(a*cj) + float32(b*sj)
			d2[j] += float32(b*cj) - float32(a*sj)
		}
	}
}
