package kernels

import "math"

// The attention kernels as they were before the online softmax: the forward
// keeps the [B, H, T, T] probabilities and the backward reads them. They
// stay here as a second reference for the new kernels and as the "before"
// of BenchmarkAttentionVsProbs.

// probsScratch is the old AttentionScratch.
func probsScratch(T int) int { return min(T, attnTile) * T }

// attentionProbsForward computes scaled causal softmax attention over full sequences.
// q is [B, T, H, hd], k and v are [B, T, KV, hd], out is [B, T, H, hd]; query
// head h reads kv head h/(H/KV). Work item i in [lo, hi) is (b = i/H, h = i%H).
// Keys before kStart[b] are masked (left padding; kStart nil = none); a query
// row with no visible key (t < kStart[b]) produces zeros. probs [B, H, T, T]
// receives the softmax (0 for masked keys) for the backward pass.
// The scale is 1/sqrt(hd).
func attentionProbsForward(out, probs, q, k, v []float32, B, T, H, KV, hd int, kStart []int32, lo, hi int) {
	rep := H / KV
	scale := float32(1 / math.Sqrt(float64(hd)))
	qs, ks := H*hd, KV*hd // row strides of q/out and k/v
	for item := lo; item < hi; item++ {
		b, h := item/H, item%H
		g := h / rep
		ks0 := keyStart(kStart, b, T)
		P := probs[item*T*T : (item+1)*T*T]
		// rows with no visible key
		for t := 0; t < ks0; t++ {
			clear(P[t*T : t*T+T])
			o := ((b*T+t)*H + h) * hd
			clear(out[o : o+hd])
		}
		kOff := ((b*T+ks0)*KV + g) * hd
		for t0 := ks0; t0 < T; t0 += attnTile {
			t1 := min(t0+attnTile, T)
			m, n := t1-t0, t1-ks0
			qOff := ((b*T+t0)*H + h) * hd
			// S = scale·Q·Kᵀ for rows t0..t1, keys ks0..t1
			sgemm(false, true, m, n, hd, scale, q[qOff:], qs, k[kOff:], ks, 0, P[t0*T+ks0:], T)
			for t := t0; t < t1; t++ {
				row := P[t*T : t*T+T]
				clear(row[:ks0])
				softmaxInPlace(row[ks0 : t+1])
				clear(row[t+1:])
			}
			// O = P·V
			sgemm(false, false, m, hd, n, 1, P[t0*T+ks0:], T, v[kOff:], ks, 0, out[qOff:], qs)
		}
	}
}

// attentionProbsBackward accumulates the gradients of AttentionForward into dq, dk
// and dv (same layouts as q, k, v) given dout and the saved probs. Work item i
// in [lo, hi) is (b = i/KV, g = i%KV): it handles the H/KV query heads that
// share kv head g, so dk and dv rows are written by one item only. scratch
// needs probsScratch(T) floats per concurrent call.
func attentionProbsBackward(dq, dk, dv, dout, probs, q, k, v []float32, B, T, H, KV, hd int, kStart []int32, scratch []float32, lo, hi int) {
	rep := H / KV
	scale := float32(1 / math.Sqrt(float64(hd)))
	qs, ks := H*hd, KV*hd
	for item := lo; item < hi; item++ {
		b, g := item/KV, item%KV
		ks0 := keyStart(kStart, b, T)
		kOff := ((b*T+ks0)*KV + g) * hd
		for h := g * rep; h < (g+1)*rep; h++ {
			bh := b*H + h
			P := probs[bh*T*T : (bh+1)*T*T]
			for t0 := ks0; t0 < T; t0 += attnTile {
				t1 := min(t0+attnTile, T)
				m, n := t1-t0, t1-ks0
				qOff := ((b*T+t0)*H + h) * hd
				Pt := P[t0*T+ks0:]
				dS := scratch[:m*n]
				// dV += Pᵀ·dO
				sgemm(true, false, n, hd, m, 1, Pt, T, dout[qOff:], qs, 1, dv[kOff:], ks)
				// dP = dO·Vᵀ
				sgemm(false, true, m, n, hd, 1, dout[qOff:], qs, v[kOff:], ks, 0, dS, n)
				// dS = P ⊙ (dP − Σ P⊙dP)
				for i := 0; i < m; i++ {
					softmaxBwdRowGo(Pt[i*T:i*T+n], dS[i*n:i*n+n])
				}
				// dQ += scale·dS·K
				sgemm(false, false, m, hd, n, scale, dS, n, k[kOff:], ks, 1, dq[qOff:], qs)
				// dK += scale·dSᵀ·Q
				sgemm(true, false, n, hd, m, scale, dS, n, q[qOff:], qs, 1, dk[kOff:], ks)
			}
		}
	}
}

// softmaxBwdRowGo turns dP into dS = p⊙(dP − Σ p⊙dP) in place. The kernels
// themselves do this inline in AttentionBackward, with the row sums D of the
// forward pass.
func softmaxBwdRowGo(pr, dr []float32) {
	pr = pr[:len(dr)]
	var s float32
	for j, p := range pr {
		s += p * dr[j]
	}
	for j, p := range pr {
		dr[j] = p * (dr[j] - s)
	}
}
