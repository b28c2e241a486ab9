#version 450
#extension GL_GOOGLE_include_directive : require
// Attention backward on cooperative matrices, step 1 of 2: attn_fa_dq's
// contract (read its header: D = dout·out written to d for step 2, dq +=
// scale·Σ_j dS_tj·k_j with P recomputed from lse), its products q·kᵀ,
// dout·vᵀ and dS·k on tensor cores (attn_cm.glsl says how), head dims up
// to HDP. Workgroup (x, y) = (block of BQ queries, b·H + h). dS of a
// subgroup's block is staged with its own scale, so each block's dS·k is
// accumulated from zero and added to dq's float32 sums.
#include "attn_cm.glsl"

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

shared float Ss[NS * T * BK];  // a subgroup's scores, then dS, then dS·k by rounds
shared float DPs[NS * T * BK]; // its dout·vᵀ
shared float16_t Ps[NS * T * SP];

void main() {
	uint lid = gl_LocalInvocationIndex, L = gl_WorkGroupSize.x;
	uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
	uint row = lane / LPR, part = lane - row * LPR;
	uint i0 = gl_WorkGroupID.x * BQ;
	uint pair = gl_WorkGroupID.y;
	uint h = pair % p.h;
	uint b = pair / p.h;
	uint g = h / (p.h / p.kv);
	uint ks0 = 0u;
	if (p.hasKStart != 0u) ks0 = uint(clamp(kStart[b], 0, int(p.t)));
	uint kBase = b * p.t * p.kv * p.hd + g * p.hd;
	uint kRow = p.kv * p.hd;
	uint qRow = p.h * p.hd, qBase = b * p.t * qRow + h * p.hd;
	if (lid < 6u) smax[lid] = 0u;
	barrier();

	// The query tile and the output gradients' tile, each scaled, through
	// Xs into registers, one after the other.
	float mq = 0.0, mo = 0.0;
	for (uint x = lid; x < BQ * HDP; x += L) {
		uint r = x / HDP, e = x - r * HDP;
		if (i0 + r < p.t && e < p.hd) {
			uint at = qBase + (i0 + r) * qRow + e;
			mq = maxFinite(mq, q[at]);
			mo = maxFinite(mo, dout[at]);
		}
	}
	atomicMax(smax[0], floatBitsToUint(mq));
	atomicMax(smax[1], floatBitsToUint(mo));
	barrier();
	float sq = scaleOf(smax[0]), so = scaleOf(smax[1]);
	MATA qa[NE], oa[NE];
	for (uint x = lid; x < BQ * HDP / 4u; x += L) {
		uint r = x / (HDP / 4u), c4 = x - r * (HDP / 4u);
		vec4 w = vec4(0.0);
		[[unroll]] for (uint c = 0u; c < 4u; c++) {
			uint e = c4 * 4u + c;
			if (i0 + r < p.t && e < p.hd) w[c] = q[qBase + (i0 + r) * qRow + e];
		}
		Xs[r * SV + c4] = f16vec4(w * sq);
	}
	barrier();
	[[unroll]] for (uint n = 0u; n < NE; n++)
		if (n * T < HDP) coopMatLoad(qa[n], Xs, (sg * T) * SV + n * T / 4u, SV, gl_CooperativeMatrixLayoutRowMajor);
	barrier();
	for (uint x = lid; x < BQ * HDP / 4u; x += L) {
		uint r = x / (HDP / 4u), c4 = x - r * (HDP / 4u);
		vec4 w = vec4(0.0);
		[[unroll]] for (uint c = 0u; c < 4u; c++) {
			uint e = c4 * 4u + c;
			if (i0 + r < p.t && e < p.hd) w[c] = dout[qBase + (i0 + r) * qRow + e];
		}
		Xs[r * SV + c4] = f16vec4(w * so);
	}
	barrier();
	[[unroll]] for (uint n = 0u; n < NE; n++)
		if (n * T < HDP) coopMatLoad(oa[n], Xs, (sg * T) * SV + n * T / 4u, SV, gl_CooperativeMatrixLayoutRowMajor);

	// D = dout·out of this invocation's query, its row's LPR parts added in
	// order; written once for step 2.
	uint i = i0 + sg * T + row;
	bool live = i < p.t && i >= ks0;
	float dd = 0.0, lv = 0.0;
	if (i < p.t) {
		uint at = qBase + i * qRow;
		for (uint e = part; e < p.hd; e += LPR) dd += dout[at + e] * o[at + e];
		lv = lse[pair * p.t + i];
	}
	dd = rowSum(dd, sg, row, lane);
	if (i < p.t && part == 0u) dsum[pair * p.t + i] = dd;

	float acc[NO];
	[[unroll]] for (uint n = 0u; n < NO; n++) acc[n] = 0.0;
	uint sBase = sg * T * BK, pBase = sg * T * SP;

	uint last = min(i0 + BQ, p.t); // one past the last key any row of the tile sees
	uint blk = 0u;
	for (uint j0 = ks0; j0 < last; j0 += BK, blk++) {
		uint slot = 2u + (blk & 1u) * 2u;
		barrier(); // the previous block's tiles (and, first, dout's) are read
		float mk = 0.0, mv = 0.0;
		for (uint x = lid; x < BK * HDP; x += L) {
			uint c = x / HDP, e = x - c * HDP;
			if (j0 + c < p.t && e < p.hd) {
				uint at = kBase + (j0 + c) * kRow + e;
				mk = maxFinite(mk, k[at]);
				mv = maxFinite(mv, v[at]);
			}
		}
		atomicMax(smax[slot], floatBitsToUint(mk));
		atomicMax(smax[slot + 1u], floatBitsToUint(mv));
		if (lid == 0u) {
			smax[6u - slot] = 0u;
			smax[7u - slot] = 0u;
			nonFinite = 0u; // read last after the previous block's check
		}
		barrier();
		float sk = scaleOf(smax[slot]), sv = scaleOf(smax[slot + 1u]);
		for (uint x = lid; x < BK * HDP / 4u; x += L) {
			uint c = x / (HDP / 4u), c4 = x - c * (HDP / 4u);
			vec4 kw = vec4(0.0), vw = vec4(0.0);
			[[unroll]] for (uint cc = 0u; cc < 4u; cc++) {
				uint e = c4 * 4u + cc;
				if (j0 + c < p.t && e < p.hd) {
					uint at = kBase + (j0 + c) * kRow + e;
					kw[cc] = k[at];
					vw[cc] = v[at];
				}
			}
			Xs[c * SV + c4] = f16vec4(kw * sk);
			Xs[(BK + c) * SV + c4] = f16vec4(vw * sv);
		}
		barrier();
		// Keys past the tile's first query (all of them where kStart leaves
		// that query none) are masked for some of its rows: only there may
		// dS·k, whose masked dS are 0, carry a NaN to them.
		uint from = i0 + 1u > j0 ? i0 + 1u - j0 : 0u;
		bool scalarDK = false;
		if (from < BK) {
			if (rowsNonFinite(from, BK - from, lid, L)) atomicOr(nonFinite, 1u);
			barrier();
			scalarDK = nonFinite != 0u;
		}

		// S = q·kᵀ and dP = dout·vᵀ for the subgroup's T queries.
		ACC s[NB], dp[NB];
		[[unroll]] for (uint c = 0u; c < NB; c++)
			if (c * T < BK) {
				s[c] = ACC(0.0);
				dp[c] = ACC(0.0);
			}
		[[unroll]] for (uint kk = 0u; kk < NE; kk++) {
			if (kk * T >= HDP) continue;
			[[unroll]] for (uint c = 0u; c < NB; c++) {
				if (c * T >= BK) continue;
				MATB kb, vb;
				coopMatLoad(kb, Xs, (c * T) * SV + kk * T / 4u, SV, gl_CooperativeMatrixLayoutColumnMajor);
				coopMatLoad(vb, Xs, (BK + c * T) * SV + kk * T / 4u, SV, gl_CooperativeMatrixLayoutColumnMajor);
				s[c] = coopMatMulAdd(qa[kk], kb, s[c]);
				dp[c] = coopMatMulAdd(oa[kk], vb, dp[c]);
			}
		}
		[[unroll]] for (uint c = 0u; c < NB; c++)
			if (c * T < BK) {
				coopMatStore(s[c], Ss, sBase + c * T, BK, gl_CooperativeMatrixLayoutRowMajor);
				coopMatStore(dp[c], DPs, sBase + c * T, BK, gl_CooperativeMatrixLayoutRowMajor);
			}
		syncSubgroup();

		// dS = P·(dP − D) in float32, then staged by the block's own scale.
		float fs = p.scale / (sq * sk), fp = 1.0 / (so * sv);
		float mds = 0.0;
		for (uint c = part; c < BK; c += LPR) {
			uint j = j0 + c;
			float ds = 0.0;
			if (live && j <= i) {
				float pr = exp(Ss[sBase + row * BK + c] * fs - lv);
				ds = pr * (DPs[sBase + row * BK + c] * fp - dd);
			}
			Ss[sBase + row * BK + c] = ds;
			mds = maxFinite(mds, ds);
		}
		float sds = scaleOf(floatBitsToUint(subgroupMaxOf(mds, sg, lane)));
		for (uint c = part; c < BK; c += LPR) Ps[pBase + row * SP + c] = float16_t(Ss[sBase + row * BK + c] * sds);
		syncSubgroup();

		// The block's dS·k from zero, RW columns a round, through Ss.
		float iv = 1.0 / (sds * sk);
		if (scalarDK) {
			for (uint c = 0u; c < BK; c++) {
				uint j = j0 + c;
				if (!(live && j <= i)) continue;
				float ds = Ss[sBase + row * BK + c];
				uint at = kBase + j * kRow;
				[[unroll]] for (uint n = 0u; n < NO; n++) {
					uint e = part + LPR * n;
					if (n < HDP / LPR && e < p.hd) acc[n] += ds * k[at + e];
				}
			}
		} else [[unroll]] for (uint r = 0u; r < NR; r++) {
			ACC dk[RW / 8u];
			[[unroll]] for (uint n = 0u; n < RW / 8u; n++)
				if (n * T < RW) dk[n] = ACC(0.0);
			[[unroll]] for (uint kk = 0u; kk < NB; kk++) {
				if (kk * T >= BK) continue;
				MATA da;
				coopMatLoad(da, Ps, pBase + kk * T, SP, gl_CooperativeMatrixLayoutRowMajor);
				[[unroll]] for (uint n = 0u; n < RW / 8u; n++) {
					if (n * T >= RW) continue;
					MATB kb;
					coopMatLoad(kb, Xs, (kk * T) * SV + (r * RW + n * T) / 4u, SV, gl_CooperativeMatrixLayoutRowMajor);
					dk[n] = coopMatMulAdd(da, kb, dk[n]);
				}
			}
			[[unroll]] for (uint n = 0u; n < RW / 8u; n++)
				if (n * T < RW) coopMatStore(dk[n], Ss, sBase + n * T, BK, gl_CooperativeMatrixLayoutRowMajor);
			syncSubgroup();
			[[unroll]] for (uint m = 0u; m < RW; m++)
				if (m < RW / LPR) acc[r * (RW / LPR) + m] += Ss[sBase + row * BK + part + LPR * m] * iv;
			subgroupBarrier(); // Ss read before it is written again
		}
	}
	if (i >= p.t) return;
	uint at = qBase + i * qRow;
	[[unroll]] for (uint n = 0u; n < NO; n++) {
		uint e = part + LPR * n;
		if (n < HDP / LPR && e < p.hd) dq[at + e] = dq[at + e] + p.scale * acc[n];
	}
}
