package hf

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlt-workbench/rlt/compute/half"
)

// TestComputeHalfAgrees: compute/half, which widens and narrows the
// backends' 16-bit weights, converts as the file format does, on every
// 16-bit pattern and on float32s around each (see dtype.go).
func TestComputeHalfAgrees(t *testing.T) {
	for h := range 1 << 16 {
		b := uint16(h)
		if got, want := math.Float32bits(half.BF16ToFloat32(b)), math.Float32bits(BF16ToFloat32(b)); got != want {
			t.Fatalf("bf16 %#04x: compute/half widens to %#08x, hf to %#08x", b, got, want)
		}
		if got, want := math.Float32bits(half.F16ToFloat32(b)), math.Float32bits(F16ToFloat32(b)); got != want {
			t.Fatalf("f16 %#04x: compute/half widens to %#08x, hf to %#08x", b, got, want)
		}
		for _, f := range []float32{BF16ToFloat32(b), math.Float32frombits(uint32(b)<<16 | 0x8000), math.Float32frombits(uint32(b)<<16 | 0x7fff)} {
			if got, want := half.ToBF16(f), Float32ToBF16(f); got != want {
				t.Fatalf("%v (%#08x): compute/half narrows to bf16 %#04x, hf to %#04x", f, math.Float32bits(f), got, want)
			}
		}
	}
}

// refF16 widens a half bit pattern through float64 arithmetic, independent
// of the bit manipulation in F16ToFloat32.
func refF16(h uint16) uint32 {
	sign := uint32(h>>15) << 31
	exp := int(h>>10) & 0x1f
	man := float64(h & 0x3ff)
	switch exp {
	case 0x1f:
		if man == 0 {
			return sign | 0x7f800000
		}
		return sign | 0x7fc00000 | uint32(h&0x3ff)<<13 // quiet NaN, payload kept
	case 0:
		v := float32(math.Ldexp(man, -24))
		return sign | math.Float32bits(v)
	default:
		v := float32(math.Ldexp(1024+man, exp-25))
		return sign | math.Float32bits(v)
	}
}

func TestF16ToFloat32Exhaustive(t *testing.T) {
	for h := range 1 << 16 {
		got := math.Float32bits(F16ToFloat32(uint16(h)))
		if want := refF16(uint16(h)); got != want {
			t.Fatalf("F16ToFloat32(%#04x) = %#08x, want %#08x", h, got, want)
		}
	}
}

func TestF16ToFloat32Cases(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0400, 6.103515625e-05},
		{0x0001, 5.960464477539063e-08}, {0x03ff, 6.097555160522461e-05}, {0x8001, -5.960464477539063e-08},
		{0x3555, 0.333251953125}, {0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	} {
		if got := F16ToFloat32(c.h); got != c.want {
			t.Errorf("F16ToFloat32(%#04x) = %v, want %v", c.h, got, c.want)
		}
	}
	if got := F16ToFloat32(0x8000); math.Float32bits(got) != 0x80000000 {
		t.Errorf("F16ToFloat32(0x8000) = %#x, want -0", math.Float32bits(got))
	}
	for _, h := range []uint16{0x7c01, 0x7e00, 0x7fff, 0xfe00, 0xfc01} {
		if v := F16ToFloat32(h); !isNaN32(v) {
			t.Errorf("F16ToFloat32(%#04x) = %v, want NaN", h, v)
		}
	}
}

func isNaN32(v float32) bool { return v != v }

// refBF16 rounds a float32 to bfloat16 by comparing distances in float64:
// the two neighbouring bfloat16 values bracket |f|; the nearer wins, ties go
// to the even mantissa, and the step past the largest finite value is Inf.
func refBF16(f float32) (uint16, bool) {
	if isNaN32(f) {
		return 0, false // any NaN is acceptable; checked separately
	}
	u := math.Float32bits(f)
	sign := uint16(u>>16) & 0x8000
	mag := u & 0x7fffffff
	if mag == 0x7f800000 {
		return sign | 0x7f80, true
	}
	lo := mag &^ 0xffff
	exp := int(lo >> 23)
	var ulp float64
	if exp == 0 {
		ulp = math.Ldexp(1, -133)
	} else {
		ulp = math.Ldexp(1, exp-127-7)
	}
	loV := float64(math.Float32frombits(lo))
	hiV := loV + ulp
	v := float64(math.Float32frombits(mag))
	dLo, dHi := v-loV, hiV-v
	r := uint16(lo >> 16)
	switch {
	case dHi < dLo:
		r++
	case dHi == dLo && r&1 == 1:
		r++
	}
	return sign | r, true
}

func TestFloat32ToBF16Cases(t *testing.T) {
	for _, c := range []struct {
		name string
		in   uint32
		want uint16
	}{
		{"one", 0x3f800000, 0x3f80},
		{"tie down to even", 0x3f808000, 0x3f80},
		{"tie up to even", 0x3f818000, 0x3f82},
		{"above tie", 0x3f808001, 0x3f81},
		{"below tie", 0x3f807fff, 0x3f80},
		{"just below next tie", 0x3f80ffff, 0x3f81},
		{"negative tie", 0xbf818000, 0xbf82},
		{"max float to inf", 0x7f7fffff, 0x7f80},
		{"largest bf16 stays", 0x7f7f0000, 0x7f7f},
		{"below overflow tie", 0x7f7f7fff, 0x7f7f},
		{"overflow tie to inf (even)", 0x7f7f8000, 0x7f80},
		{"inf", 0x7f800000, 0x7f80},
		{"-inf", 0xff800000, 0xff80},
		{"zero", 0, 0},
		{"-zero", 0x80000000, 0x8000},
		{"smallest subnormal", 0x00000001, 0x0000},
		{"subnormal tie to even", 0x00008000, 0x0000},
		{"subnormal tie up", 0x00018000, 0x0002},
		{"largest subnormal to normal", 0x007fffff, 0x0080},
	} {
		got := Float32ToBF16(math.Float32frombits(c.in))
		if got != c.want {
			t.Errorf("%s: Float32ToBF16(%#08x) = %#04x, want %#04x", c.name, c.in, got, c.want)
		}
		if ref, _ := refBF16(math.Float32frombits(c.in)); ref != c.want {
			t.Errorf("%s: reference rounding of %#08x = %#04x, table says %#04x", c.name, c.in, ref, c.want)
		}
	}
	for _, bits := range []uint32{0x7fc00000, 0xffc00000, 0x7f800001, 0x7f800100, 0xff800001, 0x7fffffff} {
		got := Float32ToBF16(math.Float32frombits(bits))
		if !isNaN32(BF16ToFloat32(got)) {
			t.Errorf("Float32ToBF16(NaN %#08x) = %#04x, not a NaN", bits, got)
		}
		if got&0x8000 != uint16(bits>>16)&0x8000 {
			t.Errorf("Float32ToBF16(NaN %#08x) = %#04x lost the sign", bits, got)
		}
	}
}

func TestFloat32ToBF16Reference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(bits uint32) {
		f := math.Float32frombits(bits)
		want, ok := refBF16(f)
		got := Float32ToBF16(f)
		if !ok {
			if !isNaN32(BF16ToFloat32(got)) {
				t.Fatalf("Float32ToBF16(%#08x) = %#04x, want NaN", bits, got)
			}
			return
		}
		if got != want {
			t.Fatalf("Float32ToBF16(%#08x) = %#04x, want %#04x", bits, got, want)
		}
	}
	for range 2_000_000 {
		check(r.Uint32())
	}
	// Every exact tie and its neighbours, for every exponent and sign.
	for e := uint32(0); e < 256; e++ {
		for _, m := range []uint32{0x8000, 0x18000, 0x7f8000, 0x7fffff, 0x7f7fff, 0x1, 0x7fff, 0x8001} {
			for _, s := range []uint32{0, 1 << 31} {
				check(s | e<<23 | m)
			}
		}
	}
}

func TestBF16RoundTripExact(t *testing.T) {
	// Every non-NaN bfloat16 widens and narrows back to itself.
	for b := range 1 << 16 {
		f := BF16ToFloat32(uint16(b))
		if isNaN32(f) {
			continue
		}
		if got := Float32ToBF16(f); got != uint16(b) {
			t.Fatalf("bf16 %#04x -> %v -> %#04x", b, f, got)
		}
	}
}
