#version 450
// Narrows each row of logits z [rows, v] to the ids a truncated draw (top-k,
// top-p, min-p) can take, so that only they cross to the host
// (compute.Shortlister; read its contract). An allowed id's weight is
// e = exp((z − max allowed z)·invT) and its class is read from e's exponent:
// 127 − exponent, at most 63 (0 for e = 1). The kernel counts and sums the
// weights by class, picks the class bound as engine/sample's picker picks
// its cut (top-k: the classes holding the k heaviest ids; else top-p: those
// holding topP of the weight, min-p: those at or above minP), adds one class
// for the host's rounding, and gathers every allowed id of nonzero weight up
// to it.
//
// One workgroup of 256 per row, three passes over the row: the maxima; the
// whole row's Σ exp((z − max z)·invT) with the class counts, class sums and
// total weight; the gathering. Sums go through shared memory in a fixed
// order (counts by atomics, which are exact), so a row's class bound and
// candidate set repeat run to run; the candidates' order in res does not.
// The row's sums are compensated (Kahan) in float32; the class sums, which
// only choose the bound, are plain, and top-p's test gives them 2⁻¹⁰ of
// slack toward more classes.
//
// res [rows, 8 + 2·cap]: count (0xffffffff: not finite, 0xfffffffe: more
// than cap), class bound, nonzero weights, then the float bits of max z,
// max allowed z, log Σ and the total weight, one word unused; then cap
// pairs (id, float bits of z).
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer R { uint res[]; };
layout(std430, binding = 1) readonly buffer Z { float z[]; };
layout(push_constant) uniform P {
	uint rows; uint v; uint allowed; float invT; uint topK; float topP; float minP; uint cap;
} p;

const uint CLASSES = 64u;
const uint HEAD = 8u;
// Classes summed a round: 8 keeps the kernel's shared memory at 13,320
// bytes, within the 16 KiB Vulkan guarantees (16 a round took 22,024, and
// a device of 16 KiB, which could not build it, was refused). Each class's
// sum is made in the same order at any ROUND, so the bound and the
// candidates are the same.
const uint ROUND = 8u;
const uint NOT_FINITE = 0xffffffffu, OVERFLOW = 0xfffffffeu;

shared float sv[256];
shared uint si[256];
shared float sm[256];
shared float sf[256];
shared uint cnt[CLASSES];
shared float part[ROUND * 256u]; // ROUND classes' per-invocation sums at a time
shared float seg[ROUND * 16u]; // each class's 16 segments of 16 invocations
shared float mass[CLASSES];
shared uint bound;
shared uint taken;

// add sets (s, c) to s + x with Kahan's compensation c.
void add(inout precise float s, inout precise float c, float x) {
	precise float y = x - c;
	precise float t = s + y;
	c = (t - s) - y;
	s = t;
}

uint classOf(float e) { return min(127u - min(floatBitsToUint(e) >> 23u, 127u), CLASSES - 1u); }

void main() {
	uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
	if (row >= p.rows) return; // the whole workgroup
	uint lid = gl_LocalInvocationID.x;
	uint base = row * p.v, out0 = row * (HEAD + 2u * p.cap);
	const float NEG = -1.0 / 0.0;

	// The largest allowed value; the row's largest value; NaN anywhere.
	float am = NEG, zm = NEG;
	bool bad = false;
	for (uint i = lid; i < p.v; i += 256u) {
		float x = z[base + i];
		bad = bad || isnan(x);
		if (i < p.allowed) am = max(am, x);
		zm = max(zm, x);
	}
	sv[lid] = am;
	sm[lid] = bad ? 1.0 : zm; // a NaN is flagged apart: max() may drop it
	sf[lid] = bad ? 1.0 : 0.0;
	if (lid < CLASSES) cnt[lid] = 0u;
	if (lid == 0u) taken = 0u;
	barrier();
	for (uint s = 128u; s > 0u; s >>= 1u) {
		if (lid < s) {
			sv[lid] = max(sv[lid], sv[lid + s]);
			sm[lid] = max(sm[lid], sm[lid + s]);
			sf[lid] = max(sf[lid], sf[lid + s]);
		}
		barrier();
	}
	am = sv[0];
	zm = sm[0];
	bad = sf[0] != 0.0 || isinf(zm) || am == NEG;
	barrier();
	if (bad) {
		if (lid == 0u) {
			res[out0] = NOT_FINITE;
			for (uint h = 1u; h < HEAD; h++) res[out0 + h] = 0u;
		}
		return;
	}

	// Σ over the whole row for the log-probabilities; per class the
	// allowed weights' count and sum; the total weight.
	precise float s = 0.0, c = 0.0, ts = 0.0, tc = 0.0;
	uint nz = 0u;
	float ms[CLASSES];
	for (uint k = 0u; k < CLASSES; k++) ms[k] = 0.0;
	for (uint i = lid; i < p.v; i += 256u) {
		float x = z[base + i];
		add(s, c, exp((x - zm) * p.invT));
		if (i >= p.allowed) continue;
		float e = exp((x - am) * p.invT);
		if (e == 0.0) continue;
		uint k = classOf(e);
		atomicAdd(cnt[k], 1u);
		ms[k] += e;
		add(ts, tc, e);
		nz++;
	}
	sv[lid] = s;
	sm[lid] = ts;
	si[lid] = nz;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1u) {
		if (lid < k) {
			sv[lid] += sv[lid + k];
			sm[lid] += sm[lid + k];
			si[lid] += si[lid + k];
		}
		barrier();
	}
	float logSum = log(sv[0]), total = sm[0];
	uint nonzero = si[0];
	// The class sums, ROUND classes a round: each invocation's sum, then
	// 16 segments of 16 invocations, then the segments, all in order.
	for (uint r = 0u; r < CLASSES / ROUND; r++) {
		for (uint j = 0u; j < ROUND; j++) part[j * 256u + lid] = ms[r * ROUND + j];
		barrier();
		if (lid < ROUND * 16u) {
			uint j = lid / 16u, sg = lid % 16u;
			float a = 0.0;
			for (uint q = 0u; q < 16u; q++) a += part[j * 256u + sg * 16u + q];
			seg[lid] = a;
		}
		barrier();
		if (lid < ROUND) {
			float b = 0.0;
			for (uint q = 0u; q < 16u; q++) b += seg[lid * 16u + q];
			mass[r * ROUND + lid] = b;
		}
		barrier();
	}

	// The class bound, by the picker's rules on these counts and sums.
	if (lid == 0u) {
		uint cut = CLASSES - 1u;
		if (p.topK > 0u && p.topK < nonzero) {
			uint n = 0u;
			for (uint k = 0u; k < CLASSES; k++) {
				n += cnt[k];
				if (n >= p.topK) {
					cut = k;
					break;
				}
			}
		} else {
			if (p.topP > 0.0) {
				float m = 0.0;
				for (uint k = 0u; k < CLASSES; k++) {
					m += mass[k];
					if (m * (1.0 - 1.0 / 1024.0) >= p.topP * total) {
						cut = min(cut, k);
						break;
					}
				}
			}
			if (p.minP > 0.0 && p.minP <= 1.0) cut = min(cut, classOf(p.minP));
		}
		bound = min(cut + 1u, CLASSES - 1u);
	}
	barrier();

	// The candidates: every allowed id of nonzero weight up to the bound.
	uint lim = bound;
	for (uint i = lid; i < p.allowed; i += 256u) {
		float x = z[base + i];
		float e = exp((x - am) * p.invT);
		if (e == 0.0 || classOf(e) > lim) continue;
		uint slot = atomicAdd(taken, 1u);
		if (slot < p.cap) {
			res[out0 + HEAD + 2u * slot] = i;
			res[out0 + HEAD + 2u * slot + 1u] = floatBitsToUint(x);
		}
	}
	barrier();
	if (lid == 0u) {
		res[out0] = taken > p.cap ? OVERFLOW : taken;
		res[out0 + 1u] = lim;
		res[out0 + 2u] = nonzero;
		res[out0 + 3u] = floatBitsToUint(zm);
		res[out0 + 4u] = floatBitsToUint(am);
		res[out0 + 5u] = floatBitsToUint(logSum);
		res[out0 + 6u] = floatBitsToUint(total);
		res[out0 + 7u] = 0u;
	}
}
