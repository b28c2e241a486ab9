package kernels

import "math"

// rowMaxGo returns max(z) over a non-empty row (NaN-free rows assumed).
func rowMaxGo(z []float32) float32 {
	m0, m1, m2, m3 := z[0], z[0], z[0], z[0]
	i := 0
	for ; i+4 <= len(z); i += 4 {
		m0 = max(m0, z[i])
		m1 = max(m1, z[i+1])
		m2 = max(m2, z[i+2])
		m3 = max(m3, z[i+3])
	}
	for ; i < len(z); i++ {
		m0 = max(m0, z[i])
	}
	return max(max(m0, m1), max(m2, m3))
}

// logSumExpScaled returns log Σ exp(t·z_j) in float64 with the maximum
// subtracted (sums accumulated in float64). It also returns t·max(z).
func logSumExpScaled(z []float32, t float32) (lse float64, m float64) {
	var mx float32
	if t >= 0 {
		mx = rowMax(z)
	} else {
		// scaling by a negative factor turns the minimum into the maximum
		mx = z[0]
		for _, v := range z {
			mx = min(mx, v)
		}
	}
	m = float64(mx) * float64(t)
	if math.IsInf(m, 0) {
		// all entries −Inf (or an +Inf): the log-sum-exp is m itself
		return m, m
	}
	s := expAffine(nil, z, float64(t), -m)
	return m + math.Log(s), m
}

// chunk is the length of the stack buffers that hold a row's probabilities
// piece by piece.
const chunk = 256

// TokenLogProbs computes, for rows lo..hi of logits [N, V], the log-probability
// of targets[row] under softmax(logits·invTemp): lp[row] = z[target] − lse[row]
// with z = logits·invTemp and lse[row] = log Σ exp(z) (saved for the backward
// pass). Rows with target < 0 are ignored: lp = 0, lse = 0.
func TokenLogProbs(lp, lse, logits []float32, targets []int32, V int, invTemp float32, lo, hi int) {
	for row := lo; row < hi; row++ {
		t := int(targets[row])
		if t < 0 {
			lp[row], lse[row] = 0, 0
			continue
		}
		z := logits[row*V : row*V+V]
		l, _ := logSumExpScaled(z, invTemp)
		lse[row] = float32(l)
		lp[row] = float32(float64(z[t])*float64(invTemp) - l)
	}
}

// TokenLogProbsBackward accumulates, for rows lo..hi with target ≥ 0,
// dlogits[row] += glp[row]·invTemp·(onehot(target) − softmax(logits·invTemp)),
// using lse saved by TokenLogProbs. Ignored rows are untouched.
func TokenLogProbsBackward(dlogits, glp, logits, lse []float32, targets []int32, V int, invTemp float32, lo, hi int) {
	tt := float64(invTemp)
	for row := lo; row < hi; row++ {
		t := int(targets[row])
		if t < 0 {
			continue
		}
		z := logits[row*V : row*V+V]
		dz := dlogits[row*V : row*V+V]
		z = z[:len(dz)]
		g := float64(glp[row]) * tt
		expAffineAcc(dz, z, tt, -float64(lse[row]), -g)
		dz[t] += float32(g)
	}
}

// TokenLogProbsGrad overwrites rows lo..hi of z [N, V] (the logits of
// TokenLogProbs) by the gradient of glp[row]·lp[row] with respect to them,
// glp[row]·invTemp·(onehot(target) − softmax(z·invTemp)), using lse saved
// by TokenLogProbs. Rows with target < 0 become zeros. It is
// TokenLogProbsBackward into a zeroed buffer, done in place, for a caller
// that recomputes the logits and needs no second [N, V] buffer.
func TokenLogProbsGrad(z, glp, lse []float32, targets []int32, V int, invTemp float32, lo, hi int) {
	TokenLogProbsGradBlock(z, glp, lse, targets, 0, V, invTemp, lo, hi)
}

// TokenLogProbsGradBlock is TokenLogProbsGrad on a block z [N, Vb] of the
// logits: the vocabulary's columns v0..v0+Vb of each row, with lse the whole
// row's. A target outside the block adds nothing to it.
func TokenLogProbsGradBlock(z, glp, lse []float32, targets []int32, v0, Vb int, invTemp float32, lo, hi int) {
	tt := float64(invTemp)
	for row := lo; row < hi; row++ {
		zr := z[row*Vb : row*Vb+Vb]
		t := int(targets[row])
		if t < 0 {
			clear(zr)
			continue
		}
		g := float64(glp[row]) * tt
		expAffine(zr, zr, tt, -float64(lse[row]))
		Scale(zr, float32(-g), 0, Vb)
		if t >= v0 && t < v0+Vb {
			zr[t-v0] += float32(g)
		}
	}
}

// SoftmaxBlock computes, for rows lo..hi of a block z [N, Vb] of logits
// (Vb of the vocabulary's columns), the block's lse[row] = log Σ exp(t·z)
// and, when mean is not nil, mean[row] = Σ softmax(t·z)·z over the block,
// in float64. A whole row's log-sum-exp is the log-sum-exp of its blocks',
// and its Σ p·z the blocks' means weighted by exp(lse_block − lse), so the
// fused LM head never holds more than a block of the vocabulary.
func SoftmaxBlock(lse, mean []float64, z []float32, Vb int, invTemp float32, lo, hi int) {
	for row := lo; row < hi; row++ {
		zr := z[row*Vb : row*Vb+Vb]
		l, _ := logSumExpScaled(zr, invTemp)
		lse[row] = l
		if mean != nil {
			s0, s1, _ := expDot(zr, zr, zr, float64(invTemp), -l)
			mean[row] = s1 / s0
		}
	}
}

// KLBlock is SoftmaxBlock for two models' blocks zp, zq [N, Vb] of the same
// columns: each block's lseP and lseQ and diff[row] = Σ softmax(t·zp)·(zp −
// zq) over the block. KL(P‖Q) of the whole rows is t·Σ w·diff − (lp − lq)
// with w = exp(lseP_block − lp) and lp, lq the rows' log-sum-exps.
func KLBlock(lseP, lseQ, diff []float64, zp, zq []float32, Vb int, invTemp float32, lo, hi int) {
	for row := lo; row < hi; row++ {
		p := zp[row*Vb : row*Vb+Vb]
		q := zq[row*Vb : row*Vb+Vb]
		lp, _ := logSumExpScaled(p, invTemp)
		lq, _ := logSumExpScaled(q, invTemp)
		lseP[row], lseQ[row] = lp, lq
		s0, s1, s2 := expDot(p, p, q, float64(invTemp), -lp)
		diff[row] = (s1 - s2) / s0
	}
}

// LogSumExp64 returns log Σ exp(x) in float64, the maximum subtracted.
func LogSumExp64(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// KLRows computes, for rows lo..hi of logitsP and logitsQ [N, V], the full-
// vocabulary KL(P‖Q) = Σ p (log p − log q) with P = softmax(logitsP·invTemp)
// and Q = softmax(logitsQ·invTemp), accumulated in float64.
func KLRows(kl, logitsP, logitsQ []float32, V int, invTemp float32, lo, hi int) {
	for row := lo; row < hi; row++ {
		zp := logitsP[row*V : row*V+V]
		zq := logitsQ[row*V : row*V+V]
		kl[row] = float32(klRow(zp, zq, invTemp))
	}
}

func klRow(zp, zq []float32, invTemp float32) float64 {
	zq = zq[:len(zp)]
	lp, _ := logSumExpScaled(zp, invTemp)
	lq, _ := logSumExpScaled(zq, invTemp)
	return klRowLSE(zp, zq, invTemp, lp, lq)
}

// klRowLSE is klRow given both log-sum-exps.
func klRowLSE(zp, zq []float32, invTemp float32, lp, lq float64) float64 {
	// Σ p (log p − log q) = t·(Σ p·zp − Σ p·zq) − (lp − lq)·Σ p, one pass.
	s0, s1, s2 := expDot(zp, zp, zq, float64(invTemp), -lp)
	return float64(invTemp)*(s1-s2) - (lp-lq)*s0
}

// KLRowsBackward accumulates the gradient of KLRows for rows lo..hi:
//
//	dP[row] += gkl[row]·invTemp·p⊙(log p − log q − KL)
//	dQ[row] += gkl[row]·invTemp·(q − p)
//
// Either dP or dQ may be nil (e.g. a frozen reference model).
func KLRowsBackward(dP, dQ, gkl, logitsP, logitsQ []float32, V int, invTemp float32, lo, hi int) {
	tt := float64(invTemp)
	for row := lo; row < hi; row++ {
		zp := logitsP[row*V : row*V+V]
		zq := logitsQ[row*V : row*V+V]
		zq = zq[:len(zp)]
		lp, _ := logSumExpScaled(zp, invTemp)
		lq, _ := logSumExpScaled(zq, invTemp)
		g := float64(gkl[row]) * tt
		var kl float64
		if dP != nil {
			kl = klRowLSE(zp, zq, invTemp, lp, lq)
		}
		var bp, bq [chunk]float64
		for j0 := 0; j0 < len(zp); j0 += chunk {
			zc := zp[j0:min(j0+chunk, len(zp))]
			qc := zq[j0 : j0+len(zc)]
			p := bp[:len(zc)]
			expAffine64(p, zc, tt, -lp)
			if dP != nil {
				d := dP[row*V+j0 : row*V+j0+len(zc)]
				for j, pj := range p {
					if pj == 0 {
						continue
					}
					d[j] += float32(g * pj * ((float64(zc[j])*tt - lp) - (float64(qc[j])*tt - lq) - kl))
				}
			}
			if dQ != nil {
				q := bq[:len(zc)]
				expAffine64(q, qc, tt, -lq)
				d := dQ[row*V+j0 : row*V+j0+len(zc)]
				for j, pj := range p {
					d[j] += float32(g * (q[j] - pj))
				}
			}
		}
	}
}

// EntropyRows computes, for rows lo..hi of logits [N, V], the entropy
// H = −Σ p log p of P = softmax(logits·invTemp), accumulated in float64.
func EntropyRows(ent, logits []float32, V int, invTemp float32, lo, hi int) {
	for row := lo; row < hi; row++ {
		ent[row] = float32(entropyRow(logits[row*V:row*V+V], invTemp))
	}
}

func entropyRow(z []float32, invTemp float32) float64 {
	l, _ := logSumExpScaled(z, invTemp)
	return entropyRowLSE(z, invTemp, l)
}

// entropyRowLSE is entropyRow given the log-sum-exp.
func entropyRowLSE(z []float32, invTemp float32, l float64) float64 {
	// −Σ p (t·z − l) = l·Σ p − t·Σ p·z, one pass.
	s0, s1, _ := expDot(z, z, z, float64(invTemp), -l)
	return l*s0 - float64(invTemp)*s1
}

// EntropyRowsBackward accumulates dlogits[row] += gent[row]·invTemp·(−p⊙(log p + H))
// for rows lo..hi.
func EntropyRowsBackward(dlogits, gent, logits []float32, V int, invTemp float32, lo, hi int) {
	tt := float64(invTemp)
	for row := lo; row < hi; row++ {
		z := logits[row*V : row*V+V]
		d := dlogits[row*V : row*V+V]
		z = z[:len(d)]
		l, _ := logSumExpScaled(z, invTemp)
		h := entropyRowLSE(z, invTemp, l)
		g := float64(gent[row]) * tt
		var buf [chunk]float64
		for j0 := 0; j0 < len(z); j0 += chunk {
			zc := z[j0:min(j0+chunk, len(z))]
			dc := d[j0 : j0+len(zc)]
			p := buf[:len(zc)]
			expAffine64(p, zc, tt, -l)
			for j, pj := range p {
				if pj == 0 {
					continue
				}
				dc[j] -= float32(g * pj * ((float64(zc[j])*tt - l) + h))
			}
		}
	}
}

// ArgmaxRows sets out[row] to the index of the largest logit of each row lo..hi
// of logits [N, V] (the first one on ties; NaN entries are never chosen unless
// the whole row is NaN, then 0).
func ArgmaxRows(out []int32, logits []float32, V, lo, hi int) {
	for row := lo; row < hi; row++ {
		z := logits[row*V : row*V+V]
		best := 0
		bv := float32(math.Inf(-1))
		found := false
		for j, v := range z {
			if v > bv || (!found && v == bv) {
				best, bv, found = j, v, true
			}
		}
		out[row] = int32(best)
	}
}
