#version 450
// Column sums over the rows of a [rows, d] operand:
// mode 0: s[j] = Σ_row a[row, j]                  (bias gradient)
// mode 1: s[j] = Σ_row a[row, j]·b[row, j]·c[row] (RMSNorm weight gradient)
// Workgroup (x, y) covers 64 columns of the slice of rows
// y·slice .. y·slice+slice−1; consecutive invocations read consecutive
// columns. Its 4 row lanes each sum every 4th row of the slice in order,
// and the lane sums are added in lane order, so the result depends on the
// shape alone, never on scheduling.
// store 1 (pass 1): o[y·d + j] = s, one row of partials per slice.
// store 0: o[j] += s; with one slice this is the whole sum, and pass 2 is
// mode 0 over the partials, which adds them in slice order.
layout(local_size_x = 64, local_size_y = 4) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer A { float a[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) readonly buffer C { float c[]; };
layout(push_constant) uniform P { uint rows; uint d; uint mode; uint slice; uint store; } p;

shared float lane[4][64];

void main() {
	uint x = gl_LocalInvocationID.x, y = gl_LocalInvocationID.y;
	uint j = gl_WorkGroupID.x * 64u + x;
	uint r0 = gl_WorkGroupID.y * p.slice;
	uint r1 = min(r0 + p.slice, p.rows);
	float s = 0.0;
	if (j < p.d) {
		if (p.mode == 0u) {
			for (uint r = r0 + y; r < r1; r += 4u) s += a[r * p.d + j];
		} else {
			for (uint r = r0 + y; r < r1; r += 4u) s += (a[r * p.d + j] * b[r * p.d + j]) * c[r];
		}
	}
	lane[y][x] = s;
	memoryBarrierShared();
	barrier();
	if (y != 0u || j >= p.d) return;
	float t = ((lane[0][x] + lane[1][x]) + lane[2][x]) + lane[3][x];
	if (p.store == 1u) {
		o[gl_WorkGroupID.y * p.d + j] = t;
	} else {
		o[j] = o[j] + t;
	}
}
