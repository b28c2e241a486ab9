#version 450
// C[M, N] = alpha·A·Bᵀ + beta·C (+ bias[N]) for a few rows (M ≤ 16: decoding
// a few tokens), A [M, K] and B [N, K] row-major with leading dimensions lda
// and ldb (the flags of gemm: bit 2 adds bias; beta = 0 never reads C).
// The tiled gemm would run a 64-row tile for those few rows, N/64
// workgroups each walking K with two barriers a step. Here 64 invocations
// share one output column: each reads B's row along k, coalesced, keeps M
// partial sums, and the 64 are added in a fixed tree, so the result is the
// same run to run. Four columns to a workgroup.
// Compiled again with -DB16 as gemv16: B is a 16-bit weight packed two to a
// uint, bfloat16 (flags bit 3 clear) or float16 (bit 3 set), widened as read.
layout(local_size_x = 256) in;
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

const uint MAXM = 16u;
shared float red[4u * MAXM * 64u];

void main() {
	uint lane = gl_LocalInvocationID.x & 63u;
	uint col = gl_LocalInvocationID.x >> 6u;
	uint n = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 4u + col;
	float acc[MAXM];
	for (uint m = 0u; m < MAXM; m++) acc[m] = 0.0;
	if (n < p.N) {
		for (uint k = lane; k < p.K; k += 64u) {
			float w = loadB(n * p.ldb + k);
			for (uint m = 0u; m < MAXM; m++)
				if (m < p.M) acc[m] += a[m * p.lda + k] * w;
		}
	}
	// Only the M rows there are go through the tree (decoding 8 sequences
	// halves it against all MAXM).
	uint base = col * MAXM * 64u;
	for (uint m = 0u; m < MAXM; m++)
		if (m < p.M) red[base + m * 64u + lane] = acc[m];
	barrier();
	for (uint s = 32u; s > 0u; s >>= 1u) {
		if (lane < s)
			for (uint m = 0u; m < p.M; m++) red[base + m * 64u + lane] += red[base + m * 64u + lane + s];
		barrier();
	}
	if (n < p.N && lane < p.M) {
		float v = p.alpha * red[base + lane * 64u];
		uint at = lane * p.ldc + n;
		if (p.beta != 0.0) v += p.beta * c[at];
		if ((p.flags & 4u) != 0u) v += bias[n];
		c[at] = v;
	}
}
