package report

import (
	"bytes"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/ui/chart"
	"github.com/rlt-workbench/rlt/ui/style"
)

// terminalAxis is the y axis of the workbench's terminal chart of a
// series moving from lo to hi, w×h cells: its labels top to bottom and the
// values they read, bottom to top.
func terminalAxis(t *testing.T, lo, hi float64, w, h int) (labels []string, vals []float64) {
	t.Helper()
	ch := chart.New(style.PlainTheme())
	ch.SetLegend(false)
	ch.SetSize(w, h)
	ch.Append("r", 0, lo)
	ch.Append("r", 100, hi)
	for _, line := range strings.Split(ch.View(), "\n") {
		lab, _, ok := strings.Cut(line, "┤")
		if !ok {
			continue
		}
		lab = strings.TrimSpace(lab)
		labels = append(labels, lab)
		vals = append(vals, readAxisLabel(t, lab))
	}
	slices.Reverse(labels)
	slices.Reverse(vals)
	return labels, vals
}

// readAxisLabel is the value an axis label reads ("12.5k", "-3e-05").
func readAxisLabel(t *testing.T, s string) float64 {
	t.Helper()
	scale := 1.0
	for sfx, sc := range map[string]float64{"k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12} {
		if c, ok := strings.CutSuffix(s, sfx); ok {
			s, scale = c, sc
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("axis label %q reads no number: %v", s, err)
	}
	return v * scale
}

var svgYLabel = regexp.MustCompile(`<text x="52" y="[^"]*" text-anchor="end" font-size="10" fill="#444">([^<]*)</text>`)

// TestAxisLabelsAsTheWorkbench: the HTML report's SVG charts write their
// axes' ticks by the workbench's terminal charts' one rule
// (chart.AxisLabels). The report had its own (tickLabels): "5000 10000
// 15000" beside the workbench's "5k 10k 15k", "1e+05" for its "100k",
// "2.0e+15" for its "2e+15". Given the terminal's ticks, the report's
// formatter writes the terminal's labels; and the report's own chart of
// the same series, where its ticks are the terminal's, reads the same.
func TestAxisLabelsAsTheWorkbench(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		h      int
		want   []string // the report's y labels, bottom to top
	}{
		{0, 15000, 12, []string{"0", "5k", "10k", "15k"}},
		{0, 300000, 12, []string{"0", "100k", "200k", "300k"}},
		{12000, 12300, 12, []string{"12.0k", "12.1k", "12.2k", "12.3k"}},
		{0, 2.5e6, 12, []string{"0", "1M", "2M"}},
		{1e15, 3e15, 12, []string{"1e+15", "2e+15", "3e+15"}},
		{0, 0.015, 12, []string{"0.000", "0.005", "0.010", "0.015"}},
		{0, 1.5e-4, 12, []string{"0", "5.0e-05", "1.0e-04", "1.5e-04"}},
		{-15, -5, 12, []string{"-15", "-10", "-5"}},
	} {
		labels, vals := terminalAxis(t, c.lo, c.hi, 60, c.h)
		if len(vals) >= 2 {
			step := vals[1] - vals[0]
			if got := tickLabels(step, vals); strings.Join(got, " ") != strings.Join(labels, " ") {
				t.Errorf("%g…%g: the workbench's ticks %v written %q by the report, %q by the workbench", c.lo, c.hi, vals, got, labels)
			}
		} else {
			t.Errorf("%g…%g: the workbench's axis has %d labels %q, want 2 or more to compare", c.lo, c.hi, len(labels), labels)
		}
		var svg bytes.Buffer
		chartSVG(&svg, "m", []Series{{Name: "r", Steps: []float64{0, 100}, Values: []float64{c.lo, c.hi}}}, 720, 300, chartOpts{})
		var got []string
		for _, m := range svgYLabel.FindAllStringSubmatch(svg.String(), -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%g…%g: the report's axis reads %q, want %q", c.lo, c.hi, got, c.want)
		}
		// Where a value is a tick of both and the steps are alike, the
		// two read it alike.
		for i, v := range vals {
			for j, s := range got {
				if math.Abs(readAxisLabel(t, s)-v) <= math.Abs(v)*1e-12 && len(vals) >= 2 && len(got) >= 2 &&
					math.Abs((vals[1]-vals[0])-(readAxisLabel(t, got[1])-readAxisLabel(t, got[0]))) <= (vals[1]-vals[0])*1e-9 && labels[i] != s {
					t.Errorf("%g…%g: %g is %q in the report, %q in the workbench", c.lo, c.hi, v, got[j], labels[i])
				}
			}
		}
	}
}

var svgBounds = regexp.MustCompile(`data-y0="([^"]*)" data-y1="([^"]*)"`)

// TestChartNearFloat64sEndsHasTicks: a series near ±MaxFloat64 is drawn
// within finite bounds with ticks, as the terminal charts draw it
// (chart.NiceTicks by halves). Its pad and tick step were taken of
// y1-y0, +Inf: the bounds were ±Inf, no tick was written and no point
// placed.
func TestChartNearFloat64sEndsHasTicks(t *testing.T) {
	for _, c := range []struct {
		vals []float64
		want string // the y labels, bottom to top
	}{
		{[]float64{-math.MaxFloat64, math.MaxFloat64}, "-1e+308 0 1e+308"},
		{[]float64{math.MaxFloat64, math.MaxFloat64}, "1.65e+308 1.70e+308 1.75e+308"},
		{[]float64{-math.MaxFloat64, -math.MaxFloat64 / 2}, "-1.6e+308 -1.4e+308 -1.2e+308 -1.0e+308"},
	} {
		var svg bytes.Buffer
		chartSVG(&svg, "m", []Series{{Name: "r", Steps: []float64{0, 100}, Values: c.vals}}, 720, 300, chartOpts{})
		b := svgBounds.FindStringSubmatch(svg.String())
		for _, s := range b[1:] {
			if v, err := strconv.ParseFloat(s, 64); err != nil || math.IsInf(v, 0) {
				t.Errorf("%v: bound %q, want a finite one", c.vals, s)
			}
		}
		var got []string
		for _, m := range svgYLabel.FindAllStringSubmatch(svg.String(), -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%v: the axis reads %q, want %q", c.vals, got, c.want)
		}
		if strings.Contains(svg.String(), "NaN") || strings.Contains(svg.String(), "Inf") {
			t.Errorf("%v: a coordinate is not a number:\n%s", c.vals, svg.String())
		}
	}
}
