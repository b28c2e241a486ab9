package heatmap

import (
	"math"

	"github.com/rlt-workbench/rlt/engine/record"
)

// Run-wide colour scales, shared by the workbench's Detail screen and the
// HTML report so that one d_k has one colour in both: every trace of a run
// is coloured on the run's d_k scale (DLimit), and log-probs on the
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

// DLimit is the run's d_k scale from the |d_k| counted in h (a run's, the
// store's record.DHistogram): the dQuantile of |d_k| rounded up to a bin
// edge (so it moves in steps, not with every trace), at least MinDSpan; ok
// false when nothing was counted.
func DLimit(h *record.DHistogram) (float64, bool) {
	e, ok := h.Quantile(dQuantile)
	if !ok {
		return 0, false
	}
	return math.Max(e, MinDSpan), true
}
