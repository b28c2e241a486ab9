package half

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Every binary16 value survives a round trip, and values between two
// neighbours round to the nearer one, ties to the even one.
func TestF16RoundsToNearestEven(t *testing.T) {
	for h := 0; h < 0x7c00; h++ { // positive finite halves; the sign bit is copied
		v := F16ToFloat32(uint16(h))
		for _, sign := range []uint16{0, 0x8000} {
			x := v
			if sign != 0 {
				x = -v
			}
			if got := ToF16(x); got != uint16(h)|sign && !(h == 0 && got == sign) {
				t.Fatalf("ToF16(%g) = %#04x, want %#04x", x, got, uint16(h)|sign)
			}
		}
		if h == 0x7bff {
			continue
		}
		next := F16ToFloat32(uint16(h + 1))
		mid := float32((float64(v) + float64(next)) / 2)
		even := uint16(h)
		if h&1 == 1 {
			even = uint16(h + 1)
		}
		for _, c := range []struct {
			x    float32
			want uint16
		}{
			{mid, even},
			{math.Nextafter32(mid, 0), uint16(h)},
			{math.Nextafter32(mid, 1e9), uint16(h + 1)},
		} {
			if got := ToF16(c.x); got != c.want {
				t.Fatalf("ToF16(%g) between %#04x and %#04x = %#04x, want %#04x", c.x, h, h+1, got, c.want)
			}
		}
	}
	for _, c := range []struct {
		x    float32
		want uint16
	}{
		{65520, 0x7c00}, {math.Nextafter32(65520, 0), 0x7bff}, {float32(math.Inf(-1)), 0xfc00},
		{1e-8, 0}, {-1e-8, 0x8000}, {2.98023224e-8, 0}, {2.9802326e-8, 1},
	} {
		if got := ToF16(c.x); got != c.want {
			t.Errorf("ToF16(%g) = %#04x, want %#04x", c.x, got, c.want)
		}
	}
	if v := F16ToFloat32(ToF16(float32(math.NaN()))); !math.IsNaN(float64(v)) {
		t.Errorf("NaN came back as %g", v)
	}
}

func TestBF16RoundTripAndRounding(t *testing.T) {
	for _, c := range []struct {
		x    float32
		want uint16
	}{
		{1, 0x3f80}, {-2, 0xc000},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie: to even
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie: to even (up)
		{math.Float32frombits(0x3f808001), 0x3f81},
	} {
		if got := ToBF16(c.x); got != c.want {
			t.Errorf("ToBF16(%g) = %#04x, want %#04x", c.x, got, c.want)
		}
		if w := BF16ToFloat32(ToBF16(c.x)); ToBF16(w) != ToBF16(c.x) {
			t.Errorf("round trip of %g changed", c.x)
		}
	}
	src := []float32{1.5, -3.25e-3, 7e5}
	for _, k := range []Kind{BF16, F16} {
		bits := make([]uint16, len(src))
		back := make([]float32, len(src))
		Narrow(k, bits, src)
		Widen(k, back, bits)
		for i := range src {
			if rel := math.Abs(float64(back[i]-src[i])) / math.Abs(float64(src[i])); rel > 1.0/128 && !(k == F16 && src[i] > 65504) {
				t.Errorf("%v: %g came back as %g", k, src[i], back[i])
			}
		}
	}
}

// The tests below hold the conversions bit for bit against references
// computed another way (float64 arithmetic, not bit manipulation): the
// file format's conversions are these (engine/hf's torch_test.go holds
// them against PyTorch's own).

func isNaN32(v float32) bool { return v != v }

// refF16 widens a binary16 bit pattern through float64 arithmetic; a NaN
// comes out quiet with its sign and payload, as F16C makes it.
func refF16(h uint16) uint32 {
	sign := uint32(h>>15) << 31
	exp := int(h>>10) & 0x1f
	man := float64(h & 0x3ff)
	switch exp {
	case 0x1f:
		if man == 0 {
			return sign | 0x7f800000
		}
		return sign | 0x7fc00000 | uint32(h&0x3ff)<<13
	case 0:
		return sign | math.Float32bits(float32(math.Ldexp(man, -24)))
	}
	return sign | math.Float32bits(float32(math.Ldexp(1024+man, exp-25)))
}

// Every binary16 pattern widens as the float64 reference does: zeros of
// both signs, subnormals, normals, infinities and NaNs.
func TestF16ToFloat32Exhaustive(t *testing.T) {
	dst := make([]float32, 1<<16)
	src := make([]uint16, 1<<16)
	for h := range src {
		src[h] = uint16(h)
	}
	Widen(F16, dst, src)
	for h := range 1 << 16 {
		want := refF16(uint16(h))
		if got := math.Float32bits(F16ToFloat32(uint16(h))); got != want {
			t.Fatalf("F16ToFloat32(%#04x) = %#08x, want %#08x", h, got, want)
		}
		if got := math.Float32bits(dst[h]); got != want {
			t.Fatalf("Widen(F16) of %#04x = %#08x, want %#08x", h, got, want)
		}
	}
	for _, c := range []struct {
		h    uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0400, 6.103515625e-05}, {0x0001, 5.960464477539063e-08},
		{0x03ff, 6.097555160522461e-05}, {0x8001, -5.960464477539063e-08}, {0x3555, 0.333251953125},
		{0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	} {
		if got := F16ToFloat32(c.h); got != c.want {
			t.Errorf("F16ToFloat32(%#04x) = %v, want %v", c.h, got, c.want)
		}
	}
}

// refToF16 rounds f to binary16 through float64 arithmetic: f in units of
// its binary16 ulp, rounded half to even; |f| from 65520 up is Inf.
func refToF16(f float32) uint16 {
	u := math.Float32bits(f)
	sign := uint16(u>>16) & 0x8000
	a := math.Abs(float64(f))
	if a >= 65520 {
		return sign | 0x7c00
	}
	if a == 0 {
		return sign
	}
	_, e := math.Frexp(a) // a = m·2^e, m in [0.5, 1)
	e = max(e-1, -14)     // a's binary16 exponent; subnormals share -14's ulp
	q := math.RoundToEven(a / math.Ldexp(1, e-10))
	// q from 1024 up is the normal mantissa with its leading 1; a carry to
	// 2048 moves to the next exponent, and q under 1024 at e = -14 is a
	// subnormal: the one formula encodes all three.
	return sign | uint16((e+15)<<10+int(q)-1024)
}

// ToF16 rounds as the float64 reference does, on random float32 patterns
// and on every binary16 value's neighbours and midpoints; NaNs stay quiet
// NaNs with their sign and top payload bits.
func TestToF16Reference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(bits uint32) {
		f := math.Float32frombits(bits)
		got := ToF16(f)
		if isNaN32(f) {
			if want := uint16(bits>>16)&0x8000 | 0x7e00 | uint16(bits>>13)&0x3ff; got != want {
				t.Fatalf("ToF16(NaN %#08x) = %#04x, want %#04x", bits, got, want)
			}
			return
		}
		if want := refToF16(f); got != want {
			t.Fatalf("ToF16(%g = %#08x) = %#04x, want %#04x", f, bits, got, want)
		}
	}
	for range 2_000_000 {
		check(r.Uint32())
	}
	for h := range 0x7c00 {
		// Each value, the midpoint to the next (a tie: subnormal,
		// normal, or the one to 65520, Inf) and their float32 neighbours.
		v := float64(F16ToFloat32(uint16(h)))
		next := 65536.0 // past 65504: the midpoint is 65520
		if h < 0x7bff {
			next = float64(F16ToFloat32(uint16(h + 1)))
		}
		for _, x := range []float64{v, (v + next) / 2} {
			b := math.Float32bits(float32(x))
			for _, d := range []int64{-1, 0, 1} {
				for _, s := range []uint32{0, 1 << 31} {
					check(s | uint32(int64(b)+d)&0x7fffffff)
				}
			}
		}
	}
}

// refBF16 rounds a float32 to bfloat16 by comparing distances in float64:
// the two neighbouring bfloat16 values bracket |f|; the nearer wins, ties go
// to the even mantissa, and the step past the largest finite value is Inf.
func refBF16(f float32) uint16 {
	u := math.Float32bits(f)
	sign := uint16(u>>16) & 0x8000
	mag := u & 0x7fffffff
	if mag == 0x7f800000 {
		return sign | 0x7f80
	}
	lo := mag &^ 0xffff
	ulp := math.Ldexp(1, int(lo>>23)-127-7)
	if lo>>23 == 0 {
		ulp = math.Ldexp(1, -133)
	}
	loV := float64(math.Float32frombits(lo))
	v := float64(math.Float32frombits(mag))
	dLo, dHi := v-loV, loV+ulp-v
	r := uint16(lo >> 16)
	if dHi < dLo || dHi == dLo && r&1 == 1 {
		r++
	}
	return sign | r
}

// ToBF16 rounds as the float64 reference does, on random float32 patterns
// and on every exact tie and its neighbours of every exponent and sign;
// NaNs stay quiet NaNs with their sign; every bfloat16 comes back whole.
func TestToBF16Reference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(bits uint32) {
		f := math.Float32frombits(bits)
		got := ToBF16(f)
		if isNaN32(f) {
			if want := uint16(bits>>16) | 0x40; got != want {
				t.Fatalf("ToBF16(NaN %#08x) = %#04x, want %#04x", bits, got, want)
			}
			return
		}
		if want := refBF16(f); got != want {
			t.Fatalf("ToBF16(%#08x) = %#04x, want %#04x", bits, got, want)
		}
	}
	for range 2_000_000 {
		check(r.Uint32())
	}
	for e := uint32(0); e < 256; e++ {
		for _, m := range []uint32{0x8000, 0x18000, 0x7f8000, 0x7fffff, 0x7f7fff, 0x1, 0x7fff, 0x8001} {
			for _, s := range []uint32{0, 1 << 31} {
				check(s | e<<23 | m)
			}
		}
	}
	for _, c := range []struct {
		name string
		in   uint32
		want uint16
	}{
		{"tie down to even", 0x3f808000, 0x3f80}, {"tie up to even", 0x3f818000, 0x3f82},
		{"max float to inf", 0x7f7fffff, 0x7f80}, {"overflow tie to inf", 0x7f7f8000, 0x7f80},
		{"below overflow tie", 0x7f7f7fff, 0x7f7f}, {"-inf", 0xff800000, 0xff80}, {"-zero", 0x80000000, 0x8000},
		{"subnormal tie to even", 0x00008000, 0x0000}, {"subnormal tie up", 0x00018000, 0x0002},
		{"largest subnormal to normal", 0x007fffff, 0x0080},
	} {
		if got := ToBF16(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("%s: ToBF16(%#08x) = %#04x, want %#04x", c.name, c.in, got, c.want)
		}
	}
	for b := range 1 << 16 {
		if f := BF16ToFloat32(uint16(b)); !isNaN32(f) && ToBF16(f) != uint16(b) {
			t.Fatalf("bf16 %#04x -> %v -> %#04x", b, f, ToBF16(f))
		}
	}
}
