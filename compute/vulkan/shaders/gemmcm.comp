#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : require
// gemm on cooperative matrices (VK_KHR_cooperative_matrix: tensor cores on
// NVIDIA): the same contract as gemm.comp (read its header: flags bits 0/1
// transpose A/B, bit 2 adds bias, bit 4 split K; alpha; beta = 0 never reads
// C; same push constants), plus binding 4: the largest magnitude of every
// line of the operands, gemmscale's output (scaleOf turns it into a scale).
//
// The products run on float16 operands with float32 accumulation. Float16
// alone would lose a gradient's small values (its smallest normal is 2⁻¹⁴)
// and overflow a large activation (its largest is 65504), so every row of
// op(A) and every column of op(B) is multiplied, as it is staged, by a power
// of two that brings its largest magnitude into [2¹⁴, 2¹⁵) (from
// maxBits[m] for row m of A, maxBits[M + n] for column n of B); the sum
// over k is then divided by both. Rows and columns are the lines along k, so the scales
// factor out of the sum exactly, and each operand keeps float16's 11
// significant bits relative to its line's largest value: error of the order
// 2⁻¹¹·Σ|a||b| per output, below bfloat16's 2⁻⁸.
//
// The matrices are T×T×T (specialization constant 1): 16 where the device
// offers it (NVIDIA, AMD), else 8 (lavapipe). The workgroup is NSUB = GM×GN
// subgroups (local size NSUB times the device's subgroup size,
// specialization constant 0, set by the host); subgroup s owns a WM×WN
// block of T×T accumulators, so a workgroup's output tile is BM×BN =
// GM·WM·T × GN·WN·T: 64×64 at T = 16 as gemmcm, 128×128 as gemmcm128
// (-DBIG); half that at T = 8. A device that runs smaller subgroups than
// it reports leaves the extra subgroups idle but in every barrier.
//
// K runs in steps of BK = 32 (64 under -DK64). Each step's operands are staged in shared memory
// as float16 in the layout they have in memory (an operand stored along k
// as [m][k] and loaded as row-major matrices, one stored along m or n as
// [k][m] and loaded as column-major ones), so that global reads and shared
// writes both run along memory; the shared tiles are arrays of f16vec4, a
// group of four written with one store (cooperative loads count offsets
// and strides in the array's elements). Each invocation reads NV groups of 4
// consecutive elements per operand (specialization constant 2, set by the
// host to cover the tile: BM·BK/4 groups over the workgroup), one vec4
// where flags bit 5 (A) or 6 (B) says the operand's rows start on 16
// bytes (as gemm128's) and the group lies inside the matrix, else element
// by element. The next step's groups are read into registers while the
// subgroups multiply the current one.
//
// Compiled again with -DB16 (gemmcm16, gemmcm128_16): B is then a 16-bit
// weight packed two to a uint, bfloat16, or float16 when flags bit 3 is
// set, widened as gemm16 widens it (a group of 4 is one uvec2 where bit 6
// says its rows start on 8 bytes), then scaled into float16 as a float32
// operand is.
//
// Two more shapes of the 128×128 tile, for timing against it on a GPU
// (RLT_VULKAN_GEMMCM): -DBIG -DWIDE runs it on 4 subgroups of 64×64
// (each k-step's matrices loaded from shared memory serve 16 products, not
// 8: CUTLASS's warp tile for float16), -DBIG -DK64 walks K in steps of 64
// (half the barriers per product).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint T = 16u;
layout(constant_id = 2) const uint NV = 4u;
// The host builds gemmcm only where NV ≤ NVMAX (coopGeometry): 16 for the
// two shapes above (which need it on lavapipe's small subgroups), else 8.
#if defined(WIDE) || defined(K64)
const uint NVMAX = 16u;
#else
const uint NVMAX = 8u;
#endif
#if defined(BIG) && defined(WIDE)
const uint GM = 2u, GN = 2u, WM = 4u, WN = 4u;
#elif defined(BIG)
const uint GM = 2u, GN = 4u, WM = 4u, WN = 2u;
#else
const uint GM = 2u, GN = 2u, WM = 2u, WN = 2u;
#endif
const uint BM = GM * WM * T, BN = GN * WN * T;
#ifdef K64
const uint BK = 64u;
#else
const uint BK = 32u;
#endif
const uint NSUB = GM * GN;
// Shared rows are padded by 8 halves, which keeps every row a multiple of
// 16 bytes, as cooperative loads want, and staggers rows across banks.
// A as [m][k] (BM rows of BK + 8) or [k][m] (BK rows of BM + 8), B alike
// (BM = BN ≥ BK); the arrays count f16vec4s.
const uint SA = (BM * (BK + 8u) > BK * (BM + 8u) ? BM * (BK + 8u) : BK * (BM + 8u)) / 4u;
const uint SB = (BN * (BK + 8u) > BK * (BN + 8u) ? BN * (BK + 8u) : BK * (BN + 8u)) / 4u;

layout(std430, binding = 0) buffer Cb { float c[]; };
layout(std430, binding = 1) readonly buffer Ab { float a[]; };
layout(std430, binding = 1) readonly buffer Ab4 { vec4 a4[]; };
#ifdef B16
layout(std430, binding = 2) readonly buffer Bb { uint b16[]; };
layout(std430, binding = 2) readonly buffer Bb4 { uvec2 b16x4[]; };
#else
layout(std430, binding = 2) readonly buffer Bb { float b[]; };
layout(std430, binding = 2) readonly buffer Bb4 { vec4 b4[]; };
#endif
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, binding = 4) readonly buffer Maxes { uint maxBits[]; };
layout(push_constant) uniform P {
	uint M; uint N; uint K; uint lda; uint ldb; uint ldc; uint flags; float alpha; float beta; uint kChunk;
} p;

shared f16vec4 As[SA];
shared f16vec4 Bs[SB];
shared float scaleA[BM], scaleB[BN];
shared float outS[NSUB * T * T]; // one accumulator per subgroup, on its way out

uint lid, L;

// scaleOf turns a line's largest magnitude, as gemmscale left its bits,
// into the line's power of two: 2^(15−e) where 2^(e−1) ≤ max < 2^e, so
// the scaled line's largest magnitude lies in [2¹⁴, 2¹⁵); 1 for a line of
// zeros or one holding an infinity or NaN (their bits are the largest:
// the product then carries them as float32 would). The exponent is held
// to [−120, 100] so that the scale and its inverse stay finite.
float scaleOf(uint bits) {
	if (bits == 0u || bits >= 0x7f800000u) return 1.0;
	int e;
	frexp(uintBitsToFloat(bits), e); // max = f·2^e, f in [0.5, 1)
	return ldexp(1.0, clamp(15 - e, -120, 100));
}

#ifdef B16
float widen(uint w, uint hi) {
	if ((p.flags & 8u) != 0u) return unpackHalf2x16(w)[hi];
	return uintBitsToFloat(hi == 0u ? w << 16u : w & 0xffff0000u);
}
float loadB(uint i) { return widen(b16[i >> 1u], i & 1u); }
// loadB4 reads elements i..i+3, i a multiple of 4.
vec4 loadB4(uint i) {
	uvec2 w = b16x4[i >> 2u];
	return vec4(widen(w.x, 0u), widen(w.x, 1u), widen(w.y, 0u), widen(w.y, 1u));
}
#else
float loadB(uint i) { return b[i]; }
vec4 loadB4(uint i) { return b4[i >> 2u]; }
#endif

// An operand's tile at one k-step is R rows of C elements along memory:
// along k (C = BK) when the operand is stored along k, else along m or n
// (R = BK). Group g of 4 is row g / (C/4), columns (g % (C/4))·4 + 0..3.

// fetch reads group g of the tile whose first element is at global index
// base (row r at base + r·ld); rows ≥ rows and columns ≥ cols read 0.
vec4 fetch(bool isB, bool vec, uint g, uint C, uint base, uint ld, uint rows, uint cols) {
	uint r = g / (C / 4u), col = (g % (C / 4u)) * 4u;
	vec4 v = vec4(0.0);
	if (g >= BM * BK / 4u || r >= rows) return v; // BM = BN: both tiles hold BM·BK elements
	uint i = base + r * ld + col;
	if (vec && col + 3u < cols) return isB ? loadB4(i) : a4[i >> 2u];
	[[unroll]] for (uint e = 0u; e < 4u; e++)
		if (col + e < cols) v[e] = isB ? loadB(i + e) : a[i + e];
	return v;
}

void main() {
	lid = gl_LocalInvocationIndex;
	L = gl_WorkGroupSize.x;
	uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
	bool tA = (p.flags & 1u) != 0u, tB = (p.flags & 2u) != 0u;
	bool vecA = (p.flags & 32u) != 0u, vecB = (p.flags & 64u) != 0u;
	uint sg = gl_SubgroupID;
	bool working = sg < NSUB;
	uint sm = (sg / GN) * WM * T, sn = (sg % GN) * WN * T; // the subgroup's block in the tile

	for (uint i = lid; i < BM; i += L) scaleA[i] = m0 + i < p.M ? scaleOf(maxBits[m0 + i]) : 1.0;
	for (uint i = lid; i < BN; i += L) scaleB[i] = n0 + i < p.N ? scaleOf(maxBits[p.M + n0 + i]) : 1.0;
	barrier(); // the scales, also for the epilogue when K is empty

	// Along memory: A untransposed is [m][k], so C = BK; transposed [k][m],
	// C = BM. B untransposed is [k][n], C = BN; transposed [n][k], C = BK.
	// Strides and offsets into As and Bs count f16vec4s (C, T and kk are
	// multiples of 4).
	uint cA = tA ? BM : BK, cB = tB ? BK : BN;
	uint strideA = (cA + 8u) / 4u, strideB = (cB + 8u) / 4u;

	coopmat<float, gl_ScopeSubgroup, T, T, gl_MatrixUseAccumulator> acc[WM][WN];
	[[unroll]] for (uint i = 0u; i < WM; i++)
		[[unroll]] for (uint j = 0u; j < WN; j++)
			acc[i][j] = coopmat<float, gl_ScopeSubgroup, T, T, gl_MatrixUseAccumulator>(0.0);

	uint kBegin = gl_WorkGroupID.z * p.kChunk;
	uint kEnd = min(p.K, kBegin + p.kChunk);
	// ra, rb hold NV ≤ NVMAX groups: arrays of a constant size, indexed only
	// by unrolled loops, so that they are registers in the SPIR-V itself
	// (sized by NV they stayed indexed memory), the groups past NV dropped
	// as dead code once NV is specialized.
	vec4 ra[NVMAX], rb[NVMAX];
	// load reads step k0's groups into ra, rb.
#define LOAD(k0) \
	{ \
		uint kLeft = kEnd - (k0); \
		uint baseA = tA ? (k0) * p.lda + m0 : m0 * p.lda + (k0); \
		uint rowsA = tA ? min(BK, kLeft) : min(BM, p.M - m0), colsA = tA ? min(BM, p.M - m0) : min(BK, kLeft); \
		uint baseB = tB ? n0 * p.ldb + (k0) : (k0) * p.ldb + n0; \
		uint rowsB = tB ? min(BN, p.N - n0) : min(BK, kLeft), colsB = tB ? min(BK, kLeft) : min(BN, p.N - n0); \
		[[unroll]] for (uint v = 0u; v < NVMAX; v++) { \
			if (v < NV) { \
				ra[v] = fetch(false, vecA, lid + v * L, cA, baseA, p.lda, rowsA, colsA); \
				rb[v] = fetch(true, vecB, lid + v * L, cB, baseB, p.ldb, rowsB, colsB); \
			} \
		} \
	}
	if (kBegin < kEnd) LOAD(kBegin)
	for (uint k0 = kBegin; k0 < kEnd; k0 += BK) {
		barrier(); // the last step's cooperative loads
		[[unroll]] for (uint v = 0u; v < NVMAX; v++) {
			uint g = lid + v * L;
			if (v < NV && g < BM * BK / 4u) {
				uint r = g / (cA / 4u), col4 = g % (cA / 4u);
				vec4 sa = tA ? vec4(scaleA[col4 * 4u], scaleA[col4 * 4u + 1u], scaleA[col4 * 4u + 2u], scaleA[col4 * 4u + 3u]) : vec4(scaleA[r]);
				As[r * strideA + col4] = f16vec4(ra[v] * sa);
				r = g / (cB / 4u);
				col4 = g % (cB / 4u);
				vec4 sb = tB ? vec4(scaleB[r]) : vec4(scaleB[col4 * 4u], scaleB[col4 * 4u + 1u], scaleB[col4 * 4u + 2u], scaleB[col4 * 4u + 3u]);
				Bs[r * strideB + col4] = f16vec4(rb[v] * sb);
			}
		}
		barrier();
		if (k0 + BK < kEnd) LOAD(k0 + BK)
		if (working) {
			[[unroll]] for (uint kk = 0u; kk < BK; kk += T) {
				coopmat<float16_t, gl_ScopeSubgroup, T, T, gl_MatrixUseA> ma[WM];
				coopmat<float16_t, gl_ScopeSubgroup, T, T, gl_MatrixUseB> mb[WN];
				[[unroll]] for (uint i = 0u; i < WM; i++) {
					if (tA) coopMatLoad(ma[i], As, kk * strideA + (sm + i * T) / 4u, strideA, gl_CooperativeMatrixLayoutColumnMajor);
					else coopMatLoad(ma[i], As, (sm + i * T) * strideA + kk / 4u, strideA, gl_CooperativeMatrixLayoutRowMajor);
				}
				[[unroll]] for (uint j = 0u; j < WN; j++) {
					if (tB) coopMatLoad(mb[j], Bs, (sn + j * T) * strideB + kk / 4u, strideB, gl_CooperativeMatrixLayoutColumnMajor);
					else coopMatLoad(mb[j], Bs, kk * strideB + (sn + j * T) / 4u, strideB, gl_CooperativeMatrixLayoutRowMajor);
				}
				[[unroll]] for (uint i = 0u; i < WM; i++)
					[[unroll]] for (uint j = 0u; j < WN; j++)
						acc[i][j] = coopMatMulAdd(ma[i], mb[j], acc[i][j]);
			}
		}
	}
	if (!working) return; // no barrier follows
	bool split = (p.flags & 16u) != 0u;
	bool hasBias = !split && (p.flags & 4u) != 0u;
	uint cBase = split ? gl_WorkGroupID.z * p.M * p.N : 0u;
	uint ld = split ? p.N : p.ldc;
	uint lanes = gl_SubgroupSize, lane = gl_SubgroupInvocationID;
	// Each accumulator by a constant index (the macro, not a loop, so that
	// no compiler keeps acc in indexed memory): through this subgroup's
	// slice of outS, then scaled back, alpha, beta·C and bias, into C.
#define STORE(I, J) \
	{ \
		coopMatStore(acc[I][J], outS, sg * T * T, T, gl_CooperativeMatrixLayoutRowMajor); \
		subgroupMemoryBarrierShared(); \
		subgroupBarrier(); \
		for (uint e = lane; e < T * T; e += lanes) { \
			uint r = sm + (I) * T + e / T, q = sn + (J) * T + e % T; \
			uint m = m0 + r, n = n0 + q; \
			if (m >= p.M || n >= p.N) continue; \
			/* One inverse at a time: each is an exact power of two. */ \
			float v = p.alpha * ((outS[sg * T * T + e] * (1.0 / scaleA[r])) * (1.0 / scaleB[q])); \
			uint ci = cBase + m * ld + n; \
			if (!split && p.beta != 0.0) v += p.beta * c[ci]; \
			if (hasBias) v += bias[n]; \
			c[ci] = v; \
		} \
		subgroupBarrier(); /* every lane has read outS before the next store */ \
	}
	STORE(0, 0) STORE(0, 1) STORE(1, 0) STORE(1, 1)
#ifdef BIG
	STORE(2, 0) STORE(2, 1) STORE(3, 0) STORE(3, 1)
#endif
#ifdef WIDE
	STORE(0, 2) STORE(0, 3) STORE(1, 2) STORE(1, 3)
	STORE(2, 2) STORE(2, 3) STORE(3, 2) STORE(3, 3)
#endif
}
