#version 450
// Causal attention of queries q [B, Tn, H, hd] at positions past..past+Tn−1
// over keys and values addressed by strides (b·kvBatch + g·kvHead + j·kvRow):
// a KV cache [B, KV, maxLen, hd] for decoding, or k, v [B, T, KV, hd] for
// training (past = 0). Query head h reads kv head h/(H/KV); keys before
// kStart[b] are masked and a query before kStart[b] gives zeros. One
// workgroup per (b, i, h) item, items base..base+count−1 of this dispatch;
// scores, then probabilities, go through scratch [count, sRow]. With hasLSE
// the row's log-sum-exp of the scaled scores goes to lse [B, H, Tn] (0 for
// a row with no visible key, or whose visible scores are all −Inf: its
// output is 0 too), for a backward pass that recomputes the
// probabilities instead of keeping them. Values are summed by 256/hd groups
// of hd invocations, each over every groups-th key, added in group order.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };
layout(std430, binding = 2) readonly buffer K { float kc[]; };
layout(std430, binding = 3) readonly buffer V { float vc[]; };
layout(std430, binding = 4) coherent buffer S { float sc[]; };
layout(std430, binding = 5) readonly buffer KS { int kStart[]; };
layout(std430, binding = 6) buffer L { float lse[]; };
layout(push_constant) uniform P {
	uint base; uint count; uint tn; uint h; uint kv; uint hd; uint sRow; uint past;
	uint hasKStart; uint hasLSE; uint kvBatch; uint kvHead; uint kvRow; float scale;
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
	uint lseAt = (b * p.h + h) * p.tn + i;
	if (pos < ks0) {
		for (uint e = lid; e < p.hd; e += 256u) o[qOff + e] = 0.0;
		if (p.hasLSE != 0u && lid == 0u) lse[lseAt] = 0.0;
		return;
	}
	uint kvBase = b * p.kvBatch + g * p.kvHead;
	uint sBase = local * p.sRow;
	float m = -1.0 / 0.0;
	for (uint j = ks0 + lid; j <= pos; j += 256u) {
		float s = 0.0;
		for (uint e = 0u; e < p.hd; e++) s += q[qOff + e] * kc[kvBase + j * p.kvRow + e];
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
	// A −Inf score weighs 0 even where every score is −Inf (m too, and
	// exp(−Inf + Inf) would be NaN): the row is one with no visible key. A
	// NaN score stays NaN.
	float sum = 0.0;
	for (uint j = ks0 + lid; j <= pos; j += 256u) {
		float s = sc[sBase + j];
		float e = s == -1.0 / 0.0 ? 0.0 : exp(s - m);
		sc[sBase + j] = e;
		sum += e;
	}
	red[lid] = sum;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1) {
		if (lid < k) red[lid] += red[lid + k];
		barrier();
	}
	// The sum is 0 only for a row of −Inf scores: output 0 and lse 0, as
	// for a row with no visible key.
	float inv = red[0] != 0.0 ? 1.0 / red[0] : 0.0;
	if (p.hasLSE != 0u && lid == 0u) lse[lseAt] = red[0] != 0.0 ? m + log(red[0]) : 0.0;
	memoryBarrierBuffer();
	barrier();
	if (p.hd > 256u) {
		for (uint e = lid; e < p.hd; e += 256u) {
			float acc = 0.0;
			for (uint j = ks0; j <= pos; j++) acc += (sc[sBase + j] * inv) * vc[kvBase + j * p.kvRow + e];
			o[qOff + e] = acc;
		}
		return;
	}
	// The 256 invocations as 256/hd groups of hd: group g sums the keys
	// j ≡ ks0 + g (mod groups), then the groups' sums are added in order
	// (hd 64: four chains a quarter as long as one walking every key).
	uint groups = 256u / p.hd;
	uint grp = lid / p.hd;
	uint e = lid - grp * p.hd;
	float acc = 0.0;
	if (grp < groups)
		for (uint j = ks0 + grp; j <= pos; j += groups) acc += (sc[sBase + j] * inv) * vc[kvBase + j * p.kvRow + e];
	red[lid] = acc;
	barrier();
	if (grp == 0u) {
		float sum = 0.0;
		for (uint g2 = 0u; g2 < groups; g2++) sum += red[g2 * p.hd + e];
		o[qOff + e] = sum;
	}
}
