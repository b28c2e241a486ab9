#version 450
// Attention backward, step 3: for kv groups whose query heads are all among
// pairs pb..pb+np−1 (np a multiple of H/KV), one invocation per (b, g, j, e):
// dk[b, j, g, e] += scale·Σ_{h in g} Σ_{t ≥ j} dS[h, t, j]·q[b, t, h, e] and
// dv[b, j, g, e] += Σ_{h in g} Σ_{t ≥ j} P[h, t, j]·dout[b, t, h, e].
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer DK { float dk[]; };
layout(std430, binding = 1) buffer DV { float dv[]; };
layout(std430, binding = 2) readonly buffer SP { float sp[]; };
layout(std430, binding = 3) readonly buffer SD { float sd[]; };
layout(std430, binding = 4) readonly buffer Q { float q[]; };
layout(std430, binding = 5) readonly buffer DO { float dout[]; };
layout(push_constant) uniform P { uint pb; uint np; uint t; uint h; uint kv; uint hd; float scale; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	uint rep = p.h / p.kv;
	uint groups = p.np / rep;
	if (i >= groups * p.t * p.hd) return;
	uint e = i % p.hd;
	uint r = i / p.hd;
	uint j = r % p.t;
	uint grp = p.pb / rep + r / p.t; // b·KV + g
	uint g = grp % p.kv;
	uint b = grp / p.kv;
	float ak = 0.0, av = 0.0;
	for (uint hr = 0u; hr < rep; hr++) {
		uint h = g * rep + hr;
		uint local = (b * p.h + h - p.pb) * p.t;
		for (uint t = j; t < p.t; t++) {
			uint s = (local + t) * p.t + j;
			uint qo = ((b * p.t + t) * p.h + h) * p.hd + e;
			ak += sd[s] * q[qo];
			av += sp[s] * dout[qo];
		}
	}
	uint at = ((b * p.t + j) * p.kv + g) * p.hd + e;
	dk[at] = dk[at] + p.scale * ak;
	dv[at] = dv[at] + av;
}
