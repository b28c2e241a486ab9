#version 450
// CacheWrite: kCache[b, g, past + t, :] = k[b, t, g, :] and vCache likewise
// from v, for k, v [B, Tn, KV, hd] and caches [B, KV, maxLen, hd]: one
// invocation per element of k, which writes it and v's.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer KC { float kc[]; };
layout(std430, binding = 1) writeonly buffer VC { float vc[]; };
layout(std430, binding = 2) readonly buffer K { float k[]; };
layout(std430, binding = 3) readonly buffer V { float v[]; };
layout(push_constant) uniform P { uint n; uint tn; uint kv; uint hd; uint maxLen; uint past; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	if (i >= p.n) return;
	uint e = i % p.hd;
	uint r = i / p.hd; // (b·Tn + t)·KV + g
	uint g = r % p.kv;
	uint bt = r / p.kv;
	uint t = bt % p.tn;
	uint b = bt / p.tn;
	uint at = ((b * p.kv + g) * p.maxLen + p.past + t) * p.hd + e;
	kc[at] = k[i];
	vc[at] = v[i];
}
