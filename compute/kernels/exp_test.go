package kernels

import (
	"math"
	"testing"
)

func ulpDiff(a, b float32) int64 {
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if ia < 0 || ib < 0 {
		return math.MaxInt64
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

func TestExp32Accuracy(t *testing.T) {
	r := newRNG(1)
	var maxRel float64
	var maxULP int64
	check := func(x float32) {
		got := Exp32(x)
		want := math.Exp(float64(x))
		exact := float32(want)
		if u := ulpDiff(got, exact); u > maxULP {
			maxULP = u
		}
		if want >= math.SmallestNonzeroFloat32*(1<<23) && want <= math.MaxFloat32 { // normal range
			maxRel = max(maxRel, math.Abs(float64(got)-want)/want)
		}
	}
	for i := 0; i < 2_000_000; i++ {
		check(float32(-104 + r.Float64()*(88.8+104)))
	}
	for x := float32(-1); x <= 1; x += 1.0 / 4096 {
		check(x)
	}
	// every float32 in a few binades near 0 and near the ends
	for _, x0 := range []float32{-103.98, -87.5, 88.5, -1e-3, 1e-3} {
		x := x0
		for i := 0; i < 100000; i++ {
			check(x)
			x = math.Nextafter32(x, float32(math.Inf(1)))
		}
	}
	t.Logf("max relative error %.3g (normal range), max ulp distance %d", maxRel, maxULP)
	if maxRel > 2e-7 {
		t.Errorf("max relative error %.3g > 2e-7", maxRel)
	}
	if maxULP > 1 {
		t.Errorf("max ulp distance %d > 1", maxULP)
	}
}

func TestExp32Special(t *testing.T) {
	inf := float32(math.Inf(1))
	cases := []struct {
		x, want float32
	}{
		{0, 1},
		{float32(math.Copysign(0, -1)), 1},
		{1, float32(math.E)},
		{-inf, 0},
		{inf, inf},
		{-104, 0},
		{-200, 0},
		{-1e30, 0},
		{89, inf},
		{1e30, inf},
		{88.72283, float32(math.Exp(float64(float32(88.72283))))},
		{-103.2789, float32(math.Exp(float64(float32(-103.2789))))}, // smallest subnormal region
		{-87.33655, float32(math.Exp(float64(float32(-87.33655))))}, // near the smallest normal
	}
	for _, c := range cases {
		if got := Exp32(c.x); got != c.want {
			t.Errorf("Exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if got := Exp32(float32(math.NaN())); got == got {
		t.Errorf("Exp32(NaN) = %v, want NaN", got)
	}
	dst := make([]float32, 3)
	ExpSlice(dst, []float32{0, -inf, 1}, 0, 3)
	if dst[0] != 1 || dst[1] != 0 || dst[2] != float32(math.E) {
		t.Errorf("ExpSlice = %v", dst)
	}
	ExpSlice(dst, nil, 2, 2) // empty range
}
