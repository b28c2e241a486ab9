package kernels

import "math"

// attnTile is the number of query rows handled per pair of matrix products.
// Tiling the causal triangle skips most of the masked upper half of QKᵀ.
const attnTile = 32

// attnKeyBlock is the number of keys a query tile meets per step of the
// online softmax: the scores of one tile and one key block are all the
// attention kernels keep, so their memory does not grow with T.
const attnKeyBlock = 128

// AttentionScratch returns the number of float32s of scratch one concurrent
// AttentionForward or AttentionBackward call needs for sequences of length T
// (at most 2·attnTile·attnKeyBlock, whatever T).
func AttentionScratch(T int) int { return 2 * min(T, attnTile) * min(T, attnKeyBlock) }

// AttentionDecodeScratch returns the number of float32s of scratch one
// concurrent AttentionDecode call needs for Tn new tokens and caches of maxLen.
func AttentionDecodeScratch(Tn, maxLen int) int { return min(Tn, attnTile) * maxLen }

func keyStart(kStart []int32, b, T int) int {
	if kStart == nil {
		return 0
	}
	return min(max(int(kStart[b]), 0), T)
}

// visible is the number of keys j0..j0+n-1 that query position t sees (keys
// up to t, causal).
func visible(t, j0, n int) int { return min(max(t+1-j0, 0), n) }

// AttentionForward computes scaled causal softmax attention over full
// sequences with an online softmax (FlashAttention's forward): each tile of
// query rows meets the keys block by block, keeping a running maximum and
// sum per row and rescaling its output when the maximum grows, so no T×T
// matrix exists. q is [B, T, H, hd], k and v are [B, T, KV, hd], out is
// [B, T, H, hd]; query head h reads kv head h/(H/KV). Work item i in [lo, hi)
// is (b = i/H, h = i%H). Keys before kStart[b] are masked (left padding;
// kStart nil = none); a query row with no visible key (t < kStart[b])
// produces zeros. lse [B, H, T] receives each row's log-sum-exp of its
// scaled scores (0 for rows with no visible key), all AttentionBackward
// needs besides the inputs and out. The scale is 1/sqrt(hd). scratch needs
// AttentionScratch(T) floats per concurrent call.
//
// Edge cases, as compute.Backend's Attention states them for every
// backend: a row whose visible scores are all −Inf (an overflowing or
// infinite q·k) is a row with no visible key, output 0 and lse 0, where a
// plain softmax would make NaN of −Inf − (−Inf); a masked key's value
// never reaches a query (the product of its zero probability with a NaN
// value would be NaN), so where a tile's masked values are not all finite
// its rows take their visible keys alone (maskedFinite).
func AttentionForward(out, lse, q, k, v []float32, B, T, H, KV, hd int, kStart []int32, scratch []float32, lo, hi int) {
	rep := H / KV
	scale := float32(1 / math.Sqrt(float64(hd)))
	qs, ks := H*hd, KV*hd // row strides of q/out and k/v
	var rmax [attnTile]float32
	var rsum [attnTile]float64
	for item := lo; item < hi; item++ {
		b, h := item/H, item%H
		g := h / rep
		ks0 := keyStart(kStart, b, T)
		L := lse[item*T : (item+1)*T]
		// rows with no visible key
		for t := 0; t < ks0; t++ {
			L[t] = 0
			o := ((b*T+t)*H + h) * hd
			clear(out[o : o+hd])
		}
		for t0 := ks0; t0 < T; t0 += attnTile {
			t1 := min(t0+attnTile, T)
			m := t1 - t0
			qOff := ((b*T+t0)*H + h) * hd
			for i := 0; i < m; i++ {
				o := qOff + i*qs
				clear(out[o : o+hd])
				rsum[i] = 0
			}
			for j0 := ks0; j0 < t1; j0 += attnKeyBlock {
				n := min(attnKeyBlock, t1-j0)
				kOff := ((b*T+j0)*KV + g) * hd
				S := scratch[:m*n]
				// S = scale·Q·Kᵀ for rows t0..t1, keys j0..j0+n
				sgemm(false, true, m, n, hd, scale, q[qOff:], qs, k[kOff:], ks, 0, S, n)
				for i := 0; i < m; i++ {
					row := S[i*n : i*n+n]
					vis := visible(t0+i, j0, n)
					if vis == 0 {
						clear(row)
						continue
					}
					bm := rowMax(row[:vis])
					if j0 == ks0 {
						rmax[i] = bm // every row sees key ks0: the first block starts each row
					} else if bm > rmax[i] {
						// the maximum grew: rescale what the row has so far
						c := Exp32(rmax[i] - bm)
						o := out[qOff+i*qs : qOff+i*qs+hd]
						for x := range o {
							o[x] *= c
						}
						rsum[i] *= float64(c)
						rmax[i] = bm
					}
					rsum[i] += expAffine(row[:vis], row[:vis], 1, -float64(expOffset(rmax[i])))
					clear(row[vis:])
				}
				// O += P·V
				if maskedFinite(t0, m, j0, n, ks, hd, v[kOff:]) {
					sgemm(false, false, m, hd, n, 1, S, n, v[kOff:], ks, 1, out[qOff:], qs)
				} else {
					for i := 0; i < m; i++ {
						sgemm(false, false, 1, hd, visible(t0+i, j0, n), 1, S[i*n:], n, v[kOff:], ks, 1, out[qOff+i*qs:], qs)
					}
				}
			}
			for i := 0; i < m; i++ {
				o := out[qOff+i*qs : qOff+i*qs+hd]
				inv, l := float32(0), float32(0) // a row of −Inf scores: no visible key
				if rsum[i] != 0 {
					inv, l = float32(1/rsum[i]), float32(float64(rmax[i])+math.Log(rsum[i]))
				}
				for x := range o {
					o[x] *= inv
				}
				L[t0+i] = l
			}
		}
	}
}

// expOffset is what a row's exponentials subtract for a running maximum
// mx: mx itself, but 0 where it is −Inf, so that a row of −Inf scores
// weighs 0 (exp(−Inf − 0)) rather than NaN (exp(−Inf + Inf)).
func expOffset(mx float32) float32 {
	if math.IsInf(float64(mx), -1) {
		return 0
	}
	return mx
}

// softmaxInPlace replaces a non-empty row by its softmax (max subtracted, sum
// accumulated in float64); a row of −Inf becomes zeros, as a row with no
// visible key (AttentionForward).
func softmaxInPlace(row []float32) {
	s := expAffine(row, row, 1, -float64(expOffset(rowMax(row))))
	inv := float32(0)
	if s != 0 {
		inv = float32(1 / s)
	}
	for j := range row {
		row[j] *= inv
	}
}

// maskedFinite reports whether the rows that tile rows t0..t0+m−1 of a
// causal product may include though they are masked are all finite: the
// rows of x (stride ld, hd used) for keys j0..j0+n−1 past t0 (the keys
// some row of the tile cannot see; x is offset to key j0). A product over
// them with the masked probabilities (zeros) then adds exact zeros, as
// masking them would; otherwise 0·NaN would carry a masked key's NaN to a
// query that cannot see it, so the caller multiplies row by row over
// visible keys only.
func maskedFinite(t0, m, j0, n, ld, hd int, x []float32) bool {
	lo, hi := max(j0, t0+1), min(j0+n, t0+m)
	return lo >= hi || spanFinite(x[(lo-j0)*ld:(hi-1-j0)*ld+hd])
}

// maskingFinite is maskedFinite's other side: whether the tile's rows that
// have a masked key among keys j0..j0+n−1 are finite in y (stride ld,
// offset to row t0), whose products with the masked entries (Pᵀ·dO,
// dSᵀ·Q) would otherwise carry their NaN to keys they cannot see.
func maskingFinite(t0, m, j0, n, ld, hd int, y []float32) bool {
	rows := min(m, j0+n-1-t0)
	return rows <= 0 || spanFinite(y[:(rows-1)*ld+hd])
}

// spanFinite reports whether Σ x³ is finite, so every x is: a NaN or ±Inf
// makes the sum NaN or ±Inf, whatever else it holds. It may say false of
// finite values past about 1e12 (their cubes overflow), which only sends
// the caller the slower way. The span holds the rows of the other kv
// heads between those asked about (the same test, about more values). A
// tile's check is one vectorised pass over about 32 rows, where the tile's
// products take thousands of multiply-adds a row: by count 1–3 % of a
// diagonal block's work. Alternated go test -c binaries on the shared
// 2-core machine (18 rounds, cpu-ns/op medians of new/old) gave forward
// 1.00 and backward 1.10, whose rounds ranged 0.91–1.44 (the decode, which
// this leaves alone, came out 0.89: noise of that size); an exact test
// (FirstNonFinite a row) gave 1.13 and 1.18 (6 rounds).
func spanFinite(x []float32) bool {
	s := dot3(x, x, x)
	return s-s == 0
}

// AttentionBackward accumulates the gradients of AttentionForward into dq, dk
// and dv (same layouts as q, k, v) given dout, the forward's out and lse. It
// recomputes the probabilities block by block (FlashAttention-2's backward):
// with D_i = Σ dO_i⊙O_i, P = exp(S − lse), dV += Pᵀ·dO, dP = dO·Vᵀ,
// dS = P⊙(dP − D), dQ += scale·dS·K and dK += scale·dSᵀ·Q. Work item i in
// [lo, hi) is (b = i/KV, g = i%KV): it handles the H/KV query heads that
// share kv head g, so dk and dv rows are written by one item only and every
// sum runs in a fixed order. scratch needs AttentionScratch(T) floats per
// concurrent call.
func AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v []float32, B, T, H, KV, hd int, kStart []int32, scratch []float32, lo, hi int) {
	rep := H / KV
	scale := float32(1 / math.Sqrt(float64(hd)))
	qs, ks := H*hd, KV*hd
	half := len(scratch) / 2
	var D [attnTile]float32
	for item := lo; item < hi; item++ {
		b, g := item/KV, item%KV
		ks0 := keyStart(kStart, b, T)
		for h := g * rep; h < (g+1)*rep; h++ {
			L := lse[(b*H+h)*T : (b*H+h+1)*T]
			for t0 := ks0; t0 < T; t0 += attnTile {
				t1 := min(t0+attnTile, T)
				m := t1 - t0
				qOff := ((b*T+t0)*H + h) * hd
				for i := 0; i < m; i++ {
					o := qOff + i*qs
					D[i] = dot(dout[o:o+hd], out[o:o+hd])
				}
				for j0 := ks0; j0 < t1; j0 += attnKeyBlock {
					n := min(attnKeyBlock, t1-j0)
					kOff := ((b*T+j0)*KV + g) * hd
					P, dS := scratch[:m*n], scratch[half:half+m*n]
					// P = exp(scale·Q·Kᵀ − lse), masked
					sgemm(false, true, m, n, hd, scale, q[qOff:], qs, k[kOff:], ks, 0, P, n)
					for i := 0; i < m; i++ {
						row := P[i*n : i*n+n]
						vis := visible(t0+i, j0, n)
						expAffine(row[:vis], row[:vis], 1, -float64(L[t0+i]))
						clear(row[vis:])
					}
					// Masked entries of P and dS are zeros; a product may
					// take them only where what they multiply is finite.
					exact := maskedFinite(t0, m, j0, n, ks, hd, k[kOff:]) && maskedFinite(t0, m, j0, n, ks, hd, v[kOff:]) &&
						maskingFinite(t0, m, j0, n, qs, hd, q[qOff:]) && maskingFinite(t0, m, j0, n, qs, hd, dout[qOff:])
					// dV += Pᵀ·dO
					if exact {
						sgemm(true, false, n, hd, m, 1, P, n, dout[qOff:], qs, 1, dv[kOff:], ks)
					} else {
						for j := 0; j < n; j++ { // key j0+j < t1, seen by rows i0..m−1
							i0 := max(j0+j-t0, 0)
							sgemm(true, false, 1, hd, m-i0, 1, P[i0*n+j:], n, dout[qOff+i0*qs:], qs, 1, dv[kOff+j*ks:], ks)
						}
					}
					// dP = dO·Vᵀ
					sgemm(false, true, m, n, hd, 1, dout[qOff:], qs, v[kOff:], ks, 0, dS, n)
					// dS = P ⊙ (dP − D), 0 where masked: dP need not be
					// finite there, and 0·NaN is NaN
					for i := 0; i < m; i++ {
						vis := visible(t0+i, j0, n)
						pr, dr := P[i*n:i*n+vis], dS[i*n:i*n+n]
						di := D[i]
						for j, p := range pr {
							dr[j] = p * (dr[j] - di)
						}
						clear(dr[vis:])
					}
					if exact {
						// dQ += scale·dS·K
						sgemm(false, false, m, hd, n, scale, dS, n, k[kOff:], ks, 1, dq[qOff:], qs)
						// dK += scale·dSᵀ·Q
						sgemm(true, false, n, hd, m, scale, dS, n, q[qOff:], qs, 1, dk[kOff:], ks)
					} else {
						for i := 0; i < m; i++ {
							sgemm(false, false, 1, hd, visible(t0+i, j0, n), scale, dS[i*n:], n, k[kOff:], ks, 1, dq[qOff+i*qs:], qs)
						}
						for j := 0; j < n; j++ {
							i0 := max(j0+j-t0, 0)
							sgemm(true, false, 1, hd, m-i0, scale, dS[i0*n+j:], n, q[qOff+i0*qs:], qs, 1, dk[kOff+j*ks:], ks)
						}
					}
				}
			}
		}
	}
}

// AttentionDecode computes attention for Tn new tokens against a KV cache.
// q and out are [B, Tn, H, hd]; the new tokens sit at positions past..past+Tn−1
// and their keys and values are already written into kCache and vCache
// [B, KV, maxLen, hd]. Causal within the new tokens; keys before kStart[b] are
// masked, and a query at a position before kStart[b] produces zeros. Work item
// i in [lo, hi) is (b = i/H, h = i%H). scratch needs AttentionDecodeScratch(Tn,
// maxLen) floats per concurrent call.
func AttentionDecode(out, q, kCache, vCache []float32, B, Tn, H, KV, hd, maxLen, past int, kStart []int32, scratch []float32, lo, hi int) {
	rep := H / KV
	scale := float32(1 / math.Sqrt(float64(hd)))
	qs := H * hd
	total := past + Tn
	for item := lo; item < hi; item++ {
		b, h := item/H, item%H
		g := h / rep
		ks0 := keyStart(kStart, b, total)
		i0 := min(max(ks0-past, 0), Tn)
		for i := 0; i < i0; i++ {
			o := ((b*Tn+i)*H + h) * hd
			clear(out[o : o+hd])
		}
		kOff := ((b*KV+g)*maxLen + ks0) * hd
		for t0 := i0; t0 < Tn; t0 += attnTile {
			t1 := min(t0+attnTile, Tn)
			m, n := t1-t0, past+t1-ks0
			qOff := ((b*Tn+t0)*H + h) * hd
			S := scratch[:m*n]
			sgemm(false, true, m, n, hd, scale, q[qOff:], qs, kCache[kOff:], hd, 0, S, n)
			for i := 0; i < m; i++ {
				row := S[i*n : i*n+n]
				vis := past + t0 + i + 1 - ks0 // visible keys ks0..past+t0+i
				softmaxInPlace(row[:vis])
				clear(row[vis:])
			}
			// keys ks0.. are the rows of the cache from kOff; query t0+i
			// is at position past+t0+i
			if maskedFinite(past+t0-ks0, m, 0, n, hd, hd, vCache[kOff:]) {
				sgemm(false, false, m, hd, n, 1, S, n, vCache[kOff:], hd, 0, out[qOff:], qs)
			} else {
				for i := 0; i < m; i++ {
					sgemm(false, false, 1, hd, past+t0+i+1-ks0, 1, S[i*n:], n, vCache[kOff:], hd, 0, out[qOff+i*qs:], qs)
				}
			}
		}
	}
}
