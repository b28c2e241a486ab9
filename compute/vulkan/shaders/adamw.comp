#version 450
// AdamW (PyTorch order) with the scalars formed on the host:
// m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// p = p·(1 − lr·wd) − (lr/bc1)·m / (sqrt(v)/sqrt(bc2) + eps).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Pp { float pr[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
layout(push_constant) uniform P {
	uint n; float beta1; float a1; float beta2; float a2; float sqrtBC2; float eps; float decay; float negStep;
} p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	if (i >= p.n) return;
	float gi = g[i];
	float mi = fma(gi, p.a1, p.beta1 * m[i]);
	float vi = fma(p.a2 * gi, gi, p.beta2 * v[i]);
	m[i] = mi;
	v[i] = vi;
	float denom = sqrt(vi) / p.sqrtBC2 + p.eps;
	pr[i] = pr[i] * p.decay + (p.negStep * mi) / denom;
}
