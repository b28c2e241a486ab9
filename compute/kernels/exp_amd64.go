//go:build amd64 && !purego

package kernels

import (
	"math"
	"unsafe"
)

//go:noescape
func expAffineAVX512(dst unsafe.Pointer, src *float32, n int, a, c float64, mode int) float64

//go:noescape
func expAffineAccAVX512(dst, src *float32, n int, a, c, gain float64)

//go:noescape
func expDotAVX512(x, y1, y2 *float32, n int, a, c float64) (s0, s1, s2 float64)

//go:noescape
func rowMaxAVX512(x *float32, n int) float32

//go:noescape
func swigluFwdAVX512(h, gate, up *float32, n int)

//go:noescape
func swigluBwdAVX512(dGate, dUp, dh, gate, up *float32, n int)

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// expK holds the constants of exp64f for the assembly (see exp_amd64.s).
var expK [11]uint64

// useAVX512 selects the assembly kernels; tests switch it off to compare with
// the portable Go loops.
var useAVX512 = detectAVX512()

func detectAVX512() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	if ecx1&(1<<27) == 0 { // OSXSAVE
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&0xE6 != 0xE6 { // SSE, AVX, opmask, ZMM state
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const f, dq, bmi2, vl = 1 << 16, 1 << 17, 1 << 8, 1 << 31
	return ebx7&(f|dq|bmi2|vl) == f|dq|bmi2|vl
}

func init() {
	for i, v := range []float64{expLo, expHi, expInvLn2N, expShift, expC1, expC2, expC3, 1} {
		expK[i] = math.Float64bits(v)
	}
	expK[8] = expN / 2                     // bit 4 of the table index
	expK[9] = 1 << 63                      // float64 sign bit
	expK[10] = uint64(math.Float32bits(1)) // float32 1.0 (low half)
}

// Store modes of expAffineAVX512.
const (
	expNoStore = 0
	expStore32 = 1
	expStore64 = 2
)

// expAffine sets dst[i] = float32(exp(a·src[i] + c)) (when dst is not nil) and
// returns Σ exp(a·src[i] + c), in float64.
func expAffine(dst, src []float32, a, c float64) float64 {
	if useAVX512 && len(src) > 0 {
		if dst == nil {
			return expAffineAVX512(nil, &src[0], len(src), a, c, expNoStore)
		}
		dst = dst[:len(src)]
		return expAffineAVX512(unsafe.Pointer(&dst[0]), &src[0], len(src), a, c, expStore32)
	}
	return expAffineGo(dst, src, a, c)
}

// expAffine64 sets dst[i] = exp(a·src[i] + c) in float64 and returns their sum.
func expAffine64(dst []float64, src []float32, a, c float64) float64 {
	if useAVX512 && len(src) > 0 {
		dst = dst[:len(src)]
		return expAffineAVX512(unsafe.Pointer(&dst[0]), &src[0], len(src), a, c, expStore64)
	}
	return expAffine64Go(dst, src, a, c)
}

func swigluFwd(h, g, u []float32) {
	if useAVX512 && len(h) > 0 {
		swigluFwdAVX512(&h[0], &g[0], &u[0], len(h))
		return
	}
	swigluFwdGo(h, g, u)
}

func swigluBwd(dg, du, dh, g, u []float32) {
	if useAVX512 && len(dg) > 0 {
		swigluBwdAVX512(&dg[0], &du[0], &dh[0], &g[0], &u[0], len(dg))
		return
	}
	swigluBwdGo(dg, du, dh, g, u)
}

// expAffineAcc sets dst[i] += float32(g·exp(a·src[i] + c)).
func expAffineAcc(dst, src []float32, a, c, g float64) {
	if useAVX512 && len(src) > 0 {
		dst = dst[:len(src)]
		expAffineAccAVX512(&dst[0], &src[0], len(src), a, c, g)
		return
	}
	expAffineAccGo(dst, src, a, c, g)
}

// rowMax returns max(z) over a non-empty row without NaNs.
func rowMax(z []float32) float32 {
	if useAVX512 {
		return rowMaxAVX512(&z[0], len(z))
	}
	return rowMaxGo(z)
}

// expDot returns, with e = exp(a·x + c), Σ e, Σ e·y1 and Σ e·y2 in float64;
// entries whose e underflows to 0 contribute nothing (even with infinite y).
func expDot(x, y1, y2 []float32, a, c float64) (s0, s1, s2 float64) {
	if useAVX512 && len(x) > 0 {
		return expDotAVX512(&x[0], &y1[:len(x)][0], &y2[:len(x)][0], len(x), a, c)
	}
	return expDotGo(x, y1, y2, a, c)
}
