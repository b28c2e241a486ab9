package rlt

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdvantagesOfEqualRewardsAreZero: a group whose rewards are all equal
// has advantages of exactly 0 (RLT.md §4: r_i − mean is 0), where Σr/g
// rounded and left about ±3e-13 on each, which the workbench showed as
// -0.00 beside "zero variance: advantages 0".
func TestAdvantagesOfEqualRewardsAreZero(t *testing.T) {
	for _, tc := range []struct {
		r float64
		g int
	}{
		{0.1, 3}, {-0.459, 4}, {1.0 / 3, 8}, {0.3, 16}, {-7.357, 5}, {2.7e-5, 64}, {-1e6 / 3, 7},
	} {
		rs := make([]float64, 2*tc.g)
		for i := range rs {
			rs[i] = tc.r
		}
		adv, err := Advantages(rs, tc.g)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range adv {
			if a != 0 {
				t.Errorf("%d rewards of %v: A[%d] = %g, want exactly 0", tc.g, tc.r, i, a)
				break
			}
		}
	}
}

// TestAdvantagesAgreeWithTheSpecsFormula: for groups of unequal rewards the
// shifted mean changes the advantages only in float64 rounding from the
// spec's (r_i − Σr/g) / (std + 1e−4), as PyTorch computes them.
func TestAdvantagesAgreeWithTheSpecsFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := 0; trial < 200; trial++ {
		g := 2 + rng.IntN(15)
		scale := math.Pow(10, float64(rng.IntN(9)-4))
		rs := make([]float64, 3*g)
		for i := range rs {
			rs[i] = (rng.Float64()*2 - 1) * scale
			if rng.IntN(4) == 0 && i > 0 {
				rs[i] = rs[i-1] // some ties
			}
		}
		adv, err := Advantages(rs, g)
		if err != nil {
			t.Fatal(err)
		}
		for s := 0; s < len(rs); s += g {
			grp := rs[s : s+g]
			var mean, ss float64
			for _, r := range grp {
				mean += r
			}
			mean /= float64(g)
			for _, r := range grp {
				ss += (r - mean) * (r - mean)
			}
			std := math.Sqrt(ss / float64(g-1))
			for i, r := range grp {
				want := (r - mean) / (std + 1e-4)
				if d := math.Abs(adv[s+i] - want); d > 1e-12*math.Max(1, math.Abs(want))+1e-12 {
					t.Fatalf("rewards %v (g %d): A[%d] = %v, the spec's formula %v", grp, g, i, adv[s+i], want)
				}
			}
		}
	}
}
