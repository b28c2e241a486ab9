#version 450
// SwiGLU forward h = silu(g)·u, or (back = 1) its gradients:
// dg += dh·u·σ(g)·(1 + g·(1−σ(g))), du += dh·silu(g).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer H { float h[]; };     // h, or dg
layout(std430, binding = 1) buffer DU { float du[]; };   // unused forward, du
layout(std430, binding = 2) readonly buffer DH { float dh[]; }; // unused forward
layout(std430, binding = 3) readonly buffer G { float g[]; };
layout(std430, binding = 4) readonly buffer U { float u[]; };
layout(push_constant) uniform P { uint n; uint back; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	if (i >= p.n) return;
	float x = g[i];
	float sig = 1.0 / (1.0 + exp(-x));
	float silu = x * sig;
	if (p.back == 0u) {
		h[i] = silu * u[i];
		return;
	}
	float gi = dh[i];
	du[i] = du[i] + gi * silu;
	h[i] = h[i] + (gi * u[i]) * (sig + silu * (1.0 - sig));
}
