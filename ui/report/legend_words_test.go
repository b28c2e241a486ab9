package report

import (
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/ui/heatmap"
)

// TestHeatmapNumbersAsTheWorkbench: the page's colour bars, words and
// token values write a scale's numbers as the workbench does (one
// format: heatmap.LegendEnds, LimitWords; a token's value to 4 decimals,
// as the Detail screen's cursor line). The page had its own ('g', 4):
// a bar "log p 0" … "log p −5" under the workbench's "log p 0.00 …
// −5.00", a scale of 0.0002 "d −0.0002" where the workbench reads
// "−2.00e-04", 23.3476 "23.35" beside its "23.3", and a token "d
// 1.235e-05" beside the cursor's "0.0000".
func TestHeatmapNumbersAsTheWorkbench(t *testing.T) {
	for _, c := range []struct {
		mode   heatmap.Mode
		lim    float64
		lo, hi string
	}{
		{heatmap.Sequential, heatmap.LogPLimit, ">log p 0.00<", ">log p −5.00<"},
		{heatmap.Diverging, 0.0002, ">d −2.00e-04<", ">d +2.00e-04<"},
		{heatmap.Diverging, 23.3476, ">d −23.3<", ">d +23.3<"},
		{heatmap.Diverging, math.MaxFloat64, ">d −1.79e+308<", ">d +1.79e+308<"},
	} {
		svg := legendSVG(c.mode, c.lim)
		if !strings.Contains(svg, c.lo) || !strings.Contains(svg, c.hi) {
			t.Errorf("mode %d, scale %g: want %q and %q in %s", c.mode, c.lim, c.lo, c.hi, svg)
		}
	}
	for _, c := range []struct {
		v    float32
		want string
	}{
		{1.2345e-5, `title="d 0.0000"`},
		{-0.123456, `title="d -0.1235"`},
		{-3, `title="d -3.0000"`},
		{0.123456, `title="d +0.1235"`}, // signed as the cursor line's d_k
		{3, `title="d +3.0000"`},
		{-1.2345e-5, `title="d 0.0000"`},
		{float32(math.Inf(1)), `title="d +Inf"`}, // not "++Inf"
		{float32(math.Inf(-1)), `title="d -Inf"`},
	} {
		var b strings.Builder
		tokenSpans(&b, []string{"x"}, []float32{c.v}, heatmap.Diverging, 4, "d")
		if !strings.Contains(b.String(), c.want) {
			t.Errorf("token of %g: %q, want %s", c.v, b.String(), c.want)
		}
	}
}
