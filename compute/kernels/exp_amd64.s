//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 versions of the float64-internal exponential of exp.go (exp64f),
// 8 lanes at a time, with masked tails. The operation order matches exp64f
// (no FMA), so results equal the scalar ones bit for bit.
//
// Constants (set up by LOADEXPK):
//   Z16 expLo  Z17 expHi  Z18 32/ln2  Z19 shift  Z20..Z22 C1..C3  Z23 1.0
//   Z24..Z27 expTab[0:32]  Z28 int64 16  Z12 float64 sign bit  Z11 float32 1.0

#define LOADEXPK \
	VBROADCASTSD ·expK+0(SB), Z16; \
	VBROADCASTSD ·expK+8(SB), Z17; \
	VBROADCASTSD ·expK+16(SB), Z18; \
	VBROADCASTSD ·expK+24(SB), Z19; \
	VBROADCASTSD ·expK+32(SB), Z20; \
	VBROADCASTSD ·expK+40(SB), Z21; \
	VBROADCASTSD ·expK+48(SB), Z22; \
	VBROADCASTSD ·expK+56(SB), Z23; \
	VPBROADCASTQ ·expK+64(SB), Z28; \
	VPBROADCASTQ ·expK+72(SB), Z12; \
	VBROADCASTSS ·expK+80(SB), Z11; \
	VMOVDQU64 ·expTab+0(SB), Z24; \
	VMOVDQU64 ·expTab+64(SB), Z25; \
	VMOVDQU64 ·expTab+128(SB), Z26; \
	VMOVDQU64 ·expTab+192(SB), Z27

// EXP64(X): X = exp(X) for the lanes in K1 (other lanes 0), float64.
// Clobbers Z1..Z4, K2, K3.
#define EXP64(X) \
	VCMPPD $5, Z16, X, K1, K2; \
	VMINPD X, Z17, X; \
	VMULPD Z18, X, Z1; \
	VADDPD Z19, Z1, Z2; \
	VSUBPD Z19, Z2, Z3; \
	VSUBPD Z3, Z1, Z1; \
	VMULPD Z22, Z1, Z3; \
	VADDPD Z21, Z3, Z3; \
	VMULPD Z1, Z3, Z3; \
	VADDPD Z20, Z3, Z3; \
	VMULPD Z1, Z3, Z3; \
	VADDPD Z23, Z3, Z3; \
	VMOVDQA64 Z2, Z1; \
	VPERMI2Q Z25, Z24, Z1; \
	VMOVDQA64 Z2, Z4; \
	VPERMI2Q Z27, Z26, Z4; \
	VPTESTMQ Z28, Z2, K3; \
	VPBLENDMQ Z4, Z1, K3, Z1; \
	VPSLLQ $47, Z2, Z2; \
	VPADDQ Z2, Z1, Z1; \
	VMULPD.Z Z3, Z1, K2, X

// TAILMASK sets K1 to the lanes of the next block of 8 (CX > 0 elements left):
// BZHI keeps the low min(CX, 8) bits of 0xFF (BMI2, present with AVX-512).
// Clobbers AX, R10.
#define TAILMASK \
	MOVQ $8, R10; \
	CMPQ CX, R10; \
	CMOVQLT CX, R10; \
	MOVQ $0xFF, AX; \
	BZHIQ R10, AX, AX; \
	KMOVW AX, K1

// func expAffineAVX512(dst unsafe.Pointer, src *float32, n int, a, c float64, mode int) float64
// e[i] = exp(a·src[i] + c) in float64; mode 0: no store, 1: dst float32, 2: dst float64.
// Returns Σ e[i] (float64, lane-wise partial sums).
TEXT ·expAffineAVX512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSD a+24(FP), Z14
	VBROADCASTSD c+32(FP), Z15
	MOVQ mode+40(FP), DX
	LOADEXPK
	VPXORQ Z13, Z13, Z13

loop:
	TESTQ CX, CX
	JLE   done
	TAILMASK
	VMOVUPS.Z (SI), K1, Y0
	VCVTPS2PD Y0, Z0
	VMULPD Z14, Z0, Z0
	VADDPD Z15, Z0, Z0
	EXP64(Z0)
	VADDPD Z0, Z13, Z13
	CMPQ DX, $1
	JLT  next
	JGT  store64
	VCVTPD2PS Z0, Y5
	VMOVUPS Y5, K1, (DI)
	ADDQ $32, DI
	JMP  next

store64:
	VMOVUPD Z0, K1, (DI)
	ADDQ $64, DI

next:
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  loop

done:
	VEXTRACTF64X4 $1, Z13, Y1
	VADDPD Y1, Y13, Y1
	VEXTRACTF128 $1, Y1, X2
	VADDPD X2, X1, X1
	VUNPCKHPD X1, X1, X2
	VADDSD X2, X1, X1
	MOVSD X1, ret+48(FP)
	VZEROUPPER
	RET

// SIGMOIDNEG: Y0 = float32(1/(1+exp(−g))) for g in Y5 (lanes K1).
#define SIGMOID \
	VCVTPS2PD Y5, Z0; \
	VXORPD Z12, Z0, Z0; \
	EXP64(Z0); \
	VADDPD Z23, Z0, Z0; \
	VDIVPD Z0, Z23, Z0; \
	VCVTPD2PS Z0, Y0

// func swigluFwdAVX512(h, gate, up *float32, n int)
TEXT ·swigluFwdAVX512(SB), NOSPLIT, $0-32
	MOVQ h+0(FP), DI
	MOVQ gate+8(FP), SI
	MOVQ up+16(FP), BX
	MOVQ n+24(FP), CX
	LOADEXPK

fwdloop:
	TESTQ CX, CX
	JLE   fwddone
	TAILMASK
	VMOVUPS.Z (SI), K1, Y5
	VMOVUPS.Z (BX), K1, Y6
	SIGMOID
	VMULPS Y0, Y5, Y1
	VMULPS Y6, Y1, Y1
	VMOVUPS Y1, K1, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, BX
	SUBQ $8, CX
	JMP  fwdloop

fwddone:
	VZEROUPPER
	RET

// func swigluBwdAVX512(dGate, dUp, dh, gate, up *float32, n int)
TEXT ·swigluBwdAVX512(SB), NOSPLIT, $0-48
	MOVQ dGate+0(FP), DI
	MOVQ dUp+8(FP), R8
	MOVQ dh+16(FP), R9
	MOVQ gate+24(FP), SI
	MOVQ up+32(FP), BX
	MOVQ n+40(FP), CX
	LOADEXPK

bwdloop:
	TESTQ CX, CX
	JLE   bwddone
	TAILMASK
	VMOVUPS.Z (SI), K1, Y5
	VMOVUPS.Z (BX), K1, Y6
	VMOVUPS.Z (R9), K1, Y7
	SIGMOID
	VMULPS Y0, Y5, Y1          // silu = g·sig
	VMOVUPS.Z (R8), K1, Y8
	VMULPS Y1, Y7, Y9          // dh·silu
	VADDPS Y9, Y8, Y8
	VMOVUPS Y8, K1, (R8)
	VSUBPS Y0, Y11, Y10        // 1 − sig
	VMULPS Y10, Y1, Y10        // silu·(1−sig)
	VADDPS Y10, Y0, Y10        // sig + …
	VMULPS Y6, Y7, Y9          // dh·up
	VMULPS Y10, Y9, Y9
	VMOVUPS.Z (DI), K1, Y8
	VADDPS Y9, Y8, Y8
	VMOVUPS Y8, K1, (DI)
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, SI
	ADDQ $32, BX
	SUBQ $8, CX
	JMP  bwdloop

bwddone:
	VZEROUPPER
	RET

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func expAffineAccAVX512(dst, src *float32, n int, a, c, gain float64)
// dst[i] += float32(gain · exp(a·src[i] + c)).
TEXT ·expAffineAccAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSD a+24(FP), Z14
	VBROADCASTSD c+32(FP), Z15
	VBROADCASTSD gain+40(FP), Z13
	LOADEXPK

accloop:
	TESTQ CX, CX
	JLE   accdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Y0
	VCVTPS2PD Y0, Z0
	VMULPD Z14, Z0, Z0
	VADDPD Z15, Z0, Z0
	EXP64(Z0)
	VMULPD Z13, Z0, Z0
	VCVTPD2PS Z0, Y5
	VMOVUPS.Z (DI), K1, Y6
	VADDPS Y5, Y6, Y6
	VMOVUPS Y6, K1, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  accloop

accdone:
	VZEROUPPER
	RET

// func rowMaxAVX512(x *float32, n int) float32 (n > 0; NaN handling unspecified)
TEXT ·rowMaxAVX512(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVL $0xFF800000, AX       // −Inf
	VPBROADCASTD AX, Z0
	VMOVAPS Z0, Z1

maxloop:
	CMPQ CX, $32
	JLT  maxtail
	VMAXPS (SI), Z0, Z0
	VMAXPS 64(SI), Z1, Z1
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  maxloop

maxtail:
	TESTQ CX, CX
	JLE   maxdone
	MOVQ $16, R10
	CMPQ CX, R10
	CMOVQLT CX, R10
	MOVQ $0xFFFF, AX
	BZHIQ R10, AX, AX
	KMOVW AX, K1
	// Into Z0 alone, under the mask: lanes past the row keep Z0's maxima
	// (and are not read). Z1 holds the main loop's maxima of every other
	// 16 floats: loading the tail over it lost them.
	VMAXPS (SI), Z0, K1, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  maxtail

maxdone:
	VMAXPS Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS Y1, Y0, Y1
	VEXTRACTF128 $1, Y1, X2
	VMAXPS X2, X1, X1
	VPERMILPS $0x4E, X1, X2
	VMAXPS X2, X1, X1
	VMOVSHDUP X1, X2
	VMAXSS X2, X1, X1
	MOVSS X1, ret+16(FP)
	VZEROUPPER
	RET

// func expDotAVX512(x, y1, y2 *float32, n int, a, c float64) (s0, s1, s2 float64)
// With e = exp(a·x + c): s0 = Σ e, s1 = Σ e·y1, s2 = Σ e·y2 (float64); lanes
// where e underflows to 0 (including x = −Inf) add nothing, even if y is ±Inf.
TEXT ·expDotAVX512(SB), NOSPLIT, $0-72
	MOVQ x+0(FP), SI
	MOVQ y1+8(FP), BX
	MOVQ y2+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSD a+32(FP), Z14
	VBROADCASTSD c+40(FP), Z15
	LOADEXPK
	VPXORQ Z13, Z13, Z13
	VPXORQ Z10, Z10, Z10
	VPXORQ Z9, Z9, Z9

edloop:
	TESTQ CX, CX
	JLE   eddone
	TAILMASK
	VMOVUPS.Z (SI), K1, Y0
	VCVTPS2PD Y0, Z0
	VMULPD Z14, Z0, Z0
	VADDPD Z15, Z0, Z0
	EXP64(Z0)
	VADDPD Z0, Z13, Z13
	VMOVUPS.Z (BX), K2, Y5
	VCVTPS2PD Y5, Z5
	VFMADD231PD Z5, Z0, K2, Z10
	VMOVUPS.Z (DX), K2, Y6
	VCVTPS2PD Y6, Z6
	VFMADD231PD Z6, Z0, K2, Z9
	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, DX
	SUBQ $8, CX
	JMP  edloop

#define HSUMPD(Z, Y, X, OUT) \
	VEXTRACTF64X4 $1, Z, Y1; \
	VADDPD Y1, Y, Y1; \
	VEXTRACTF128 $1, Y1, X2; \
	VADDPD X2, X1, X1; \
	VUNPCKHPD X1, X1, X2; \
	VADDSD X2, X1, X1; \
	MOVSD X1, OUT

eddone:
	HSUMPD(Z13, Y13, X13, s0+48(FP))
	HSUMPD(Z10, Y10, X10, s1+56(FP))
	HSUMPD(Z9, Y9, X9, s2+64(FP))
	VZEROUPPER
	RET
