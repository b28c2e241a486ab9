package half

import (
	"math"
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
