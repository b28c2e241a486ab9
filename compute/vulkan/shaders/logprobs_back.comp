#version 450
// TokenLogProbs backward, one invocation per logit: for rows with target ≥ 0,
// dz += −g·exp(z·invTemp − lse), then dz[target] += g, with g = glp·invTemp.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer DZ { float dz[]; };
layout(std430, binding = 1) readonly buffer GLP { float glp[]; };
layout(std430, binding = 2) readonly buffer Z { float z[]; };
layout(std430, binding = 3) readonly buffer LSE { float lse[]; };
layout(std430, binding = 4) readonly buffer T { int targets[]; };
layout(push_constant) uniform P { uint n; uint V; float invTemp; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	if (i >= p.n) return;
	uint row = i / p.V;
	int t = targets[row];
	if (t < 0) return;
	float g = glp[row] * p.invTemp;
	float v = dz[i] + (-g) * exp(z[i] * p.invTemp - lse[row]);
	if (i - row * p.V == uint(t)) v += g;
	dz[i] = v;
}
