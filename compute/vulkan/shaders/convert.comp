#version 450
// Type conversion between float32 and 16-bit storage (bfloat16, float16;
// packed two to a uint, element i in the low half when i is even), and Mix
// where either side is 16-bit. Kinds: 0 float32, 1 bfloat16, 2 float16.
// mix 0: d = src, converted to d's type; mix 1: d = alpha·src + beta·d in
// float32 (beta = 1 − alpha from the host), rounded to d's type.
// Rounding follows compute/half bit for bit, in integers (packHalf2x16's
// rounding is left to the implementation): to nearest even, NaNs kept
// quiet with their top payload bits, F16 overflow to ±Inf and F16
// subnormals. Widening is exact, F16 NaNs come back quiet as in
// half.F16ToFloat32. A float32 d takes one invocation per element; a
// 16-bit d one per 32-bit word, writing both halves: when the length is
// odd the last word's high half is past the tensor and is kept as it was
// (as Write16 leaves it).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer D { uint dw[]; };
layout(std430, binding = 1) readonly buffer S { uint sw[]; };
layout(push_constant) uniform P { uint n; uint dkind; uint skind; uint mix; float alpha; float beta; } p;

const uint kF32 = 0u;
const uint kBF16 = 1u;

// widen returns the float32 bits of 16-bit value h of kind k.
uint widen(uint k, uint h) {
	if (k == kBF16) return h << 16u;
	uint sign = (h & 0x8000u) << 16u;
	uint e = (h >> 10u) & 0x1fu;
	uint man = h & 0x3ffu;
	if (e == 0u) {
		if (man == 0u) return sign;
		// man·2^-24 with its top bit at msb: exponent msb − 24.
		int msb = findMSB(man);
		return sign | (uint(103 + msb) << 23u) | (((man << uint(10 - msb)) & 0x3ffu) << 13u);
	}
	if (e == 0x1fu) return sign | (man != 0u ? 0x7fc00000u | (man << 13u) : 0x7f800000u);
	return sign | ((e + 112u) << 23u) | (man << 13u);
}

// narrow rounds float32 bits u to kind k (half.ToBF16, half.ToF16).
uint narrow(uint k, uint u) {
	if (k == kBF16) {
		if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16u) | 0x40u;
		return (u + 0x7fffu + ((u >> 16u) & 1u)) >> 16u;
	}
	uint sign = (u >> 16u) & 0x8000u;
	uint a = u & 0x7fffffffu;
	if (a > 0x7f800000u) return sign | 0x7e00u | ((a >> 13u) & 0x3ffu); // NaN
	if (a >= 0x477ff000u) return sign | 0x7c00u; // rounds to 65520 or more: Inf
	if (a < 0x38800000u) { // below 2^-14: a subnormal half or zero
		uint e = a >> 23u;
		if (e < 102u) return sign; // below 2^-25
		uint man = (a & 0x7fffffu) | 0x800000u;
		uint shift = 126u - e; // in units of 2^-24
		uint q = man >> shift;
		uint rem = man & ((1u << shift) - 1u);
		uint halfway = 1u << (shift - 1u);
		if (rem > halfway || (rem == halfway && (q & 1u) == 1u)) q++;
		return sign | q;
	}
	a += 0x0fffu + ((a >> 13u) & 1u);
	return sign | ((a - 0x38000000u) >> 13u);
}

uint srcAt(uint i) {
	if (p.skind == kF32) return sw[i];
	uint w = sw[i >> 1u];
	return widen(p.skind, (i & 1u) == 0u ? w & 0xffffu : w >> 16u);
}

uint dstAt(uint i) {
	if (p.dkind == kF32) return dw[i];
	uint w = dw[i >> 1u];
	return widen(p.dkind, (i & 1u) == 0u ? w & 0xffffu : w >> 16u);
}

// value is element i's float32 result, before rounding to d's type.
uint value(uint i) {
	uint s = srcAt(i);
	if (p.mix == 0u) return s;
	// Two roundings, as compute/kernels.Mix: precise forbids a fused
	// multiply-add.
	precise float r = p.alpha * uintBitsToFloat(s) + p.beta * uintBitsToFloat(dstAt(i));
	return floatBitsToUint(r);
}

void main() {
	uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * 256u + gl_LocalInvocationID.x;
	if (p.dkind == kF32) {
		if (i >= p.n) return;
		dw[i] = value(i);
		return;
	}
	uint e = 2u * i;
	if (e >= p.n) return;
	uint lo = narrow(p.dkind, value(e));
	uint hi = e + 1u < p.n ? narrow(p.dkind, value(e + 1u)) : dw[i] >> 16u;
	dw[i] = lo | (hi << 16u);
}
