#version 450
// Draws the next token of each row of logits z [rows, v] where they are, so
// that only the id and its log-probability cross to the host: the draw of
// engine/sample's picker without truncation (no top-k, top-p or min-p).
//   greedy: the first largest of the allowed ids (< allowed);
//   else:   the allowed id i where t = u·Σe falls in the running sum of
//           e_i = exp((z_i − max allowed z)·invT), ids in order, zeros
//           skipped (u from the host's per-sequence stream);
//   logp = (z_id − max z)·invT − log Σ_all exp((z − max z)·invT) over the
//   whole row (invT is 1 when greedy).
// A row holding a NaN, or whose largest value is infinite, or whose allowed
// ids are all −∞, gives id 0xffffffff. One workgroup of 256 per row: the
// maxima and sums go through shared memory in a fixed order, so a row's
// draw repeats run to run; the sums are compensated (Kahan) in float32,
// within a few units in the last place of the host's float64 ones. For the
// draw each invocation sums a contiguous chunk of the ids, invocation 0
// finds the chunk where t falls, and that chunk's invocation walks it.
// res [rows, 2]: the id, then the float bits of logp.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer R { uint res[]; };
layout(std430, binding = 1) readonly buffer Z { float z[]; };
layout(std430, binding = 2) readonly buffer U { float u[]; };
layout(push_constant) uniform P { uint rows; uint v; uint allowed; float invT; uint greedy; } p;

shared float sv[256];
shared uint si[256];
shared float sm[256];
shared float pre[256]; // chunk sums, then their running sums
shared uint pick;      // the chunk where t falls
shared float from;     // the running sum before that chunk
shared float tt;

// add sets (s, c) to s + x with Kahan's compensation c.
void add(inout precise float s, inout precise float c, float x) {
	precise float y = x - c;
	precise float t = s + y;
	c = (t - s) - y;
	s = t;
}

void main() {
	uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
	if (row >= p.rows) return; // the whole workgroup
	uint lid = gl_LocalInvocationID.x;
	uint base = row * p.v;
	const float NEG = -1.0 / 0.0;

	// The largest allowed value and its first id; the row's largest value.
	float am = NEG, zm = NEG;
	uint ai = 0xffffffffu;
	bool bad = false;
	for (uint i = lid; i < p.v; i += 256u) {
		float x = z[base + i];
		bad = bad || isnan(x);
		if (i < p.allowed && x > am) {
			am = x;
			ai = i;
		}
		zm = max(zm, x);
	}
	sv[lid] = am;
	si[lid] = ai;
	sm[lid] = bad ? 1.0 : zm; // a NaN is flagged apart: max() may drop it
	pre[lid] = bad ? 1.0 : 0.0;
	barrier();
	for (uint s = 128u; s > 0u; s >>= 1u) {
		if (lid < s) {
			float ov = sv[lid + s];
			uint oi = si[lid + s];
			if (ov > sv[lid] || (ov == sv[lid] && oi < si[lid])) {
				sv[lid] = ov;
				si[lid] = oi;
			}
			sm[lid] = max(sm[lid], sm[lid + s]);
			pre[lid] = max(pre[lid], pre[lid + s]);
		}
		barrier();
	}
	am = sv[0];
	ai = si[0];
	zm = sm[0];
	bad = pre[0] != 0.0 || isinf(zm) || am == NEG || ai == 0xffffffffu;
	barrier();
	if (bad) {
		if (lid == 0u) {
			res[2u * row] = 0xffffffffu;
			res[2u * row + 1u] = 0u;
		}
		return;
	}
	float invT = p.greedy != 0u ? 1.0 : p.invT;

	// Σ over the whole row of exp((z − zm)·invT), for the log-probability.
	precise float s = 0.0, c = 0.0;
	for (uint i = lid; i < p.v; i += 256u) add(s, c, exp((z[base + i] - zm) * invT));
	sv[lid] = s;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1u) {
		if (lid < k) sv[lid] += sv[lid + k];
		barrier();
	}
	float logSum = log(sv[0]);

	uint id = ai;
	if (p.greedy == 0u) {
		// Chunk sums of e over the allowed ids.
		uint chunk = (p.allowed + 255u) / 256u;
		uint lo = min(lid * chunk, p.allowed), hi = min(lo + chunk, p.allowed);
		precise float cs = 0.0, cc = 0.0;
		for (uint i = lo; i < hi; i++) add(cs, cc, exp((z[base + i] - am) * invT));
		pre[lid] = cs;
		barrier();
		if (lid == 0u) {
			precise float run = 0.0, rc = 0.0;
			for (uint j = 0u; j < 256u; j++) {
				add(run, rc, pre[j]);
				pre[j] = run;
			}
			float t = u[row] * run;
			// Past the total (rounding): the last chunk with any weight.
			pick = 0xffffffffu;
			uint lastNonzero = 0u;
			for (uint j = 0u; j < 256u; j++) {
				float before = j == 0u ? 0.0 : pre[j - 1u];
				if (pre[j] > before) lastNonzero = j;
				if (pick == 0xffffffffu && t < pre[j] && pre[j] > before) pick = j;
			}
			if (pick == 0xffffffffu) {
				pick = lastNonzero;
				t = pre[lastNonzero]; // walk to its last nonzero id
			}
			from = pick == 0u ? 0.0 : pre[pick - 1u];
			tt = t;
		}
		barrier();
		if (lid != pick) return;
		float cum = from;
		uint last = lo;
		id = 0xffffffffu;
		for (uint i = lo; i < hi; i++) {
			float e = exp((z[base + i] - am) * invT);
			if (e == 0.0) continue;
			cum += e;
			last = i;
			if (tt < cum) {
				id = i;
				break;
			}
		}
		if (id == 0xffffffffu) id = last; // rounding left t at the chunk's very top
	} else if (lid != 0u) {
		return;
	}
	res[2u * row] = id;
	res[2u * row + 1u] = floatBitsToUint((z[base + id] - zm) * invT - logSum);
}
