#version 450
// C[M, N] = alpha·op(A)·op(B) + beta·C (+ bias[N]), row-major with leading
// dimensions lda, ldb, ldc; op transposes when flags bit 0 (A) or bit 1 (B)
// is set; flags bit 2 adds bias. beta = 0 never reads C.
// Split K (flags bit 4): workgroup z sums k in [z·kChunk, (z+1)·kChunk) and
// writes alpha·partial to C as [splits, M, N] (no beta, no bias);
// gemm_reduce adds the slices in order into the real C. Without the bit,
// kChunk is K and there is one slice.
// Tiles: 64×64 outputs per workgroup of 16×16 invocations, 4×4 per
// invocation, K in steps of 16 through shared memory.
// Compiled again with -DB16 as gemm16: B is then a 16-bit weight packed two
// to a uint (element i in the low half when i is even), widened as it is
// loaded into shared memory: bfloat16 (flags bit 3 clear) by placing its
// bits in a float's high half, float16 (bit 3 set) by unpackHalf2x16.
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) buffer Cb { float c[]; };
layout(std430, binding = 1) readonly buffer Ab { float a[]; };
#ifdef B16
layout(std430, binding = 2) readonly buffer Bb { uint b16[]; };
#else
layout(std430, binding = 2) readonly buffer Bb { float b[]; };
#endif
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(push_constant) uniform P {
	uint M; uint N; uint K; uint lda; uint ldb; uint ldc; uint flags; float alpha; float beta; uint kChunk;
} p;

#ifdef B16
float loadB(uint i) {
	uint w = b16[i >> 1u];
	if ((p.flags & 8u) != 0u) return unpackHalf2x16(w)[i & 1u];
	return uintBitsToFloat((i & 1u) == 0u ? w << 16u : w & 0xffff0000u);
}
#else
float loadB(uint i) { return b[i]; }
#endif

const uint TM = 64u;
const uint TK = 16u;
shared float As[TK][TM + 1u];
shared float Bs[TK][TM + 1u];

void main() {
	uint tx = gl_LocalInvocationID.x;
	uint ty = gl_LocalInvocationID.y;
	uint tid = ty * 16u + tx;
	uint m0 = gl_WorkGroupID.y * TM;
	uint n0 = gl_WorkGroupID.x * TM;
	bool tA = (p.flags & 1u) != 0u;
	bool tB = (p.flags & 2u) != 0u;
	float acc[4][4];
	for (uint i = 0u; i < 4u; i++)
		for (uint j = 0u; j < 4u; j++) acc[i][j] = 0.0;

	uint kBegin = gl_WorkGroupID.z * p.kChunk;
	uint kEnd = min(p.K, kBegin + p.kChunk);
	for (uint k0 = kBegin; k0 < kEnd; k0 += TK) {
		for (uint e4 = 0u; e4 < 4u; e4++) {
			uint e = tid + e4 * 256u;
			uint mm, kk;
			if (tA) { kk = e / TM; mm = e % TM; } else { mm = e / TK; kk = e % TK; }
			uint gm = m0 + mm, gk = k0 + kk;
			float v = 0.0;
			if (gm < p.M && gk < kEnd) v = tA ? a[gk * p.lda + gm] : a[gm * p.lda + gk];
			As[kk][mm] = v;
			uint nn;
			if (tB) { nn = e / TK; kk = e % TK; } else { kk = e / TM; nn = e % TM; }
			uint gn = n0 + nn;
			gk = k0 + kk;
			v = 0.0;
			if (gn < p.N && gk < kEnd) v = loadB(tB ? gn * p.ldb + gk : gk * p.ldb + gn);
			Bs[kk][nn] = v;
		}
		barrier();
		for (uint kk = 0u; kk < TK; kk++) {
			float av[4], bv[4];
			for (uint i = 0u; i < 4u; i++) av[i] = As[kk][ty + 16u * i];
			for (uint j = 0u; j < 4u; j++) bv[j] = Bs[kk][tx + 16u * j];
			for (uint i = 0u; i < 4u; i++)
				for (uint j = 0u; j < 4u; j++) acc[i][j] += av[i] * bv[j];
		}
		barrier();
	}
	if ((p.flags & 16u) != 0u) {
		uint base = gl_WorkGroupID.z * p.M * p.N;
		for (uint i = 0u; i < 4u; i++) {
			uint gm = m0 + ty + 16u * i;
			if (gm >= p.M) continue;
			for (uint j = 0u; j < 4u; j++) {
				uint gn = n0 + tx + 16u * j;
				if (gn < p.N) c[base + gm * p.N + gn] = p.alpha * acc[i][j];
			}
		}
		return;
	}
	for (uint i = 0u; i < 4u; i++) {
		uint gm = m0 + ty + 16u * i;
		if (gm >= p.M) continue;
		for (uint j = 0u; j < 4u; j++) {
			uint gn = n0 + tx + 16u * j;
			if (gn >= p.N) continue;
			float v = p.alpha * acc[i][j];
			if (p.beta != 0.0) v += p.beta * c[gm * p.ldc + gn];
			if ((p.flags & 4u) != 0u) v += bias[gn];
			c[gm * p.ldc + gn] = v;
		}
	}
}
