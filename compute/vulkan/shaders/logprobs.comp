#version 450
// TokenLogProbs, one workgroup per row of V logits: with z = logits·invTemp,
// lse = log Σ exp(z) and lp = z[target] − lse; target < 0 gives lp = lse = 0.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer LP { float lp[]; };
layout(std430, binding = 1) buffer LSE { float lse[]; };
layout(std430, binding = 2) readonly buffer Z { float z[]; };
layout(std430, binding = 3) readonly buffer T { int targets[]; };
layout(push_constant) uniform P { uint rows; uint V; float invTemp; } p;

shared float red[256];

void main() {
	uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
	if (row >= p.rows) return;
	uint lid = gl_LocalInvocationID.x;
	int t = targets[row];
	if (t < 0) {
		if (lid == 0u) { lp[row] = 0.0; lse[row] = 0.0; }
		return;
	}
	uint base = row * p.V;
	float m = -1.0 / 0.0;
	for (uint j = lid; j < p.V; j += 256u) m = max(m, z[base + j] * p.invTemp);
	red[lid] = m;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1) {
		if (lid < k) red[lid] = max(red[lid], red[lid + k]);
		barrier();
	}
	m = red[0];
	barrier();
	float s = 0.0;
	if (!isinf(m)) {
		for (uint j = lid; j < p.V; j += 256u) s += exp(z[base + j] * p.invTemp - m);
	}
	red[lid] = s;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1) {
		if (lid < k) red[lid] += red[lid + k];
		barrier();
	}
	if (lid == 0u) {
		float l = isinf(m) ? m : m + log(red[0]);
		lse[row] = l;
		lp[row] = z[base + uint(t)] * p.invTemp - l;
	}
}
