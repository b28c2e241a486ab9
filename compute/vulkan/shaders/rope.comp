#version 450
// Rotary embedding with Hugging Face's rotate-half pairing over rows of
// heads·hd at positions pos[row], one invocation per (row, head, j < hd/2):
// forward (back = 0): o[j] = x[j]·c − x[j+h]·s, o[j+h] = x[j+h]·c + x[j]·s;
// backward (back = 1): o[j] += x[j]·c + x[j+h]·s, o[j+h] += x[j+h]·c − x[j]·s.
// o may alias x: each invocation reads its pair before writing it.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer C { float cosT[]; };
layout(std430, binding = 3) readonly buffer S { float sinT[]; };
layout(std430, binding = 4) readonly buffer Pos { int pos[]; };
layout(push_constant) uniform P { uint rows; uint heads; uint half_; uint back; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	uint perRow = p.heads * p.half_;
	if (i >= p.rows * perRow) return;
	uint row = i / perRow;
	uint rem = i - row * perRow;
	uint h = rem / p.half_;
	uint j = rem - h * p.half_;
	uint a = row * perRow * 2u + h * p.half_ * 2u + j;
	uint b = a + p.half_;
	uint t = uint(pos[row]) * p.half_ + j;
	float c = cosT[t], s = sinT[t];
	float x1 = x[a], x2 = x[b];
	if (p.back == 0u) {
		o[a] = x1 * c - x2 * s;
		o[b] = x2 * c + x1 * s;
	} else {
		o[a] = o[a] + (x1 * c + x2 * s);
		o[b] = o[b] + (x2 * c - x1 * s);
	}
}
