package ui

import (
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/heatmap"
)

// Colour scales of the Detail screen. By default every trace of a run is
// coloured on one scale, so that the same d_k has the same colour in any
// two traces: the run's d_k scale (runScale, heatmap.RunScale, which the
// HTML report shares) and an absolute scale for log-probs (logpLimit). z
// switches to per-trace scales (each trace's own largest value at the
// palette's end), which show the shape of one trace but cannot be compared.

const (
	minDSpan  = heatmap.MinDSpan
	logpLimit = heatmap.LogPLimit
)

// runScale accumulates the |d_k| of a run's traces.
type runScale struct{ s heatmap.RunScale }

func (s *runScale) reset()          { s.s.Reset() }
func (s *runScale) add(d []float32) { s.s.Add(d) }

func (s *runScale) addTraces(ts []sessions.TraceRecord) {
	for i := range ts {
		s.s.Add(ts[i].D)
	}
}

// limit is the run's d_k scale (heatmap.RunScale.Limit).
func (s *runScale) limit() (float64, bool) { return s.s.Limit() }
