#version 450
// Attention backward, tiled (FlashAttention-2's split), step 2 of 2: for a
// tile of TT keys j of one (b, h) per workgroup, that head's share of the
// key and value gradients,
//   dk_j = scale·Σ_t dS_tj·q_t,  dv_j = Σ_t P_tj·dout_t,
// over the queries t ≥ j (and ≥ kStart[b]), recomputing P and dS query
// block by query block with D from step 1 (attn_fa_dq). Heads pb..pb+np−1
// write their shares to part [2, np, T, hd] (dk's, then dv's); attn_fa_sum
// adds the heads of each kv group in order into dk and dv, so no sum
// depends on the device's scheduling.
// Compiled with -DTT=32 (head dims ≤ 64) and -DTT=16 (≤ 128); tiles are
// read from shared memory four floats at a time, as in attn_fa. Workgroup
// (x, y) = (key block, pair − pb).
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Part { float part[]; };
layout(std430, binding = 1) readonly buffer Db { float dsum[]; };
layout(std430, binding = 2) readonly buffer Q { float q[]; };
layout(std430, binding = 3) readonly buffer K { float k[]; };
layout(std430, binding = 4) readonly buffer V { float v[]; };
layout(std430, binding = 5) readonly buffer DO { float dout[]; };
layout(std430, binding = 6) readonly buffer L { float lse[]; };
layout(std430, binding = 7) readonly buffer KS { int kStart[]; };
layout(push_constant) uniform P { uint pb; uint np; uint t; uint h; uint kv; uint hd; uint hasKStart; float scale; } p;

const uint HD = 2048u / TT;
const uint RS = HD / 4u + 1u; // in vec4s
const uint PER = 256u / TT;
const uint NV = HD / 4u / PER;
const uint R = TT / 16u;

shared vec4 Ks[TT * RS];
shared vec4 Vs[TT * RS];
shared vec4 QDs[TT * RS]; // the query block's q, then its dout, then q again
shared float Ps[TT * (TT + 1u)];
shared float Ls[TT];
shared float Ds[TT];

void main() {
	uint lid = gl_LocalInvocationID.x;
	uint j0 = gl_WorkGroupID.x * TT;
	uint local = gl_WorkGroupID.y;
	uint pair = p.pb + local;
	uint h = pair % p.h;
	uint b = pair / p.h;
	uint g = h / (p.h / p.kv);
	uint ks0 = 0u;
	if (p.hasKStart != 0u) ks0 = uint(clamp(kStart[b], 0, int(p.t)));
	uint kBase = b * p.t * p.kv * p.hd + g * p.hd;
	uint kRow = p.kv * p.hd;
	uint qRow = p.h * p.hd;
	uint qBase = b * p.t * qRow + h * p.hd;
	uint hd4 = (p.hd + 3u) / 4u; // vec4s per row, the last padded with zeros
	uint w = hd4 * 4u;

	for (uint x = lid; x < TT * w; x += 256u) {
		uint c = x / w, e = x - c * w;
		bool in_ = j0 + c < p.t && e < p.hd;
		Ks[c * RS + e / 4u][e % 4u] = in_ ? k[kBase + (j0 + c) * kRow + e] : 0.0;
		Vs[c * RS + e / 4u][e % 4u] = in_ ? v[kBase + (j0 + c) * kRow + e] : 0.0;
	}

	// Update phase: invocation (c, sub) owns key c's outputs e = sub + PER·n.
	uint c = lid / PER, sub = lid - c * PER;
	vec4 ak[NV], av[NV];
	for (uint n = 0u; n < NV; n++) {
		ak[n] = vec4(0.0);
		av[n] = vec4(0.0);
	}
	uint sr = lid / 16u, sc = lid - sr * 16u;

	// Queries before max(j0, kStart) see none of the block's keys; a block
	// wholly before kStart is seen by none.
	uint first = j0 + TT <= ks0 ? p.t : max(j0, ks0);
	for (uint t0 = first; t0 < p.t; t0 += TT) {
		barrier();
		for (uint x = lid; x < TT * w; x += 256u) {
			uint r = x / w, e = x - r * w;
			QDs[r * RS + e / 4u][e % 4u] = t0 + r < p.t && e < p.hd ? q[qBase + (t0 + r) * qRow + e] : 0.0;
		}
		if (lid < TT) {
			bool in_ = t0 + lid < p.t;
			Ls[lid] = in_ ? lse[pair * p.t + t0 + lid] : 0.0;
			Ds[lid] = in_ ? dsum[pair * p.t + t0 + lid] : 0.0;
		}
		barrier();
		float s[R][R];
		for (uint a = 0u; a < R; a++)
			for (uint cc = 0u; cc < R; cc++) s[a][cc] = 0.0;
		for (uint e4 = 0u; e4 < hd4; e4++) {
			vec4 xv[R], yv[R];
			for (uint a = 0u; a < R; a++) xv[a] = QDs[(sr + 16u * a) * RS + e4];
			for (uint cc = 0u; cc < R; cc++) yv[cc] = Ks[(sc + 16u * cc) * RS + e4];
			for (uint a = 0u; a < R; a++)
				for (uint cc = 0u; cc < R; cc++) s[a][cc] += dot(xv[a], yv[cc]);
		}
		barrier();
		for (uint x = lid; x < TT * w; x += 256u) {
			uint r = x / w, e = x - r * w;
			QDs[r * RS + e / 4u][e % 4u] = t0 + r < p.t && e < p.hd ? dout[qBase + (t0 + r) * qRow + e] : 0.0;
		}
		barrier();
		float pr[R][R], ds[R][R];
		for (uint a = 0u; a < R; a++)
			for (uint cc = 0u; cc < R; cc++) {
				uint t = t0 + sr + 16u * a;
				uint j = j0 + sc + 16u * cc;
				pr[a][cc] = 0.0;
				ds[a][cc] = 0.0;
				if (t < p.t && j < p.t && j >= ks0 && j <= t) pr[a][cc] = exp(s[a][cc] * p.scale - Ls[sr + 16u * a]);
			}
		for (uint a = 0u; a < R; a++)
			for (uint cc = 0u; cc < R; cc++) s[a][cc] = 0.0; // now dP
		for (uint e4 = 0u; e4 < hd4; e4++) {
			vec4 xv[R], yv[R];
			for (uint a = 0u; a < R; a++) xv[a] = QDs[(sr + 16u * a) * RS + e4];
			for (uint cc = 0u; cc < R; cc++) yv[cc] = Vs[(sc + 16u * cc) * RS + e4];
			for (uint a = 0u; a < R; a++)
				for (uint cc = 0u; cc < R; cc++) s[a][cc] += dot(xv[a], yv[cc]);
		}
		for (uint a = 0u; a < R; a++)
			for (uint cc = 0u; cc < R; cc++) {
				ds[a][cc] = pr[a][cc] * (s[a][cc] - Ds[sr + 16u * a]);
				Ps[(sr + 16u * a) * (TT + 1u) + sc + 16u * cc] = pr[a][cc];
			}
		barrier();
		// dv_c += Σ_r P_rc·dout_r over the queries that see key c, no
		// others: a masked P is 0, but 0·NaN is NaN, and a query that
		// cannot see the key must not reach its gradients (the masked
		// entries of P and dS are never read).
		uint jc = j0 + c, rEnd = min(TT, p.t - t0);
		uint rStart = jc < ks0 ? TT : (jc > t0 ? min(jc - t0, TT) : 0u);
		for (uint r = rStart; r < rEnd; r++) {
			float pv = Ps[r * (TT + 1u) + c];
			for (uint n = 0u; n < NV; n++) av[n] += pv * QDs[r * RS + sub + PER * n];
		}
		barrier();
		for (uint a = 0u; a < R; a++)
			for (uint cc = 0u; cc < R; cc++) Ps[(sr + 16u * a) * (TT + 1u) + sc + 16u * cc] = ds[a][cc];
		for (uint x = lid; x < TT * w; x += 256u) {
			uint r = x / w, e = x - r * w;
			QDs[r * RS + e / 4u][e % 4u] = t0 + r < p.t && e < p.hd ? q[qBase + (t0 + r) * qRow + e] : 0.0;
		}
		barrier();
		// dk_c += Σ_r dS_rc·q_r (scaled at the end), over the same queries
		for (uint r = rStart; r < rEnd; r++) {
			float dv = Ps[r * (TT + 1u) + c];
			for (uint n = 0u; n < NV; n++) ak[n] += dv * QDs[r * RS + sub + PER * n];
		}
	}
	if (j0 + c >= p.t) return;
	uint at = (local * p.t + j0 + c) * p.hd;
	uint half_ = p.np * p.t * p.hd;
	for (uint n = 0u; n < NV; n++)
		for (uint k4 = 0u; k4 < 4u; k4++) {
			uint e = (sub + PER * n) * 4u + k4;
			if (e < p.hd) {
				part[at + e] = p.scale * ak[n][k4];
				part[half_ + at + e] = av[n][k4];
			}
		}
}
