#version 450
// Column sums over rows of d, one invocation per column, rows in order:
// mode 0: out[j] += Σ_row a[row, j]                 (bias gradient)
// mode 1: out[j] += Σ_row a[row, j]·b[row, j]·c[row] (RMSNorm weight gradient)
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer A { float a[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) readonly buffer C { float c[]; };
layout(push_constant) uniform P { uint rows; uint d; uint mode; } p;

void main() {
	uint j = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	if (j >= p.d) return;
	float s = 0.0;
	if (p.mode == 0u) {
		for (uint r = 0u; r < p.rows; r++) s += a[r * p.d + j];
	} else {
		for (uint r = 0u; r < p.rows; r++) s += (a[r * p.d + j] * b[r * p.d + j]) * c[r];
	}
	o[j] = o[j] + s;
}
