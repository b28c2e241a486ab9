package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestFlatZeroChartFromZeroUp: the report's chart of a series that is 0
// throughout (a penalty rate, a count of failures) reads 0 and up, as
// the workbench's chart of it does (chart's TestFlatSeriesGetsNiceTicks):
// a rate or a count cannot be negative, and the report made up a span of
// ±1 around 0, its axis -1 … 1. A flat series of other values keeps its
// span around them, a negative one's ticks negative.
func TestFlatZeroChartFromZeroUp(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string // the y labels, bottom to top
	}{
		{0, "0.0 0.5 1.0"},
		{-2, "-2.2 -2.1 -2.0 -1.9 -1.8"},
		{5, "4.6 4.8 5.0 5.2 5.4"},
	} {
		var svg bytes.Buffer
		chartSVG(&svg, "m", []Series{{Name: "r", Steps: []float64{0, 50, 100}, Values: []float64{c.v, c.v, c.v}}}, 720, 300, chartOpts{})
		var got []string
		for _, m := range svgYLabel.FindAllStringSubmatch(svg.String(), -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("a series of %g throughout: the axis reads %q, want %q", c.v, got, c.want)
		}
	}
}
