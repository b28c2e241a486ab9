#version 450
// Attention backward, tiled: adds the per-head key and value gradients of
// attn_fa_dkv, part [2, np, T, hd] for heads pb..pb+np−1 (whole kv groups),
// into dk and dv [B, T, KV, hd], the heads of a group in order. One
// invocation per element of the groups' dk (and dv).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer DK { float dk[]; };
layout(std430, binding = 1) buffer DV { float dv[]; };
layout(std430, binding = 2) readonly buffer Part { float part[]; };
layout(push_constant) uniform P { uint pb; uint np; uint t; uint h; uint kv; uint hd; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	uint rep = p.h / p.kv;
	uint per = p.t * p.hd; // one head's share
	if (i >= (p.np / rep) * per) return;
	uint gl = i / per;       // group within the chunk
	uint je = i - gl * per;  // j·hd + e
	uint grp = p.pb / rep + gl; // b·KV + g
	uint g = grp % p.kv;
	uint b = grp / p.kv;
	uint j = je / p.hd, e = je - j * p.hd;
	float sk = 0.0, sv = 0.0;
	uint half_ = p.np * per;
	for (uint hr = 0u; hr < rep; hr++) {
		uint at = (gl * rep + hr) * per + je;
		sk += part[at];
		sv += part[half_ + at];
	}
	uint at = ((b * p.t + j) * p.kv + g) * p.hd + e;
	dk[at] = dk[at] + sk;
	dv[at] = dv[at] + sv;
}
