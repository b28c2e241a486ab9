package report

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/ui/chart"
)

var svgXLabel = regexp.MustCompile(`<text x="[^"]*" y="[^"]*" text-anchor="middle" font-size="10" fill="#444">([^<]*)</text>`)

// TestReportTicksFollowTheWorkbenchStepRule: the report's step axis (x)
// is ticked by the workbench's rule, as docs/commands.md says (rlt
// report): the tick step is chart.NiceTicks' (1, 2 or 5 times a power of
// ten, the terminal charts' one rule), never below a whole step (a run of
// 3 steps reads 1 2 3, not 1 1.5 2 2.5 3), each tick a multiple of the
// step, written by chart.AxisLabels ("5k 10k").
func TestReportTicksFollowTheWorkbenchStepRule(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   string
	}{
		{1, 3, "1 2 3"},
		{0, 100, "0 20 40 60 80 100"},
		{0, 20000, "0 5k 10k 15k 20k"},
		{7, 61, "20 40 60"},
	} {
		var svg bytes.Buffer
		chartSVG(&svg, "m", []Series{{Name: "r", Steps: []float64{c.lo, c.hi}, Values: []float64{0, 1}}}, 720, 300, chartOpts{})
		var got []string
		for _, m := range svgXLabel.FindAllStringSubmatch(svg.String(), -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("steps %v…%v: the step axis reads %q, want %q", c.lo, c.hi, got, c.want)
		}
		b := svgXBounds.FindStringSubmatch(svg.String())
		x0, _ := strconv.ParseFloat(b[1], 64)
		x1, _ := strconv.ParseFloat(b[2], 64)
		xt, step := ticks(x0, x1, 6, 1)
		nice, _, _ := chart.NiceTicks(x0, x1, 7)
		if step != max(nice, 1) {
			t.Errorf("steps %v…%v: tick step %v, want the workbench's %v (chart.NiceTicks, at least 1)", c.lo, c.hi, step, max(nice, 1))
		}
		for _, v := range xt {
			if math.Mod(v, step) != 0 {
				t.Errorf("steps %v…%v: tick %v is no multiple of the step %v", c.lo, c.hi, v, step)
			}
		}
	}
}

var svgXBounds = regexp.MustCompile(`data-x0="([^"]*)" data-x1="([^"]*)"`)
