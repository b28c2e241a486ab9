#version 450
#extension GL_EXT_control_flow_attributes : require
// gemm with 128×128 output tiles, for large products: the same contract as
// gemm.comp (read its header: flags bits 0/1 transpose A/B, bit 2 adds
// bias, bit 3 float16 B under -DB16, bit 4 split K; alpha; beta = 0 never
// reads C; same push constants), plus three alignment bits the host sets:
// bit 5 A, bit 6 B, bit 7 C may be accessed four elements at a time (its
// leading dimension and binding offset are multiples of 4 elements); four
// elements wholly inside the matrix are then one vec4 (B16: one uvec2)
// access, anything else goes element by element.
//
// Workgroup of 16×16 invocations; invocation (tx, ty) owns 8×8 outputs, rows
// ty·4 + {0..3} and 64 + ty·4 + {0..3}, columns tx·4 + {0..3} and
// 64 + tx·4 + {0..3}, so each of its k-steps reads two vec4 of A's column
// and two of B's row from shared memory. K runs in steps of 8; each step's
// operands are staged in shared memory k-major (A as [k][m], B as [k][n])
// in one of two buffers: while the invocations compute on one, the next
// step is loaded from global memory into registers (one vec4 of A and one
// of B per invocation) and stored into the other, one barrier per step.
// Shared memory: 2 buffers × 2 operands × 8 k × 132 floats (128 plus 4 of
// padding, so the transposing stores of a non-transposed operand do not
// collide on banks) = 4224 floats, 16.5 KiB.
// Registers: 64 accumulators (acc, 8×2 vec4), 16 operand floats per
// k, 8 floats of the next step's loads. The loops that index acc are
// unrolled in the SPIR-V ([[unroll]]), so that acc is 64 values rather
// than an array in memory whichever driver compiles it; the loop over the
// 8 k of a step is left to the driver (unrolled here it doubled lavapipe's
// compile time).
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) buffer Cb { float c[]; };
layout(std430, binding = 0) buffer Cb4 { vec4 c4[]; };
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
layout(push_constant) uniform P {
	uint M; uint N; uint K; uint lda; uint ldb; uint ldc; uint flags; float alpha; float beta; uint kChunk;
} p;

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
float loadA(uint i) { return a[i]; }
vec4 loadA4(uint i) { return a4[i >> 2u]; }

const uint TM = 128u;
const uint TK = 8u;
const uint ROW = TM / 4u + 1u; // vec4 per shared row: 128 floats and 4 of padding
shared vec4 As[2][TK][ROW];
shared vec4 Bs[2][TK][ROW];

uint tid;
bool tA, tB, vecA, vecB;

// Each invocation loads 4 elements of an operand's k-step. An operand whose
// k runs along memory (A untransposed, B transposed) is read as 128 rows of
// 8: row tid/2, k (tid%2)·4 + {0..3}; the other way it is read as 8 rows of
// 128: k tid/32, m or n (tid%32)·4 + {0..3}. Outside the matrix (or the
// slice's k) reads as 0.
vec4 fetch(bool isB, bool kAlong, bool vec4ok, uint r0, uint R, uint ld, uint k0, uint kEnd) {
	vec4 v = vec4(0.0);
	if (kAlong) {
		uint r = r0 + (tid >> 1u), k = k0 + (tid & 1u) * 4u;
		if (r >= R) return v;
		uint i = r * ld + k;
		if (vec4ok && k + 3u < kEnd) return isB ? loadB4(i) : loadA4(i);
		[[unroll]] for (uint e = 0u; e < 4u; e++)
			if (k + e < kEnd) v[e] = isB ? loadB(i + e) : loadA(i + e);
		return v;
	}
	uint k = k0 + (tid >> 5u), r = r0 + (tid & 31u) * 4u;
	if (k >= kEnd) return v;
	uint i = k * ld + r;
	if (vec4ok && r + 3u < R) return isB ? loadB4(i) : loadA4(i);
	[[unroll]] for (uint e = 0u; e < 4u; e++)
		if (r + e < R) v[e] = isB ? loadB(i + e) : loadA(i + e);
	return v;
}

void stash(uint buf, bool isB, bool kAlong, vec4 v) {
	if (kAlong) {
		uint r = tid >> 1u, k = (tid & 1u) * 4u;
		[[unroll]] for (uint e = 0u; e < 4u; e++) {
			if (isB) Bs[buf][k + e][r >> 2u][r & 3u] = v[e];
			else As[buf][k + e][r >> 2u][r & 3u] = v[e];
		}
		return;
	}
	if (isB) Bs[buf][tid >> 5u][tid & 31u] = v;
	else As[buf][tid >> 5u][tid & 31u] = v;
}

void main() {
	uint tx = gl_LocalInvocationID.x;
	uint ty = gl_LocalInvocationID.y;
	tid = ty * 16u + tx;
	uint m0 = gl_WorkGroupID.y * TM;
	uint n0 = gl_WorkGroupID.x * TM;
	tA = (p.flags & 1u) != 0u;
	tB = (p.flags & 2u) != 0u;
	vecA = (p.flags & 32u) != 0u;
	vecB = (p.flags & 64u) != 0u;
	bool aAlongK = !tA, bAlongK = tB;
	// acc[r][h]: output row (r < 4 ? ty·4 + r : 64 + ty·4 + r − 4),
	// columns h·64 + tx·4 + {0..3}.
	vec4 acc[8][2];
	[[unroll]] for (uint r = 0u; r < 8u; r++) {
		acc[r][0] = vec4(0.0);
		acc[r][1] = vec4(0.0);
	}

	uint kBegin = gl_WorkGroupID.z * p.kChunk;
	uint kEnd = min(p.K, kBegin + p.kChunk);
	if (kBegin < kEnd) {
		stash(0u, false, aAlongK, fetch(false, aAlongK, vecA, m0, p.M, p.lda, kBegin, kEnd));
		stash(0u, true, bAlongK, fetch(true, bAlongK, vecB, n0, p.N, p.ldb, kBegin, kEnd));
	}
	barrier();
	uint cur = 0u;
	for (uint k0 = kBegin; k0 < kEnd; k0 += TK) {
		bool more = k0 + TK < kEnd;
		vec4 na = vec4(0.0), nb = vec4(0.0);
		if (more) {
			na = fetch(false, aAlongK, vecA, m0, p.M, p.lda, k0 + TK, kEnd);
			nb = fetch(true, bAlongK, vecB, n0, p.N, p.ldb, k0 + TK, kEnd);
		}
		for (uint kk = 0u; kk < TK; kk++) {
			vec4 a0 = As[cur][kk][ty], a1 = As[cur][kk][16u + ty];
			vec4 b0 = Bs[cur][kk][tx], b1 = Bs[cur][kk][16u + tx];
			[[unroll]] for (uint r = 0u; r < 4u; r++) {
				acc[r][0] += a0[r] * b0;
				acc[r][1] += a0[r] * b1;
				acc[4u + r][0] += a1[r] * b0;
				acc[4u + r][1] += a1[r] * b1;
			}
		}
		if (more) {
			// The other buffer was last read in the previous step, which
			// every invocation finished before that step's barrier.
			stash(cur ^ 1u, false, aAlongK, na);
			stash(cur ^ 1u, true, bAlongK, nb);
		}
		barrier();
		cur ^= 1u;
	}

	bool split = (p.flags & 16u) != 0u;
	bool vecC = (p.flags & 128u) != 0u;
	uint base = split ? gl_WorkGroupID.z * p.M * p.N : 0u;
	uint ldc = split ? p.N : p.ldc;
	bool readC = !split && p.beta != 0.0;
	bool addBias = !split && (p.flags & 4u) != 0u;
	// Fully unrolled (no continue), so that acc stays in registers.
	[[unroll]] for (uint r = 0u; r < 8u; r++) {
		uint gm = m0 + (r < 4u ? ty * 4u + r : 64u + ty * 4u + r - 4u);
		[[unroll]] for (uint h = 0u; h < 2u; h++) {
			uint gn = n0 + h * 64u + tx * 4u;
			uint i = base + gm * ldc + gn;
			vec4 v = p.alpha * acc[r][h];
			if (gm < p.M && gn < p.N) {
				if (vecC && gn + 3u < p.N) {
					if (readC) v += p.beta * c4[i >> 2u];
					if (addBias) v += vec4(bias[gn], bias[gn + 1u], bias[gn + 2u], bias[gn + 3u]);
					c4[i >> 2u] = v;
				} else {
					[[unroll]] for (uint e = 0u; e < 4u; e++) {
						if (gn + e < p.N) {
							float s = v[e];
							if (readC) s += p.beta * c[i + e];
							if (addBias) s += bias[gn + e];
							c[i + e] = s;
						}
					}
				}
			}
		}
	}
}
