package hf

import "math"

// DType is a safetensors element type, spelled as in the file header.
type DType string

// The element types of the safetensors format. F32, BF16, F16 and F64 can be
// read as float32; I32 and I64 as integers. The others are recognised (their
// sizes are known, so a file holding them still validates) but not converted.
const (
	BOOL   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E4M3 DType = "F8_E4M3"
	F8E5M2 DType = "F8_E5M2"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	I64    DType = "I64"
	U64    DType = "U64"
	F64    DType = "F64"
)

var dtypeSizes = map[DType]int{
	BOOL: 1, U8: 1, I8: 1, F8E4M3: 1, F8E5M2: 1,
	I16: 2, U16: 2, F16: 2, BF16: 2,
	I32: 4, U32: 4, F32: 4,
	I64: 8, U64: 8, F64: 8,
}

// Size is the number of bytes of one element, or 0 for an unknown type.
func (d DType) Size() int { return dtypeSizes[d] }

// Valid reports whether d is a safetensors type this package knows.
func (d DType) Valid() bool { return dtypeSizes[d] != 0 }

// IsFloat reports whether tensors of this type can be read as float32.
func (d DType) IsFloat() bool { return d == F32 || d == BF16 || d == F16 || d == F64 }

// The conversions below are the file format's: they match PyTorch's bit for
// bit (torch_test.go). compute/half holds the same arithmetic for the
// backends' 16-bit weights; hf keeps its own because sessions, which writes
// checkpoints through hf, links no compute package (layering_test.go);
// TestComputeHalfAgrees holds the two equal on every 16-bit pattern.

// BF16ToFloat32 widens a bfloat16 bit pattern to float32 (exact).
func BF16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// Float32ToBF16 rounds f to the nearest bfloat16, ties to even, as PyTorch
// does. Values beyond the bfloat16 range round to ±Inf. A NaN stays a NaN:
// its sign and top payload bits are kept and it is made quiet, as the
// AVX-512 BF16 instructions do (torch itself writes 0x7FC0 or 0xFFFF
// depending on its code path).
func Float32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

// F16ToFloat32 widens an IEEE 754 half-precision bit pattern to float32
// (exact, subnormals included). NaNs keep sign and payload and come out
// quiet, as the F16C instruction that torch uses makes them.
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch exp {
	case 0:
		if man == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal half: man·2^-24. Normalise so the leading 1 reaches bit 10.
		e := uint32(127 - 14)
		for man&0x400 == 0 {
			man <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (man&0x3ff)<<13)
	case 0x1f:
		if man != 0 {
			return math.Float32frombits(sign | 0x7fc00000 | man<<13)
		}
		return math.Float32frombits(sign | 0x7f800000)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
	}
}

// numElements multiplies the dimensions, reporting false on a negative
// dimension or an overflow past limit.
func numElements(shape []int, limit int64) (int64, bool) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			n = 0
			continue
		}
		if n > limit/int64(d) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}
