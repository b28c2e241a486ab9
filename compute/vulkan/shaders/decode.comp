#version 450
// AttentionDecode: Tn new queries q [B, Tn, H, hd] at positions past..past+Tn−1
// attend to cached keys and values [B, KV, maxLen, hd], causally, with keys
// before kStart[b] masked; a query before kStart[b] gives zeros. One
// workgroup per (b, i, h) item, items base..base+count−1 of this dispatch;
// scores and then probabilities go through scratch [count, maxLen].
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };
layout(std430, binding = 2) readonly buffer K { float kc[]; };
layout(std430, binding = 3) readonly buffer V { float vc[]; };
layout(std430, binding = 4) coherent buffer S { float sc[]; };
layout(std430, binding = 5) readonly buffer KS { int kStart[]; };
layout(push_constant) uniform P {
	uint base; uint count; uint tn; uint h; uint kv; uint hd; uint maxLen; uint past; uint hasKStart; float scale;
} p;

shared float red[256];

void main() {
	uint local = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
	if (local >= p.count) return;
	uint lid = gl_LocalInvocationID.x;
	uint item = p.base + local; // (b·Tn + i)·H + h
	uint h = item % p.h;
	uint bi = item / p.h;
	uint i = bi % p.tn;
	uint b = bi / p.tn;
	uint g = h / (p.h / p.kv);
	uint total = p.past + p.tn;
	uint ks0 = 0u;
	if (p.hasKStart != 0u) ks0 = uint(clamp(kStart[b], 0, int(total)));
	uint qOff = item * p.hd;
	uint pos = p.past + i;
	if (pos < ks0) {
		for (uint e = lid; e < p.hd; e += 256u) o[qOff + e] = 0.0;
		return;
	}
	uint kBase = (b * p.kv + g) * p.maxLen;
	uint sBase = local * p.maxLen;
	float m = -1.0 / 0.0;
	for (uint j = ks0 + lid; j <= pos; j += 256u) {
		float s = 0.0;
		for (uint e = 0u; e < p.hd; e++) s += q[qOff + e] * kc[(kBase + j) * p.hd + e];
		s *= p.scale;
		sc[sBase + j] = s;
		m = max(m, s);
	}
	red[lid] = m;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1) {
		if (lid < k) red[lid] = max(red[lid], red[lid + k]);
		barrier();
	}
	m = red[0];
	barrier();
	float sum = 0.0;
	for (uint j = ks0 + lid; j <= pos; j += 256u) {
		float e = exp(sc[sBase + j] - m);
		sc[sBase + j] = e;
		sum += e;
	}
	red[lid] = sum;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1) {
		if (lid < k) red[lid] += red[lid + k];
		barrier();
	}
	float inv = 1.0 / red[0];
	memoryBarrierBuffer();
	barrier();
	for (uint e = lid; e < p.hd; e += 256u) {
		float acc = 0.0;
		for (uint j = ks0; j <= pos; j++) acc += (sc[sBase + j] * inv) * vc[(kBase + j) * p.hd + e];
		o[qOff + e] = acc;
	}
}
