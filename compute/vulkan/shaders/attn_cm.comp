#version 450
#extension GL_GOOGLE_include_directive : require
// Causal attention on cooperative matrices: attn_fa's contract (read its
// header: q [B, Tn, H, hd] at positions past..past+Tn−1, keys and values by
// strides, kStart, lse), its products S = q·kᵀ and P·v on tensor cores
// (attn_cm.glsl says how, and the error they keep), head dims up to HDP.
// Workgroup (x, y) = (block of BQ queries, b·H + h); each key block of BK
// is staged once and serves the tile's BQ queries. Softmax is online, in
// float32: each block rescales its row's running sum and output by
// exp(old max − new max), and the block's P·v, accumulated from zero, is
// added to the output in float32 (its scale differs block to block).
#include "attn_cm.glsl"

layout(std430, binding = 0) writeonly buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };
layout(std430, binding = 2) readonly buffer K { float kc[]; };
layout(std430, binding = 3) readonly buffer V { float vc[]; };
layout(std430, binding = 4) readonly buffer KS { int kStart[]; };
layout(std430, binding = 5) writeonly buffer L { float lse[]; };
layout(push_constant) uniform P {
	uint tn; uint h; uint kv; uint hd; uint past;
	uint hasKStart; uint hasLSE; uint kvBatch; uint kvHead; uint kvRow; float scale;
} p;

shared float Ss[NS * T * BK]; // a subgroup's scores [T][BK], then its P·v by rounds [T][RW]
shared float16_t Ps[NS * T * SP];

void main() {
	uint lid = gl_LocalInvocationIndex, L = gl_WorkGroupSize.x;
	uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
	uint row = lane / LPR, part = lane - row * LPR;
	uint i0 = gl_WorkGroupID.x * BQ;
	uint pair = gl_WorkGroupID.y; // b·H + h
	uint h = pair % p.h;
	uint b = pair / p.h;
	uint g = h / (p.h / p.kv);
	uint total = p.past + p.tn;
	uint ks0 = 0u;
	if (p.hasKStart != 0u) ks0 = uint(clamp(kStart[b], 0, int(total)));
	uint kvBase = b * p.kvBatch + g * p.kvHead;
	if (lid < 6u) smax[lid] = 0u;
	barrier();

	// The query tile, scaled, through Xs into registers.
	float mq = 0.0;
	for (uint x = lid; x < BQ * HDP; x += L) {
		uint r = x / HDP, e = x - r * HDP;
		if (i0 + r < p.tn && e < p.hd) mq = maxFinite(mq, q[((b * p.tn + i0 + r) * p.h + h) * p.hd + e]);
	}
	atomicMax(smax[0], floatBitsToUint(mq));
	barrier();
	float sq = scaleOf(smax[0]);
	for (uint x = lid; x < BQ * HDP / 4u; x += L) {
		uint r = x / (HDP / 4u), c4 = x - r * (HDP / 4u);
		vec4 v = vec4(0.0);
		[[unroll]] for (uint k = 0u; k < 4u; k++) {
			uint e = c4 * 4u + k;
			if (i0 + r < p.tn && e < p.hd) v[k] = q[((b * p.tn + i0 + r) * p.h + h) * p.hd + e];
		}
		Xs[r * SV + c4] = f16vec4(v * sq);
	}
	barrier();
	MATA qa[NE];
	[[unroll]] for (uint n = 0u; n < NE; n++)
		if (n * T < HDP) coopMatLoad(qa[n], Xs, (sg * T) * SV + n * T / 4u, SV, gl_CooperativeMatrixLayoutRowMajor);

	uint i = i0 + sg * T + row; // this invocation's query
	uint pos = p.past + i;
	bool live = i < p.tn && pos >= ks0;
	float m = NEG_INF, l = 0.0;
	float acc[NO];
	[[unroll]] for (uint n = 0u; n < NO; n++) acc[n] = 0.0;
	uint sBase = sg * T * BK, pBase = sg * T * SP;

	uint last = min(p.past + min(i0 + BQ, p.tn), total); // one past the last key any row sees
	uint blk = 0u;
	for (uint j0 = ks0; j0 < last; j0 += BK, blk++) {
		uint slot = 2u + (blk & 1u) * 2u;
		barrier(); // the previous block's tiles (and, first, the queries') are read
		float mk = 0.0, mv = 0.0;
		for (uint x = lid; x < BK * HDP; x += L) {
			uint c = x / HDP, e = x - c * HDP;
			if (j0 + c < total && e < p.hd) {
				uint at = kvBase + (j0 + c) * p.kvRow + e;
				mk = maxFinite(mk, kc[at]);
				mv = maxFinite(mv, vc[at]);
			}
		}
		atomicMax(smax[slot], floatBitsToUint(mk));
		atomicMax(smax[slot + 1u], floatBitsToUint(mv));
		if (lid == 0u) { // the other slot was last read before this block's first barrier
			smax[6u - slot] = 0u;
			smax[7u - slot] = 0u;
			nonFinite = 0u; // read last after the previous block's check
		}
		barrier();
		float sk = scaleOf(smax[slot]), sv = scaleOf(smax[slot + 1u]);
		for (uint x = lid; x < BK * HDP / 4u; x += L) {
			uint c = x / (HDP / 4u), c4 = x - c * (HDP / 4u);
			vec4 kv4 = vec4(0.0), vv4 = vec4(0.0);
			[[unroll]] for (uint k = 0u; k < 4u; k++) {
				uint e = c4 * 4u + k;
				if (j0 + c < total && e < p.hd) {
					uint at = kvBase + (j0 + c) * p.kvRow + e;
					kv4[k] = kc[at];
					vv4[k] = vc[at];
				}
			}
			Xs[c * SV + c4] = f16vec4(kv4 * sk);
			Xs[(BK + c) * SV + c4] = f16vec4(vv4 * sv);
		}
		barrier();
		// Values of keys past the tile's first position (all of them where
		// kStart leaves that row none) are masked for some of its rows:
		// only there may P·v, whose masked P are 0, carry a NaN to them.
		uint seen = p.past + i0 + 1u; // keys j < seen every row sees (or none)
		uint from = seen > j0 ? seen - j0 : 0u;
		bool scalarPV = false;
		if (from < BK) {
			if (rowsNonFinite(BK + from, BK - from, lid, L)) atomicOr(nonFinite, 1u);
			barrier();
			scalarPV = nonFinite != 0u;
		}

		// S = q·kᵀ for the subgroup's T queries and the block's BK keys.
		ACC s[NB];
		[[unroll]] for (uint c = 0u; c < NB; c++)
			if (c * T < BK) s[c] = ACC(0.0);
		[[unroll]] for (uint kk = 0u; kk < NE; kk++) {
			if (kk * T >= HDP) continue;
			[[unroll]] for (uint c = 0u; c < NB; c++) {
				if (c * T >= BK) continue;
				MATB kb;
				coopMatLoad(kb, Xs, (c * T) * SV + kk * T / 4u, SV, gl_CooperativeMatrixLayoutColumnMajor);
				s[c] = coopMatMulAdd(qa[kk], kb, s[c]);
			}
		}
		[[unroll]] for (uint c = 0u; c < NB; c++)
			if (c * T < BK) coopMatStore(s[c], Ss, sBase + c * T, BK, gl_CooperativeMatrixLayoutRowMajor);
		syncSubgroup();

		// The row's block maximum, its new running maximum, and the block's
		// probabilities relative to it, staged as float16 (at most 1).
		float f = p.scale / (sq * sk);
		float mx = NEG_INF;
		for (uint c = part; c < BK; c += LPR) {
			uint j = j0 + c;
			if (live && j < total && j <= pos) mx = max(mx, Ss[sBase + row * BK + c] * f);
		}
		float mNew = max(m, rowMax(mx, sg, row, lane));
		float alpha = mNew > NEG_INF ? exp(m - mNew) : 1.0;
		// Only a −Inf score weighs 0 (as in attn_fa), also where the row's
		// maximum is −Inf, whose exp(−Inf + Inf) was NaN: a row whose
		// visible scores are all −Inf is one with no visible key (l stays
		// 0). A NaN score stays NaN.
		float sum = 0.0;
		for (uint c = part; c < BK; c += LPR) {
			uint j = j0 + c;
			float pv = 0.0;
			float score = Ss[sBase + row * BK + c] * f;
			if (live && j < total && j <= pos && score != NEG_INF) pv = exp(score - mNew);
			sum += pv;
			Ps[pBase + row * SP + c] = float16_t(pv);
		}
		l = l * alpha + rowSum(sum, sg, row, lane); // rowSum's barriers order Ps too
		m = mNew;

		// The block's P·v from zero, RW columns a round, through Ss into the
		// row's outputs (rescaled first).
		[[unroll]] for (uint n = 0u; n < NO; n++)
			if (n < HDP / LPR) acc[n] *= alpha;
		float iv = 1.0 / sv;
		if (scalarPV) {
			for (uint c = 0u; c < BK; c++) {
				uint j = j0 + c;
				if (!(live && j < total && j <= pos)) continue;
				float score = Ss[sBase + row * BK + c] * f;
				float pv = score != NEG_INF ? exp(score - mNew) : 0.0;
				uint at = kvBase + j * p.kvRow;
				[[unroll]] for (uint n = 0u; n < NO; n++) {
					uint e = part + LPR * n;
					if (n < HDP / LPR && e < p.hd) acc[n] += pv * vc[at + e];
				}
			}
		} else [[unroll]] for (uint r = 0u; r < NR; r++) {
			ACC pv[RW / 8u];
			[[unroll]] for (uint n = 0u; n < RW / 8u; n++)
				if (n * T < RW) pv[n] = ACC(0.0);
			[[unroll]] for (uint kk = 0u; kk < NB; kk++) {
				if (kk * T >= BK) continue;
				MATA pa;
				coopMatLoad(pa, Ps, pBase + kk * T, SP, gl_CooperativeMatrixLayoutRowMajor);
				[[unroll]] for (uint n = 0u; n < RW / 8u; n++) {
					if (n * T >= RW) continue;
					MATB vb;
					coopMatLoad(vb, Xs, (BK + kk * T) * SV + (r * RW + n * T) / 4u, SV, gl_CooperativeMatrixLayoutRowMajor);
					pv[n] = coopMatMulAdd(pa, vb, pv[n]);
				}
			}
			[[unroll]] for (uint n = 0u; n < RW / 8u; n++)
				if (n * T < RW) coopMatStore(pv[n], Ss, sBase + n * T, BK, gl_CooperativeMatrixLayoutRowMajor);
			syncSubgroup();
			[[unroll]] for (uint m = 0u; m < RW; m++)
				if (m < RW / LPR) acc[r * (RW / LPR) + m] += Ss[sBase + row * BK + part + LPR * m] * iv;
			subgroupBarrier(); // Ss read before it is written again
		}
	}
	if (i >= p.tn) return;
	uint outOff = ((b * p.tn + i) * p.h + h) * p.hd;
	// l is 0 only for a row with no visible key or whose visible scores
	// are all −Inf (output 0, lse 0); a NaN sum stays NaN (as in attn_fa:
	// a NaN score's weight exp(NaN) is NaN, never 0).
	float inv = live && l != 0.0 ? 1.0 / l : 0.0;
	[[unroll]] for (uint n = 0u; n < NO; n++) {
		uint e = part + LPR * n;
		if (n < HDP / LPR && e < p.hd) o[outOff + e] = acc[n] * inv;
	}
	if (p.hasLSE != 0u && part == 0u) lse[(b * p.h + h) * p.tn + i] = live && l != 0.0 ? m + log(l) : 0.0;
}
