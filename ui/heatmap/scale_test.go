package heatmap

import (
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

func TestDLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		d      []float32
		lo, hi float64
	}{
		{"tiny values get the minimum span", []float32{0.01, -0.017, 0.002}, MinDSpan, MinDSpan},
		{"the 99th percentile, rounded up to a bin edge", append(repeat(2, 50), repeat(-2.2, 50)...), 2.2, 2.2 * 1.34},
		{"one outlier in a thousand does not set it", append(repeat(1.5, 999), 28), 1.5, 1.5 * 1.34},
		{"past the last edge it is the last edge", repeat(5000, 10), 1000, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h record.DHistogram
			h.Add(tc.d)
			got, ok := DLimit(&h)
			if !ok || got < tc.lo || got > tc.hi {
				t.Errorf("limit %g (ok %v), want in [%g, %g]", got, ok, tc.lo, tc.hi)
			}
		})
	}
	if _, ok := DLimit(&record.DHistogram{}); ok {
		t.Error("an empty scale has a limit")
	}
}

func repeat(v float32, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}
