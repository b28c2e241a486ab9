//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 loops for AdamW, RMSNorm and RoPE, 16 float32
// lanes with masked tails. AdamW (with the two fused multiply-adds PyTorch's
// CPU kernels use), the RMSNorm elementwise passes and RoPE use the same
// operations in the same order as their Go loops, so they agree bit for bit;
// the reductions (sumSq64, dot3) sum in a different order.

// TAIL16 sets K1 to the lanes of the next block of 16 (CX > 0 left). Clobbers AX, R10.
#define TAIL16 \
	MOVQ $16, R10; \
	CMPQ CX, R10; \
	CMOVQLT CX, R10; \
	MOVQ $0xFFFF, AX; \
	BZHIQ R10, AX, AX; \
	KMOVW AX, K1

// func adamwAVX512(p, grad, m, v *float32, n int, k *[8]float32)
// k = beta1, 1−beta1, beta2, 1−beta2, sqrt(bc2), eps, decay, −lr/bc1.
TEXT ·adamwAVX512(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), DX
	VBROADCASTSS 0(DX), Z16
	VBROADCASTSS 4(DX), Z17
	VBROADCASTSS 8(DX), Z18
	VBROADCASTSS 12(DX), Z19
	VBROADCASTSS 16(DX), Z20
	VBROADCASTSS 20(DX), Z21
	VBROADCASTSS 24(DX), Z22
	VBROADCASTSS 28(DX), Z23

adamloop:
	TESTQ CX, CX
	JLE   adamdone
	TAIL16
	VMOVUPS.Z (SI), K1, Z0     // g
	VMOVUPS.Z (R8), K1, Z1     // m
	VMOVUPS.Z (R9), K1, Z2     // v
	VMOVUPS.Z (DI), K1, Z3     // p
	VMULPS Z16, Z1, Z1         // beta1·m
	VFMADD231PS Z17, Z0, Z1    // m' = fma(g, 1−beta1, beta1·m)
	VMULPS Z18, Z2, Z2         // beta2·v
	VMULPS Z19, Z0, Z4         // (1−beta2)·g
	VFMADD231PS Z0, Z4, Z2     // v' = fma((1−beta2)·g, g, beta2·v)
	VMOVUPS Z1, K1, (R8)
	VMOVUPS Z2, K1, (R9)
	VSQRTPS Z2, Z5
	VDIVPS Z20, Z5, Z5         // sqrt(v')/sqrt(bc2)
	VADDPS Z21, Z5, Z5         // + eps
	VMULPS Z22, Z3, Z3         // p·decay
	VMULPS Z1, Z23, Z6         // −step·m'
	VDIVPS Z5, Z6, Z6          // / denom
	VADDPS Z6, Z3, Z3
	VMOVUPS Z3, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JMP  adamloop

adamdone:
	VZEROUPPER
	RET

// func sumSq64AVX512(x *float32, n int) float64: Σ x² in float64.
TEXT ·sumSq64AVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1

ssloop:
	TESTQ CX, CX
	JLE   ssdone
	TAIL16
	VMOVUPS.Z (SI), K1, Z2
	VCVTPS2PD Y2, Z3
	VEXTRACTF64X4 $1, Z2, Y4
	VCVTPS2PD Y4, Z4
	VFMADD231PD Z3, Z3, Z0
	VFMADD231PD Z4, Z4, Z1
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  ssloop

ssdone:
	VADDPD Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD Y1, Y0, Y1
	VEXTRACTF128 $1, Y1, X2
	VADDPD X2, X1, X1
	VUNPCKHPD X1, X1, X2
	VADDSD X2, X1, X1
	MOVSD X1, ret+16(FP)
	VZEROUPPER
	RET

// func dot3AVX512(a, b, c *float32, n int) float32: Σ a·b·c in float32 lanes.
TEXT ·dot3AVX512(SB), NOSPLIT, $0-36
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), BX
	MOVQ c+16(FP), DX
	MOVQ n+24(FP), CX
	VPXORD Z0, Z0, Z0

d3loop:
	TESTQ CX, CX
	JLE   d3done
	TAIL16
	VMOVUPS.Z (SI), K1, Z1
	VMOVUPS.Z (BX), K1, Z2
	VMOVUPS.Z (DX), K1, Z3
	VMULPS Z2, Z1, Z1
	VFMADD231PS Z3, Z1, Z0
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DX
	SUBQ $16, CX
	JMP  d3loop

d3done:
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y1
	VEXTRACTF128 $1, Y1, X2
	VADDPS X2, X1, X1
	VPERMILPS $0x4E, X1, X2
	VADDPS X2, X1, X1
	VMOVSHDUP X1, X2
	VADDSS X2, X1, X1
	MOVSS X1, ret+32(FP)
	VZEROUPPER
	RET

// func rmsScaleAVX512(y, x, w *float32, n int, r float32): y = x·r·w.
TEXT ·rmsScaleAVX512(SB), NOSPLIT, $0-36
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), BX
	MOVQ n+24(FP), CX
	VBROADCASTSS r+32(FP), Z16

rsloop:
	TESTQ CX, CX
	JLE   rsdone
	TAIL16
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (BX), K1, Z1
	VMULPS Z16, Z0, Z0
	VMULPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  rsloop

rsdone:
	VZEROUPPER
	RET

// func rmsBwdAVX512(dx, dw, dy, x, w *float32, n int, r, c float32)
// dx += dy·w·r − c·x; dw += dy·x·r.
TEXT ·rmsBwdAVX512(SB), NOSPLIT, $0-56
	MOVQ dx+0(FP), DI
	MOVQ dw+8(FP), R8
	MOVQ dy+16(FP), R9
	MOVQ x+24(FP), SI
	MOVQ w+32(FP), BX
	MOVQ n+40(FP), CX
	VBROADCASTSS r+48(FP), Z16
	VBROADCASTSS c+52(FP), Z17

rbloop:
	TESTQ CX, CX
	JLE   rbdone
	TAIL16
	VMOVUPS.Z (R9), K1, Z0     // g
	VMOVUPS.Z (SI), K1, Z1     // x
	VMOVUPS.Z (BX), K1, Z2     // w
	VMULPS Z2, Z0, Z3          // g·w
	VMULPS Z16, Z3, Z3         // ·r
	VMULPS Z1, Z17, Z4         // c·x
	VSUBPS Z4, Z3, Z3
	VMOVUPS.Z (DI), K1, Z5
	VADDPS Z3, Z5, Z5
	VMOVUPS Z5, K1, (DI)
	VMULPS Z1, Z0, Z3          // g·x
	VMULPS Z16, Z3, Z3         // ·r
	VMOVUPS.Z (R8), K1, Z5
	VADDPS Z3, Z5, Z5
	VMOVUPS Z5, K1, (R8)
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, SI
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  rbloop

rbdone:
	VZEROUPPER
	RET

// ROPE(BODY): for each of BX heads of 2·DX floats at DI (out) and SI (x), and
// j over DX in blocks of 16: Z0 = x[j], Z1 = x[j+half], Z2 = cos[j], Z3 = sin[j],
// then BODY stores the two results. Uses R11 (half in bytes), R12, R13, CX.
#define ROPEHEADS(BODY) \
	MOVQ DX, R11; \
	SHLQ $2, R11; \
rhead: \
	TESTQ BX, BX; \
	JLE   rdone; \
	MOVQ DX, CX; \
	XORQ R12, R12; \
	LEAQ (SI)(R11*1), R13; \
rblock: \
	TESTQ CX, CX; \
	JLE   rnext; \
	TAIL16; \
	VMOVUPS.Z (SI)(R12*1), K1, Z0; \
	VMOVUPS.Z (R13)(R12*1), K1, Z1; \
	VMOVUPS.Z (R8)(R12*1), K1, Z2; \
	VMOVUPS.Z (R9)(R12*1), K1, Z3; \
	BODY; \
	ADDQ $64, R12; \
	SUBQ $16, CX; \
	JMP  rblock; \
rnext: \
	LEAQ (SI)(R11*2), SI; \
	LEAQ (DI)(R11*2), DI; \
	DECQ BX; \
	JMP  rhead; \
rdone: \
	VZEROUPPER; \
	RET

// out[j] = a·c − b·s; out[j+half] = b·c + a·s
#define ROPEFWD \
	VMULPS Z2, Z0, Z4; \
	VMULPS Z3, Z1, Z5; \
	VSUBPS Z5, Z4, Z4; \
	VMULPS Z2, Z1, Z6; \
	VMULPS Z3, Z0, Z7; \
	VADDPS Z7, Z6, Z6; \
	LEAQ (DI)(R11*1), R10; \
	VMOVUPS Z4, K1, (DI)(R12*1); \
	VMOVUPS Z6, K1, (R10)(R12*1)

// dx[j] += a·c + b·s; dx[j+half] += b·c − a·s (a, b from dout)
#define ROPEBWD \
	VMULPS Z2, Z0, Z4; \
	VMULPS Z3, Z1, Z5; \
	VADDPS Z5, Z4, Z4; \
	VMULPS Z2, Z1, Z6; \
	VMULPS Z3, Z0, Z7; \
	VSUBPS Z7, Z6, Z6; \
	LEAQ (DI)(R11*1), R10; \
	VMOVUPS.Z (DI)(R12*1), K1, Z8; \
	VADDPS Z4, Z8, Z8; \
	VMOVUPS Z8, K1, (DI)(R12*1); \
	VMOVUPS.Z (R10)(R12*1), K1, Z9; \
	VADDPS Z6, Z9, Z9; \
	VMOVUPS Z9, K1, (R10)(R12*1)

// func ropeFwdAVX512(out, x, cos, sin *float32, heads, half int)
TEXT ·ropeFwdAVX512(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ cos+16(FP), R8
	MOVQ sin+24(FP), R9
	MOVQ heads+32(FP), BX
	MOVQ half+40(FP), DX
	ROPEHEADS(ROPEFWD)

// func ropeBwdAVX512(dx, dout, cos, sin *float32, heads, half int)
TEXT ·ropeBwdAVX512(SB), NOSPLIT, $0-48
	MOVQ dx+0(FP), DI
	MOVQ dout+8(FP), SI
	MOVQ cos+16(FP), R8
	MOVQ sin+24(FP), R9
	MOVQ heads+32(FP), BX
	MOVQ half+40(FP), DX
	ROPEHEADS(ROPEBWD)
