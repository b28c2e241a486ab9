package heatmap

import (
	"math"

	"github.com/rlt-workbench/rlt/engine/record"
)

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

// RunScale accumulates the |d_k| of a run's traces (record.DHistogram: the
// scale is a bin's upper edge, so it moves in steps, not with every trace).
// The zero value is an empty scale.
type RunScale struct{ record.DHistogram }

// Limit is the run's d_k scale: the dQuantile of |d_k| rounded up to a
// bin edge, at least MinDSpan; ok false when no d_k was added.
func (s *RunScale) Limit() (float64, bool) { return DLimit(&s.DHistogram) }

// DLimit is the d_k scale of the |d_k| counted in h (RunScale.Limit).
func DLimit(h *record.DHistogram) (float64, bool) {
	e, ok := h.Quantile(dQuantile)
	if !ok {
		return 0, false
	}
	return math.Max(e, MinDSpan), true
}
