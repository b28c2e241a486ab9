#version 450
// Attention backward, step 2: dq[b, t, h, e] += scale·Σ_j dS[t, j]·k[b, j, g, e]
// for pairs pb..pb+np−1 (scratch from attn_ds), one invocation per element.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer DQ { float dq[]; };
layout(std430, binding = 1) readonly buffer SD { float sd[]; };
layout(std430, binding = 2) readonly buffer K { float k[]; };
layout(push_constant) uniform P { uint pb; uint np; uint t; uint h; uint kv; uint hd; float scale; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	if (i >= p.np * p.t * p.hd) return;
	uint e = i % p.hd;
	uint local = i / p.hd; // (pair − pb)·T + t
	uint t = local % p.t;
	uint pair = p.pb + local / p.t;
	uint h = pair % p.h;
	uint b = pair / p.h;
	uint g = h / (p.h / p.kv);
	float acc = 0.0;
	for (uint j = 0u; j <= t; j++) acc += sd[local * p.t + j] * k[((b * p.t + j) * p.kv + g) * p.hd + e];
	uint at = ((b * p.t + t) * p.h + h) * p.hd + e;
	dq[at] = dq[at] + p.scale * acc;
}
