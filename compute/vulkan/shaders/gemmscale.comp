#version 450
// The scales of gemmcm's float16 operands: for every row m of op(A) and
// every column n of op(B) (the lines along k of a product C = op(A)·op(B),
// flags bits 0/1 transpose A/B as gemm.comp's), the power of two 2^(15−e)
// where 2^(e−1) ≤ max|line| < 2^e, so the scaled line's largest magnitude
// lies in [2¹⁴, 2¹⁵), inside float16's range with its full precision.
// A line of zeros, or one holding an infinity or NaN, gets 1 (the product
// then carries the infinity or NaN as float32 would); the exponent is held
// to [−120, 100] so that the scale and its inverse stay finite floats.
// scale[0..M) are A's rows, scale[M..M+N) B's columns.
// Compiled again with -DB16 as gemmscale16: B is then a 16-bit weight
// packed two to a uint, bfloat16, or float16 when flags bit 3 is set, as
// gemm16 reads it.
//
// Workgroup g reduces 32 lines of one operand (the first ceil(M/32)
// workgroups A's, the rest B's), 8 invocations per line. Where a line runs
// along memory, the 8 invocations of a line are adjacent and read adjacent
// elements; where lines lie side by side, the 32 lines' invocations are
// adjacent and read adjacent elements.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Out { float scale[]; };
layout(push_constant) uniform P { uint M; uint N; uint K; uint lda; uint ldb; uint flags; } p;
layout(std430, binding = 1) readonly buffer Ab { float a[]; };
#ifdef B16
layout(std430, binding = 2) readonly buffer Bb { uint b16[]; };
float loadB(uint i) {
	uint w = b16[i >> 1u];
	if ((p.flags & 8u) != 0u) return unpackHalf2x16(w)[i & 1u];
	return uintBitsToFloat((i & 1u) == 0u ? w << 16u : w & 0xffff0000u);
}
#else
layout(std430, binding = 2) readonly buffer Bb { float b[]; };
float loadB(uint i) { return b[i]; }
#endif

shared float part[256];

void main() {
	uint lid = gl_LocalInvocationIndex;
	uint groupsA = (p.M + 31u) / 32u;
	bool isA = gl_WorkGroupID.x < groupsA;
	uint first = (isA ? gl_WorkGroupID.x : gl_WorkGroupID.x - groupsA) * 32u;
	uint lines = isA ? p.M : p.N;
	// Along memory: A's rows untransposed, B's columns transposed.
	bool along = isA ? (p.flags & 1u) == 0u : (p.flags & 2u) != 0u;
	uint line = along ? lid / 8u : lid % 32u;
	uint lane = along ? lid % 8u : lid / 32u;
	uint ld = isA ? p.lda : p.ldb;
	float mx = 0.0;
	bool bad = false;
	if (first + line < lines) {
		uint l = first + line;
		for (uint k = lane; k < p.K; k += 8u) {
			uint i = along ? l * ld + k : k * ld + l;
			float v = abs(isA ? a[i] : loadB(i));
			if (isinf(v) || isnan(v)) bad = true;
			else mx = max(mx, v);
		}
	}
	part[lid] = bad ? -1.0 : mx;
	barrier();
	if (lane != 0u || first + line >= lines) return;
	float m = 0.0;
	bool anyBad = false;
	for (uint j = 0u; j < 8u; j++) {
		float v = part[along ? line * 8u + j : j * 32u + line];
		if (v < 0.0) anyBad = true;
		else m = max(m, v);
	}
	float s = 1.0;
	if (!anyBad && m > 0.0) {
		int e;
		frexp(m, e); // m = f·2^e, f in [0.5, 1)
		s = ldexp(1.0, clamp(15 - e, -120, 100));
	}
	scale[(isA ? 0u : p.M) + first + line] = s;
}
