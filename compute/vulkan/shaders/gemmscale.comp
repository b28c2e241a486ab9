#version 450
// The largest magnitude of every line of gemmcm's operands: for every row m
// of op(A) and every column n of op(B) (the lines along k of a product
// C = op(A)·op(B), flags bits 0/1 transpose A/B as gemm.comp's), the bits
// of max |x| over the line into maxBits: maxBits[0..M) are A's rows,
// maxBits[M..M+N) B's columns. With K in one slice (kChunk ≥ K) they are
// stored; in several (flags bit 8) each slice atomically raises them from
// the zeros the host filled in first.
// Magnitudes are non-negative, so their bits order as the floats do; an
// infinity or NaN has the largest bits of all, which gemmcm's scaleOf
// reads as "no scaling".
// Compiled again with -DB16 as gemmscale16: B is then a 16-bit weight
// packed two to a uint, bfloat16, or float16 when flags bit 3 is set, as
// gemm16 reads it.
//
// Workgroup (x, z) reduces 32 lines of one operand (the first ceil(M/32)
// x's A's, the rest B's) over slice z of k, [z·kChunk, (z+1)·kChunk), 8
// invocations per line: a long k (the LM head's vocabulary) is spread over
// many workgroups rather than walked by a few. Where a line runs along
// memory, the 8 invocations of a line are adjacent and read adjacent
// elements; where lines lie side by side, the 32 lines' invocations are
// adjacent and read adjacent elements.
layout(local_size_x = 256) in;
layout(push_constant) uniform P { uint M; uint N; uint K; uint lda; uint ldb; uint flags; uint kChunk; } p;
layout(std430, binding = 0) buffer Out { uint maxBits[]; };
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

shared uint part[256];

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
	uint kBegin = gl_WorkGroupID.z * p.kChunk;
	uint kEnd = min(p.K, kBegin + p.kChunk);
	uint mx = 0u;
	if (first + line < lines) {
		uint l = first + line;
		for (uint k = kBegin + lane; k < kEnd; k += 8u) {
			uint i = along ? l * ld + k : k * ld + l;
			mx = max(mx, floatBitsToUint(abs(isA ? a[i] : loadB(i))));
		}
	}
	part[lid] = mx;
	barrier();
	if (lane != 0u || first + line >= lines) return;
	for (uint j = 1u; j < 8u; j++) mx = max(mx, part[along ? line * 8u + j : j * 32u + line]);
	uint at = (isA ? 0u : p.M) + first + line;
	if ((p.flags & 256u) == 0u) maxBits[at] = mx;
	else if (mx != 0u) atomicMax(maxBits[at], mx);
}
