package chart

import (
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/ui/style"
)

// yLabels is the y axis's labels of a chart w×h of a series from lo to
// hi, top to bottom, and the plot's rows.
func yLabels(lo, hi float64, w, h int) (labels []string, rows int) {
	ch := New(style.PlainTheme())
	ch.SetLegend(false)
	ch.SetSize(w, h)
	ch.Append("r", 0, lo)
	ch.Append("r", 100, hi)
	for _, line := range strings.Split(ch.View(), "\n") {
		lab, _, ok := strings.Cut(line, "┤")
		if !ok {
			lab, _, ok = strings.Cut(line, "│")
		}
		if ok {
			rows++
			if l := strings.TrimSpace(lab); l != "" {
				labels = append(labels, l)
			}
		}
	}
	return labels, rows
}

// TestTicksAsManyAsRowsAllow: an axis has about as many ticks as its rows
// allow (NiceTicks' count, one each three rows), finer nice steps taken
// while they stay within that count. A reward chart of 12 rows, -1…1,
// read only "1 0 -1": NiceTicks rounds the span up (2.2 to 5) before
// dividing it, and a finer step was taken only where fewer than two
// ticks fell on the plot.
func TestTicksAsManyAsRowsAllow(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		h      int
		want   string
	}{
		{-1, 1, 14, "1.0 0.5 0.0 -0.5 -1.0"},
		{0, 1, 14, "1.0 0.5 0.0"}, // 0.2 apart: 6 ticks, past the 5 of 12 rows
		{0, 15000, 14, "15k 10k 5k 0"},
		{-1, 1, 5, "1 0 -1"},
	} {
		labels, rows := yLabels(c.lo, c.hi, 60, c.h)
		if got := strings.Join(labels, " "); got != c.want {
			t.Errorf("%g…%g on %d rows: the axis reads %q, want %q", c.lo, c.hi, rows, got, c.want)
		}
	}
}
