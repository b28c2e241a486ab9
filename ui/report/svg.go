package report

import (
	"bytes"
	csvpkg "encoding/csv"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/ui/chart"
)

// Plot area margins of ChartSVG, in SVG units.
const (
	marginLeft, marginRight = 56, 12
	marginTop, marginBottom = 10, 28
)

// chartOpts are chartSVG's choices beyond its series.
type chartOpts struct {
	band bool // draw the mean ± std band (the series are runs of one metric, not a run's different metrics)
	// steps, where set, is the x axis's range (a report's charts share
	// one), not the series' own.
	steps *[2]float64
}

// Legend rows above the plot, in SVG units.
const (
	legendRowH   = 13
	legendTop    = 4
	legendSwatch = 12 // the swatch and its gap before the name
	legendGap    = 14 // between entries
)

// legendEntry is one name of a chart's legend at its place.
type legendEntry struct {
	name   string
	full   string // the name untruncated, its title where name is cut
	color  string
	dashed bool // the mean's dashed line, not a run's swatch
	x, y   float64
}

// layoutLegend places entries left to right from x = 8, wrapping to a new
// row where one would pass width−8, each name cut with "…" where it alone
// is wider than a row. It returns how many rows they take.
func layoutLegend(entries []legendEntry, width float64) int {
	x, row := 8.0, 0
	maxW := width - 16 - legendSwatch
	for i := range entries {
		e := &entries[i]
		e.full = e.name
		if textWidth(e.name) > maxW {
			r := []rune(e.name)
			for len(r) > 0 && textWidth(string(r)+"…") > maxW {
				r = r[:len(r)-1]
			}
			e.name = string(r) + "…"
		}
		w := legendSwatch + textWidth(e.name)
		if x > 8 && x+w > width-8 {
			x, row = 8, row+1
		}
		e.x, e.y = x, float64(legendTop+10+row*legendRowH)
		x += w + legendGap
	}
	if len(entries) == 0 {
		return 0
	}
	return row + 1
}

// textWidth is a generous estimate of s's width at font-size 10 (wider
// than the common sans-serif fonts draw it), so that laid-out names do not
// overlap.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case r >= 0x1100 && (r <= 0x115f || r >= 0x2e80 && r <= 0xa4cf || r >= 0xac00 && r <= 0xd7a3 || r >= 0xf900 && r <= 0xfaff || r >= 0xfe30 && r <= 0xfe4f || r >= 0xff00 && r <= 0xff60 || r >= 0x1f000):
			w += 12 // wide: CJK, emoji
		case r >= 'A' && r <= 'Z', r == 'm', r == 'w', r == '@', r == '%':
			w += 8
		default:
			w += 6.6
		}
	}
	return w
}

// chartSVG writes one line chart of series (x = step) as a standalone SVG
// element of width×height: axes with tick labels, one polyline per series
// in its colour, and above the plot a legend of the series' names, in rows
// of its own (the SVG is taller by them) so that no line or tick label
// runs through a name. The plot area's data
// bounds are on the root element (data-x0, data-x1, data-y0, data-y1) and
// its pixel bounds in data-plot ("left top right bottom"), so the drawn
// points can be read back as values. With opt.band the series are runs of
// one metric: with two or more, their mean ± std band is drawn under them.
func chartSVG(w io.Writer, title string, series []Series, width, height int, opt chartOpts) {
	x0, x1, y0, y1 := bounds(series)
	if opt.steps != nil {
		x0, x1 = opt.steps[0], opt.steps[1]
		if x1 <= x0 {
			x0, x1 = x0-1, x0+1
		}
	}
	var entries []legendEntry
	for _, s := range series {
		name := s.Name
		if s.Lambda != "" {
			name += " " + s.Lambda
		}
		if s.Spread != nil {
			name += " ± " + s.SpreadName
		}
		entries = append(entries, legendEntry{name: name, color: s.Color.Hex()})
	}
	band := opt.band && len(series) >= 2 && sharedStep(series)
	if band {
		entries = append(entries, legendEntry{name: fmt.Sprintf("mean ± std of %d runs", len(series)), color: "#222222", dashed: true})
	}
	rows := layoutLegend(entries, float64(width))
	top := marginTop
	if rows > 0 {
		top = legendTop + rows*legendRowH + 6
	}
	height += top - marginTop // the plot keeps its height under the legend
	l, t := float64(marginLeft), float64(top)
	r, b := float64(width-marginRight), float64(height-marginBottom)
	px := func(x float64) float64 { return l + (x-x0)/(x1-x0)*(r-l) }
	py := func(y float64) float64 { return b - (y/2-y0/2)/(y1/2-y0/2)*(b-t) } // by halves: y1-y0 may pass MaxFloat64
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" data-metric="%s" data-x0="%s" data-x1="%s" data-y0="%s" data-y1="%s" data-plot="%s %s %s %s">`,
		width, height, width, height, html.EscapeString(title), num(x0), num(x1), num(y0), num(y1), num(l), num(t), num(r), num(b))
	fmt.Fprintf(w, "\n<title>%s</title>\n", html.EscapeString(title))
	fmt.Fprintf(w, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	// Axes and ticks.
	fmt.Fprintf(w, `<path d="M%s %sV%sH%s" stroke="#888" fill="none"/>`+"\n", num(l), num(t), num(b), num(r))
	yt, ystep := ticks(y0, y1, 5, 0)
	for i, lab := range tickLabels(ystep, yt) {
		y := py(yt[i])
		fmt.Fprintf(w, `<path d="M%s %sH%s" stroke="#eee"/><text x="%s" y="%s" text-anchor="end" font-size="10" fill="#444">%s</text>`+"\n",
			num(l+1), num(y), num(r), num(l-4), num(y+3), lab)
	}
	xt, xstep := ticks(x0, x1, 6, 1) // steps: whole numbers
	for i, lab := range tickLabels(xstep, xt) {
		x := px(xt[i])
		fmt.Fprintf(w, `<path d="M%s %sv4" stroke="#888"/><text x="%s" y="%s" text-anchor="middle" font-size="10" fill="#444">%s</text>`+"\n",
			num(x), num(b), num(x), num(b+15), lab)
	}
	fmt.Fprintf(w, `<text x="%s" y="%d" text-anchor="end" font-size="10" fill="#444">step</text>`+"\n", num(r), height-2)
	if len(series) == 0 {
		fmt.Fprintf(w, `<text x="%s" y="%s" text-anchor="middle" font-size="12" fill="#888">no finite values recorded</text>`+"\n", num((l+r)/2), num((t+b)/2))
	}
	if band {
		meanBand(w, series, px, py)
	}
	for _, s := range series {
		spreadBand(w, s, px, py)
	}
	for _, s := range series {
		var pts strings.Builder
		for j := range s.Values {
			if j > 0 {
				pts.WriteByte(' ')
			}
			pts.WriteString(num(px(s.Steps[j])))
			pts.WriteByte(',')
			pts.WriteString(num(py(s.Values[j])))
		}
		fmt.Fprintf(w, `<polyline class="series" data-run="%s" points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n",
			html.EscapeString(s.Name), pts.String(), s.Color.Hex())
		if len(s.Values) == 1 {
			fmt.Fprintf(w, `<circle cx="%s" cy="%s" r="2.5" fill="%s"/>`+"\n", num(px(s.Steps[0])), num(py(s.Values[0])), s.Color.Hex())
		}
	}
	// The legend, in its rows above the plot.
	for _, e := range entries {
		if e.dashed {
			fmt.Fprintf(w, `<path d="M%s %sh10" stroke="%s" stroke-width="1" stroke-dasharray="3 2"/>`, num(e.x), num(e.y-3.5), e.color)
		} else {
			fmt.Fprintf(w, `<rect x="%s" y="%s" width="10" height="3" fill="%s"/>`, num(e.x), num(e.y-5), e.color)
		}
		tip := ""
		if e.name != e.full {
			tip = "<title>" + html.EscapeString(e.full) + "</title>"
		}
		fmt.Fprintf(w, `<text class="legend" x="%s" y="%s" font-size="10" fill="#222">%s%s</text>`+"\n",
			num(e.x+legendSwatch), num(e.y), tip, html.EscapeString(e.name))
	}
	io.WriteString(w, "</svg>\n")
}

// sharedStep reports whether two or more of series record one step (where
// their mean ± std band is drawn).
func sharedStep(series []Series) bool {
	_, _, _, counts := MeanStd(series)
	for _, n := range counts {
		if n >= 2 {
			return true
		}
	}
	return false
}

// bounds is the data range of series, widened where it is empty or flat.
func bounds(series []Series) (x0, x1, y0, y1 float64) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, s := range series {
		for j, v := range s.Values {
			x0, x1 = math.Min(x0, s.Steps[j]), math.Max(x1, s.Steps[j])
			sp, _ := s.spreadAt(j)
			y0, y1 = math.Min(y0, v-math.Abs(sp)), math.Max(y1, v+math.Abs(sp))
		}
	}
	if math.IsInf(x0, 1) {
		return 0, 1, 0, 1
	}
	if x1 == x0 {
		x0, x1 = x0-1, x1+1
	}
	if y1 == 0 && y0 == 0 {
		// 0 throughout (a penalty rate, a count of failures): from 0 up,
		// as the workbench's chart draws it; a span around 0 read −1,
		// which a rate or a count can never be.
		y1 = 1
	}
	// Within float64's range: a series near ±MaxFloat64 padded past it
	// had ±Inf bounds, its points and ticks nowhere. The pad is taken by
	// halves (y1-y0 is +Inf for -MaxFloat64…MaxFloat64).
	if y1 == y0 {
		d := math.Abs(y0) * 0.1
		y0, y1 = y0-d, y1+d
	} else {
		pad := (y1/2 - y0/2) * 0.1
		y0, y1 = y0-pad, y1+pad
	}
	return x0, x1, max(y0, -math.MaxFloat64), min(y1, math.MaxFloat64)
}

// ticks returns round values within [lo, hi], about n steps of it (n+1
// ticks), at least minStep apart where minStep > 0 (1: whole steps), and
// their step. The step is
// the terminal charts' (chart.NiceTicks, one rule), which takes a range
// near float64's ends by halves: the report's own rule took hi-lo, +Inf
// for a series near ±MaxFloat64, and drew no tick.
func ticks(lo, hi float64, n int, minStep float64) (vs []float64, step float64) {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil, 0
	}
	step, _, _ = chart.NiceTicks(lo, hi, n+1) // n steps: n+1 ticks
	step = max(step, minStep)
	first := math.Ceil(lo/step) * step
	// A step below the values' ulp (ticks 5000 apart at 1e20) adds
	// nothing: the loop ends there rather than never.
	for v := first; v <= hi+step*1e-9 && !math.IsInf(v, 0); v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		if len(vs) > 0 && v <= vs[len(vs)-1] || len(vs) > 4*n+4 {
			break
		}
		vs = append(vs, v)
	}
	return vs, step
}

// num formats an SVG coordinate or bound: full precision, so values read
// back exactly enough to compare.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'g', 10, 64)
	if f, _ := strconv.ParseFloat(s, 64); math.IsInf(f, 0) && !math.IsInf(v, 0) {
		// MaxFloat64 to 10 digits is 1.797693135e+308, which reads +Inf.
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return s
}

// tickLabels writes an axis's ticks, step apart, as the workbench's
// terminal charts write theirs (chart.AxisLabels, the one rule): as many
// decimals as the step needs, one SI prefix from 1e4 ("5k", "10k"), or
// all in e-notation below 1e-3 or from 1e15. The report had a rule of
// its own, e-notation from 1e5 ("1e+05" where the workbench read "100k",
// "10000" beside its "10k").
func tickLabels(step float64, vs []float64) []string { return chart.AxisLabels(step, vs) }

// ExportChart writes a chart as dir/name.svg (ChartSVG) and dir/name.csv,
// each through a temporary file renamed into place; dir is created if
// missing. The CSV has a row per step any series records and a column per
// series (its name in the header; empty where it has no value), and, with
// acrossRuns (the series are runs of one metric) with two or more series,
// the columns mean, std and n: the mean, population standard deviation and
// count of the values at that step where two or more series have one (the
// band the SVG draws). A series' own Spread is a column after it, named
// SpreadName, and a band around its line. name is made safe for a file name. It returns the two paths.
func ExportChart(dir, name, title string, series []Series, acrossRuns bool) (svgPath, csvPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("chart export folder: %w", err)
	}
	base := filepath.Join(dir, safeName(name))
	var svg bytes.Buffer
	svg.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	chartSVG(&svg, title, series, 720, 300, chartOpts{band: acrossRuns})
	var csv bytes.Buffer
	cw := csvpkg.NewWriter(&csv)
	head := []string{"step"}
	for _, s := range series {
		head = append(head, s.Name)
		if s.Spread != nil {
			head = append(head, s.SpreadName)
		}
	}
	band := acrossRuns && len(series) >= 2
	if band {
		head = append(head, "mean", "std", "n")
	}
	_ = cw.Write(head)
	steps, means, sds, counts := MeanStd(series)
	at := make([]int, len(series)) // next point of each series
	for i, x := range steps {
		row := []string{strconv.FormatFloat(x, 'f', -1, 64)}
		for k, s := range series {
			cell, spread := "", ""
			if j := at[k]; j < len(s.Steps) && s.Steps[j] == x {
				cell = strconv.FormatFloat(s.Values[j], 'g', -1, 64)
				if sp, ok := s.spreadAt(j); ok {
					spread = strconv.FormatFloat(sp, 'g', -1, 64)
				}
				at[k]++
			}
			row = append(row, cell)
			if s.Spread != nil {
				row = append(row, spread)
			}
		}
		if band {
			if counts[i] >= 2 {
				row = append(row, strconv.FormatFloat(means[i], 'g', -1, 64), strconv.FormatFloat(sds[i], 'g', -1, 64), strconv.Itoa(counts[i]))
			} else {
				row = append(row, "", "", strconv.Itoa(counts[i]))
			}
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	svgPath, csvPath = base+".svg", base+".csv"
	if err := durable.WriteFile(svgPath, svg.Bytes(), 0o644); err != nil {
		return "", "", err
	}
	if err := durable.WriteFile(csvPath, csv.Bytes(), 0o644); err != nil {
		return "", "", err
	}
	return svgPath, csvPath, nil
}

// MeanStd is, at every step any of series records (sorted; each series'
// steps must be sorted), how many series have a value there, and their
// mean and population standard deviation.
func MeanStd(series []Series) (steps, means, sds []float64, counts []int) {
	type acc struct{ n, mean, m2 float64 }
	at := map[float64]*acc{}
	for _, s := range series {
		for j, v := range s.Values {
			a := at[s.Steps[j]]
			if a == nil {
				a = &acc{}
				at[s.Steps[j]] = a
			}
			// Welford: exact enough for large values with a small spread.
			a.n++
			d := v - a.mean
			a.mean += d / a.n
			a.m2 += d * (v - a.mean)
		}
	}
	for x := range at {
		steps = append(steps, x)
	}
	slices.Sort(steps)
	for _, x := range steps {
		a := at[x]
		means = append(means, a.mean)
		sds = append(sds, math.Sqrt(math.Max(a.m2/a.n, 0)))
		counts = append(counts, int(a.n))
	}
	return steps, means, sds, counts
}

func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "chart"
	}
	return strings.Trim(b.String(), ".")
}

// spreadBand draws s's own band, value ± spread at each point that has a
// spread (class "spread", in s's colour, under its line).
func spreadBand(w io.Writer, s Series, px, py func(float64) float64) {
	var idx []int
	for j := range s.Values {
		if _, ok := s.spreadAt(j); ok {
			idx = append(idx, j)
		}
	}
	if len(idx) == 0 {
		return
	}
	var d strings.Builder
	for i, j := range idx {
		sp, _ := s.spreadAt(j)
		fmt.Fprintf(&d, "%s%s %s", map[bool]string{true: "M", false: "L"}[i == 0], num(px(s.Steps[j])), num(py(s.Values[j]+math.Abs(sp))))
	}
	for i := len(idx) - 1; i >= 0; i-- {
		sp, _ := s.spreadAt(idx[i])
		fmt.Fprintf(&d, "L%s %s", num(px(s.Steps[idx[i]])), num(py(s.Values[idx[i]]-math.Abs(sp))))
	}
	d.WriteString("Z")
	fmt.Fprintf(w, `<path class="spread" data-run="%s" d="%s" fill="%s" fill-opacity="0.18" stroke="none"/>`+"\n",
		html.EscapeString(s.Name), d.String(), s.Color.Hex())
}

// meanBand draws, at each step two or more of series record, the mean
// across them (a dark dashed path, class "mean") and a grey ±1 standard
// deviation band (population std, class "band"): the spread across runs,
// seeds say. mean ± std lies within the values' range, so the chart's
// bounds hold it. The mean path carries its values in data-steps and
// data-means.
func meanBand(w io.Writer, series []Series, px, py func(float64) float64) {
	all, allMeans, allSds, counts := MeanStd(series)
	var steps, means, sds []float64
	for i, n := range counts {
		if n >= 2 {
			steps = append(steps, all[i])
			means = append(means, allMeans[i])
			sds = append(sds, allSds[i])
		}
	}
	if len(steps) == 0 {
		return
	}
	var band, line, ds, ms strings.Builder
	for i, x := range steps {
		fmt.Fprintf(&band, "%s%s %s", map[bool]string{true: "M", false: "L"}[i == 0], num(px(x)), num(py(means[i]+sds[i])))
		fmt.Fprintf(&line, "%s%s %s", map[bool]string{true: "M", false: "L"}[i == 0], num(px(x)), num(py(means[i])))
		if i > 0 {
			ds.WriteByte(' ')
			ms.WriteByte(' ')
		}
		ds.WriteString(num(x))
		ms.WriteString(strconv.FormatFloat(means[i], 'g', -1, 64))
	}
	for i := len(steps) - 1; i >= 0; i-- {
		fmt.Fprintf(&band, "L%s %s", num(px(steps[i])), num(py(means[i]-sds[i])))
	}
	band.WriteString("Z")
	fmt.Fprintf(w, `<path class="band" d="%s" fill="#888888" fill-opacity="0.18" stroke="none"/>`+"\n", band.String())
	fmt.Fprintf(w, `<path class="mean" d="%s" data-steps="%s" data-means="%s" fill="none" stroke="#222222" stroke-width="1" stroke-dasharray="4 3"/>`+"\n",
		line.String(), ds.String(), ms.String())
}
