#version 450
// Decoding's rotary embedding and KV-cache write in one dispatch, where
// rope, rope and cachewrite take three: for new queries q [B, Tn, H, hd]
// and keys and values k, v [B, Tn, KV, hd] at positions pos[b·Tn + t],
//   qr[b, t, h] = rope(q[b, t, h]),
//   kCache[b, g, past + t] = rope(k[b, t, g]),  vCache[b, g, past + t] = v[b, t, g],
// caches [B, KV, maxLen, hd], with rope.comp's rotate-half pairing and
// expressions. One invocation per (row, head of the H + KV, j < hd/2): a
// key head's also copies v's elements j and j + hd/2.
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer QR { float qr[]; };
layout(std430, binding = 1) writeonly buffer KC { float kc[]; };
layout(std430, binding = 2) writeonly buffer VC { float vc[]; };
layout(std430, binding = 3) readonly buffer Q { float q[]; };
layout(std430, binding = 4) readonly buffer K { float k[]; };
layout(std430, binding = 5) readonly buffer V { float v[]; };
layout(std430, binding = 6) readonly buffer C { float cosT[]; };
layout(std430, binding = 7) readonly buffer S { float sinT[]; };
layout(std430, binding = 8) readonly buffer Pos { int pos[]; };
layout(push_constant) uniform P { uint rows; uint tn; uint h; uint kv; uint half_; uint maxLen; uint past; } p;

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	uint perRow = (p.h + p.kv) * p.half_;
	if (i >= p.rows * perRow) return;
	uint row = i / perRow;
	uint rem = i - row * perRow;
	uint head = rem / p.half_;
	uint j = rem - head * p.half_;
	uint hd = 2u * p.half_;
	uint t = uint(pos[row]) * p.half_ + j;
	float c = cosT[t], s = sinT[t];
	if (head < p.h) {
		uint a = (row * p.h + head) * hd + j;
		float x1 = q[a], x2 = q[a + p.half_];
		qr[a] = x1 * c - x2 * s;
		qr[a + p.half_] = x2 * c + x1 * s;
		return;
	}
	uint g = head - p.h;
	uint src = (row * p.kv + g) * hd + j;
	uint b = row / p.tn;
	uint at = ((b * p.kv + g) * p.maxLen + p.past + row - b * p.tn) * hd + j;
	float x1 = k[src], x2 = k[src + p.half_];
	kc[at] = x1 * c - x2 * s;
	kc[at + p.half_] = x2 * c + x1 * s;
	vc[at] = v[src];
	vc[at + p.half_] = v[src + p.half_];
}
