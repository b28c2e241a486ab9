#version 450
// Argmax of each row of V values, one workgroup per row: the first index of
// the largest value; NaN never wins; a row of only −Inf gives its first index.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { int o[]; };
layout(std430, binding = 1) readonly buffer Z { float z[]; };
layout(push_constant) uniform P { uint rows; uint V; } p;

shared float bv[256];
shared int bi[256];

void main() {
	uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
	if (row >= p.rows) return;
	uint lid = gl_LocalInvocationID.x;
	float v = -1.0 / 0.0;
	int best = -1;
	for (uint j = lid; j < p.V; j += 256u) {
		float x = z[row * p.V + j];
		if (x > v || (best < 0 && x == v)) { v = x; best = int(j); }
	}
	bv[lid] = v;
	bi[lid] = best;
	barrier();
	for (uint k = 128u; k > 0u; k >>= 1) {
		if (lid < k) {
			int ob = bi[lid + k];
			float ov = bv[lid + k];
			int mb = bi[lid];
			if (ob >= 0 && (mb < 0 || ov > bv[lid] || (ov == bv[lid] && ob < mb))) {
				bv[lid] = ov;
				bi[lid] = ob;
			}
		}
		barrier();
	}
	if (lid == 0u) o[row] = max(bi[0], 0);
}
