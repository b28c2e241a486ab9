// What attn_cm, attn_cm_dq and attn_cm_dkv share: attention's products on
// cooperative matrices (tensor cores), the float32 tiled kernels' contracts
// (attn_fa, attn_fa_dq, attn_fa_dkv) kept binding for binding, for head
// dimensions up to HDP: 64, or 128 compiled with -DHDP=128u (attn_cm128,
// attn_cm128_dq, attn_cm128_dkv).
//
// A workgroup is NS = 4 subgroups of LPR·T invocations (the host builds the
// kernels only where the device runs subgroups of one fixed size, a multiple
// of T): subgroup s owns T rows of the workgroup's tile of BQ = NS·T rows
// (queries, or keys in attn_cm_dkv) and the other side walks blocks of BK
// rows. The T×T×T float16 products (specialization constant 1: 16 on NVIDIA
// and AMD, 8 on lavapipe) accumulate in float32; everything between them —
// scores, softmax, the probabilities' gradients — is float32 in shared
// memory, LPR invocations to a row (specialization constant 2), row r of
// the subgroup's T to invocations r·LPR .. r·LPR+LPR−1.
//
// Float16 keeps 11 significant bits between 2⁻¹⁴ and 65504, so every
// operand is staged scaled: a tile of queries, keys, values or output
// gradients by the power of two that brings its largest finite magnitude
// into [2¹⁴, 2¹⁵) (maxFinite, scaleOf), the probabilities' gradients dS
// of a subgroup's block alike; each product is divided by its operands'
// scales as it leaves its accumulator. The scales are exact powers of
// two, so they change nothing but the range: each operand keeps 11 bits
// relative to its tile's largest value, and a product's error is of the
// order 2⁻¹¹·Σ|a||b| (bfloat16's would be 2⁻⁸). The probabilities (at
// most 1) are staged as they are.
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint T = 16u;
layout(constant_id = 2) const uint LPR = 2u;

#ifndef HDP
#define HDP 64u
#endif
const uint NS = 4u;
const uint BQ = NS * T;
const uint BK = 32u;
// Staged rows are HDP float16s padded by 8 (a multiple of 16 bytes, as
// cooperative loads want, and rows staggered across banks), in f16vec4s.
const uint SV = (HDP + 8u) / 4u;
// A subgroup's float16 block of T rows of BK, padded by 8, in halves.
const uint SP = BK + 8u;
// The staging rows: a tile of BQ, or two blocks of BK.
const uint XR = BQ > 2u * BK ? BQ : 2u * BK;
// Per-subgroup arrays, bounded by the smallest T (8) so that register
// arrays have a constant size; only the first HDP/T (BK/T) are used.
const uint NE = HDP / 8u, NB = BK / 8u;
// The float32 values of the row an invocation owns: HDP/LPR of them.
const uint NO = HDP;
// Products whose columns run along the head dim (P·v, dS·k, Pᵀ·dout,
// dSᵀ·q) are made RW columns at a time, RW/T accumulators each, and leave
// through a subgroup's [T][RW] of float32: NR rounds. Invocation (row,
// part) owns its row's columns part + LPR·n; those of round r are
// n = r·RW/LPR .. (r+1)·RW/LPR − 1.
const uint RW = 32u, NR = HDP / RW;

#define ACC coopmat<float, gl_ScopeSubgroup, T, T, gl_MatrixUseAccumulator>
#define MATA coopmat<float16_t, gl_ScopeSubgroup, T, T, gl_MatrixUseA>
#define MATB coopmat<float16_t, gl_ScopeSubgroup, T, T, gl_MatrixUseB>

const float NEG_INF = -1.0 / 0.0;

shared f16vec4 Xs[XR * SV];
shared float red[NS * LPR * T];
shared uint smax[6];
// Set in a block whose staged rows, some of which a row of the tile cannot
// see, hold a NaN or an infinity (rowsNonFinite): that block's product
// with them is taken in scalar code instead.
shared uint nonFinite;

// scaleOf turns a tile's largest finite magnitude (maxFinite), as its
// bits, into the tile's power of two: 2^(15−e) where 2^(e−1) ≤ max < 2^e
// (gemmcm's rule); 1 for a tile of zeros. A NaN or an infinity stays one
// at any scale and reaches the result as float32 would carry it.
float scaleOf(uint bits) {
	if (bits == 0u) return 1.0;
	int e;
	frexp(uintBitsToFloat(bits), e);
	return ldexp(1.0, clamp(15 - e, -120, 100));
}

// syncSubgroup orders a subgroup's shared-memory writes before its later
// reads (coopMatStore to scalar loads and back).
void syncSubgroup() {
	subgroupMemoryBarrierShared();
	subgroupBarrier();
}

// rowMax and rowSum combine the LPR partial values of the invocations of
// one row, in a fixed order: every invocation of the row gets the same
// value. Slot is this invocation's place in red.
float rowMax(float v, uint sg, uint row, uint lane) {
	red[sg * LPR * T + lane] = v;
	syncSubgroup();
	float r = NEG_INF;
	[[unroll]] for (uint k = 0u; k < LPR; k++) r = max(r, red[sg * LPR * T + row * LPR + k]);
	subgroupBarrier(); // every partial read before red is written again
	return r;
}

float rowSum(float v, uint sg, uint row, uint lane) {
	red[sg * LPR * T + lane] = v;
	syncSubgroup();
	float r = 0.0;
	[[unroll]] for (uint k = 0u; k < LPR; k++) r += red[sg * LPR * T + row * LPR + k];
	subgroupBarrier();
	return r;
}

// maxFinite is max(m, |x|) for a finite x and m for a NaN or an infinity,
// the step of every scan for a tile's scale: max(m, NaN) may be NaN (it is
// on lavapipe) and the next max drop it with the values before it, so a
// NaN made its tile's scale from the values after it alone and a larger
// value before it overflowed float16; and an infinity made the scale 1,
// where a finite value past 65504 overflowed and small ones lost their
// bits. Either reached rows that see no non-finite value (+Inf or NaN in
// their output and gradients).
float maxFinite(float m, float x) {
	float a = abs(x);
	return floatBitsToUint(a) < 0x7f800000u ? max(m, a) : m;
}

// subgroupMaxOf is the largest v (each a maxFinite, so finite) over the
// whole subgroup.
float subgroupMaxOf(float v, uint sg, uint lane) {
	red[sg * LPR * T + lane] = v;
	syncSubgroup();
	float r = 0.0;
	for (uint k = 0u; k < LPR * T; k++) r = max(r, red[sg * LPR * T + k]);
	subgroupBarrier();
	return r;
}

// rowsNonFinite is whether any of rows r0 .. r0+n−1 of Xs (head dims
// only; their padding is never written) this invocation reads holds a NaN
// or an infinity. A masked operand of a whole-tile product is multiplied
// by 0, and 0·NaN is NaN: the kernels look for one only in the blocks
// where a row of the tile cannot see some of the block's (the diagonal's,
// or a tile cut by kStart), and there take the product in scalar code,
// each row adding only what it sees, in float32, so a masked key's value
// reaches no query as on the CPU (compute.Backend's Attention).
bool rowsNonFinite(uint r0, uint n, uint lid, uint L) {
	bool bad = false;
	for (uint x = lid; x < n * (HDP / 4u); x += L) {
		uint r = x / (HDP / 4u), c4 = x - r * (HDP / 4u);
		vec4 w = vec4(Xs[(r0 + r) * SV + c4]);
		bad = bad || any(isnan(w)) || any(isinf(w));
	}
	return bad;
}
