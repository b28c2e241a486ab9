package ui

import (
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/heatmap"
)

// Colour scales of the Detail screen. By default every trace of a run is
// coloured on one scale, so that the same d_k has the same colour in any
// two traces: the run's d_k scale (heatmap.DLimit over the store's
// histogram of every trace's |d_k|, which the HTML report shares) and an
// absolute scale for log-probs (logpLimit). z switches to per-trace scales
// (each trace's own largest value at the palette's end), which show the
// shape of one trace but cannot be compared.

const (
	minDSpan  = heatmap.MinDSpan
	logpLimit = heatmap.LogPLimit
)

// runDLimit is the run's d_k scale: ok is false while no trace has d_k.
func runDLimit(st *sessions.Store) (float64, bool) {
	h := st.DHistogram()
	return heatmap.DLimit(&h)
}
