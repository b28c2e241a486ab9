#version 450
// Row gathers and scatters of d-wide rows by host ids:
// mode 0 (Embedding, GatherRows): out[n, j] = x[ids[n], j], one invocation per element;
// mode 1 (EmbeddingBackward, ScatterRowsBackward): dx[ids[n], j] += dout[n, j],
// one invocation per column j walking n in order, so repeated ids add in
// the CPU's order and no atomics are needed.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer I { int ids[]; };
layout(push_constant) uniform P { uint n; uint d; uint mode; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	if (p.mode == 0u) {
		if (i >= p.n * p.d) return;
		uint row = i / p.d;
		uint j = i - row * p.d;
		o[i] = x[uint(ids[row]) * p.d + j];
		return;
	}
	if (i >= p.d) return;
	for (uint r = 0u; r < p.n; r++) {
		uint dst = uint(ids[r]) * p.d + i;
		o[dst] = o[dst] + x[r * p.d + i];
	}
}
