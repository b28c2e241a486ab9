// Package half converts between float32 and the two 16-bit float formats
// checkpoints store weights in: bfloat16 (float32's top half) and IEEE 754
// binary16. Widening is exact; narrowing rounds to nearest, ties to even.
package half

import (
	"math"
	"sync"
)

// Kind is a 16-bit float format.
type Kind uint8

const (
	BF16 Kind = iota + 1 // bfloat16: 8 exponent bits, 7 mantissa bits
	F16                  // IEEE 754 binary16: 5 exponent bits, 10 mantissa bits
)

// String names the format as safetensors headers spell it.
func (k Kind) String() string {
	switch k {
	case BF16:
		return "BF16"
	case F16:
		return "F16"
	}
	return "unknown 16-bit format"
}

// BF16ToFloat32 widens a bfloat16 bit pattern (exact).
func BF16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// ToBF16 rounds f to the nearest bfloat16, ties to even; NaNs stay quiet NaNs.
func ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

// f16Table is the float32 value of every binary16 bit pattern (256 KiB,
// built on first use).
var f16Table = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = f16ToFloat32(uint16(i))
	}
	return &t
})

// F16Table is the float32 value of every binary16 bit pattern (256 KiB,
// built once): widening a tensor is then one load per element, with no
// bounds check (a uint16 indexes all of it).
func F16Table() *[1 << 16]float32 { return f16Table() }

// F16ToFloat32 widens a binary16 bit pattern (exact, subnormals included).
func F16ToFloat32(h uint16) float32 { return f16Table()[h] }

func f16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch exp {
	case 0:
		if man == 0 {
			return math.Float32frombits(sign)
		}
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
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
}

// ToF16 rounds f to the nearest binary16, ties to even: beyond the range it
// becomes ±Inf, below it a subnormal or ±0; NaNs stay quiet NaNs.
func ToF16(f float32) uint16 {
	u := math.Float32bits(f)
	sign := uint16(u>>16) & 0x8000
	a := u & 0x7fffffff
	switch {
	case a > 0x7f800000: // NaN
		return sign | 0x7e00 | uint16(a>>13)&0x3ff
	case a >= 0x477ff000: // rounds to ≥ 65520: Inf
		return sign | 0x7c00
	case a < 0x38800000: // below the smallest normal half (2^-14): subnormal
		// value = a's magnitude; in units of 2^-24 it is man·2^(exp-150+24).
		exp := int(a >> 23)
		if exp < 102 { // < 2^-25: rounds to zero
			return sign
		}
		man := a&0x7fffff | 0x800000
		shift := uint(126 - exp) // 2^-24 units: man >> (126-exp)
		q := man >> shift
		rem := man & (1<<shift - 1)
		halfway := uint32(1) << (shift - 1)
		if rem > halfway || (rem == halfway && q&1 == 1) {
			q++
		}
		return sign | uint16(q)
	}
	// normal: rebias the exponent, round 13 mantissa bits away
	a += 0x0fff + (a>>13)&1
	return sign | uint16((a-0x38000000)>>13)
}

// Widen converts src into dst (len(dst) == len(src)).
func Widen(k Kind, dst []float32, src []uint16) {
	src = src[:len(dst)]
	switch k {
	case BF16:
		for i, v := range src {
			dst[i] = math.Float32frombits(uint32(v) << 16)
		}
	case F16:
		t := F16Table()
		_ = t[0] // the table's nil check, once, not one an element
		for i, v := range src {
			dst[i] = t[v]
		}
	default:
		panic("half: unknown kind")
	}
}

// Narrow rounds src into dst (len(dst) == len(src)).
func Narrow(k Kind, dst []uint16, src []float32) {
	src = src[:len(dst)]
	switch k {
	case BF16:
		for i, v := range src {
			dst[i] = ToBF16(v)
		}
	case F16:
		for i, v := range src {
			dst[i] = ToF16(v)
		}
	default:
		panic("half: unknown kind")
	}
}
