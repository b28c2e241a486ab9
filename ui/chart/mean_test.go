package chart

import (
	"fmt"
	"math"
	"testing"
)

// TestMeanBand: the band is, at each step where two or more shown series
// have a point, their mean ± population std, whatever the series'
// lengths, gaps, hidden series and the order points arrive in (frames
// drawn between chunks sync the mean series part by part; the result is
// what a computation from scratch gives, smoothing included).
func TestMeanBand(t *testing.T) {
	type pts map[int64]float64
	seq := func(from, to, every int64, f func(int64) float64) pts {
		p := pts{}
		for s := from; s <= to; s += every {
			p[s] = f(s)
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		series map[string]pts
		hidden []string
	}{
		{"equal lengths", map[string]pts{
			"a": seq(0, 9, 1, func(s int64) float64 { return float64(s) }),
			"b": seq(0, 9, 1, func(s int64) float64 { return 2 * float64(s) }),
			"c": seq(0, 9, 1, func(s int64) float64 { return -1 }),
		}, nil},
		{"different lengths", map[string]pts{
			"seed1": seq(0, 99, 1, func(s int64) float64 { return math.Sin(float64(s) / 7) }),
			"seed2": seq(0, 49, 1, func(s int64) float64 { return 0.5 + math.Cos(float64(s)/5) }),
			"seed3": seq(20, 79, 1, func(s int64) float64 { return 1000 + float64(s%3) }),
		}, nil},
		{"gaps", map[string]pts{
			"lambda0": seq(0, 60, 2, func(s int64) float64 { return 1e6 + float64(s) }),
			"lambda3": seq(0, 60, 3, func(s int64) float64 { return 1e6 - float64(s) }),
		}, nil},
		{"hidden left out", map[string]pts{
			"a": seq(0, 30, 1, func(s int64) float64 { return float64(s) }),
			"b": seq(0, 30, 1, func(s int64) float64 { return float64(s) + 2 }),
			"c": seq(10, 30, 1, func(s int64) float64 { return 100 }),
		}, []string{"c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(nil)
			c.SetSize(60, 15)
			c.SetMeanBand(true)
			c.SetSmoothing(0.6)
			for _, h := range tc.hidden {
				c.Append(h, 0, 0) // created first, so it can be hidden
				c.SetHidden(h, true)
			}
			// Feed in chunks of 7 steps per series, series after series
			// (so later series fill in steps the mean already has), a frame
			// after each chunk.
			for from := int64(0); from < 100; from += 7 {
				for name, p := range tc.series {
					for s := from; s < from+7; s++ {
						if v, ok := p[s]; ok && !(s == 0 && contains(tc.hidden, name)) {
							c.Append(name, s, v)
						}
					}
					_ = c.View()
				}
			}
			// Expected: from scratch over the shown series.
			var wantSteps []int64
			var wantMean, wantStd []float64
			for s := int64(0); s < 100; s++ {
				var vs []float64
				for name, p := range tc.series {
					if v, ok := p[s]; ok && !contains(tc.hidden, name) {
						vs = append(vs, v)
					}
				}
				if len(vs) < 2 {
					continue
				}
				m, q := 0.0, 0.0
				for _, v := range vs {
					m += v
				}
				m /= float64(len(vs))
				for _, v := range vs {
					q += (v - m) * (v - m)
				}
				wantSteps = append(wantSteps, s)
				wantMean = append(wantMean, m)
				wantStd = append(wantStd, math.Sqrt(q/float64(len(vs))))
			}
			steps, mean, std := c.MeanBand()
			if fmt.Sprint(steps) != fmt.Sprint(wantSteps) {
				t.Fatalf("band at steps %v, want %v", steps, wantSteps)
			}
			for i := range steps {
				if !near(mean[i], wantMean[i]) || !near(std[i], wantStd[i]) {
					t.Errorf("step %d: %v ± %v, want %v ± %v", steps[i], mean[i], std[i], wantMean[i], wantStd[i])
				}
			}
			// What is drawn: the mean series synced part by part equals
			// the band, and its smoothing the EMA of the whole.
			m := c.mean
			if fmt.Sprint(m.steps) != fmt.Sprint(wantSteps) || fmt.Sprint(m.spSteps) != fmt.Sprint(wantSteps) {
				t.Fatalf("drawn mean at %v (spread %v), want %v", m.steps, m.spSteps, wantSteps)
			}
			// The band's edges, extended and cut back frame by frame,
			// equal those of the same points drawn at once.
			lo, hi := m.band(0.6)
			f := &series{smPow: 1, bandN: -1}
			for i, st := range wantSteps {
				f.push(st, wantMean[i])
			}
			f.spSteps, f.spVals = wantSteps, wantStd
			flo, fhi := f.band(0.6)
			if len(lo) != len(flo) {
				t.Fatalf("band edges at %d points, want %d", len(lo), len(flo))
			}
			for i := range lo {
				if !near(lo[i], flo[i]) || !near(hi[i], fhi[i]) {
					t.Errorf("band edge %d: %v…%v, want %v…%v", i, lo[i], hi[i], flo[i], fhi[i])
				}
			}
			ema := EMA(wantMean, 0.6)
			sm := m.smoothed(0.6)
			for i := range wantMean {
				if !near(m.vals[i], wantMean[i]) || !near(m.spVals[i], wantStd[i]) || !near(sm[i], ema[i]) {
					t.Errorf("drawn point %d: %v ± %v smoothed %v, want %v ± %v smoothed %v", i, m.vals[i], m.spVals[i], sm[i], wantMean[i], wantStd[i], ema[i])
				}
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
