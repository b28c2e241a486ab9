package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/rlt-workbench/rlt/compute/half"
	"github.com/rlt-workbench/rlt/compute/parallel"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// A weight that holds NaN or ±Inf is refused as it loads: a model computing
// with it gives only NaN, which surfaces far from its cause (a reward that
// cannot be written, a sampler that finds no finite logit). The scan runs
// on the parallel pool, a fraction of the time reading the file takes.

// finiteGrain is the least elements one worker scans.
const finiteGrain = 1 << 16

// Exponent masks and carries of the scan, four 16-bit or two 32-bit lanes
// to a uint64: a lane's exponent field is all ones (NaN or ±Inf) exactly
// when adding its lowest exponent bit carries into the lane's top bit, and
// the sums of a word's lanes never carry into the next lane. So a block is
// tested with an AND, an ADD and an OR per word, and only a block that
// holds such a value is read again, an element at a time, for its index.
const (
	exp32, carry32, top32 = 0x7f8000007f800000, 0x0080000000800000, 0x8000000080000000
	expBF16, carryBF16    = 0x7f807f807f807f80, 0x0080008000800080
	expF16, carryF16      = 0x7c007c007c007c00, 0x0400040004000400
	top16                 = 0x8000800080008000
)

// firstNonFinite scans little-endian words (float32s or 16-bit values,
// size bytes each) for the lowest index of a NaN or ±Inf.
type firstNonFinite struct {
	raw         []byte
	size        int // bytes per element
	mask, carry uint64
	top         uint64
	single      func(i int) bool // element i is NaN or ±Inf
	first       atomic.Int64
}

// finiteBlock is the elements tested as one before an exact search.
const finiteBlock = 512

func (s *firstNonFinite) Run(lo, hi int) {
	per := 8 / s.size
	for b := lo; b < hi; b += finiteBlock {
		e := min(b+finiteBlock, hi)
		var acc uint64
		i := b
		for ; i+per <= e; i += per {
			acc |= binary.LittleEndian.Uint64(s.raw[i*s.size:])&s.mask + s.carry
		}
		bad := acc&s.top != 0
		for ; i < e && !bad; i++ { // the tail of a word
			bad = s.single(i)
		}
		if !bad {
			continue
		}
		for i := b; i < e; i++ {
			if s.single(i) {
				s.found(i)
				return
			}
		}
	}
}

// found keeps i if it is below every index found so far.
func (s *firstNonFinite) found(i int) {
	for {
		cur := s.first.Load()
		if cur >= 0 && cur <= int64(i) || s.first.CompareAndSwap(cur, int64(i)) {
			return
		}
	}
}

func (s *firstNonFinite) scan(n int) int {
	s.first.Store(-1)
	parallel.For(n, finiteGrain, s)
	return int(s.first.Load())
}

// checkFinite32 refuses float32 weights that hold NaN or ±Inf, naming the
// tensor, its file and the first such element.
func checkFinite32(info hf.TensorInfo, w []float32) error {
	if len(w) == 0 {
		return nil
	}
	s := &firstNonFinite{raw: unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), 4*len(w)), size: 4,
		mask: exp32, carry: carry32, top: top32,
		single: func(i int) bool { return math.Float32bits(w[i])&0x7f800000 == 0x7f800000 }}
	if i := s.scan(len(w)); i >= 0 {
		return nonFinite(info, i, w[i], len(w))
	}
	return nil
}

// checkFinite16 is checkFinite32 for weights held as bfloat16 or float16
// bits.
func checkFinite16(info hf.TensorInfo, k half.Kind, bits []uint16) error {
	if len(bits) == 0 {
		return nil
	}
	exp, mask, carry := uint16(0x7f80), uint64(expBF16), uint64(carryBF16)
	if k == half.F16 {
		exp, mask, carry = 0x7c00, expF16, carryF16
	}
	s := &firstNonFinite{raw: unsafe.Slice((*byte)(unsafe.Pointer(&bits[0])), 2*len(bits)), size: 2,
		mask: mask, carry: carry, top: top16,
		single: func(i int) bool { return bits[i]&exp == exp }}
	if i := s.scan(len(bits)); i >= 0 {
		v := make([]float32, 1)
		half.Widen(k, v, bits[i:i+1])
		return nonFinite(info, i, v[0], len(bits))
	}
	return nil
}

func nonFinite(info hf.TensorInfo, i int, v float32, n int) error {
	return fmt.Errorf("%s: tensor %q holds %v at index %d of %d: the checkpoint is corrupt (a diverged run saves such weights); load an earlier or another checkpoint",
		info.File, info.Name, v, i, n)
}
