#version 450
// A gated MLP's first half for a few rows (M ≤ 16: decoding), in one
// dispatch where it took three (two gemv and swiglu):
//   H[M, N] = silu(A·Gᵀ) · (A·Uᵀ),  silu(g) = g·σ(g),
// A [M, K] row-major with leading dimension lda, G and U [N, K] with ldb,
// H with ldc. As gemv.comp: 64 invocations share one output column, each
// reading both weight rows along k (coalesced) and keeping M partial sums
// of each, added in gemv's fixed tree (the result is the same run to
// run); h is swiglu.comp's expression of g and u. Two columns to a
// workgroup (two trees of sums fit lavapipe's 32 KiB of shared memory).
// Flags bit 4 folds in the layer's post-attention RMSNorm (weight g [K],
// p.eps) as gemv3.comp does: A's rows times g, each row's sums scaled by
// r = 1/sqrt(mean(a²) + eps), found by the first column's invocations.
// Compiled again with -DB16 as gemv_glu16: G and U are 16-bit weights
// packed two to a uint, bfloat16 (flags bit 3 clear) or float16 (set).
layout(local_size_x = 128) in;
layout(std430, binding = 0) writeonly buffer Hb { float h[]; };
layout(std430, binding = 1) readonly buffer Ab { float a[]; };
#ifdef B16
layout(std430, binding = 2) readonly buffer Gb { uint g16[]; };
layout(std430, binding = 3) readonly buffer Ub { uint u16[]; };
#else
layout(std430, binding = 2) readonly buffer Gb { float gw[]; };
layout(std430, binding = 3) readonly buffer Ub { float uw[]; };
#endif
layout(std430, binding = 4) readonly buffer Gn { float gn[]; };
layout(push_constant) uniform P {
	uint M; uint N; uint K; uint lda; uint ldb; uint ldc; uint flags; float eps;
} p;

#ifdef B16
float widen(uint w, uint i) {
	if ((p.flags & 8u) != 0u) return unpackHalf2x16(w)[i & 1u];
	return uintBitsToFloat((i & 1u) == 0u ? w << 16u : w & 0xffff0000u);
}
float loadG(uint i) { return widen(g16[i >> 1u], i); }
float loadU(uint i) { return widen(u16[i >> 1u], i); }
#else
float loadG(uint i) { return gw[i]; }
float loadU(uint i) { return uw[i]; }
#endif

const uint MAXM = 16u;
const uint COLS = 2u;
shared float redG[COLS * MAXM * 64u];
shared float redU[COLS * MAXM * 64u];
shared float sq[MAXM * 64u]; // the first column's sums of a², for the norm

void main() {
	uint lane = gl_LocalInvocationID.x & 63u;
	uint col = gl_LocalInvocationID.x >> 6u;
	uint n = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * COLS + col;
	bool norm = (p.flags & 16u) != 0u;
	bool live = n < p.N;
	float accG[MAXM], accU[MAXM], ss[MAXM];
	for (uint m = 0u; m < MAXM; m++) {
		accG[m] = 0.0;
		accU[m] = 0.0;
		ss[m] = 0.0;
	}
	// The first column's invocations also sum A's squares, live or not.
	bool sums = norm && col == 0u;
	if (live || sums) {
		for (uint k = lane; k < p.K; k += 64u) {
			float wg = live ? loadG(n * p.ldb + k) : 0.0, wu = live ? loadU(n * p.ldb + k) : 0.0;
			float gk = norm ? gn[k] : 1.0;
			for (uint m = 0u; m < MAXM; m++)
				if (m < p.M) {
					float a0 = a[m * p.lda + k];
					if (sums) ss[m] += a0 * a0;
					float x = a0 * gk;
					accG[m] += x * wg;
					accU[m] += x * wu;
				}
		}
	}
	uint base = col * MAXM * 64u;
	for (uint m = 0u; m < MAXM; m++)
		if (m < p.M) {
			redG[base + m * 64u + lane] = accG[m];
			redU[base + m * 64u + lane] = accU[m];
			if (sums) sq[m * 64u + lane] = ss[m];
		}
	barrier();
	for (uint s = 32u; s > 0u; s >>= 1u) {
		if (lane < s)
			for (uint m = 0u; m < p.M; m++) {
				redG[base + m * 64u + lane] += redG[base + m * 64u + lane + s];
				redU[base + m * 64u + lane] += redU[base + m * 64u + lane + s];
				if (sums) sq[m * 64u + lane] += sq[m * 64u + lane + s];
			}
		barrier();
	}
	if (n < p.N && lane < p.M) {
		float g = redG[base + lane * 64u], u = redU[base + lane * 64u];
		if (norm) {
			float r = 1.0 / sqrt(sq[lane * 64u] / float(p.K) + p.eps);
			g *= r;
			u *= r;
		}
		float sig = 1.0 / (1.0 + exp(-g));
		h[lane * p.ldc + n] = (g * sig) * u;
	}
}
