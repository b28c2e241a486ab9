package heatmap

import "math"

// Run-wide colour scales, shared by the workbench's Detail screen and the
// HTML report so that one d_k has one colour in both: every trace of a run
// is coloured on the run's d_k scale (RunScale), and log-probs on the
// absolute scale LogPLimit.

// MinDSpan is the smallest run scale for d_k: a run whose d_k all lie
// within ±0.02 is drawn pale, not at the palette's ends.
const MinDSpan = 0.5

// LogPLimit is the absolute scale of log-probs (nats): 0 (certain) is
// white, −LogPLimit (p ≈ 0.7%) and below the darkest.
const LogPLimit = 5.0

// dQuantile is the share of a run's |d_k| the run scale covers: a few
// outlying tokens saturate rather than wash the rest out.
const dQuantile = 0.99

// Log-spaced bins of |d_k|: binsPerDecade per decade from 10^binLo to
// 10^binHi; below goes to bin 0, above to the last. The scale is a bin's
// upper edge, so it moves in steps, not with every trace.
const (
	binsPerDecade = 8
	binLo, binHi  = -3, 3
	nDBins        = binsPerDecade*(binHi-binLo) + 2
)

// RunScale accumulates the |d_k| of a run's traces. The zero value is an
// empty scale.
type RunScale struct {
	hist [nDBins]int64
	n    int64
}

// Reset empties the scale.
func (s *RunScale) Reset() { *s = RunScale{} }

// Add counts the finite values of d.
func (s *RunScale) Add(d []float32) {
	for _, v := range d {
		a := math.Abs(float64(v))
		if math.IsNaN(a) || math.IsInf(a, 0) {
			continue
		}
		s.hist[dBin(a)]++
		s.n++
	}
}

func dBin(a float64) int {
	if a <= math.Pow(10, binLo) {
		return 0
	}
	b := int(math.Ceil((math.Log10(a) - binLo) * binsPerDecade))
	return min(max(b, 1), nDBins-1)
}

// binEdge is the upper edge of bin b.
func binEdge(b int) float64 {
	if b >= nDBins-1 {
		return math.Inf(1)
	}
	return math.Pow(10, binLo+float64(b)/binsPerDecade)
}

// Limit is the run's d_k scale: the dQuantile of |d_k| rounded up to a
// bin edge, at least MinDSpan; ok false when no d_k was added.
func (s *RunScale) Limit() (float64, bool) {
	if s.n == 0 {
		return 0, false
	}
	want := int64(math.Ceil(dQuantile * float64(s.n)))
	var c int64
	for b, k := range s.hist {
		c += k
		if c >= want {
			e := binEdge(b)
			if math.IsInf(e, 1) {
				e = math.Pow(10, binHi)
			}
			return math.Max(e, MinDSpan), true
		}
	}
	return MinDSpan, true
}
