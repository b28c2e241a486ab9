#version 450
// Attention backward, step 1: for each query row of pairs (b, h) in this
// dispatch (pairs pb..pb+np−1, pair = b·H + h, T rows each), recompute the
// probabilities p_j = exp(scale·q·k_j − lse) over visible keys, and with
// dP_j = dout·v_j write P and dS_j = p_j·(dP_j − Σ p·dP) to scratch
// [np, T, T] (row-local index (pair − pb)·T + t). One workgroup per row.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer SP { float sp[]; };
layout(std430, binding = 1) buffer SD { float sd[]; };
layout(std430, binding = 2) readonly buffer Q { float q[]; };
layout(std430, binding = 3) readonly buffer K { float k[]; };
layout(std430, binding = 4) readonly buffer V { float v[]; };
layout(std430, binding = 5) readonly buffer DO { float dout[]; };
layout(std430, binding = 6) readonly buffer L { float lse[]; };
layout(std430, binding = 7) readonly buffer KS { int kStart[]; };
layout(push_constant) uniform P { uint pb; uint np; uint t; uint h; uint kv; uint hd; uint hasKStart; float scale; } p;

shared float red[256];

void main() {
	uint local = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; // (pair − pb)·T + t
	if (local >= p.np * p.t) return;
	uint lid = gl_LocalInvocationID.x;
	uint t = local % p.t;
	uint pair = p.pb + local / p.t;
	uint h = pair % p.h;
	uint b = pair / p.h;
	uint g = h / (p.h / p.kv);
	uint ks0 = 0u;
	if (p.hasKStart != 0u) ks0 = uint(clamp(kStart[b], 0, int(p.t)));
	uint row = local * p.t;
	uint qOff = ((b * p.t + t) * p.h + h) * p.hd;
	float l = lse[pair * p.t + t];
	float acc = 0.0;
	for (uint j = lid; j < p.t; j += 256u) {
		float pj = 0.0, dpj = 0.0;
		if (t >= ks0 && j >= ks0 && j <= t) {
			uint kOff = ((b * p.t + j) * p.kv + g) * p.hd;
			float s = 0.0;
			for (uint e = 0u; e < p.hd; e++) {
				s += q[qOff + e] * k[kOff + e];
				dpj += dout[qOff + e] * v[kOff + e];
			}
			pj = exp(s * p.scale - l);
		}
		sp[row + j] = pj;
		sd[row + j] = dpj;
		acc += pj * dpj;
	}
	red[lid] = acc;
	barrier();
	for (uint s = 128u; s > 0u; s >>= 1) {
		if (lid < s) red[lid] += red[lid + s];
		barrier();
	}
	float dsum = red[0];
	for (uint j = lid; j < p.t; j += 256u) sd[row + j] = sp[row + j] * (sd[row + j] - dsum);
}
