// Package chart draws line charts of many series over training steps in
// braille cells (2×4 dots per terminal cell).
//
// Each dot column covers a range of steps and draws a vertical run from the
// minimum to the maximum of the points it covers, joined to its neighbours,
// so a single spike among millions of points survives down-sampling. Raw and
// smoothed (debiased EMA) lines can be shown together; each series keeps one
// colour chosen by a hash of its name. A Chart caches its rendered string
// and renders again only when data, size or view changed.
//
// A Chart is not safe for concurrent use: the UI goroutine owns it and
// appends what it pulled from the store before calling View.
package chart

import (
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/rlt-workbench/rlt/ui/style"
)

// DefaultSmoothing is the EMA weight ToggleSmoothing switches to first.
const DefaultSmoothing = 0.6

// minWindow is the narrowest zoom, in steps.
const minWindow = 4

type series struct {
	name    string
	color   style.Color
	steps   []int64
	vals    []float64
	skipped int
	hidden  bool

	// sm[i] is the debiased EMA of vals[:i+1] with weight smW; smBiased and
	// smPow carry the running state so appends extend it in O(1).
	sm       []float64
	smW      float64
	smBiased float64
	smPow    float64

	// spSteps and spVals are the series' recorded spread (a standard
	// deviation per step, AppendSpread), drawn as a ±spread band.
	spSteps []int64
	spVals  []float64
	// bandLo and bandHi are the band's edges at the series' points (NaN
	// where no spread is recorded), for smoothing weight bandW over
	// bandN points; recomputed when either changes.
	bandLo, bandHi []float64
	bandW          float64
	bandN          int // points the edges cover; -1: start over
	// the running state of the spread's EMA and the next spread to match
	bandK                         int
	bandBiased, bandPow, bandPrev float64

	// Block extremes of vals, sm, bandLo and bandHi (Downsample's
	// shortcut over long series).
	rawB, smB, loB, hiB Blocks
}

// Chart is a braille line chart with a view (x window, follow, log scale,
// smoothing, selection) and a render cache.
type Chart struct {
	theme  *style.Theme
	title  string
	series []*series
	byName map[string]int

	noLegend bool

	// With meanOn the chart draws, at every step two or more of its shown
	// series have a point, their mean (the series mean, in the terminal's
	// own colour) and a ±1 standard deviation band around it: acc holds
	// each step's count, mean and squared deviations (Welford), and
	// meanFrom the first entry of acc the mean series does not reflect yet
	// (-1: up to date).
	meanOn   bool
	mean     *series
	acc      meanAcc
	meanFrom int
	meanGrew bool // a step reached two series since the last sync
	// meanChanged are the entries of acc changed since the last sync
	// (while meanGrew is false).
	meanChanged []int

	width, height int

	window int64 // visible steps; 0 = everything
	end    int64 // right edge when not following
	// domLo..domHi, when domOn, are the steps the view works within in
	// place of the chart's own data's (SetDomain).
	domLo, domHi int64
	domOn        bool
	follow       bool
	logY         bool
	smoothing    float64 // EMA weight; 0 = off
	lastSm       float64 // the weight ToggleSmoothing restores
	showRaw      bool
	selected     int // index into series, -1 = none

	skipped int

	valid   bool
	cached  string
	renders int

	// scratch reused across renders
	bits  []uint8
	owner []uint16
	cols  []Column
	cols2 []Column
}

// New returns an empty chart drawing with theme (nil: Plain). It follows
// the newest step, shows all steps, and draws raw lines without smoothing.
func New(theme *style.Theme) *Chart {
	if theme == nil {
		theme = style.PlainTheme()
	}
	return &Chart{theme: theme, byName: map[string]int{}, follow: true, showRaw: true,
		lastSm: DefaultSmoothing, selected: -1, meanFrom: -1}
}

// SetColor gives series name (created if new) the colour c instead of
// the one its name hashes to: a run compared with others keeps the colour
// it has everywhere else.
func (c *Chart) SetColor(name string, col style.Color) {
	if s := c.get(name); s.color != col {
		s.color = col
		c.touch()
	}
}

// Color is series name's colour, if the series exists.
func (c *Chart) Color(name string) (style.Color, bool) {
	if i, ok := c.byName[name]; ok {
		return c.series[i].color, true
	}
	return style.Color{}, false
}

// SetLegend shows or hides the chart's own legend (a view that shows one
// legend for many charts hides theirs).
func (c *Chart) SetLegend(on bool) {
	if on == c.noLegend {
		c.noLegend = !on
		c.touch()
	}
}

func (c *Chart) touch() { c.valid = false }

// SetTheme changes the theme.
func (c *Chart) SetTheme(t *style.Theme) {
	if t == nil {
		t = style.PlainTheme()
	}
	if t != c.theme {
		c.theme = t
		c.touch()
	}
}

// SetTitle sets the text at the head of the chart.
func (c *Chart) SetTitle(s string) {
	if s != c.title {
		c.title = s
		c.touch()
	}
}

// SetSize sets the chart's size in cells.
func (c *Chart) SetSize(width, height int) {
	if width != c.width || height != c.height {
		c.width, c.height = width, height
		c.touch()
	}
}

// Size returns the chart's size in cells.
func (c *Chart) Size() (width, height int) { return c.width, c.height }

func (c *Chart) get(name string) *series {
	if i, ok := c.byName[name]; ok {
		return c.series[i]
	}
	s := &series{name: name, color: style.SeriesColor(name), smPow: 1, bandN: -1}
	c.byName[name] = len(c.series)
	c.series = append(c.series, s)
	return s
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Append adds one point to series name (created on first use). Points
// should arrive in step order; an out-of-order point is inserted in place.
// NaN and ±Inf are skipped and counted (Skipped).
func (c *Chart) Append(name string, step int64, value float64) {
	s := c.get(name)
	c.touch()
	if !finite(value) {
		s.skipped++
		c.skipped++
		return
	}
	s.push(step, value)
	if c.meanOn && !s.hidden {
		c.accAdd(step, value)
	}
}

// AppendMany adds points steps[i], values[i] to series name.
func (c *Chart) AppendMany(name string, steps []int64, values []float64) {
	s := c.get(name)
	c.touch()
	n := min(len(steps), len(values))
	if cap(s.steps)-len(s.steps) < n {
		s.steps = grow(s.steps, n)
		s.vals = grow(s.vals, n)
	}
	for i := 0; i < n; i++ {
		if !finite(values[i]) {
			s.skipped++
			c.skipped++
			continue
		}
		s.push(steps[i], values[i])
		if c.meanOn && !s.hidden {
			c.accAdd(steps[i], values[i])
		}
	}
}

// AppendSpread records the spread of series name (e.g. the standard
// deviation of the rewards a step's mean was taken over): the chart draws
// a faint band from value−spread to value+spread, smoothed like the line.
// Non-finite or negative spreads are skipped.
func (c *Chart) AppendSpread(name string, steps []int64, spread []float64) {
	s := c.get(name)
	c.touch()
	for i := 0; i < min(len(steps), len(spread)); i++ {
		v := spread[i]
		if !finite(v) || v < 0 {
			continue
		}
		if s.bandN > 0 && steps[i] <= s.steps[s.bandN-1] {
			s.bandN = -1 // a spread for a point already banded
		}
		n := len(s.spSteps)
		if n == 0 || s.spSteps[n-1] <= steps[i] {
			s.spSteps = append(s.spSteps, steps[i])
			s.spVals = append(s.spVals, v)
			continue
		}
		j := sort.Search(n, func(k int) bool { return s.spSteps[k] > steps[i] })
		s.spSteps = slices.Insert(s.spSteps, j, steps[i])
		s.spVals = slices.Insert(s.spVals, j, v)
	}
}

// band returns the band's edges at the series' points for smoothing
// weight w (0: none): centre ± spread, where centre is the line drawn and
// the spread is smoothed like it. Points appended since the last call are
// added to the edges; a change of weight or a point or spread inserted
// before the last one computed starts over.
func (s *series) band(w float64) (lo, hi []float64) {
	if len(s.spSteps) == 0 {
		return nil, nil
	}
	if s.bandN < 0 || s.bandW != w || s.bandN > len(s.vals) {
		s.bandN, s.bandW, s.bandK = 0, w, 0
		s.bandBiased, s.bandPow, s.bandPrev = 0, 1, math.NaN()
		s.bandLo, s.bandHi = s.bandLo[:0], s.bandHi[:0]
		s.loB.Reset()
		s.hiB.Reset()
	}
	if s.bandN == len(s.vals) {
		return s.bandLo, s.bandHi
	}
	centre := s.vals
	if w > 0 {
		centre = s.smoothed(w)
	}
	for i := s.bandN; i < len(s.vals); i++ {
		st := s.steps[i]
		for s.bandK < len(s.spSteps) && s.spSteps[s.bandK] < st {
			s.bandK++
		}
		v := math.NaN()
		if s.bandK < len(s.spSteps) && s.spSteps[s.bandK] == st {
			v = s.spVals[s.bandK]
		}
		if w > 0 {
			// As EMA: non-finite values repeat the previous output.
			if finite(v) {
				s.bandBiased = s.bandBiased*w + (1-w)*v
				s.bandPow *= w
				if d := 1 - s.bandPow; d > 0 {
					s.bandPrev = s.bandBiased / d
				} else {
					s.bandPrev = v
				}
			}
			v = s.bandPrev
		}
		s.bandLo = append(s.bandLo, centre[i]-v)
		s.bandHi = append(s.bandHi, centre[i]+v)
	}
	s.bandN = len(s.vals)
	return s.bandLo, s.bandHi
}

// HasSpread reports whether series name has a recorded spread.
func (c *Chart) HasSpread(name string) bool {
	i, ok := c.byName[name]
	return ok && len(c.series[i].spSteps) > 0
}

// grow returns a copy of s with room for n more points: its capacity is
// len(s) plus the larger of n and len(s), so that batch after batch costs
// a constant time a point. A series' steps and values grow by it alike.
func grow[T int64 | float64](s []T, n int) []T {
	t := make([]T, len(s), len(s)+max(n, len(s)))
	copy(t, s)
	return t
}

func (s *series) push(step int64, v float64) {
	n := len(s.steps)
	if n == 0 || s.steps[n-1] <= step {
		s.steps = append(s.steps, step)
		s.vals = append(s.vals, v)
		if len(s.sm) == n {
			s.extendEMA(v) // keep the running EMA current
		}
		return
	}
	i := sort.Search(n, func(i int) bool { return s.steps[i] > step })
	s.steps = append(s.steps, 0)
	copy(s.steps[i+1:], s.steps[i:])
	s.steps[i] = step
	s.vals = append(s.vals, 0)
	copy(s.vals[i+1:], s.vals[i:])
	s.vals[i] = v
	s.sm = s.sm[:0] // recomputed on demand
	s.rawB.Reset()
	s.smB.Reset()
	s.bandN = -1
}

func (s *series) extendEMA(v float64) {
	w := s.smW
	s.smBiased = s.smBiased*w + (1-w)*v
	s.smPow *= w
	d := 1 - s.smPow
	if d <= 0 {
		s.sm = append(s.sm, v)
		return
	}
	s.sm = append(s.sm, s.smBiased/d)
}

// smoothed returns the EMA of the series with weight w, recomputing it if
// the weight changed or points were inserted out of order.
func (s *series) smoothed(w float64) []float64 {
	if w != s.smW || len(s.sm) != len(s.vals) {
		s.smW, s.smBiased, s.smPow = w, 0, 1
		s.sm = s.sm[:0]
		s.smB.Reset()
		for _, v := range s.vals {
			s.extendEMA(v)
		}
	}
	return s.sm
}

// EMA returns the debiased exponential moving average of values with
// weight w in [0, 1): m_i = w·m_{i-1} + (1−w)·v_i, divided by 1 − w^(i+1).
// Non-finite values are passed over (they repeat the previous output).
func EMA(values []float64, w float64) []float64 {
	out := make([]float64, len(values))
	biased, pow := 0.0, 1.0
	prev := math.NaN()
	for i, v := range values {
		if !finite(v) {
			out[i] = prev
			continue
		}
		biased = biased*w + (1-w)*v
		pow *= w
		if d := 1 - pow; d > 0 {
			prev = biased / d
		} else {
			prev = v
		}
		out[i] = prev
	}
	return out
}

// Series returns the series names in the order they first appeared.
func (c *Chart) Series() []string {
	out := make([]string, len(c.series))
	for i, s := range c.series {
		out[i] = s.name
	}
	return out
}

// Len returns the number of finite points held for series name.
func (c *Chart) Len(name string) int {
	if i, ok := c.byName[name]; ok {
		return len(c.series[i].steps)
	}
	return 0
}

// Last returns the newest step and value of series name.
func (c *Chart) Last(name string) (step int64, value float64, ok bool) {
	i, found := c.byName[name]
	if !found || len(c.series[i].steps) == 0 {
		return 0, 0, false
	}
	s := c.series[i]
	return s.steps[len(s.steps)-1], s.vals[len(s.vals)-1], true
}

// Skipped returns how many NaN/±Inf points were skipped in all series.
func (c *Chart) Skipped() int { return c.skipped }

// Renders returns how many times the chart actually rendered (not served
// from its cache).
func (c *Chart) Renders() int { return c.renders }

// Clear drops every series and point, keeping size and view.
func (c *Chart) Clear() {
	c.series = nil
	c.byName = map[string]int{}
	c.selected = -1
	c.skipped = 0
	c.acc = meanAcc{}
	c.mean, c.meanFrom, c.meanGrew = nil, -1, false
	c.touch()
}

// ---- view ----

// dataRange is the step range over the visible series.
func (c *Chart) dataRange() (lo, hi int64, ok bool) {
	for _, s := range c.series {
		if s.hidden || len(s.steps) == 0 {
			continue
		}
		a, b := s.steps[0], s.steps[len(s.steps)-1]
		if !ok {
			lo, hi, ok = a, b, true
			continue
		}
		lo, hi = min(lo, a), max(hi, b)
	}
	return lo, hi, ok
}

// DataRange returns the steps the chart's shown series span (ok false:
// no point shown).
func (c *Chart) DataRange() (lo, hi int64, ok bool) { return c.dataRange() }

// SetDomain makes steps lo..hi the range the view zooms and pans within,
// in place of the chart's own data's (hi < lo: its own data's again).
// Charts side by side given one domain and the same view calls show the
// same window of steps each, whatever steps their own series hold: a
// metric recorded every few steps reads the same steps as one recorded
// every step.
func (c *Chart) SetDomain(lo, hi int64) {
	on := hi >= lo
	if on == c.domOn && (!on || lo == c.domLo && hi == c.domHi) {
		return
	}
	c.domLo, c.domHi, c.domOn = lo, hi, on
	c.touch()
}

// domain is the step range the view works within: SetDomain's, or the
// shown series'.
func (c *Chart) domain() (lo, hi int64, ok bool) {
	if c.domOn {
		return c.domLo, c.domHi, true
	}
	return c.dataRange()
}

// XRange returns the steps the chart currently shows.
func (c *Chart) XRange() (lo, hi int64) {
	dlo, dhi, ok := c.domain()
	if !ok {
		return 0, 0
	}
	if c.window <= 0 || c.window >= dhi-dlo {
		return dlo, dhi
	}
	hi = dhi
	if !c.follow {
		hi = min(max(c.end, dlo+c.window), dhi)
	}
	return hi - c.window, hi
}

// CopyView gives c the view of chart f: its domain, window, right edge,
// following, log scale and smoothing (a chart added beside others shows
// what they show).
func (c *Chart) CopyView(f *Chart) {
	c.domLo, c.domHi, c.domOn = f.domLo, f.domHi, f.domOn
	c.window, c.end, c.follow = f.window, f.end, f.follow
	c.SetLogScale(f.logY)
	c.SetSmoothing(f.smoothing)
	c.lastSm = f.lastSm
	c.touch()
}

// Window returns the zoom window in steps (0: all steps).
func (c *Chart) Window() int64 { return c.window }

// SetWindow shows the last n steps (n ≤ 0: all steps).
func (c *Chart) SetWindow(n int64) {
	if n < 0 {
		n = 0
	}
	if n > 0 && n < minWindow {
		n = minWindow
	}
	lo, hi := c.XRange()
	if !c.follow {
		c.end = (lo+hi)/2 + n/2
	}
	c.window = n
	c.touch()
}

// ZoomIn halves the visible step range (around its centre, or at the
// newest step when following).
func (c *Chart) ZoomIn() {
	lo, hi := c.XRange()
	span := hi - lo
	if span <= minWindow {
		return
	}
	c.SetWindow(max(span/2, minWindow))
}

// ZoomOut doubles the visible step range, up to all steps.
func (c *Chart) ZoomOut() {
	if c.window == 0 {
		return
	}
	dlo, dhi, _ := c.domain()
	w := c.window * 2
	if w >= dhi-dlo {
		w = 0
	}
	c.SetWindow(w)
}

// PanLeft moves the view a quarter window towards older steps and stops
// following.
func (c *Chart) PanLeft() { c.pan(-1) }

// PanRight moves the view a quarter window towards newer steps; reaching
// the newest step resumes following.
func (c *Chart) PanRight() { c.pan(1) }

func (c *Chart) pan(dir int64) {
	if c.window == 0 {
		return
	}
	lo, hi := c.XRange()
	dlo, dhi, _ := c.domain()
	shift := max((hi-lo)/4, 1)
	end := hi + dir*shift
	if end >= dhi {
		c.follow = true
	} else {
		c.follow = false
		c.end = max(end, dlo+c.window)
	}
	c.touch()
}

// ResetView shows all steps and follows the newest.
func (c *Chart) ResetView() {
	c.window, c.follow = 0, true
	c.touch()
}

// SetFollow turns follow-the-newest on or off.
func (c *Chart) SetFollow(on bool) {
	if on == c.follow {
		return
	}
	if !on {
		_, c.end = c.XRange()
	}
	c.follow = on
	c.touch()
}

// ToggleFollow flips follow-the-newest.
func (c *Chart) ToggleFollow() { c.SetFollow(!c.follow) }

// Following reports whether the view follows the newest step.
func (c *Chart) Following() bool { return c.follow }

// SetLogScale turns the logarithmic y axis on or off. When a visible value
// is ≤ 0 the chart stays linear and says so in its header.
func (c *Chart) SetLogScale(on bool) {
	if on != c.logY {
		c.logY = on
		c.touch()
	}
}

// ToggleLogScale flips the logarithmic y axis.
func (c *Chart) ToggleLogScale() { c.SetLogScale(!c.logY) }

// LogScale reports whether the log y axis was asked for.
func (c *Chart) LogScale() bool { return c.logY }

// SetSmoothing sets the EMA weight in [0, 1); 0 turns smoothing off.
func (c *Chart) SetSmoothing(w float64) {
	if !(w > 0) {
		w = 0
	}
	if w > 0.999 {
		w = 0.999
	}
	if w != c.smoothing {
		c.smoothing = w
		if w > 0 {
			c.lastSm = w
		}
		c.touch()
	}
}

// Smoothing returns the EMA weight (0: off).
func (c *Chart) Smoothing() float64 { return c.smoothing }

// ToggleSmoothing switches smoothing off, or back on at its last weight.
func (c *Chart) ToggleSmoothing() {
	if c.smoothing > 0 {
		c.SetSmoothing(0)
	} else {
		c.SetSmoothing(c.lastSm)
	}
}

// SetShowRaw chooses whether raw lines are drawn (dim) under smoothed
// ones; with smoothing off raw lines are always drawn.
func (c *Chart) SetShowRaw(on bool) {
	if on != c.showRaw {
		c.showRaw = on
		c.touch()
	}
}

// Select highlights series name ("" clears), drawing it above the others.
func (c *Chart) Select(name string) {
	i, ok := c.byName[name]
	if !ok {
		i = -1
	}
	if i != c.selected {
		c.selected = i
		c.touch()
	}
}

// Selected returns the highlighted series ("" if none).
func (c *Chart) Selected() string {
	if c.selected < 0 || c.selected >= len(c.series) {
		return ""
	}
	return c.series[c.selected].name
}

// SelectNext highlights the next series, wrapping around.
func (c *Chart) SelectNext() { c.selectBy(1) }

// SelectPrev highlights the previous series, wrapping around.
func (c *Chart) SelectPrev() { c.selectBy(-1) }

func (c *Chart) selectBy(d int) {
	n := len(c.series)
	if n == 0 {
		return
	}
	if c.selected < 0 {
		if d > 0 {
			c.selected = 0
		} else {
			c.selected = n - 1
		}
	} else {
		c.selected = ((c.selected+d)%n + n) % n
	}
	c.touch()
}

// SetHidden hides or shows series name.
func (c *Chart) SetHidden(name string, hidden bool) {
	if i, ok := c.byName[name]; ok && c.series[i].hidden != hidden {
		c.series[i].hidden = hidden
		c.rebuildMean() // the mean is over the shown series
		c.touch()
	}
}

// ToggleSelected hides or shows the highlighted series.
func (c *Chart) ToggleSelected() {
	if n := c.Selected(); n != "" {
		c.SetHidden(n, !c.series[c.selected].hidden)
	}
}

// Hidden reports whether series name is hidden.
func (c *Chart) Hidden(name string) bool {
	i, ok := c.byName[name]
	return ok && c.series[i].hidden
}

// View returns the chart rendered at its size, from cache when nothing
// changed since the last call.
func (c *Chart) View() string {
	if c.valid {
		return c.cached
	}
	c.cached = c.render()
	c.valid = true
	c.renders++
	return c.cached
}

func joinNonEmpty(parts []string, sep string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}
