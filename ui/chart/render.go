package chart

import (
	"iter"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/ui/internal/decimals"
	"github.com/rlt-workbench/rlt/ui/style"
)

// Column is what one dot column of a chart covers: the extremes and the
// first and last values (in step order) of its N points.
type Column struct {
	Min, Max, First, Last float64
	N                     int
}

// Downsample spreads the points with steps in [lo, hi] over cols columns
// (step lo at column 0, hi at column cols−1) and returns each column's
// min, max, first and last value, reusing dst. steps must be sorted.
// Every point lands in exactly one column, so no extreme is lost.
func Downsample(steps []int64, vals []float64, lo, hi int64, cols int, dst []Column) []Column {
	return downsample(steps, vals, nil, lo, hi, cols, dst)
}

func downsample(steps []int64, vals []float64, b *Blocks, lo, hi int64, cols int, dst []Column) []Column {
	if cap(dst) < cols {
		dst = make([]Column, cols)
	}
	dst = dst[:cols]
	clear(dst)
	if cols <= 0 || len(steps) == 0 {
		return dst
	}
	if hi <= lo {
		hi = lo + 1
	}
	i := sort.Search(len(steps), func(i int) bool { return steps[i] >= lo })
	j := sort.Search(len(steps), func(i int) bool { return steps[i] > hi })
	if cols == 1 {
		if i < j {
			mn, mx := minMax(vals, b, i, j)
			dst[0] = Column{Min: mn, Max: mx, First: vals[i], Last: vals[j-1], N: j - i}
		}
		return dst
	}
	scale := float64(cols-1) / float64(hi-lo)
	colOf := func(s int64) int { return int(float64(s-lo)*scale + 0.5) }
	for k := i; k < j; {
		col := colOf(steps[k])
		// bound is the first step past this column (found from an
		// estimate, then made exact with colOf itself).
		bound := lo + int64(math.Ceil((float64(col)+0.5)/scale))
		for bound > steps[k]+1 && colOf(bound-1) > col {
			bound--
		}
		for colOf(bound) <= col {
			bound++
		}
		e := searchFrom(steps, k+1, j, bound)
		mn, mx := minMax(vals, b, k, e)
		dst[col] = Column{Min: mn, Max: mx, First: vals[k], Last: vals[e-1], N: e - k}
		k = e
	}
	return dst
}

// braille dot bits: dotBit[dy][dx] for the 2×4 cell (U+2800 + bits).
var dotBit = [4][2]uint8{{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}}

// canvas is a braille dot grid with one owning layer per cell.
type canvas struct {
	w, h  int // cells
	bits  []uint8
	owner []uint16 // layer+1 of the last layer that set a dot here
}

func (cv *canvas) set(x, y int, layer uint16) {
	if x < 0 || y < 0 || x >= cv.w*2 || y >= cv.h*4 {
		return
	}
	i := (y>>2)*cv.w + x>>1
	cv.bits[i] |= dotBit[y&3][x&1]
	cv.owner[i] = layer
}

func (cv *canvas) vrun(x, y0, y1 int, layer uint16) {
	if y0 > y1 {
		y0, y1 = y1, y0
	}
	for y := y0; y <= y1; y++ {
		cv.set(x, y, layer)
	}
}

// line draws from (x0,y0) to (x1,y1) (Bresenham).
func (cv *canvas) line(x0, y0, x1, y1 int, layer uint16) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		cv.set(x0, y0, layer)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

type layer struct {
	s      *series
	vals   []float64
	spec   style.Spec
	smooth bool
	// hi, when set, makes the layer a band from vals (low edge) to hi.
	hi []float64
	// b and bh are the block extremes of vals and hi (synced).
	b, bh *Blocks
}

// yScale maps values to dot rows.
type yScale struct {
	log      bool
	lo, hi   float64 // in transformed space
	rowScale float64
	rows     int
}

func (y *yScale) tf(v float64) float64 {
	if y.log {
		return math.Log10(v)
	}
	return v
}

func (y *yScale) row(v float64) int {
	r := int(below(y.hi, y.tf(v), y.rowScale) + 0.5)
	return min(max(r, 0), y.rows-1)
}

func (c *Chart) render() string {
	W, H := c.width, c.height
	if W <= 0 || H <= 0 {
		return ""
	}
	th := c.theme

	// Layout.
	header := 0
	if H >= 5 {
		header = 1
	}
	xaxis := 0
	if H >= 3 {
		xaxis = 1
	}
	maxLegend := 0
	switch {
	case H >= 12:
		maxLegend = 2
	case H >= 4:
		maxLegend = 1
	}
	if c.noLegend {
		maxLegend = 0
	}
	legend := c.legendLines(W, maxLegend)
	plotH := H - header - xaxis - len(legend)
	if plotH < 1 {
		legend, plotH = nil, H-header-xaxis
	}

	lo, hi := c.XRange()
	layers := c.layers()
	note := ""

	// Y range over what is visible.
	ymin, ymax := math.Inf(1), math.Inf(-1)
	nonPos := 0
	for _, l := range layers {
		i := sort.Search(len(l.s.steps), func(i int) bool { return l.s.steps[i] >= lo })
		j := sort.Search(len(l.s.steps), func(i int) bool { return l.s.steps[i] > hi })
		if l.hi == nil {
			// A line holds finite values only: its block summary gives
			// the extremes without visiting every point. Where it runs
			// past an edge of the view, the value it has there counts.
			if i < j {
				mn, mx := minMax(l.vals, l.b, i, j)
				ymin, ymax = min(ymin, mn), max(ymax, mx)
				if mn <= 0 {
					nonPos++
				}
			}
			for _, e := range lineEdges(l.s.steps, l.vals, lo, hi, c.logY) {
				if e.ok {
					ymin, ymax = min(ymin, e.v), max(ymax, e.v)
				}
			}
			continue
		}
		for _, vs := range [][]float64{l.vals, l.hi} {
			if vs == nil {
				continue
			}
			for _, v := range vs[i:j] {
				if v < ymin {
					ymin = v
				}
				if v > ymax {
					ymax = v
				}
				if v <= 0 {
					nonPos++
				}
			}
		}
	}
	ys := yScale{log: c.logY}
	if c.logY && nonPos > 0 {
		ys.log = false
		note = "log n/a: values ≤ 0"
	}
	hasData := ymin <= ymax
	// The axis spans the data (plus a sliver), with nice ticks inside it.
	var tickStep, tlo, thi float64
	// flatD is, for a series that never moves, how far from its value the
	// made-up span reaches (0: the series moves).
	flatD := 0.0
	if hasData {
		tlo, thi = ys.tf(ymin), ys.tf(ymax)
		switch {
		case !ys.log && tlo == 0 && thi == 0:
			// 0 throughout (a penalty rate, a count of failures): the
			// axis goes from 0 up, as a rate or a count can; a span
			// around 0 read −1, which no value of it can be. Drawn as a
			// series that moves, the line on the bottom row.
			thi = 1
		case thi-tlo <= 1e-9*math.Max(math.Abs(tlo), math.Abs(thi)):
			flatD = math.Abs(tlo) * 0.1
			if flatD == 0 {
				flatD = 1 // 10⁰ on a log axis: 0.1 to 10
			}
			tlo, thi = tlo-flatD, thi+flatD
		}
		// By halves: a span past float64's range (-1e308…1e308) made the
		// pad, the ends and the row scale infinite, no axis and the
		// series flat on the top row (halfSpan, below).
		pad := halfSpan(tlo, thi) * 0.04
		if flatD > 0 && plotH > 1 {
			// The made-up span's ends fall on the middles of the top and
			// bottom rows (rowMid): however high the plot, its axis reads
			// v+d at the top and v−d at the bottom, symmetric around the
			// value v (5.5, 5, 4.5 for a series of 5), not the odd values
			// of a sliver past them.
			pad = flatD * 3 / float64(plotH*4-4)
		}
		tlo, thi = max(tlo-pad, -math.MaxFloat64), min(thi+pad, math.MaxFloat64)
		nt := max(2, plotH/3+1)
		if ys.log && thi-tlo >= 2 {
			tickStep = math.Max(1, math.Ceil((thi-tlo)/float64(nt-1)))
		} else {
			tickStep, _, _ = NiceTicks(tlo, thi, nt)
		}
	}
	ys.lo, ys.hi, ys.rows = tlo, thi, plotH*4
	if thi > tlo {
		ys.rowScale = float64(ys.rows-1) / 2 / halfSpan(tlo, thi)
	}

	// Y labels per row: the rows the ticks fall on, each written with the
	// decimals of the finest step placed, so that an axis reads round
	// values alike (-0.8 beside -1.0, never -0.811 beside -1.0).
	labels := make([]string, plotH)
	gutter := 0
	if hasData && W >= 12 {
		at := make([]float64, plotH) // the value labels[r] says, transformed
		labelStep := tickStep
		write := func() {
			if ys.log {
				writeLog(labels, at, labelStep, func(r int, v float64) bool {
					// Floored: int() of a dot just above the top (-0.6
					// dots, +0.5) truncated to the top row's 0.
					d := math.Floor(below(thi, math.Log10(v), ys.rowScale) + 0.5)
					return v > 0 && d >= 0 && int(d)/4 == r
				})
				return
			}
			var rows []int
			var ticks []float64
			for r, s := range labels {
				if s != "" {
					rows, ticks = append(rows, r), append(ticks, at[r])
				}
			}
			for i, l := range AxisLabels(labelStep, ticks) {
				labels[rows[i]] = l
			}
		}
		place := func(step float64) {
			clear(labels)
			k0 := math.Ceil(tlo / step)
			// Counted, not k-k0: past 2^53, k++ leaves k as it was.
			for i := 0; i < 1000 && (k0+float64(i))*step <= thi; i++ {
				t := (k0 + float64(i)) * step
				r := int(below(thi, t, ys.rowScale)+0.5) / 4
				if r < 0 || r >= plotH || labels[r] != "" {
					continue
				}
				labels[r], at[r] = "·", t
			}
			labelStep = step
		}
		place(tickStep)
		// Nice ticks can fall one to the axis (a flat series of 5 spans
		// about 4.5…5.5, ticks 1 apart): finer nice steps (1 → 0.5) come
		// before labelling the end rows below.
		// Ticks closer than two rows would put a label on a row the line
		// is not near: a plot that short labels its end rows instead.
		// And a finer step is taken while its ticks stay within the count
		// NiceTicks aimed at (nt, one each three rows): NiceTicks rounds
		// the span up before dividing it (2.2 to 5), and a reward chart
		// of 12 rows read only "1 0 -1" where "-0.5" and "0.5" fit.
		for i := 0; i < 3 && !ys.log; i++ {
			finer := smallerNice(tickStep)
			if finer*ys.rowScale < 8 {
				break
			}
			if countNonEmpty(labels) >= 2 && math.Floor(thi/finer)-math.Ceil(tlo/finer)+1 > float64(max(2, plotH/3+1)) {
				break
			}
			tickStep = finer
			place(tickStep)
		}
		// Still fewer than two: round values a row apart or more, every
		// multiple of a finer nice step on its own row, where they fit
		// most cells (a third of the chart; else half, where the end
		// rows' round values below do not fit a third either). They are
		// evenly spaced, where the end rows' roundest values beside one
		// tick were not (151.50/151.45 for 151.52/151.50/151.44,
		// 0.8/0.6/0.4/0.2 for 0.8/0.5/0.2 — not a nice step apart —,
		// 180/160/140/120 for 190/150/120). A series that never moves has
		// its own round values (flatLabels).
		evenTicks := func(most int) bool {
			if countNonEmpty(labels) >= 2 || ys.log || flatD > 0 {
				return false
			}
			kept, keptAt, keptStep := slices.Clone(labels), slices.Clone(at), labelStep
			for i, s := 0, smallerNice(tickStep); i < 3 && s*ys.rowScale >= 4; i, s = i+1, smallerNice(s) {
				place(s)
				format := axisFormat(s, axisMax(labels, at))
				found := countNonEmpty(labels) >= 2
				for r, l := range labels {
					found = found && (l == "" || len(format(at[r])) <= most)
				}
				if found {
					return true
				}
			}
			copy(labels, kept)
			copy(at, keptAt)
			labelStep = keptStep
			return false
		}
		evenTicks(W/3 - 1)
		write()
		// A short plot may hold one tick or none: label its top and bottom
		// rows too, so no axis goes unread, each with the roundest value
		// that falls on it as a tick would (roundTicksOn), all written as
		// ticks of the finest step among them are. A series that never
		// moves has its value said on the row that draws it first: a plot
		// of two rows has room for it and one end.
		if n := countNonEmpty(labels); n < 2 && plotH >= 2 {
			type end struct {
				r int
				v float64 // in transformed space
			}
			ends := []end{{0, thi - rowMid(0)/ys.rowScale}, {plotH - 1, thi - rowMid(plotH-1)/ys.rowScale}}
			if flatD > 0 {
				// The one tick placed, if any, is v, written with the
				// coarser step: v and v±d are all written d apart.
				clear(labels)
				mid := (tlo + thi) / 2
				ends = append([]end{{min(int(below(thi, mid, ys.rowScale)+0.5)/4, plotH-1), mid}}, ends...)
			}
			switch {
			case flatD > 0 && !ys.log:
				// v and v±d, written as ticks d apart are, read the odd
				// values of a made-up span (167/151/136 for a constant
				// 151.47): the rows say round values near them instead
				// (170/155/140), each on its row as a tick would be.
				rows, vals, step := flatLabels(ends[0].v, flatD, ends[0].r, plotH, func(x float64) int {
					if x < tlo || x > thi {
						return -1
					}
					return int(below(thi, x, ys.rowScale)+0.5) / 4
				})
				m := 0.0
				for _, v := range vals {
					m = max(m, math.Abs(v))
				}
				format := axisFormat(step, m)
				for i, r := range rows {
					if labels[r] == "" {
						labels[r] = format(vals[i])
					}
				}
			case ys.log:
				for _, e := range ends {
					if labels[e.r] == "" {
						labels[e.r], at[e.r] = "·", e.v
					}
				}
				write()
			default:
				// Round labels written alike can be wider than the third
				// of the chart an axis may take (-1000 where -810 fit,
				// -0.485252 where -0.485 did): each end takes the roundest
				// value on its row that keeps every label within it. Where
				// none does, the axis may take half the chart rather than
				// say what is not so: the ends' values to 3 digits read
				// 152/151.5/151 for a series moving from 151.42 to 151.54
				// (neither end on its row) and -0.485 at both ends of one
				// moving in its 6th digit. Where none fits even half, only
				// the ticks, true as placed, are written.
				ticks, tickAt, tickStep := slices.Clone(labels), slices.Clone(at), labelStep
				within := func(most int) bool {
					copy(labels, ticks)
					copy(at, tickAt)
					labelStep = tickStep
					fits := func(step float64) bool {
						format := axisFormat(step, axisMax(labels, at))
						for r, s := range labels {
							if s != "" && len(format(at[r])) > most {
								return false
							}
						}
						return true
					}
					for _, e := range ends {
						if labels[e.r] != "" {
							continue
						}
						found := false
						for t, by := range roundTicksOn(e.r, tickStep, thi, tlo, ys.rowScale) {
							labels[e.r], at[e.r] = "·", t
							if step := min(labelStep, by); fits(step) {
								labelStep, found = step, true
								break
							}
						}
						if !found {
							return false
						}
					}
					return true
				}
				switch {
				case within(W/3 - 1):
				case func() bool {
					copy(labels, ticks) // as within found them
					copy(at, tickAt)
					labelStep = tickStep
					return evenTicks(W/2 - 1)
				}():
				case within(W/2 - 1):
				default:
					copy(labels, ticks)
					copy(at, tickAt)
					labelStep = tickStep
				}
				write()
			}
		}
		for _, s := range labels {
			gutter = max(gutter, len(s))
		}
		gutter++ // the axis
		// Labels too wide for half the chart leave it no room to draw:
		// it goes without an axis (the legend says the last value).
		if gutter > W/2 {
			gutter = 0
		}
	}
	plotW := W - gutter

	var b strings.Builder
	b.Grow((W + 16) * H * 3)
	lines := 0
	nl := func() {
		if lines > 0 {
			b.WriteByte('\n')
		}
		lines++
	}

	if header > 0 {
		nl()
		b.WriteString(c.headerText(lo, hi, note, W))
	}

	// Plot.
	cv := c.canvas(plotW, plotH)
	if hasData && plotW > 0 {
		dc := plotW * 2
		for li, l := range layers {
			id := uint16(li + 1)
			if l.hi != nil {
				c.drawBand(cv, &ys, l, lo, hi, dc, id)
				continue
			}
			c.cols = downsample(l.s.steps, l.vals, l.b, lo, hi, dc, c.cols)
			// A line that runs past the view's left edge enters it from
			// the value it has there, and one that runs past its right
			// edge leaves it at the value it has there: a series recorded
			// every few steps keeps its line in a window between two of
			// its points.
			edge := lineEdges(l.s.steps, l.vals, lo, hi, c.logY)
			prevX, prevY := -1, 0
			if edge[0].ok {
				prevX, prevY = 0, ys.row(edge[0].v)
			}
			for x := range c.cols {
				col := &c.cols[x]
				if col.N == 0 {
					continue
				}
				yTop, yBot := ys.row(col.Max), ys.row(col.Min)
				if prevX >= 0 {
					cv.line(prevX, prevY, x, ys.row(col.First), id)
				}
				cv.vrun(x, yTop, yBot, id)
				prevX, prevY = x, ys.row(col.Last)
			}
			if edge[1].ok && prevX >= 0 {
				cv.line(prevX, prevY, dc-1, ys.row(edge[1].v), id)
			}
		}
	}
	muted := th.Open(style.Spec{Attr: style.Faint})
	closeSeq := th.Close()
	opens := make([]string, len(layers)+1)
	for i, l := range layers {
		opens[i+1] = th.Open(l.spec)
	}
	for r := 0; r < plotH; r++ {
		nl()
		if gutter > 0 {
			lab := labels[r]
			axis := "│"
			if lab != "" {
				axis = "┤"
			}
			b.WriteString(muted)
			b.WriteString(strings.Repeat(" ", gutter-1-len(lab)))
			b.WriteString(lab)
			b.WriteString(axis)
			if muted != "" {
				b.WriteString(closeSeq)
			}
		}
		cur := uint16(0)
		row := cv.bits[r*plotW : (r+1)*plotW]
		own := cv.owner[r*plotW : (r+1)*plotW]
		for x, bits := range row {
			if bits == 0 {
				b.WriteByte(' ')
				continue
			}
			if o := own[x]; o != cur {
				if cur != 0 && opens[cur] != "" {
					b.WriteString(closeSeq)
				}
				b.WriteString(opens[o])
				cur = o
			}
			b.WriteRune(rune(0x2800) + rune(bits))
		}
		if cur != 0 && opens[cur] != "" {
			b.WriteString(closeSeq)
		}
	}
	if !hasData && plotH > 0 {
		// Put a message in the middle row of the (empty) plot.
		msg := "no data"
		if len(c.series) > 0 {
			// Said whole in the narrowest chart it fits, with the key
			// that brings a series back.
			msg = "every series is hidden (space shows the selected one)"
			if len(msg) > W {
				msg = "every series hidden: space shows one"
			}
			for _, s := range c.series {
				if !s.hidden {
					msg = "no finite points in view"
					break
				}
			}
		}
		out := strings.Split(b.String(), "\n")
		mid := header + plotH/2
		if mid < len(out) {
			pad := max(0, (W-len(msg))/2)
			out[mid] = style.Fit(strings.Repeat(" ", pad)+msg, W)
		}
		b.Reset()
		b.WriteString(strings.Join(out, "\n"))
	}

	if xaxis > 0 {
		nl()
		b.WriteString(muted)
		b.WriteString(xAxis(lo, hi, gutter, plotW, hasData))
		if muted != "" {
			b.WriteString(closeSeq)
		}
	}
	for _, l := range legend {
		nl()
		b.WriteString(l)
	}
	return b.String()
}

// edgeValue is the value a line has at an edge of the view (ok false
// where it does not run past that edge).
type edgeValue struct {
	v  float64
	ok bool
}

// lineEdges returns the values the line through steps and vals takes at
// steps lo and hi where it runs past them: on the straight segment from
// the last point before lo to the first point at or after it, and from
// the last point up to hi to the first past it. A point on an edge needs
// no value there. With logY a value ≤ 0 is left out (the log axis has no
// place for it; the points in view decide whether the axis is linear).
func lineEdges(steps []int64, vals []float64, lo, hi int64, logY bool) [2]edgeValue {
	var out [2]edgeValue
	n := len(steps)
	at := func(k int, x int64) edgeValue {
		s0, s1, v0, v1 := steps[k-1], steps[k], vals[k-1], vals[k]
		if s1 <= s0 {
			return edgeValue{}
		}
		v := v0 + (v1-v0)*float64(x-s0)/float64(s1-s0)
		return edgeValue{v, finite(v) && (!logY || v > 0)}
	}
	if i := sort.Search(n, func(k int) bool { return steps[k] >= lo }); i > 0 && i < n && steps[i] > lo {
		out[0] = at(i, lo)
	}
	if j := sort.Search(n, func(k int) bool { return steps[k] > hi }); j > 0 && j < n && steps[j-1] < hi {
		out[1] = at(j, hi)
	}
	return out
}

// smallerNice is the nice number (1, 2, 5 × 10^k) just below step.
func smallerNice(step float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(step)))
	switch f := math.Round(step / e); {
	case f >= 5:
		return 2 * e
	case f >= 2:
		return e
	default:
		return e / 2
	}
}

// rowMid is the dot, counted from the plot's top, in the middle of row r:
// the row draws the values that round to its four dots (4r … 4r+3), so it
// stands for the value 1.5 dots into it, as far from its top as its
// bottom.
func rowMid(r int) float64 { return float64(r*4) + 1.5 }

// roundTicksOn is, roundest first, the round values that fall on row r of
// a linear axis from thi down to tlo at rowScale dots a unit, as ticks are
// placed on rows (the nearest dot, four to a row): for each nice step from
// the coarsest no wider than a row (from step down, smallerNice) to finer
// ones, the multiple of it on the row nearest the row's middle, where one
// falls on the row; each with the coarsest step it is a multiple of. A
// short plot's end rows were labelled with the odd values of their middles
// (-0.811 above a tick's -1.0): they take the first, or a later one where
// the first is too wide for the axis (-800 of 200s on the row of -1000).
// No wider than a row: a coarser step's multiple may fall on the row only
// at its edge (0.5 for a row standing for 0.2 to 0.5).
func roundTicksOn(r int, step, thi, tlo, rowScale float64) iter.Seq2[float64, float64] {
	return func(yield func(t, by float64) bool) {
		hi := min(thi, thi-(float64(4*r)-0.5)/rowScale)
		lo := max(tlo, thi-(float64(4*r)+3.5)/rowScale)
		mid := thi - rowMid(r)/rowScale
		// by is the coarsest step the value found is a multiple of (-7.1
		// of 0.1, found among 0.05's), so that it is written no finer.
		start := step
		coarsest := func(v, fine float64) float64 {
			for c := start; c > fine; c = smallerNice(c) {
				if k := v / c; math.Abs(k-math.Round(k)) < 1e-6 {
					return c
				}
			}
			return fine
		}
		on := func(v float64) bool {
			// By halves (below): thi − v is past float64's range on an
			// axis from -MaxFloat64, so no value fell on its bottom row.
			return v >= lo && v <= hi && int(below(thi, v, rowScale)+0.5)/4 == r
		}
		for i := 0; i < 40 && step > 4/rowScale; i++ {
			step = smallerNice(step)
		}
		for i := 0; i < 40 && step > 0; i, step = i+1, smallerNice(step) {
			// The multiples on the row run unbroken around its middle:
			// the nearest is the one just below or just above it, the
			// lower where the two are as near.
			best, found := 0.0, false
			for _, k := range []float64{math.Floor(mid / step), math.Ceil(mid / step)} {
				if v := k * step; on(v) && (!found || math.Abs(v-mid) < math.Abs(best-mid)) {
					best, found = v, true
				}
			}
			if found && !yield(best, coarsest(best, step)) {
				return
			}
		}
	}
}

// flatLabels are the labels of a series that never moves at v, drawn on
// row mid of plotH in a made-up span d either side of it, and the rows
// they go on (rowOf, -1 off the plot): a round value m near v on mid or a
// row beside it (v is drawn where two rows meet on a plot of even
// height), and m±k on the end rows where m is not on them; m and k
// multiples of the coarsest nice step s, no coarser than d's, that gives
// them all on their rows, m the nearest to v; with s. Where no step does,
// v and v±d on mid and the end rows, with d.
func flatLabels(v, d float64, mid, plotH int, rowOf func(x float64) int) (rows []int, vals []float64, step float64) {
	s := niceNum(d, false)
	for i := 0; i < 40 && s >= d*1e-9; i, s = i+1, smallerNice(s) {
		ms := []float64{math.Floor(v/s) * s, math.Ceil(v/s) * s}
		if math.Abs(ms[1]-v) < math.Abs(ms[0]-v) {
			ms[0], ms[1] = ms[1], ms[0]
		}
		for _, m := range ms {
			rm := rowOf(m)
			if rm < 0 || rm < mid-1 || rm > mid+1 {
				continue
			}
			for _, k := range []float64{math.Round(d/s) * s, math.Floor(d/s) * s, math.Ceil(d/s) * s} {
				if k <= 0 {
					continue
				}
				rows, vals = []int{rm}, []float64{m}
				ok := true
				for _, e := range []struct {
					r int
					x float64
				}{{0, m + k}, {plotH - 1, m - k}} {
					if e.r == rm {
						continue
					}
					if rowOf(e.x) != e.r {
						ok = false
						break
					}
					rows, vals = append(rows, e.r), append(vals, e.x)
				}
				if ok {
					return rows, vals, s
				}
			}
		}
	}
	return []int{mid, 0, plotH - 1}, []float64{v, v + d, v - d}, d
}

func countNonEmpty(ss []string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

// drawBand fills, in a checkerboard of dots so that lines stay legible
// over it, each dot column from the band's highest upper edge to its
// lowest lower edge.
func (c *Chart) drawBand(cv *canvas, ys *yScale, l layer, lo, hi int64, dc int, id uint16) {
	c.cols = downsample(l.s.steps, l.vals, l.b, lo, hi, dc, c.cols)
	c.cols2 = downsample(l.s.steps, l.hi, l.bh, lo, hi, dc, c.cols2)
	ok := func(x int) bool {
		a, b := &c.cols[x], &c.cols2[x]
		if a.N == 0 || !finite(a.Min) || !finite(b.Max) {
			return false
		}
		return !ys.log || a.Min > 0 && b.Max > 0
	}
	fill := func(x int, top, bot float64) {
		for y := int(top + 0.5); y <= int(bot+0.5); y++ {
			if (x+y)%2 == 0 {
				cv.set(x, y, id)
			}
		}
	}
	// Between two columns with points the edges run straight, as the
	// lines do.
	px := -1
	var pTop, pBot float64
	for x := range c.cols {
		if !ok(x) {
			continue
		}
		top, bot := float64(ys.row(c.cols2[x].Max)), float64(ys.row(c.cols[x].Min))
		if px >= 0 {
			for k := px + 1; k < x; k++ {
				f := float64(k-px) / float64(x-px)
				fill(k, pTop+(top-pTop)*f, pBot+(bot-pBot)*f)
			}
		}
		fill(x, top, bot)
		px, pTop, pBot = x, top, bot
	}
}

// writeLog writes the labels of a log axis (labels[r] != "": the value
// 10^at[r]) all one way: decades of a step of whole decades as such ("1",
// "100", "1e-3"); any other axis, whose labels are the values of its end
// rows' middles or ticks between decades, each to as many significant
// digits, 3 or more where fewer would write two alike or one off its row
// (onRow), in one notation (sigFormat). The ends were written to 3 digits
// whatever the ticks beside them ("0.521" under "0.6310", "1.752e-05"
// under "1e-3"), and "1" on the top row of an axis from 1.001 to 1.002
// over "1.001" on its bottom.
func writeLog(labels []string, at []float64, step float64, onRow func(r int, v float64) bool) {
	var vals []float64
	decades := step >= 1
	for r, s := range labels {
		if s != "" {
			vals = append(vals, math.Pow(10, at[r]))
			decades = decades && at[r] == math.Trunc(at[r])
		}
	}
	if decades {
		// One notation: plainly where every decade is 1…1000, else each
		// as a power ("1e0" beside "1e4", not "1000" beside "1e4").
		plain := true
		for r, s := range labels {
			plain = plain && (s == "" || at[r] >= 0 && at[r] < 4)
		}
		for r, s := range labels {
			switch {
			case s == "":
			case plain:
				labels[r] = strconv.FormatFloat(math.Pow(10, at[r]), 'f', 0, 64)
			default:
				labels[r] = "1e" + strconv.Itoa(int(at[r]))
			}
		}
		return
	}
	out := make([]string, len(labels))
	for n := 3; n <= 17; n++ {
		format := sigFormat(n, vals...)
		seen := map[string]bool{}
		ok := true
		for r, s := range labels {
			if s == "" {
				continue
			}
			out[r] = format(math.Pow(10, at[r]))
			v, err := readLabel(out[r])
			ok = ok && !seen[out[r]] && err == nil && onRow(r, v)
			seen[out[r]] = true
		}
		if ok {
			break
		}
	}
	for r, s := range labels {
		if s != "" {
			labels[r] = out[r]
		}
	}
}

// readLabel is the value a label written by sigFormat reads.
func readLabel(s string) (float64, error) {
	scale := 1.0
	for _, p := range siPrefixes {
		if t, ok := strings.CutSuffix(s, p.sfx); ok {
			s, scale = t, p.scale
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	return v * scale, err
}

func (c *Chart) canvas(w, h int) *canvas {
	n := max(w, 0) * h
	if cap(c.bits) < n {
		c.bits = make([]uint8, n)
		c.owner = make([]uint16, n)
	}
	c.bits, c.owner = c.bits[:n], c.owner[:n]
	clear(c.bits)
	clear(c.owner)
	return &canvas{w: max(w, 0), h: h, bits: c.bits, owner: c.owner}
}

// layers lists what to draw, lowest first: raw lines, then smoothed ones;
// within each, the selected series last so it lies on top.
func (c *Chart) layers() []layer {
	var bands, raw, sm []layer
	var selRaw, selSm []layer
	for i, s := range c.series {
		if s.hidden || len(s.steps) == 0 {
			continue
		}
		if blo, bhi := s.band(c.smoothing); blo != nil {
			s.loB.Sync(blo)
			s.hiB.Sync(bhi)
			bands = append(bands, layer{s: s, vals: blo, hi: bhi, b: &s.loB, bh: &s.hiB, spec: style.FG(s.color).With(style.Faint)})
		}
		sel := i == c.selected
		base := style.FG(s.color)
		if c.smoothing > 0 {
			smv := s.smoothed(c.smoothing)
			s.smB.Sync(smv)
			l := layer{s: s, vals: smv, b: &s.smB, spec: base.With(style.Bold), smooth: true}
			if sel {
				selSm = append(selSm, l)
			} else {
				sm = append(sm, l)
			}
			if !c.showRaw {
				continue
			}
			base = base.With(style.Faint)
		} else if sel {
			base = base.With(style.Bold)
		}
		s.rawB.Sync(s.vals)
		l := layer{s: s, vals: s.vals, b: &s.rawB, spec: base}
		if sel {
			selRaw = append(selRaw, l)
		} else {
			raw = append(raw, l)
		}
	}
	if c.meanOn {
		c.syncMean()
		if m := c.mean; len(m.steps) > 0 {
			w := c.smoothing
			if blo, bhi := m.band(w); blo != nil {
				m.loB.Sync(blo)
				m.hiB.Sync(bhi)
				bands = append(bands, layer{s: m, vals: blo, hi: bhi, b: &m.loB, bh: &m.hiB, spec: style.Spec{Attr: style.Faint}})
			}
			vals, b := m.vals, &m.rawB
			if w > 0 {
				vals, b = m.smoothed(w), &m.smB
			}
			b.Sync(vals)
			// Above the runs' lines, below the selected one.
			sm = append(sm, layer{s: m, vals: vals, b: b, spec: style.Spec{Attr: style.Bold}, smooth: w > 0})
		}
	}
	out := append(bands, raw...)
	out = append(out, selRaw...)
	out = append(out, sm...)
	return append(out, selSm...)
}

// headerText is the chart's title line in width cells. Where all it says
// does not fit, whole parts give way, the smoothing first (the dashboard's
// line says it of every chart), then following (which it says too), then
// the steps shown, so that none is cut mid-word ("· EMA 0…" read as a
// value); the title is cut last.
func (c *Chart) headerText(lo, hi int64, note string, width int) string {
	th := c.theme
	var steps, follow, ema string
	if _, _, ok := c.dataRange(); ok {
		steps = "steps " + FormatValueInt(lo) + "–" + FormatValueInt(hi)
	}
	if c.follow {
		follow = "follow"
	} else {
		follow = "not following (f)" // "paused" read as the run's state
	}
	if c.smoothing > 0 {
		ema = "EMA " + strconv.FormatFloat(c.smoothing, 'f', 2, 64)
	}
	line := func() string {
		parts := []string{}
		if c.title != "" {
			parts = append(parts, th.Paint(style.Spec{Attr: style.Bold}, c.title))
		}
		if note != "" {
			parts = append(parts, th.Paint(style.FG(style.Orange).With(style.Bold), note))
		}
		parts = append(parts, steps, follow, ema)
		if c.logY && note == "" {
			parts = append(parts, "log")
		}
		if c.skipped > 0 {
			parts = append(parts, strconv.Itoa(c.skipped)+" NaN/Inf skipped")
		}
		return joinNonEmpty(parts, " · ")
	}
	s := line()
	for _, drop := range []*string{&ema, &follow, &steps} {
		if ansi.StringWidth(s) <= width {
			break
		}
		*drop = ""
		s = line()
	}
	return style.Fit(s, width)
}

// FormatValueInt formats a step compactly: 950, 12k, 1.5M.
func FormatValueInt(v int64) string {
	if v > -10000 && v < 10000 {
		return strconv.FormatInt(v, 10)
	}
	// A step count, not a reading: as compact as it stays exact to two
	// decimals of its prefix ("12k", "1.5M"), not a legend's 4 digits.
	// The largest prefix its value rounds to 1 of (999995 is "1M", not
	// "1000k"); from 1000T (1e15, where a legend turns to e-notation
	// too) in e-notation, where MaxInt64 read "9223372.04T". The sign is
	// the float's: -v of MinInt64 overflows.
	f := float64(v)
	for _, p := range siPrefixes {
		m := math.Round(math.Abs(f)/p.scale*100) / 100
		if m < 1 {
			continue
		}
		if m >= 1000 { // only past the largest prefix: the one above took it
			break
		}
		return trimZeros(strconv.FormatFloat(f/p.scale, 'f', 2, 64)) + p.sfx
	}
	return decimals.Exponent(f, 3)
}

// xAxis lays step labels under the plot.
func xAxis(lo, hi int64, gutter, plotW int, hasData bool) string {
	buf := []byte(strings.Repeat(" ", gutter+max(plotW, 0)))
	if !hasData || plotW < 4 {
		return strings.TrimRight(string(buf), " ")
	}
	span := hi - lo
	if span <= 0 {
		span = 1
	}
	step, tlo, _ := NiceTicks(float64(lo), float64(hi), max(2, plotW/10))
	if step < 1 {
		step = 1
	}
	scale := float64(plotW*2-1) / float64(span)
	format := axisFormat(step, math.Max(math.Abs(float64(lo)), math.Abs(float64(hi))))
	lastEnd := -1
	for t := tlo; t <= float64(hi)+step*1e-9; t += step {
		if t < float64(lo)-step*1e-9 {
			continue
		}
		lab := format(t)
		col := int((t-float64(lo))*scale+0.5) / 2
		start := col - len(lab)/2
		if start < 0 {
			start = 0
		}
		if start+len(lab) > plotW {
			start = plotW - len(lab)
		}
		if start <= lastEnd || start < 0 {
			continue
		}
		copy(buf[gutter+start:], lab)
		lastEnd = start + len(lab)
	}
	return strings.TrimRight(string(buf), " ")
}

// legendLines lays the legend out in at most maxLines lines of width w:
// each series' last value, with its EMA beside it while smoothing is on
// ("0.41 (ema 0.38)"), or, where that takes more lines (or cut items),
// the EMA alone said as such ("ema 0.38"): an unmarked EMA read as the
// last value.
func (c *Chart) legendLines(w, maxLines int) []string {
	if maxLines <= 0 || len(c.series) == 0 {
		return nil
	}
	both, n := c.layLegend(w, maxLines, false)
	if c.smoothing <= 0 {
		return both
	}
	if ema, m := c.layLegend(w, maxLines, true); m < n {
		return ema
	}
	return both
}

// layLegend is legendLines with each value said one way (emaOnly: the
// EMA alone, else the last value with the EMA beside it), and how many
// lines it takes whole (what was cut or left out counts as more).
func (c *Chart) layLegend(w, maxLines int, emaOnly bool) ([]string, int) {
	th := c.theme
	type item struct {
		text  string
		width int
	}
	// Every value the legend may say, so that it says them one way
	// (legendFormat): the last value, its EMA and the band's spread.
	type reading struct {
		last, ema, sp float64
		hasSp         bool
	}
	reads := make([]reading, len(c.series))
	var all []float64
	for i, s := range c.series {
		r := &reads[i]
		if n := len(s.vals); n > 0 {
			r.last = s.vals[n-1]
			all = append(all, r.last)
			if c.smoothing > 0 {
				sm := s.smoothed(c.smoothing)
				r.ema = sm[len(sm)-1]
				all = append(all, r.ema)
			}
		}
		if n := len(s.spVals); n > 0 {
			// The spread as the band draws it around the value: smoothed
			// alike where the value is, and said with the EMA.
			r.sp, r.hasSp = s.spVals[n-1], true
			if lo, hi := s.band(c.smoothing); c.smoothing > 0 && len(hi) > 0 && finite(hi[len(hi)-1]-lo[len(lo)-1]) {
				r.sp = (hi[len(hi)-1] - lo[len(lo)-1]) / 2
			}
			all = append(all, r.sp)
		}
	}
	format := legendFormat(all...)
	items := make([]item, 0, len(c.series))
	for i, s := range c.series {
		marker := "■"
		if s.hidden {
			marker = "□"
		}
		sel := " "
		if i == c.selected {
			sel = "▸"
		}
		val, ema := "", ""
		r := reads[i]
		if len(s.vals) > 0 {
			last := format(r.last)
			val = " " + last
			if c.smoothing > 0 {
				if e := format(r.ema); e != last {
					ema = "ema " + e
				}
			}
		}
		if r.hasSp {
			if ema != "" {
				ema += " ±" + format(r.sp)
			} else {
				val += " ±" + format(r.sp)
			}
		}
		switch {
		case ema != "" && emaOnly:
			val = " " + ema
		case ema != "":
			val += " (" + ema + ")"
		}
		plain := sel + marker + " " + s.name + val
		nameSpec := style.Spec{}
		if i == c.selected {
			nameSpec.Attr = style.Bold | style.Underline
		}
		text := sel + th.Paint(style.FG(s.color), marker) + " " + th.Paint(nameSpec, s.name) + val
		items = append(items, item{text, ansi.StringWidth(plain)})
	}
	var lines []string
	var cur strings.Builder
	curW, cost := 0, 0
	for k, it := range items {
		sep := 0
		if curW > 0 {
			sep = 2
		}
		if curW+sep+it.width > w && curW > 0 {
			lines = append(lines, cur.String())
			cur.Reset()
			curW, sep = 0, 0
			if len(lines) == maxLines {
				// Out of room: say how many are left on the last line.
				rest := len(items) - k
				more := " +" + strconv.Itoa(rest)
				last := lines[len(lines)-1]
				if w > len(more) {
					lines[len(lines)-1] = style.Fit(last, w-len(more)) + more
				}
				return lines, len(lines) + 1 + rest
			}
		}
		if sep > 0 {
			cur.WriteString("  ")
		}
		if it.width > w {
			cur.WriteString(style.Fit(it.text, w))
			curW = w
			cost++
			continue
		}
		cur.WriteString(it.text)
		curW += sep + it.width
	}
	if curW > 0 {
		lines = append(lines, cur.String())
	}
	return lines, len(lines) + cost
}

// halfSpan is (hi − lo)/2 where hi − lo itself is past float64's range
// (-1e308…1e308): halving each end first is exact but in subnormals.
func halfSpan(lo, hi float64) float64 { return hi/2 - lo/2 }

// below is how far below hi v is, in rows of scale rows a unit: (hi −
// v)·scale, by halves, as hi − v may be past float64's range where the
// rows are not.
func below(hi, v, scale float64) float64 { return halfSpan(v, hi) * scale * 2 }
