package ui

import (
	"math"

	"github.com/rlt-workbench/rlt/sessions"
)

// Colour scales of the Detail screen. By default every trace of a run is
// coloured on one scale, so that the same d_k has the same colour in any
// two traces: the run's d_k scale (runScale) and an absolute scale for
// log-probs (logpLimit). z switches to per-trace scales (each trace's own
// largest value at the palette's end), which show the shape of one trace
// but cannot be compared.

// minDSpan is the smallest run scale for d_k: a run whose d_k all lie
// within ±0.02 is drawn pale, not at the palette's ends.
const minDSpan = 0.5

// logpLimit is the absolute scale of log-probs (nats): 0 (certain) is
// white, −logpLimit (p ≈ 0.7%) and below the darkest.
const logpLimit = 5.0

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

// runScale accumulates the |d_k| of a run's traces.
type runScale struct {
	hist [nDBins]int64
	n    int64
}

func (s *runScale) reset() { *s = runScale{} }

func (s *runScale) add(d []float32) {
	for _, v := range d {
		a := math.Abs(float64(v))
		if math.IsNaN(a) || math.IsInf(a, 0) {
			continue
		}
		s.hist[dBin(a)]++
		s.n++
	}
}

func (s *runScale) addTraces(ts []sessions.TraceRecord) {
	for i := range ts {
		s.add(ts[i].D)
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

// limit is the run's d_k scale: the dQuantile of |d_k| rounded up to a
// bin edge, at least minDSpan; ok false when no d_k is recorded.
func (s *runScale) limit() (float64, bool) {
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
			return math.Max(e, minDSpan), true
		}
	}
	return minDSpan, true
}
