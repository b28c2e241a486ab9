#version 450
// Per-row distribution measures of softmax(z·invTemp), one workgroup per row:
// mode 0: out = entropy −Σ p log p of zp;
// mode 1: out = KL(P ‖ Q) = Σ p (log p − log q), P from zp, Q from zq.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer ZP { float zp[]; };
layout(std430, binding = 2) readonly buffer ZQ { float zq[]; };
layout(push_constant) uniform P { uint rows; uint V; float invTemp; uint mode; } p;

shared float red[256];

float reduceSum(float v) {
	uint lid = gl_LocalInvocationID.x;
	barrier();
	red[lid] = v;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1) {
		if (lid < k) red[lid] += red[lid + k];
		barrier();
	}
	return red[0];
}

float reduceMax(float v) {
	uint lid = gl_LocalInvocationID.x;
	barrier();
	red[lid] = v;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1) {
		if (lid < k) red[lid] = max(red[lid], red[lid + k]);
		barrier();
	}
	return red[0];
}

// lse returns log Σ exp(z·t) over the row at base.
float lse(bool q, uint base) {
	uint lid = gl_LocalInvocationID.x;
	float m = -1.0 / 0.0;
	for (uint j = lid; j < p.V; j += 256u) m = max(m, (q ? zq[base + j] : zp[base + j]) * p.invTemp);
	m = reduceMax(m);
	if (isinf(m)) return m;
	float s = 0.0;
	for (uint j = lid; j < p.V; j += 256u) s += exp((q ? zq[base + j] : zp[base + j]) * p.invTemp - m);
	return m + log(reduceSum(s));
}

void main() {
	uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
	if (row >= p.rows) return;
	uint lid = gl_LocalInvocationID.x;
	uint base = row * p.V;
	float lp = lse(false, base);
	float lq = p.mode == 1u ? lse(true, base) : 0.0;
	float s = 0.0;
	for (uint j = lid; j < p.V; j += 256u) {
		float a = zp[base + j] * p.invTemp - lp;
		float pj = exp(a);
		if (pj == 0.0) continue;
		if (p.mode == 0u) {
			s -= pj * a;
		} else {
			s += pj * (a - (zq[base + j] * p.invTemp - lq));
		}
	}
	s = reduceSum(s);
	if (lid == 0u) o[row] = s;
}
