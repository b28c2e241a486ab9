package kernels

import "math"

// Fast float32 exponential.
//
// exp(x) = 2^(k/32) · exp(r) with k = round(x·32/ln2) and |r| ≤ ln2/64, the
// reduction and the cubic polynomial evaluated in float64, the result rounded
// once to float32. The polynomial's truncation error is below 6e-10 relative,
// so the float32 result is within 0.5 ulp + 6e-10 of exp(x): essentially
// correctly rounded (max relative error ≈ 6e-8). Underflow to 0 (including
// subnormal results and −Inf), overflow to +Inf and NaN propagation are exact.

const (
	expTableBits = 5
	expN         = 1 << expTableBits
	expShift     = 0x1.8p52 // round-to-nearest-integer trick
	expInvLn2N   = expN / math.Ln2
	expC1        = math.Ln2 / expN
	expC2        = expC1 * expC1 / 2
	expC3        = expC1 * expC1 * expC1 / 6
	// Inputs below expLo give 0 (exp(-110) rounds to float32 zero anyway);
	// inputs above expHi are clamped to it: exp(100) is a finite float64 that
	// rounds to float32 +Inf.
	expLo = -110.0
	expHi = 100.0
)

// expTab[j] = bits(2^(j/32)) − j<<(52−5): adding k<<(52−5) to it gives the bits
// of 2^(k/32) for any integer k in range (integer part lands in the exponent).
var expTab [expN]uint64

func init() {
	for j := range expTab {
		expTab[j] = math.Float64bits(math.Exp2(float64(j)/expN)) - uint64(j)<<(52-expTableBits)
	}
}

// exp64f returns exp(x) in float64 with ~1e-9 relative accuracy (good enough to
// round to float32, and to accumulate softmax sums in float64). NaN propagates.
func exp64f(x float64) float64 {
	if x < expLo {
		return 0 // also −Inf; exact zero so that p·log p terms can be skipped
	}
	x = min(x, expHi)
	z := x * expInvLn2N
	kd := z + expShift
	ki := math.Float64bits(kd)
	kd -= expShift
	r := z - kd
	s := math.Float64frombits(expTab[ki&(expN-1)] + ki<<(52-expTableBits))
	// The float64 conversions forbid fused multiply-adds, so the result is the
	// same on every GOAMD64 level and equal to the assembly's.
	p := float64(r*expC3) + expC2
	p = float64(r*p) + expC1
	p = float64(r*p) + 1
	return s * p
}

// Exp32 returns exp(x) rounded to float32 (max relative error ≈ 6e-8).
// NaN propagates (Go's min and max propagate NaN through the clamp).
func Exp32(x float32) float32 {
	return float32(exp64f(float64(x)))
}

// ExpSlice sets dst[i] = exp(src[i]) for i in [lo, hi). dst may alias src.
func ExpSlice(dst, src []float32, lo, hi int) {
	if hi <= lo {
		return
	}
	expAffine(dst[lo:hi], src[lo:hi], 1, 0)
}

// expAffineGo is the portable expAffine: dst[i] = float32(exp(a·src[i] + c))
// when dst is not nil; returns Σ exp(a·src[i] + c) in float64.
func expAffineGo(dst, src []float32, a, c float64) float64 {
	var s float64
	if dst == nil {
		for _, x := range src {
			s += exp64f(float64(float64(x)*a) + c)
		}
		return s
	}
	dst = dst[:len(src)]
	for i, x := range src {
		e := exp64f(float64(float64(x)*a) + c)
		s += e
		dst[i] = float32(e)
	}
	return s
}

// expAffine64Go is the portable expAffine64.
func expAffine64Go(dst []float64, src []float32, a, c float64) float64 {
	var s float64
	dst = dst[:len(src)]
	for i, x := range src {
		e := exp64f(float64(float64(x)*a) + c)
		s += e
		dst[i] = e
	}
	return s
}

// expAffineAccGo is the portable expAffineAcc.
func expAffineAccGo(dst, src []float32, a, c, g float64) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] += float32(g * exp64f(float64(float64(x)*a)+c))
	}
}

// expDotGo is the portable expDot.
func expDotGo(x, y1, y2 []float32, a, c float64) (s0, s1, s2 float64) {
	y1 = y1[:len(x)]
	y2 = y2[:len(x)]
	for i, v := range x {
		e := exp64f(float64(float64(v)*a) + c)
		if e == 0 {
			continue
		}
		s0 += e
		s1 += e * float64(y1[i])
		s2 += e * float64(y2[i])
	}
	return
}
