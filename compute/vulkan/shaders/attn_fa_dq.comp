#version 450
// Attention backward, tiled (FlashAttention-2's split), step 1 of 2: for a
// tile of TT query rows t of one (b, h) per workgroup,
//   D_t = dout_t·out_t (written to d [B·H, T] for step 2),
//   dq_t += scale·Σ_j dS_tj·k_j,  dS_tj = P_tj·(dout_t·v_j − D_t),
// with P_tj = exp(scale·q_t·k_j − lse_t) recomputed key block by key block
// (keys kStart[b] ≤ j ≤ t; a row before kStart[b] has no gradient). q,
// dout, dq [B, T, H, hd]; k, v [B, T, KV, hd]; head h reads kv head
// h/(H/KV). The order of every sum is fixed: the result does not depend on
// the device's scheduling.
// Compiled with -DTT=32 (head dims ≤ 64) and -DTT=16 (≤ 128); tiles are
// read from shared memory four floats at a time, as in attn_fa. Workgroup
// (x, y) = (query block, b·H + h).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer DQ { float dq[]; };
layout(std430, binding = 1) writeonly buffer Db { float dsum[]; };
layout(std430, binding = 2) readonly buffer Q { float q[]; };
layout(std430, binding = 3) readonly buffer K { float k[]; };
layout(std430, binding = 4) readonly buffer V { float v[]; };
layout(std430, binding = 5) readonly buffer DO { float dout[]; };
layout(std430, binding = 6) readonly buffer O { float o[]; };
layout(std430, binding = 7) readonly buffer L { float lse[]; };
layout(std430, binding = 8) readonly buffer KS { int kStart[]; };
layout(push_constant) uniform P { uint t; uint h; uint kv; uint hd; uint hasKStart; float scale; } p;

const uint HD = 2048u / TT;
const uint RS = HD / 4u + 1u; // in vec4s
const uint PER = 256u / TT;
const uint NV = HD / 4u / PER;
const uint R = TT / 16u;

shared vec4 Qs[TT * RS];
shared vec4 DOs[TT * RS];
shared vec4 KVs[TT * RS];
shared float Ps[TT * (TT + 1u)];
shared float Ls[TT];
shared float Ds[TT];

void main() {
	uint lid = gl_LocalInvocationID.x;
	uint i0 = gl_WorkGroupID.x * TT;
	uint pair = gl_WorkGroupID.y;
	uint h = pair % p.h;
	uint b = pair / p.h;
	uint g = h / (p.h / p.kv);
	uint ks0 = 0u;
	if (p.hasKStart != 0u) ks0 = uint(clamp(kStart[b], 0, int(p.t)));
	uint kBase = b * p.t * p.kv * p.hd + g * p.hd;
	uint kRow = p.kv * p.hd;
	uint hd4 = (p.hd + 3u) / 4u; // vec4s per row, the last padded with zeros
	uint w = hd4 * 4u;

	for (uint x = lid; x < TT * w; x += 256u) {
		uint r = x / w, e = x - r * w;
		uint at = ((b * p.t + i0 + r) * p.h + h) * p.hd + e;
		bool in_ = i0 + r < p.t && e < p.hd;
		Qs[r * RS + e / 4u][e % 4u] = in_ ? q[at] : 0.0;
		DOs[r * RS + e / 4u][e % 4u] = in_ ? dout[at] : 0.0;
	}
	if (lid < TT) {
		uint t = i0 + lid;
		float dd = 0.0, lv = 0.0;
		if (t < p.t) {
			uint at = ((b * p.t + t) * p.h + h) * p.hd;
			for (uint e = 0u; e < p.hd; e++) dd += dout[at + e] * o[at + e];
			lv = lse[pair * p.t + t];
			dsum[pair * p.t + t] = dd;
		}
		Ds[lid] = dd;
		Ls[lid] = lv;
	}

	uint r = lid / PER, sub = lid - r * PER;
	vec4 acc[NV];
	for (uint n = 0u; n < NV; n++) acc[n] = vec4(0.0);
	uint sr = lid / 16u, sc = lid - sr * 16u;

	uint last = min(i0 + TT, p.t); // one past the last key any row of the tile sees
	for (uint j0 = ks0; j0 < last; j0 += TT) {
		barrier();
		for (uint x = lid; x < TT * w; x += 256u) {
			uint c = x / w, e = x - c * w;
			KVs[c * RS + e / 4u][e % 4u] = j0 + c < p.t && e < p.hd ? v[kBase + (j0 + c) * kRow + e] : 0.0;
		}
		barrier();
		float dp[R][R];
		for (uint a = 0u; a < R; a++)
			for (uint c = 0u; c < R; c++) dp[a][c] = 0.0;
		for (uint e4 = 0u; e4 < hd4; e4++) {
			vec4 xv[R], yv[R];
			for (uint a = 0u; a < R; a++) xv[a] = DOs[(sr + 16u * a) * RS + e4];
			for (uint c = 0u; c < R; c++) yv[c] = KVs[(sc + 16u * c) * RS + e4];
			for (uint a = 0u; a < R; a++)
				for (uint c = 0u; c < R; c++) dp[a][c] += dot(xv[a], yv[c]);
		}
		barrier();
		for (uint x = lid; x < TT * w; x += 256u) {
			uint c = x / w, e = x - c * w;
			KVs[c * RS + e / 4u][e % 4u] = j0 + c < p.t && e < p.hd ? k[kBase + (j0 + c) * kRow + e] : 0.0;
		}
		barrier();
		float s[R][R];
		for (uint a = 0u; a < R; a++)
			for (uint c = 0u; c < R; c++) s[a][c] = 0.0;
		for (uint e4 = 0u; e4 < hd4; e4++) {
			vec4 xv[R], yv[R];
			for (uint a = 0u; a < R; a++) xv[a] = Qs[(sr + 16u * a) * RS + e4];
			for (uint c = 0u; c < R; c++) yv[c] = KVs[(sc + 16u * c) * RS + e4];
			for (uint a = 0u; a < R; a++)
				for (uint c = 0u; c < R; c++) s[a][c] += dot(xv[a], yv[c]);
		}
		for (uint a = 0u; a < R; a++) {
			uint rr = sr + 16u * a;
			uint t = i0 + rr;
			for (uint c = 0u; c < R; c++) {
				uint j = j0 + sc + 16u * c;
				float ds = 0.0;
				if (t < p.t && t >= ks0 && j <= t) {
					float pv = exp(s[a][c] * p.scale - Ls[rr]);
					ds = pv * (dp[a][c] - Ds[rr]);
				}
				Ps[rr * (TT + 1u) + sc + 16u * c] = ds;
			}
		}
		barrier();
		// The keys row r sees, no further: a masked dS is 0, but 0·NaN is
		// NaN, and a masked key must not reach the row's gradient.
		uint t = i0 + r;
		uint cEnd = t < p.t && t >= ks0 && t >= j0 ? min(TT, t + 1u - j0) : 0u;
		for (uint c = 0u; c < cEnd; c++) {
			float dsv = Ps[r * (TT + 1u) + c];
			for (uint n = 0u; n < NV; n++) acc[n] += dsv * KVs[c * RS + sub + PER * n];
		}
	}
	if (i0 + r >= p.t) return;
	uint at = ((b * p.t + i0 + r) * p.h + h) * p.hd;
	for (uint n = 0u; n < NV; n++)
		for (uint k4 = 0u; k4 < 4u; k4++) {
			uint e = (sub + PER * n) * 4u + k4;
			if (e < p.hd) dq[at + e] = dq[at + e] + p.scale * acc[n][k4];
		}
}
