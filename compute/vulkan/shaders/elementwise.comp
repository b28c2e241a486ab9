#version 450
// Elementwise ops over n floats; op selects: 0 add (o = a + b),
// 1 accumulate (o += a), 2 scale (o *= s), 3 mix (o = s·a + (1−s)·o).
// o may alias a or b: each invocation reads and writes only index i.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer A { float a[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(push_constant) uniform P { uint n; uint op; float s; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	if (i >= p.n) return;
	if (p.op == 0u) {
		o[i] = a[i] + b[i];
	} else if (p.op == 1u) {
		o[i] = o[i] + a[i];
	} else if (p.op == 2u) {
		o[i] = o[i] * p.s;
	} else {
		// precise: two roundings, as the CPU's kernels.Mix, never a fused
		// multiply-add a driver might otherwise choose.
		float beta = 1.0 - p.s;
		precise float v = p.s * a[i] + beta * o[i];
		o[i] = v;
	}
}
