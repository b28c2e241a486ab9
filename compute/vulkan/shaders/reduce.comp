#version 450
// Per-workgroup partial reductions over n floats (the host adds the
// partials in float64, in order): part[g] = Σ x² over the group's 1024
// elements, and flag[0] = 1 if any element is NaN or ±Inf (flag is zeroed
// by the host first).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Part { float part[]; };
layout(std430, binding = 1) buffer Flag { uint flag[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(push_constant) uniform P { uint n; } p;

shared float red[256];

void main() {
	uint g = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
	uint lid = gl_LocalInvocationID.x;
	float s = 0.0;
	bool bad = false;
	for (uint e = 0u; e < 4u; e++) {
		uint i = g * 1024u + e * 256u + lid;
		if (i < p.n) {
			float v = x[i];
			s += v * v;
			bad = bad || (floatBitsToUint(v) & 0x7f800000u) == 0x7f800000u;
		}
	}
	if (bad) flag[0] = 1u;
	red[lid] = s;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1) {
		if (lid < k) red[lid] += red[lid + k];
		barrier();
	}
	if (lid == 0u) part[g] = red[0];
}
