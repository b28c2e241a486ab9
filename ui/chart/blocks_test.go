package chart

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDownsampleBlocksMatches: the block shortcut gives the same columns
// as the plain scan, for ranges and column counts of every kind, as the
// series grows.
func TestDownsampleBlocksMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var steps []int64
	var vals []float64
	var b Blocks
	for _, n := range []int{1, 15, 16, 17, 100, 1000, 4097} {
		for len(steps) < n {
			steps = append(steps, int64(len(steps))*int64(1+rng.IntN(3)))
			vals = append(vals, rng.NormFloat64())
		}
		// steps must be sorted
		for i := 1; i < len(steps); i++ {
			steps[i] = max(steps[i], steps[i-1])
		}
		b.Sync(vals)
		for _, tc := range []struct {
			lo, hi int64
			cols   int
		}{{0, steps[n-1], 1}, {0, steps[n-1], 7}, {0, steps[n-1], 200}, {steps[n/3], steps[n-1], 33}, {steps[n/2], steps[n/2] + 50, 5}} {
			want := Downsample(steps, vals, tc.lo, tc.hi, tc.cols, nil)
			got := DownsampleBlocks(steps, vals, &b, tc.lo, tc.hi, tc.cols, nil)
			for i := range want {
				if want[i] != got[i] {
					t.Fatalf("n %d lo %d hi %d cols %d: column %d = %+v, want %+v", n, tc.lo, tc.hi, tc.cols, i, got[i], want[i])
				}
			}
		}
	}
	// A change in the middle needs Reset; Sync after it is exact again.
	vals[5] = 100
	b.Reset()
	b.Sync(vals)
	if c := DownsampleBlocks(steps, vals, &b, 0, steps[len(steps)-1], 1, nil); c[0].Max != 100 {
		t.Errorf("max after a change = %v, want 100", c[0].Max)
	}
}

// TestBandAndAxisLabels: a series with a recorded spread draws dots
// beyond its line, the y range takes the band in, and a short plot still
// labels its top and bottom rows.
func TestBandAndAxisLabels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spread float64
		h      int
	}{{"band", 0.5, 8}, {"no band", 0, 8}, {"short plot", 0.5, 6}} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(nil)
			c.SetSize(40, tc.h)
			var steps []int64
			var vals, sp []float64
			for i := 0; i < 40; i++ {
				steps = append(steps, int64(i))
				vals = append(vals, 1)
				sp = append(sp, tc.spread)
			}
			c.AppendMany("r", steps, vals)
			if tc.spread > 0 {
				c.AppendSpread("r", steps, sp)
			}
			v := c.View()
			lines := strings.Split(v, "\n")
			dotted := 0
			labelled := 0
			for _, l := range lines {
				if strings.IndexFunc(l, func(r rune) bool { return r > 0x2800 && r <= 0x28ff }) >= 0 {
					dotted++
				}
				if strings.Contains(l, "┤") {
					labelled++
				}
			}
			if tc.spread > 0 && dotted < 3 {
				t.Errorf("the band fills %d rows, want ≥ 3:\n%s", dotted, v)
			}
			if tc.spread == 0 && dotted > 1 {
				t.Errorf("a flat line without band fills %d rows:\n%s", dotted, v)
			}
			if labelled < 2 {
				t.Errorf("%d labelled rows, want ≥ 2:\n%s", labelled, v)
			}
			if tc.spread > 0 && !strings.Contains(v, "±0.5") {
				t.Errorf("the legend does not give the spread:\n%s", v)
			}
		})
	}
}

// TestBandIncremental: edges extended point by point equal edges computed
// at once, with smoothing and gaps in the recorded spread, and after a
// spread arrives late for a point already banded.
func TestBandIncremental(t *testing.T) {
	for _, w := range []float64{0, 0.6} {
		inc, whole := New(nil), New(nil)
		var steps []int64
		var vals, sp []float64
		var spSteps []int64
		for i := 0; i < 200; i++ {
			st, v := int64(i), float64(i%7)-3
			steps, vals = append(steps, st), append(vals, v)
			inc.AppendMany("r", []int64{st}, []float64{v})
			if i%5 != 3 { // gaps in the spread
				spSteps, sp = append(spSteps, st), append(sp, float64(i%4))
				inc.AppendSpread("r", []int64{st}, []float64{float64(i % 4)})
			}
			inc.series[0].band(w)
		}
		// A late spread for step 3.
		inc.AppendSpread("r", []int64{3}, []float64{9})
		spSteps, sp = append(spSteps[:3], append([]int64{3}, spSteps[3:]...)...), append(sp[:3], append([]float64{9}, sp[3:]...)...)
		whole.AppendMany("r", steps, vals)
		whole.AppendSpread("r", spSteps, sp)
		lo1, hi1 := inc.series[0].band(w)
		lo2, hi2 := whole.series[0].band(w)
		for i := range lo2 {
			if !same(lo1[i], lo2[i]) || !same(hi1[i], hi2[i]) {
				t.Fatalf("w %v point %d: incremental [%v, %v], whole [%v, %v]", w, i, lo1[i], hi1[i], lo2[i], hi2[i])
			}
		}
	}
}

func same(a, b float64) bool { return a == b || a != a && b != b }

// TestSearchFrom: the first index in [k, j) with a step ≥ bound, for
// consecutive steps (the guess), gaps, repeats and bounds outside.
func TestSearchFrom(t *testing.T) {
	for _, steps := range [][]int64{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{0, 2, 3, 3, 3, 7, 20, 21, 22, 100},
		{5, 5, 5, 5},
		{-3, -1, 0, 1000000},
	} {
		for k := 0; k <= len(steps); k++ {
			for j := k; j <= len(steps); j++ {
				for bound := int64(-5); bound <= 25; bound++ {
					want := j
					for i := k; i < j; i++ {
						if steps[i] >= bound {
							want = i
							break
						}
					}
					if got := searchFrom(steps, k, j, bound); got != want {
						t.Fatalf("searchFrom(%v, %d, %d, %d) = %d, want %d", steps, k, j, bound, got, want)
					}
				}
			}
		}
	}
}

// TestLegendSpreadFollowsSmoothing: with smoothing on, the legend's ± is
// the band's spread at the last step, smoothed as the value beside it is,
// not the last step's raw spread.
func TestLegendSpreadFollowsSmoothing(t *testing.T) {
	c := New(nil)
	c.SetSize(80, 16)
	steps := []int64{0, 1, 2, 3}
	c.AppendMany("reward", steps, []float64{-8, -8, -8, -8})
	c.AppendSpread("reward", steps, []float64{1, 1, 1, 9})
	if v := c.View(); !strings.Contains(v, "reward -8.000 ±9.000") {
		t.Errorf("unsmoothed legend: want the last spread, ±9.000:\n%s", v)
	}
	c.SetSmoothing(0.6)
	lo, hi := c.series[0].band(0.6)
	want := "±" + FormatValue((hi[3]-lo[3])/2)
	if v := c.View(); !strings.Contains(v, want) || strings.Contains(v, "±9.000") {
		t.Errorf("smoothed legend: want the band's spread %s, not the raw ±9:\n%s", want, v)
	}
}
