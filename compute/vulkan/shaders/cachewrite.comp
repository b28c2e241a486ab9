#version 450
// CacheWrite: cache[b, g, past + t, :] = x[b, t, g, :] for x [B, Tn, KV, hd]
// and cache [B, KV, maxLen, hd], one invocation per element of x.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer C { float cache[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
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
	cache[((b * p.kv + g) * p.maxLen + p.past + t) * p.hd + e] = x[i];
}
