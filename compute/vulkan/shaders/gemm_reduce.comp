#version 450
// Split-K GEMM, second pass: c[m, n] = Σ_s part[s, m, n] + beta·c[m, n]
// (+ bias[n] when flags bit 2 is set), the K slices added in order so the
// result is the same run to run. beta = 0 never reads C. One invocation per
// element of C.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Cb { float c[]; };
layout(std430, binding = 1) readonly buffer Pb { float part[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(push_constant) uniform P { uint M; uint N; uint ldc; uint splits; uint flags; float beta; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	uint mn = p.M * p.N;
	if (i >= mn) return;
	uint m = i / p.N;
	uint n = i - m * p.N;
	float v = 0.0;
	for (uint s = 0u; s < p.splits; s++) v += part[s * mn + i];
	uint at = m * p.ldc + n;
	if (p.beta != 0.0) v += p.beta * c[at];
	if ((p.flags & 4u) != 0u) v += bias[n];
	c[at] = v;
}
