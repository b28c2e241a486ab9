package kernels

import "math"

// Plain float64 reference forwards, written from the PyTorch peer's formulas.

func refRMSNorm(x, w []float64, d int, eps float64) []float64 {
	n := len(x) / d
	y := make([]float64, len(x))
	for r := 0; r < n; r++ {
		var ss float64
		for i := 0; i < d; i++ {
			ss += x[r*d+i] * x[r*d+i]
		}
		rs := 1 / math.Sqrt(ss/float64(d)+eps)
		for i := 0; i < d; i++ {
			y[r*d+i] = x[r*d+i] * rs * w[i]
		}
	}
	return y
}

// refRoPE applies x*cos + rotate_half(x)*sin with full-width cat([freqs, freqs]) tables.
func refRoPE(x []float64, pos []int32, heads, hd int, theta float64) []float64 {
	y := make([]float64, len(x))
	half := hd / 2
	n := len(x) / (heads * hd)
	for r := 0; r < n; r++ {
		for h := 0; h < heads; h++ {
			base := (r*heads + h) * hd
			for j := 0; j < hd; j++ {
				f := float64(pos[r]) / math.Pow(theta, float64(2*(j%half))/float64(hd))
				var rot float64
				if j < half {
					rot = -x[base+j+half]
				} else {
					rot = x[base+j-half]
				}
				y[base+j] = x[base+j]*math.Cos(f) + rot*math.Sin(f)
			}
		}
	}
	return y
}

func refAttention(q, k, v []float64, B, T, H, KV, hd int, kStart []int32) []float64 {
	out := make([]float64, B*T*H*hd)
	rep := H / KV
	scale := 1 / math.Sqrt(float64(hd))
	for b := 0; b < B; b++ {
		ks := 0
		if kStart != nil {
			ks = int(kStart[b])
		}
		for h := 0; h < H; h++ {
			g := h / rep
			for t := ks; t < T; t++ {
				qr := q[((b*T+t)*H+h)*hd:]
				s := make([]float64, t+1)
				mx := math.Inf(-1)
				for j := ks; j <= t; j++ {
					kr := k[((b*T+j)*KV+g)*hd:]
					var d float64
					for i := 0; i < hd; i++ {
						d += qr[i] * kr[i]
					}
					s[j] = d * scale
					mx = max(mx, s[j])
				}
				var z float64
				for j := ks; j <= t; j++ {
					s[j] = math.Exp(s[j] - mx)
					z += s[j]
				}
				o := out[((b*T+t)*H+h)*hd:]
				for j := ks; j <= t; j++ {
					vr := v[((b*T+j)*KV+g)*hd:]
					for i := 0; i < hd; i++ {
						o[i] += s[j] / z * vr[i]
					}
				}
			}
		}
	}
	return out
}

// refAttentionLSE is the log-sum-exp of each row's scaled scores, [B, H, T]
// (0 for rows with no visible key).
func refAttentionLSE(q, k []float64, B, T, H, KV, hd int, kStart []int32) []float64 {
	out := make([]float64, B*H*T)
	rep := H / KV
	scale := 1 / math.Sqrt(float64(hd))
	for b := 0; b < B; b++ {
		ks := 0
		if kStart != nil {
			ks = int(kStart[b])
		}
		for h := 0; h < H; h++ {
			for t := ks; t < T; t++ {
				qr := q[((b*T+t)*H+h)*hd:]
				s := make([]float64, 0, t+1)
				mx := math.Inf(-1)
				for j := ks; j <= t; j++ {
					kr := k[((b*T+j)*KV+h/rep)*hd:]
					var d float64
					for i := 0; i < hd; i++ {
						d += qr[i] * kr[i]
					}
					s = append(s, d*scale)
					mx = max(mx, d*scale)
				}
				var z float64
				for _, x := range s {
					z += math.Exp(x - mx)
				}
				out[(b*H+h)*T+t] = mx + math.Log(z)
			}
		}
	}
	return out
}

func refSilu(g float64) float64 { return g / (1 + math.Exp(-g)) }

func refLogSoftmax(z []float64, invTemp float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v*invTemp)
	}
	var s float64
	for _, v := range z {
		s += math.Exp(v*invTemp - mx)
	}
	l := mx + math.Log(s)
	o := make([]float64, len(z))
	for i, v := range z {
		o[i] = v*invTemp - l
	}
	return o
}

func refTokenLogProbs(logits []float64, targets []int32, V int, invTemp float64) []float64 {
	lp := make([]float64, len(targets))
	for r, t := range targets {
		if t < 0 {
			continue
		}
		lp[r] = refLogSoftmax(logits[r*V:r*V+V], invTemp)[t]
	}
	return lp
}

func refKL(p, q []float64, V int, invTemp float64) []float64 {
	n := len(p) / V
	kl := make([]float64, n)
	for r := 0; r < n; r++ {
		lp := refLogSoftmax(p[r*V:r*V+V], invTemp)
		lq := refLogSoftmax(q[r*V:r*V+V], invTemp)
		for j := range lp {
			kl[r] += math.Exp(lp[j]) * (lp[j] - lq[j])
		}
	}
	return kl
}

func refEntropy(z []float64, V int, invTemp float64) []float64 {
	n := len(z) / V
	e := make([]float64, n)
	for r := 0; r < n; r++ {
		l := refLogSoftmax(z[r*V:r*V+V], invTemp)
		for _, v := range l {
			e[r] -= math.Exp(v) * v
		}
	}
	return e
}
