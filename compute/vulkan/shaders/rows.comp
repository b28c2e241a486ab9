#version 450
// Row gathers and scatters of d-wide rows by host ids:
// mode 0 (Embedding, GatherRows): out[n, j] = x[ids[n], j], one invocation per element;
// a negative id leaves out's row as it is (a table bound a window at a time
// gives -1 for the ids outside the window: windows.go);
// mode 1 (EmbeddingBackward, ScatterRowsBackward): dx[id, j] += dout[r, j] for
// every row r of each id. The host groups the rows by id (ops_rows.go): ids
// holds n + 1 offsets, then the n unique ids, then the rows of each id in
// increasing order, offsets[u] to offsets[u + 1]. One invocation per
// (unique id, column), consecutive invocations on consecutive columns, adds
// its id's rows in order onto dx[id, j]: the CPU's order, no atomics.
// Compiled again with -DB16 as rows16 (mode 0 only): x is a 16-bit table
// packed two to a uint (element i in the low half when i is even), widened
// as it is read: mode 0 bfloat16, mode 2 float16.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { float o[]; };
#ifdef B16
layout(std430, binding = 1) readonly buffer X { uint x16[]; };
#else
layout(std430, binding = 1) readonly buffer X { float x[]; };
#endif
layout(std430, binding = 2) readonly buffer I { int ids[]; };
layout(push_constant) uniform P { uint n; uint d; uint mode; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
#ifdef B16
	if (i >= p.n * p.d) return;
	uint row = i / p.d;
	if (ids[row] < 0) return;
	uint e = uint(ids[row]) * p.d + (i - row * p.d);
	uint w = x16[e >> 1u];
	if (p.mode == 2u) o[i] = unpackHalf2x16(w)[e & 1u];
	else o[i] = uintBitsToFloat((e & 1u) == 0u ? w << 16u : w & 0xffff0000u);
#else
	if (p.mode == 0u) {
		if (i >= p.n * p.d) return;
		uint row = i / p.d;
		if (ids[row] < 0) return;
		uint j = i - row * p.d;
		o[i] = x[uint(ids[row]) * p.d + j];
		return;
	}
	if (i >= p.n * p.d) return;
	uint u = i / p.d;
	uint j = i - u * p.d;
	uint dst = uint(ids[p.n + 1u + u]) * p.d + j;
	uint rows = 2u * p.n + 1u;
	uint end = uint(ids[u + 1u]);
	float acc = o[dst];
	for (uint k = uint(ids[u]); k < end; k++) {
		acc += x[uint(ids[rows + k]) * p.d + j];
	}
	o[dst] = acc;
#endif
}
