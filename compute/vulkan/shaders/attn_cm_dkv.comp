#version 450
#extension GL_GOOGLE_include_directive : require
// Attention backward on cooperative matrices, step 2 of 2: attn_fa_dkv's
// contract (read its header: a head's share of dk = scale·Σ_t dS_tj·q_t and
// dv = Σ_t P_tj·dout_t into part [2, np, T, hd] for attn_fa_sum, D from
// step 1), its products k·qᵀ, v·doutᵀ, Pᵀ·dout and dSᵀ·q on tensor cores
// (attn_cm.glsl says how), head dims up to HDP. Workgroup (x, y) = (block of
// BQ keys, pair − pb); subgroup s owns T keys, and the queries pass in
// blocks of BK, each staged once. A block's Pᵀ·dout and dSᵀ·q are
// accumulated from zero and added to the float32 sums (their scales differ
// block to block).
#include "attn_cm.glsl"

layout(std430, binding = 0) writeonly buffer Part { float part[]; };
layout(std430, binding = 1) readonly buffer Db { float dsum[]; };
layout(std430, binding = 2) readonly buffer Q { float q[]; };
layout(std430, binding = 3) readonly buffer K { float k[]; };
layout(std430, binding = 4) readonly buffer V { float v[]; };
layout(std430, binding = 5) readonly buffer DO { float dout[]; };
layout(std430, binding = 6) readonly buffer L { float lse[]; };
layout(std430, binding = 7) readonly buffer KS { int kStart[]; };
layout(push_constant) uniform P { uint pb; uint np; uint t; uint h; uint kv; uint hd; uint hasKStart; float scale; } p;

shared float Ss[NS * T * BK];  // a subgroup's Sᵀ, then dSᵀ, then dSᵀ·q by rounds
shared float DPs[NS * T * BK]; // its dPᵀ = v·doutᵀ, then Pᵀ·dout by rounds
shared float16_t Ps[NS * T * SP];  // Pᵀ
shared float16_t DSs[NS * T * SP]; // dSᵀ, scaled
shared float Ls[BK], Ds[BK];

void main() {
	uint lid = gl_LocalInvocationIndex, L = gl_WorkGroupSize.x;
	uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
	uint row = lane / LPR, part_ = lane - row * LPR;
	uint j0 = gl_WorkGroupID.x * BQ;
	uint local = gl_WorkGroupID.y;
	uint pair = p.pb + local;
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

	// The key tile and the value tile, each scaled, through Xs into registers.
	float mk = 0.0, mv = 0.0;
	for (uint x = lid; x < BQ * HDP; x += L) {
		uint r = x / HDP, e = x - r * HDP;
		if (j0 + r < p.t && e < p.hd) {
			uint at = kBase + (j0 + r) * kRow + e;
			mk = maxFinite(mk, k[at]);
			mv = maxFinite(mv, v[at]);
		}
	}
	atomicMax(smax[0], floatBitsToUint(mk));
	atomicMax(smax[1], floatBitsToUint(mv));
	barrier();
	float sk = scaleOf(smax[0]), sv = scaleOf(smax[1]);
	MATA ka[NE], va[NE];
	for (uint x = lid; x < BQ * HDP / 4u; x += L) {
		uint r = x / (HDP / 4u), c4 = x - r * (HDP / 4u);
		vec4 w = vec4(0.0);
		[[unroll]] for (uint c = 0u; c < 4u; c++) {
			uint e = c4 * 4u + c;
			if (j0 + r < p.t && e < p.hd) w[c] = k[kBase + (j0 + r) * kRow + e];
		}
		Xs[r * SV + c4] = f16vec4(w * sk);
	}
	barrier();
	[[unroll]] for (uint n = 0u; n < NE; n++)
		if (n * T < HDP) coopMatLoad(ka[n], Xs, (sg * T) * SV + n * T / 4u, SV, gl_CooperativeMatrixLayoutRowMajor);
	barrier();
	for (uint x = lid; x < BQ * HDP / 4u; x += L) {
		uint r = x / (HDP / 4u), c4 = x - r * (HDP / 4u);
		vec4 w = vec4(0.0);
		[[unroll]] for (uint c = 0u; c < 4u; c++) {
			uint e = c4 * 4u + c;
			if (j0 + r < p.t && e < p.hd) w[c] = v[kBase + (j0 + r) * kRow + e];
		}
		Xs[r * SV + c4] = f16vec4(w * sv);
	}
	barrier();
	[[unroll]] for (uint n = 0u; n < NE; n++)
		if (n * T < HDP) coopMatLoad(va[n], Xs, (sg * T) * SV + n * T / 4u, SV, gl_CooperativeMatrixLayoutRowMajor);

	uint j = j0 + sg * T + row; // this invocation's key
	bool liveKey = j < p.t && j >= ks0;
	float ak[NO], av[NO];
	[[unroll]] for (uint n = 0u; n < NO; n++) {
		ak[n] = 0.0;
		av[n] = 0.0;
	}
	uint sBase = sg * T * BK, pBase = sg * T * SP;

	// Queries before max(j0, kStart) see none of the tile's keys; a tile
	// wholly before kStart is seen by none.
	uint first = j0 + BQ <= ks0 ? p.t : max(j0, ks0);
	uint blk = 0u;
	for (uint t0 = first; t0 < p.t; t0 += BK, blk++) {
		uint slot = 2u + (blk & 1u) * 2u;
		barrier(); // the previous block's tiles (and, first, the values') are read
		float mq = 0.0, mo = 0.0;
		for (uint x = lid; x < BK * HDP; x += L) {
			uint r = x / HDP, e = x - r * HDP;
			if (t0 + r < p.t && e < p.hd) {
				uint at = qBase + (t0 + r) * qRow + e;
				mq = maxFinite(mq, q[at]);
				mo = maxFinite(mo, dout[at]);
			}
		}
		atomicMax(smax[slot], floatBitsToUint(mq));
		atomicMax(smax[slot + 1u], floatBitsToUint(mo));
		if (lid == 0u) {
			smax[6u - slot] = 0u;
			smax[7u - slot] = 0u;
			nonFinite = 0u; // read last after the previous block's check
		}
		if (lid < BK) {
			bool in_ = t0 + lid < p.t;
			Ls[lid] = in_ ? lse[pair * p.t + t0 + lid] : 0.0;
			Ds[lid] = in_ ? dsum[pair * p.t + t0 + lid] : 0.0;
		}
		barrier();
		float sq = scaleOf(smax[slot]), so = scaleOf(smax[slot + 1u]);
		for (uint x = lid; x < BK * HDP / 4u; x += L) {
			uint r = x / (HDP / 4u), c4 = x - r * (HDP / 4u);
			vec4 qw = vec4(0.0), ow = vec4(0.0);
			[[unroll]] for (uint c = 0u; c < 4u; c++) {
				uint e = c4 * 4u + c;
				if (t0 + r < p.t && e < p.hd) {
					uint at = qBase + (t0 + r) * qRow + e;
					qw[c] = q[at];
					ow[c] = dout[at];
				}
			}
			Xs[r * SV + c4] = f16vec4(qw * sq);
			Xs[(BK + r) * SV + c4] = f16vec4(ow * so);
		}
		barrier();
		// Queries before the tile's last key (all of them where kStart
		// leaves keys of the tile unseen) are masked for some of its keys:
		// only there may Pᵀ·dout and dSᵀ·q, whose masked P and dS are 0,
		// carry a NaN to them.
		uint upto = ks0 > j0 ? BK : (j0 + BQ - 1u > t0 ? min(BK, j0 + BQ - 1u - t0) : 0u);
		bool scalarKV = false;
		if (upto > 0u) {
			if (rowsNonFinite(0u, upto, lid, L) || rowsNonFinite(BK, upto, lid, L)) atomicOr(nonFinite, 1u);
			barrier();
			scalarKV = nonFinite != 0u;
		}

		// Sᵀ = k·qᵀ and dPᵀ = v·doutᵀ for the subgroup's T keys.
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
				MATB qb, ob;
				coopMatLoad(qb, Xs, (c * T) * SV + kk * T / 4u, SV, gl_CooperativeMatrixLayoutColumnMajor);
				coopMatLoad(ob, Xs, (BK + c * T) * SV + kk * T / 4u, SV, gl_CooperativeMatrixLayoutColumnMajor);
				s[c] = coopMatMulAdd(ka[kk], qb, s[c]);
				dp[c] = coopMatMulAdd(va[kk], ob, dp[c]);
			}
		}
		[[unroll]] for (uint c = 0u; c < NB; c++)
			if (c * T < BK) {
				coopMatStore(s[c], Ss, sBase + c * T, BK, gl_CooperativeMatrixLayoutRowMajor);
				coopMatStore(dp[c], DPs, sBase + c * T, BK, gl_CooperativeMatrixLayoutRowMajor);
			}
		syncSubgroup();

		// Pᵀ (at most 1, staged as it is) and dSᵀ = Pᵀ·(dPᵀ − D) in float32,
		// then staged by the block's own scale.
		float fs = p.scale / (sk * sq), fp = 1.0 / (sv * so);
		float mds = 0.0;
		for (uint c = part_; c < BK; c += LPR) {
			uint t = t0 + c;
			float pr = 0.0, ds = 0.0;
			if (liveKey && t < p.t && j <= t) {
				pr = exp(Ss[sBase + row * BK + c] * fs - Ls[c]);
				ds = pr * (DPs[sBase + row * BK + c] * fp - Ds[c]);
			}
			Ps[pBase + row * SP + c] = float16_t(pr);
			Ss[sBase + row * BK + c] = ds;
			mds = maxFinite(mds, ds);
		}
		float sds = scaleOf(floatBitsToUint(subgroupMaxOf(mds, sg, lane)));
		for (uint c = part_; c < BK; c += LPR) DSs[pBase + row * SP + c] = float16_t(Ss[sBase + row * BK + c] * sds);
		syncSubgroup();

		// The block's Pᵀ·dout and dSᵀ·q from zero, RW columns a round.
		float ivv = 1.0 / so, ivk = 1.0 / (sds * sq);
		if (scalarKV) {
			for (uint c = 0u; c < BK; c++) {
				uint t = t0 + c;
				if (!(liveKey && t < p.t && j <= t)) continue;
				float ds = Ss[sBase + row * BK + c], pr = float(Ps[pBase + row * SP + c]);
				uint at = qBase + t * qRow;
				[[unroll]] for (uint n = 0u; n < NO; n++) {
					uint e = part_ + LPR * n;
					if (n < HDP / LPR && e < p.hd) {
						ak[n] += ds * q[at + e];
						av[n] += pr * dout[at + e];
					}
				}
			}
		} else [[unroll]] for (uint r = 0u; r < NR; r++) {
			ACC dv[RW / 8u], dk[RW / 8u];
			[[unroll]] for (uint n = 0u; n < RW / 8u; n++)
				if (n * T < RW) {
					dv[n] = ACC(0.0);
					dk[n] = ACC(0.0);
				}
			[[unroll]] for (uint kk = 0u; kk < NB; kk++) {
				if (kk * T >= BK) continue;
				MATA pa, da;
				coopMatLoad(pa, Ps, pBase + kk * T, SP, gl_CooperativeMatrixLayoutRowMajor);
				coopMatLoad(da, DSs, pBase + kk * T, SP, gl_CooperativeMatrixLayoutRowMajor);
				[[unroll]] for (uint n = 0u; n < RW / 8u; n++) {
					if (n * T >= RW) continue;
					MATB ob, qb;
					coopMatLoad(ob, Xs, (BK + kk * T) * SV + (r * RW + n * T) / 4u, SV, gl_CooperativeMatrixLayoutRowMajor);
					coopMatLoad(qb, Xs, (kk * T) * SV + (r * RW + n * T) / 4u, SV, gl_CooperativeMatrixLayoutRowMajor);
					dv[n] = coopMatMulAdd(pa, ob, dv[n]);
					dk[n] = coopMatMulAdd(da, qb, dk[n]);
				}
			}
			[[unroll]] for (uint n = 0u; n < RW / 8u; n++)
				if (n * T < RW) {
					coopMatStore(dk[n], Ss, sBase + n * T, BK, gl_CooperativeMatrixLayoutRowMajor);
					coopMatStore(dv[n], DPs, sBase + n * T, BK, gl_CooperativeMatrixLayoutRowMajor);
				}
			syncSubgroup();
			[[unroll]] for (uint m = 0u; m < RW; m++)
				if (m < RW / LPR) {
					ak[r * (RW / LPR) + m] += Ss[sBase + row * BK + part_ + LPR * m] * ivk;
					av[r * (RW / LPR) + m] += DPs[sBase + row * BK + part_ + LPR * m] * ivv;
				}
			subgroupBarrier(); // read before written again
		}
	}
	if (j >= p.t) return;
	uint at = (local * p.t + j) * p.hd;
	uint half_ = p.np * p.t * p.hd;
	[[unroll]] for (uint n = 0u; n < NO; n++) {
		uint e = part_ + LPR * n;
		if (n < HDP / LPR && e < p.hd) {
			part[at + e] = p.scale * ak[n];
			part[half_ + at + e] = av[n];
		}
	}
}
