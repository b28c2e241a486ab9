#version 450
// Three products of one input for a few rows (M ≤ 16: decoding), in one
// dispatch where gemv takes three (a layer's q, k and v projections):
//   Yi[M, Ni] = A·Wiᵀ (+ biasi[Ni]),  i = 0, 1, 2,
// A [M, K] row-major with leading dimension lda, each Wi [Ni, K] row-major,
// each Yi [M, Ni] dense. The columns of the three outputs are numbered one
// after another; as gemv.comp, 64 invocations share one of them, each
// reading its weight row along k and keeping M partial sums, added in
// gemv's fixed tree (the result is the same run to run). Flags bits 0, 1, 2
// add bias0, bias1, bias2.
// Flags bit 4 folds in the layer's input RMSNorm (weight g [K], p.eps): the
// products take A's rows times g, and each row's sum is scaled by
// r = 1/sqrt(mean(a²) + eps), which the first 64 invocations find from the
// same reads of A and add in the same fixed tree: the normalised rows are
// never stored, and the norm costs no command of its own.
// Compiled again with -DB16 as gemv3_16: the weights are 16-bit, packed two
// to a uint, bfloat16 (flags bit 3 clear) or float16 (set).
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Y0 { float y0[]; };
layout(std430, binding = 1) writeonly buffer Y1 { float y1[]; };
layout(std430, binding = 2) writeonly buffer Y2 { float y2[]; };
layout(std430, binding = 3) readonly buffer Ab { float a[]; };
#ifdef B16
layout(std430, binding = 4) readonly buffer W0 { uint w0[]; };
layout(std430, binding = 5) readonly buffer W1 { uint w1[]; };
layout(std430, binding = 6) readonly buffer W2 { uint w2[]; };
#else
layout(std430, binding = 4) readonly buffer W0 { float w0[]; };
layout(std430, binding = 5) readonly buffer W1 { float w1[]; };
layout(std430, binding = 6) readonly buffer W2 { float w2[]; };
#endif
layout(std430, binding = 7) readonly buffer B0 { float bias0[]; };
layout(std430, binding = 8) readonly buffer B1 { float bias1[]; };
layout(std430, binding = 9) readonly buffer B2 { float bias2[]; };
layout(std430, binding = 10) readonly buffer G { float g[]; };
layout(push_constant) uniform P {
	uint M; uint N0; uint N1; uint N2; uint K; uint lda; uint flags; float eps;
} p;

#ifdef B16
float widen(uint w, uint i) {
	if ((p.flags & 8u) != 0u) return unpackHalf2x16(w)[i & 1u];
	return uintBitsToFloat((i & 1u) == 0u ? w << 16u : w & 0xffff0000u);
}
float loadW(uint which, uint i) {
	uint w = which == 0u ? w0[i >> 1u] : which == 1u ? w1[i >> 1u] : w2[i >> 1u];
	return widen(w, i);
}
#else
float loadW(uint which, uint i) { return which == 0u ? w0[i] : which == 1u ? w1[i] : w2[i]; }
#endif

const uint MAXM = 16u;
shared float red[4u * MAXM * 64u];
shared float sq[MAXM * 64u]; // the first column's sums of a², for the norm

void main() {
	uint lane = gl_LocalInvocationID.x & 63u;
	uint col = gl_LocalInvocationID.x >> 6u;
	uint c = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 4u + col;
	// Output which, column n of it.
	uint which = c < p.N0 ? 0u : c < p.N0 + p.N1 ? 1u : 2u;
	uint n = which == 0u ? c : which == 1u ? c - p.N0 : c - p.N0 - p.N1;
	bool live = c < p.N0 + p.N1 + p.N2;
	bool norm = (p.flags & 16u) != 0u;
	float acc[MAXM], ss[MAXM];
	for (uint m = 0u; m < MAXM; m++) {
		acc[m] = 0.0;
		ss[m] = 0.0;
	}
	// The first column's invocations also sum A's squares, live or not.
	bool sums = norm && col == 0u;
	if (live || sums) {
		for (uint k = lane; k < p.K; k += 64u) {
			float w = live ? loadW(which, n * p.K + k) : 0.0;
			float gk = norm ? g[k] : 1.0;
			for (uint m = 0u; m < MAXM; m++)
				if (m < p.M) {
					float x = a[m * p.lda + k];
					if (sums) ss[m] += x * x;
					acc[m] += (x * gk) * w;
				}
		}
	}
	uint base = col * MAXM * 64u;
	for (uint m = 0u; m < MAXM; m++)
		if (m < p.M) {
			red[base + m * 64u + lane] = acc[m];
			if (sums) sq[m * 64u + lane] = ss[m];
		}
	barrier();
	for (uint s = 32u; s > 0u; s >>= 1u) {
		if (lane < s)
			for (uint m = 0u; m < p.M; m++) {
				red[base + m * 64u + lane] += red[base + m * 64u + lane + s];
				if (sums) sq[m * 64u + lane] += sq[m * 64u + lane + s];
			}
		barrier();
	}
	if (live && lane < p.M) {
		float v = red[base + lane * 64u];
		if (norm) v *= 1.0 / sqrt(sq[lane * 64u] / float(p.K) + p.eps);
		if (which == 0u) {
			if ((p.flags & 1u) != 0u) v += bias0[n];
			y0[lane * p.N0 + n] = v;
		} else if (which == 1u) {
			if ((p.flags & 2u) != 0u) v += bias1[n];
			y1[lane * p.N1 + n] = v;
		} else {
			if ((p.flags & 4u) != 0u) v += bias2[n];
			y2[lane * p.N2 + n] = v;
		}
	}
}
