package kernels

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// Finiteness is tested a 64-bit word at a time, four 16-bit or two 32-bit
// lanes to a word: a lane's exponent field is all ones (NaN or ±Inf)
// exactly when adding its lowest exponent bit carries into the lane's top
// bit, and the sums of a word's lanes never carry into the next lane. So a
// block costs an AND, an ADD and an OR per word, and only a block that
// holds such a value is read again, an element at a time, for its index.
const (
	exp32, carry32, top32 = 0x7f8000007f800000, 0x0080000000800000, 0x8000000080000000
	expBF16, carryBF16    = 0x7f807f807f807f80, 0x0080008000800080
	expF16, carryF16      = 0x7c007c007c007c00, 0x0400040004000400
	top16                 = 0x8000800080008000
)

// finiteBlock is the elements tested as one before an exact search.
const finiteBlock = 512

// FirstNonFinite is the index of x's first NaN or ±Inf, or -1.
func FirstNonFinite(x []float32) int {
	if len(x) == 0 {
		return -1
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x))
	return firstNonFinite(raw, 4, len(x), exp32, carry32, top32,
		func(i int) bool { return math.Float32bits(x[i])&0x7f800000 == 0x7f800000 })
}

// FirstNonFinite16 is FirstNonFinite for bfloat16 bits, or float16 bits
// when f16.
func FirstNonFinite16(bits []uint16, f16 bool) int {
	if len(bits) == 0 {
		return -1
	}
	exp, mask, carry := uint16(0x7f80), uint64(expBF16), uint64(carryBF16)
	if f16 {
		exp, mask, carry = 0x7c00, expF16, carryF16
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&bits[0])), 2*len(bits))
	return firstNonFinite(raw, 2, len(bits), mask, carry, top16,
		func(i int) bool { return bits[i]&exp == exp })
}

// firstNonFinite scans n little-endian elements of size bytes in raw a
// word at a time; single tests one element exactly.
func firstNonFinite(raw []byte, size, n int, mask, carry, top uint64, single func(i int) bool) int {
	per := 8 / size
	for b := 0; b < n; b += finiteBlock {
		e := min(b+finiteBlock, n)
		var acc uint64
		i := b
		for ; i+per <= e; i += per {
			acc |= binary.LittleEndian.Uint64(raw[i*size:])&mask + carry
		}
		bad := acc&top != 0
		for ; i < e && !bad; i++ { // the tail of a word
			bad = single(i)
		}
		if !bad {
			continue
		}
		for i := b; i < e; i++ {
			if single(i) {
				return i
			}
		}
	}
	return -1
}
