#version 450
// Causal attention of queries q [B, Tn, H, hd] at positions past..past+Tn−1
// over keys and values addressed by strides (b·kvBatch + g·kvHead + j·kvRow),
// as attn.comp, a tile of TT queries of one (b, h) per workgroup: the keys
// pass through shared memory TT at a time and every one of them serves the
// tile's TT queries (attn.comp reads each key once per query, a row of
// keys per invocation). Softmax is online: each key block rescales the
// running sum and output by exp(old max − new max), as FlashAttention does.
// With hasLSE the row's log-sum-exp goes to lse [B, H, Tn] (0 for a row with
// no visible key or whose visible scores are all −Inf, whose output is 0).
// Compiled with -DTT=32 (head dims ≤ 64) and -DTT=16 (≤ 128): a tile row
// holds 2048/TT floats, read from shared memory four at a time (a row's
// tail past hd is zero). Workgroup (x, y) = (query block, b·H + h).
layout(local_size_x = 256) in;
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

const uint HD = 2048u / TT; // the largest head dim a tile row holds
const uint RS = HD / 4u + 1u; // tile row stride in vec4s: rows start in different banks
const uint PER = 256u / TT;   // invocations per query row in the row phases
const uint NV = HD / 4u / PER; // output vec4s per invocation (2)
const uint R = TT / 16u;      // score rows and columns per invocation

shared vec4 Qs[TT * RS];
shared vec4 KVs[TT * RS];
shared float Ps[TT * (TT + 1u)];

void main() {
	uint lid = gl_LocalInvocationID.x;
	uint i0 = gl_WorkGroupID.x * TT;
	uint pair = gl_WorkGroupID.y; // b·H + h
	uint h = pair % p.h;
	uint b = pair / p.h;
	uint g = h / (p.h / p.kv);
	uint total = p.past + p.tn;
	uint ks0 = 0u;
	if (p.hasKStart != 0u) ks0 = uint(clamp(kStart[b], 0, int(total)));
	uint kvBase = b * p.kvBatch + g * p.kvHead;
	uint hd4 = (p.hd + 3u) / 4u; // vec4s per row, the last padded with zeros
	uint w = hd4 * 4u;

	for (uint x = lid; x < TT * w; x += 256u) {
		uint r = x / w, e = x - r * w;
		Qs[r * RS + e / 4u][e % 4u] = i0 + r < p.tn && e < p.hd ? q[((b * p.tn + i0 + r) * p.h + h) * p.hd + e] : 0.0;
	}

	// Row phase: invocation (r, sub) keeps row r's running max, sum and
	// its outputs, the vec4s sub + PER·n.
	uint r = lid / PER, sub = lid - r * PER;
	uint pos = p.past + i0 + r;
	bool live = i0 + r < p.tn && pos >= ks0;
	float m = -1.0 / 0.0, l = 0.0;
	vec4 acc[NV];
	for (uint n = 0u; n < NV; n++) acc[n] = vec4(0.0);
	// Score phase: invocation (sr, sc) computes rows sr + 16·a, columns sc + 16·c.
	uint sr = lid / 16u, sc = lid - sr * 16u;

	uint last = min(p.past + min(i0 + TT, p.tn), total); // one past the last key any row sees
	for (uint j0 = ks0; j0 < last; j0 += TT) {
		barrier(); // the previous block's values and probabilities are read
		for (uint x = lid; x < TT * w; x += 256u) {
			uint c = x / w, e = x - c * w;
			KVs[c * RS + e / 4u][e % 4u] = j0 + c < total && e < p.hd ? kc[kvBase + (j0 + c) * p.kvRow + e] : 0.0;
		}
		barrier();
		float s[R][R];
		for (uint a = 0u; a < R; a++)
			for (uint c = 0u; c < R; c++) s[a][c] = 0.0;
		for (uint e4 = 0u; e4 < hd4; e4++) {
			vec4 qv[R], kv[R];
			for (uint a = 0u; a < R; a++) qv[a] = Qs[(sr + 16u * a) * RS + e4];
			for (uint c = 0u; c < R; c++) kv[c] = KVs[(sc + 16u * c) * RS + e4];
			for (uint a = 0u; a < R; a++)
				for (uint c = 0u; c < R; c++) s[a][c] += dot(qv[a], kv[c]);
		}
		for (uint a = 0u; a < R; a++) {
			uint rr = sr + 16u * a;
			uint rpos = p.past + i0 + rr;
			bool rlive = i0 + rr < p.tn && rpos >= ks0;
			for (uint c = 0u; c < R; c++) {
				uint j = j0 + sc + 16u * c;
				Ps[rr * (TT + 1u) + sc + 16u * c] = rlive && j <= rpos ? s[a][c] * p.scale : -1.0 / 0.0;
			}
		}
		barrier();
		for (uint x = lid; x < TT * w; x += 256u) {
			uint c = x / w, e = x - c * w;
			KVs[c * RS + e / 4u][e % 4u] = j0 + c < total && e < p.hd ? vc[kvBase + (j0 + c) * p.kvRow + e] : 0.0;
		}
		// Every invocation of row r finds the same maximum, in the same order.
		float mx = m;
		for (uint c = 0u; c < TT; c++) mx = max(mx, Ps[r * (TT + 1u) + c]);
		float alpha = live && mx > -1.0 / 0.0 ? exp(m - mx) : 1.0;
		m = mx;
		barrier(); // all maxima read before the scores become probabilities
		// Only a masked score (−Inf) weighs 0: a NaN one is no mask and
		// must reach the output, as on the CPU (max() above may drop it).
		for (uint c = sub; c < TT; c += PER) {
			float sv = Ps[r * (TT + 1u) + c];
			Ps[r * (TT + 1u) + c] = sv == -1.0 / 0.0 ? 0.0 : exp(sv - m);
		}
		barrier();
		float bl = 0.0;
		for (uint n = 0u; n < NV; n++) acc[n] *= alpha;
		// The keys the row sees, no further: a masked key weighs 0, but
		// 0·NaN is NaN, and a masked value must not reach the row.
		uint cEnd = live && pos >= j0 ? min(TT, pos + 1u - j0) : 0u;
		for (uint c = 0u; c < cEnd; c++) {
			float pv = Ps[r * (TT + 1u) + c];
			bl += pv;
			for (uint n = 0u; n < NV; n++) acc[n] += pv * KVs[c * RS + sub + PER * n];
		}
		l = l * alpha + bl;
	}
	if (i0 + r >= p.tn) return;
	uint outOff = ((b * p.tn + i0 + r) * p.h + h) * p.hd;
	// l is 0 only for a row with no visible key or whose visible scores
	// are all −Inf (each weighs 0: the test above); a NaN sum stays NaN.
	float inv = live && l != 0.0 ? 1.0 / l : 0.0;
	for (uint n = 0u; n < NV; n++)
		for (uint k = 0u; k < 4u; k++) {
			uint e = (sub + PER * n) * 4u + k;
			if (e < p.hd) o[outOff + e] = acc[n][k] * inv;
		}
	if (p.hasLSE != 0u && sub == 0u) lse[(b * p.h + h) * p.tn + i0 + r] = live && l != 0.0 ? m + log(l) : 0.0;
}
