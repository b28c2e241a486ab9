package gemm

import (
	"golang.org/x/sys/cpu"
)

// microKernel is one register-blocked inner kernel plus the cache-blocking
// parameters that suit it.
type microKernel struct {
	name   string
	mr, nr int
	// fn computes the mr×nr tile C[i*ldc+j] = Σ_p a[p*mr+i]·b[p*nr+j] + beta·C
	// over k steps; beta == ±0 overwrites C (NaNs in C are ignored).
	fn func(k int, a, b, c *float32, ldc int, beta float32)
	// rows, when set, has rows[h] (h < mr) computing only the first h rows of
	// a tile from a panel packed for mr rows, writing C directly.
	rows []func(k int, a, b, c *float32, ldc int, beta float32)
	// Cache blocking: kc (depth of one packed panel), mc (rows of packed A
	// kept in L2, a multiple of mr), nc (columns of packed B, a multiple of nr).
	kc, mc, nc int
}

const (
	maxMR = 16
	maxNR = 64
)

var genericKernel = &microKernel{name: "generic", mr: 4, nr: 4, fn: kernGeneric4x4, kc: 256, mc: 128, nc: 2048}

// kernels lists every kernel this build has, best first; the first one whose
// CPU features are present is used. Tests switch between them with useKernel.
var kernels []*microKernel

// active is the kernel in use. Tests may switch it (see useKernel); it is
// read once at the start of each call.
var active = genericKernel

func init() {
	kernels = append(archKernels(), genericKernel)
	active = genericKernel
	for _, k := range kernels {
		if kernelSupported(k.name) {
			active = k
			break
		}
	}
}

func kernelSupported(name string) bool {
	switch name {
	case "generic":
		return true
	case "avx512":
		return cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL
	case "avx2":
		return cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX
	}
	return false
}

// Kernel returns the name of the micro-kernel chosen at run time:
// "avx512", "avx2" or "generic".
func Kernel() string { return active.name }

// kernGeneric4x4 is the portable micro-kernel (pure Go).
func kernGeneric4x4(k int, a, b, c *float32, ldc int, beta float32) {
	// The pointers come from slices the driver owns; rebuild them as slices
	// so that the loop is bounds-checked Go.
	as := unsafeSlice(a, k*4)
	bs := unsafeSlice(b, k*4)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		ap := as[p*4 : p*4+4 : p*4+4]
		bp := bs[p*4 : p*4+4 : p*4+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	acc := [4][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	}
	cs := unsafeSlice(c, 3*ldc+4)
	for i := 0; i < 4; i++ {
		row := cs[i*ldc : i*ldc+4 : i*ldc+4]
		if beta == 0 {
			row[0], row[1], row[2], row[3] = acc[i][0], acc[i][1], acc[i][2], acc[i][3]
		} else {
			row[0] = acc[i][0] + beta*row[0]
			row[1] = acc[i][1] + beta*row[1]
			row[2] = acc[i][2] + beta*row[2]
			row[3] = acc[i][3] + beta*row[3]
		}
	}
}
