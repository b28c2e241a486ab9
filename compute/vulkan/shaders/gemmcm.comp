#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : require
// gemm on cooperative matrices (VK_KHR_cooperative_matrix: tensor cores on
// NVIDIA): the same contract as gemm.comp (read its header: flags bits 0/1
// transpose A/B, bit 2 adds bias, bit 4 split K; alpha; beta = 0 never reads
// C; same push constants), float32 operands only, plus binding 4: the
// operands' scales, gemmscale's output.
//
// The products run on float16 operands with float32 accumulation. Float16
// alone would lose a gradient's small values (its smallest normal is 2⁻¹⁴)
// and overflow a large activation (its largest is 65504), so every row of
// op(A) and every column of op(B) is multiplied, as it is staged, by a power
// of two that brings its largest magnitude into [2¹⁴, 2¹⁵) (scale[m] for
// row m of A, scale[M + n] for column n of B); the sum over k is then
// divided by both. Rows and columns are the lines along k, so the scales
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
// (-DBIG); half that at T = 8. K runs in steps of 32, staged in shared
// memory as float16. A device that runs smaller subgroups than it reports
// leaves the extra subgroups idle but in every barrier.
layout(constant_id = 1) const uint T = 16u;
#ifdef BIG
const uint GM = 2u, GN = 4u, WM = 4u, WN = 2u;
#else
const uint GM = 2u, GN = 2u, WM = 2u, WN = 2u;
#endif
const uint BM = GM * WM * T, BN = GN * WN * T;
const uint BK = 32u;
const uint NSUB = GM * GN;
// Padding of 8 halves keeps every shared row a multiple of 16 bytes, as
// cooperative loads want, and staggers the rows across banks.
const uint AS = BK + 8u, BS = BN + 8u;

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) buffer Cb { float c[]; };
layout(std430, binding = 1) readonly buffer Ab { float a[]; };
layout(std430, binding = 2) readonly buffer Bb { float b[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, binding = 4) readonly buffer Scales { float scale[]; };
layout(push_constant) uniform P {
	uint M; uint N; uint K; uint lda; uint ldb; uint ldc; uint flags; float alpha; float beta; uint kChunk;
} p;

shared float16_t As[BM * AS]; // [m][k]
shared float16_t Bs[BK * BS]; // [k][n]
shared float scaleA[BM], scaleB[BN];
shared float outS[NSUB * T * T]; // one accumulator per subgroup, on its way out

void main() {
	uint lid = gl_LocalInvocationIndex, L = gl_WorkGroupSize.x;
	uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
	bool tA = (p.flags & 1u) != 0u, tB = (p.flags & 2u) != 0u;
	uint sg = gl_SubgroupID;
	bool working = sg < NSUB;
	uint sm = (sg / GN) * WM * T, sn = (sg % GN) * WN * T; // the subgroup's block in the tile

	for (uint i = lid; i < BM; i += L) scaleA[i] = m0 + i < p.M ? scale[m0 + i] : 1.0;
	for (uint i = lid; i < BN; i += L) scaleB[i] = n0 + i < p.N ? scale[p.M + n0 + i] : 1.0;

	coopmat<float, gl_ScopeSubgroup, T, T, gl_MatrixUseAccumulator> acc[WM][WN];
	[[unroll]] for (uint i = 0u; i < WM; i++)
		[[unroll]] for (uint j = 0u; j < WN; j++)
			acc[i][j] = coopmat<float, gl_ScopeSubgroup, T, T, gl_MatrixUseAccumulator>(0.0);

	uint kBegin = gl_WorkGroupID.z * p.kChunk;
	uint kEnd = min(p.K, kBegin + p.kChunk);
	for (uint k0 = kBegin; k0 < kEnd; k0 += BK) {
		barrier(); // the last step's reads of As, Bs (and, the first time, the scales' stores)
		// Consecutive invocations read consecutive addresses: along k where
		// the operand is stored along k, along m or n where it is not.
		for (uint e = lid; e < BM * BK; e += L) {
			uint m, k;
			if (tA) { k = e / BM; m = e % BM; } else { m = e / BK; k = e % BK; }
			float v = 0.0;
			if (m0 + m < p.M && k0 + k < kEnd)
				v = (tA ? a[(k0 + k) * p.lda + m0 + m] : a[(m0 + m) * p.lda + k0 + k]) * scaleA[m];
			As[m * AS + k] = float16_t(v);
		}
		for (uint e = lid; e < BK * BN; e += L) {
			uint n, k;
			if (tB) { n = e / BK; k = e % BK; } else { k = e / BN; n = e % BN; }
			float v = 0.0;
			if (n0 + n < p.N && k0 + k < kEnd)
				v = (tB ? b[(n0 + n) * p.ldb + k0 + k] : b[(k0 + k) * p.ldb + n0 + n]) * scaleB[n];
			Bs[k * BS + n] = float16_t(v);
		}
		barrier();
		if (working) {
			[[unroll]] for (uint kk = 0u; kk < BK; kk += T) {
				coopmat<float16_t, gl_ScopeSubgroup, T, T, gl_MatrixUseA> ma[WM];
				coopmat<float16_t, gl_ScopeSubgroup, T, T, gl_MatrixUseB> mb[WN];
				[[unroll]] for (uint i = 0u; i < WM; i++)
					coopMatLoad(ma[i], As, (sm + i * T) * AS + kk, AS, gl_CooperativeMatrixLayoutRowMajor);
				[[unroll]] for (uint j = 0u; j < WN; j++)
					coopMatLoad(mb[j], Bs, kk * BS + sn + j * T, BS, gl_CooperativeMatrixLayoutRowMajor);
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
	[[unroll]] for (uint i = 0u; i < WM; i++) {
		[[unroll]] for (uint j = 0u; j < WN; j++) {
			coopMatStore(acc[i][j], outS, sg * T * T, T, gl_CooperativeMatrixLayoutRowMajor);
			subgroupMemoryBarrierShared();
			subgroupBarrier();
			for (uint e = lane; e < T * T; e += lanes) {
				uint r = sm + i * T + e / T, q = sn + j * T + e % T;
				uint m = m0 + r, n = n0 + q;
				if (m >= p.M || n >= p.N) continue;
				// Each inverse is an exact power of two; their product
				// overflows or underflows only where the output would.
				float v = p.alpha * (outS[sg * T * T + e] * ((1.0 / scaleA[r]) * (1.0 / scaleB[q])));
				uint ci = cBase + m * ld + n;
				if (!split && p.beta != 0.0) v += p.beta * c[ci];
				if (hasBias) v += bias[n];
				c[ci] = v;
			}
			subgroupBarrier(); // every lane has read outS before the next store
		}
	}
}
