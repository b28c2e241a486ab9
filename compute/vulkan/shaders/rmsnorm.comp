#version 450
// RMSNorm over rows of d: one workgroup per row.
// Forward (back = 0): r = 1/sqrt(mean(x²) + eps); y = x·r·w; rstd[row] = r.
// Backward (back = 1): dx += r·w·dy − (r³/d)·x·Σ(dy·w·x), using the saved r.
// y may alias x: every element is read before any element is written.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Y { float y[]; };          // y, or dx
layout(std430, binding = 1) buffer R { float rstd[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) readonly buffer W { float w[]; };
layout(std430, binding = 4) readonly buffer DY { float dy[]; }; // backward only
layout(push_constant) uniform P { uint rows; uint d; float eps; uint back; } p;

shared float red[256];

void main() {
	uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
	if (row >= p.rows) return;
	uint lid = gl_LocalInvocationID.x;
	uint base = row * p.d;
	float s = 0.0;
	for (uint j = lid; j < p.d; j += 256u) {
		float v = x[base + j];
		s += (p.back == 0u) ? v * v : dy[base + j] * w[j] * v;
	}
	red[lid] = s;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1) {
		if (lid < k) red[lid] += red[lid + k];
		barrier();
	}
	if (p.back == 0u) {
		float r = 1.0 / sqrt(red[0] / float(p.d) + p.eps);
		if (lid == 0u) rstd[row] = r;
		for (uint j = lid; j < p.d; j += 256u) {
			y[base + j] = (x[base + j] * r) * w[j];
		}
		return;
	}
	float r = rstd[row];
	float c = r * r * r * red[0] / float(p.d);
	for (uint j = lid; j < p.d; j += 256u) {
		y[base + j] = y[base + j] + ((dy[base + j] * w[j]) * r - c * x[base + j]);
	}
}
