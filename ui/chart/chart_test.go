package chart

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/ui/internal/golden"
	"github.com/rlt-workbench/rlt/ui/style"
)

// lcg is a tiny deterministic generator for test data.
type lcg uint64

func (l *lcg) next() float64 {
	*l = *l*6364136223846793005 + 1442695040888963407
	return float64(uint64(*l)>>11) / float64(1<<53)
}

// demo fills a chart with three series the way a run would: reward
// rising, kl decaying, loss noisy with one spike and a NaN.
func demo(c *Chart, n int) {
	r := lcg(1)
	for i := 0; i < n; i++ {
		s := int64(i)
		x := float64(i) / float64(n)
		c.Append("reward", s, -1+1.5*x+0.3*(r.next()-0.5))
		c.Append("kl", s, 0.05+0.2*math.Exp(-4*x)+0.02*r.next())
		loss := 0.8*(1-x) + 0.2*r.next()
		if i == n*2/3 {
			loss = 4
		}
		if i == n/2 {
			loss = math.NaN()
		}
		c.Append("loss", s, loss)
	}
}

func TestGolden(t *testing.T) {
	scenarios := []struct {
		name string
		set  func(c *Chart)
	}{
		{"basic", func(c *Chart) { demo(c, 2000) }},
		{"smooth_log", func(c *Chart) {
			demo(c, 2000)
			c.SetSmoothing(0.9)
			c.SetLogScale(true)
			c.Select("loss")
		}},
		{"log_positive", func(c *Chart) {
			for i := 1; i <= 500; i++ {
				c.Append("grad_norm", int64(i), 1000/float64(i))
			}
			c.SetLogScale(true)
		}},
		{"zoom_pan", func(c *Chart) {
			demo(c, 2000)
			c.ZoomIn()
			c.ZoomIn()
			c.PanLeft()
			c.SetHidden("kl", true)
		}},
		{"empty", func(c *Chart) {}},
	}
	for _, sc := range scenarios {
		for _, sz := range golden.Sizes {
			name := fmt.Sprintf("%s_%dx%d", sc.name, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				c := New(style.PlainTheme())
				c.SetTitle("train")
				sc.set(c)
				c.SetSize(sz.W, sz.H)
				got := c.View()
				golden.NoEscapes(t, got)
				golden.Fits(t, got, sz.W, sz.H)
				golden.Assert(t, name, got)
			})
		}
	}
}

// Every size from tiny to large keeps inside its box, in colour too.
func TestFitsEverySize(t *testing.T) {
	for _, p := range []style.Profile{style.Plain, style.TrueColor} {
		c := New(style.NewTheme(p))
		c.SetTitle("a long title that will need to be cut somewhere")
		demo(c, 3000)
		for i := 0; i < 12; i++ {
			c.Append(fmt.Sprintf("series-%02d", i), 5, float64(i))
		}
		c.Select("loss")
		c.SetSmoothing(0.5)
		for w := 0; w <= 130; w += 3 {
			for h := 0; h <= 45; h += 2 {
				c.SetSize(w, h)
				golden.Fits(t, c.View(), w, h)
			}
		}
	}
}

func TestDownsampleSpikeSurvives(t *testing.T) {
	const n = 10000
	cases := []struct {
		name  string
		at    int
		spike float64
		cols  int
	}{
		{"middle up 80 cells", 7777, 100, 160},
		{"middle down 80 cells", 4321, -100, 160},
		{"first point", 0, 100, 160},
		{"last point", n - 1, 100, 160},
		{"one column", 5000, 100, 1},
		{"odd columns", 9998, -7, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			steps := make([]int64, n)
			vals := make([]float64, n)
			for i := range steps {
				steps[i] = int64(i)
			}
			vals[tc.at] = tc.spike
			cols := Downsample(steps, vals, 0, n-1, tc.cols, nil)
			total := 0
			found := -1
			for i, c := range cols {
				total += c.N
				if c.Max == tc.spike || c.Min == tc.spike {
					if found >= 0 {
						t.Fatalf("spike in columns %d and %d", found, i)
					}
					found = i
				}
			}
			if total != n {
				t.Fatalf("columns cover %d points, want %d", total, n)
			}
			want := int(float64(tc.at)*float64(tc.cols-1)/float64(n-1) + 0.5)
			if found != want {
				t.Fatalf("spike in column %d, want %d", found, want)
			}
		})
	}
}

// A single spike among 10k points shows in the rendered chart at 80
// columns: the top plot row holds a dot, and only near the spike.
func TestRenderedSpikeSurvives(t *testing.T) {
	c := New(nil)
	for i := 0; i < 10000; i++ {
		v := 0.0
		if i == 6001 {
			v = 1
		}
		c.Append("x", int64(i), v)
	}
	c.SetSize(80, 24)
	lines := strings.Split(c.View(), "\n")
	top := lines[1] // under the header
	idx := strings.IndexFunc(top, func(r rune) bool { return r > 0x2800 && r <= 0x28ff })
	if idx < 0 {
		t.Fatalf("spike lost: top row %q", top)
	}
	// Its cell column sits at 60% of the plot.
	cells := []rune(top)
	var col int
	for i, r := range cells {
		if r > 0x2800 && r <= 0x28ff {
			col = i
			break
		}
	}
	gutter := strings.IndexRune(top, '┤')
	gutterCells := len([]rune(top[:gutter])) + 1
	plotW := 80 - gutterCells
	frac := float64(col-gutterCells) / float64(plotW)
	if math.Abs(frac-0.6) > 0.02 {
		t.Fatalf("spike drawn at %.3f of the plot, want 0.6", frac)
	}
}

func TestEMA(t *testing.T) {
	vals := []float64{1, 2, 3, math.NaN(), 10, -4}
	w := 0.6
	got := EMA(vals, w)
	// By hand: debiased EMA, NaN repeats the previous output.
	biased, pow := 0.0, 1.0
	prev := 0.0
	for i, v := range vals {
		if math.IsNaN(v) {
			if got[i] != prev {
				t.Fatalf("EMA[%d] = %v, want %v (held)", i, got[i], prev)
			}
			continue
		}
		biased = w*biased + (1-w)*v
		pow *= w
		prev = biased / (1 - pow)
		if math.Abs(got[i]-prev) > 1e-12 {
			t.Fatalf("EMA[%d] = %v, want %v", i, got[i], prev)
		}
	}
	if e := EMA([]float64{5, 7}, 0); e[0] != 5 || e[1] != 7 {
		t.Fatalf("EMA with weight 0 = %v, want the values", e)
	}
	// The first output of a debiased EMA is the first value.
	if e := EMA([]float64{3}, 0.99); math.Abs(e[0]-3) > 1e-12 {
		t.Fatalf("debiased first = %v", e[0])
	}
}

// Smoothed values kept incrementally equal a full recompute, also after an
// out-of-order point and a weight change.
func TestIncrementalSmoothing(t *testing.T) {
	c := New(nil)
	c.SetSmoothing(0.7)
	r := lcg(7)
	var vals []float64
	for i := 0; i < 300; i++ {
		v := r.next()
		vals = append(vals, v)
		c.Append("s", int64(i*2), v)
		if i%50 == 0 {
			c.SetSize(40, 10)
			_ = c.View()
		}
	}
	s := c.series[0]
	check := func(want []float64) {
		t.Helper()
		got := s.smoothed(c.smoothing)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Fatalf("smoothed[%d] = %v, want %v", i, got[i], want[i])
			}
		}
	}
	check(EMA(vals, 0.7))
	c.Append("s", 3, 0.5) // between steps 2 and 4
	vals = append(vals[:2], append([]float64{0.5}, vals[2:]...)...)
	check(EMA(vals, 0.7))
	c.SetSmoothing(0.2)
	check(EMA(vals, 0.2))
	if s.steps[2] != 3 {
		t.Fatalf("out-of-order point not in place: %v", s.steps[:4])
	}
}

func TestAppendManyMatchesAppend(t *testing.T) {
	a, b := New(nil), New(nil)
	steps := []int64{1, 2, 3, 4, 5, 6}
	vals := []float64{1, math.Inf(1), 3, math.NaN(), 5, 6}
	for i := range steps {
		a.Append("x", steps[i], vals[i])
	}
	b.AppendMany("x", steps[:3], vals[:3])
	b.AppendMany("x", steps[3:], vals[3:])
	a.SetSize(50, 12)
	b.SetSize(50, 12)
	if a.View() != b.View() {
		t.Fatal("AppendMany and Append differ")
	}
	if a.Skipped() != 2 || b.Skipped() != 2 || a.Len("x") != 4 {
		t.Fatalf("skipped %d/%d, len %d; want 2/2, 4", a.Skipped(), b.Skipped(), a.Len("x"))
	}
	if !strings.Contains(a.View(), "2 NaN/Inf skipped") {
		t.Fatalf("skipped count not shown:\n%s", a.View())
	}
}

func TestCache(t *testing.T) {
	c := New(nil)
	demo(c, 100)
	c.SetSize(60, 15)
	v1 := c.View()
	_ = c.View()
	c.SetSize(60, 15)
	if c.Renders() != 1 {
		t.Fatalf("renders = %d after unchanged views, want 1", c.Renders())
	}
	c.Append("reward", 100, 0.5)
	v2 := c.View()
	if c.Renders() != 2 || v1 == v2 {
		t.Fatalf("append did not re-render (renders %d)", c.Renders())
	}
	for _, change := range []func(){c.ZoomIn, c.ToggleLogScale, c.ToggleSmoothing, c.SelectNext, func() { c.SetSize(61, 15) }} {
		n := c.Renders()
		change()
		_ = c.View()
		if c.Renders() != n+1 {
			t.Fatal("view change did not re-render")
		}
	}
}

func TestLogScale(t *testing.T) {
	c := New(nil)
	for i := 1; i <= 100; i++ {
		c.Append("p", int64(i), float64(i*i))
	}
	c.SetLogScale(true)
	c.SetSize(60, 15)
	v := c.View()
	if !strings.Contains(v, " · log") || strings.Contains(v, "log n/a") {
		t.Fatalf("log header wrong:\n%s", v)
	}
	for _, lab := range []string{"1e0┤", "1e2┤", "1e4┤"} { // one notation: not "1" beside "1e4"
		if !strings.Contains(v, lab) {
			t.Errorf("log axis lacks %q:\n%s", lab, v)
		}
	}
	c.Append("p", 101, 0)
	v = c.View()
	if !strings.Contains(v, "log n/a: values ≤ 0") {
		t.Fatalf("no note for values ≤ 0:\n%s", v)
	}
}

func TestViewRange(t *testing.T) {
	c := New(nil)
	for i := 0; i <= 1000; i++ {
		c.Append("x", int64(i), float64(i))
	}
	if lo, hi := c.XRange(); lo != 0 || hi != 1000 {
		t.Fatalf("all: %d–%d", lo, hi)
	}
	c.ZoomIn()
	if lo, hi := c.XRange(); lo != 500 || hi != 1000 || !c.Following() {
		t.Fatalf("zoom in while following: %d–%d follow=%v", lo, hi, c.Following())
	}
	c.Append("x", 1001, 1)
	if lo, hi := c.XRange(); lo != 501 || hi != 1001 {
		t.Fatalf("follow after append: %d–%d", lo, hi)
	}
	c.PanLeft()
	lo, hi := c.XRange()
	if c.Following() || hi != 876 || hi-lo != 500 {
		t.Fatalf("pan left: %d–%d follow=%v", lo, hi, c.Following())
	}
	c.Append("x", 1002, 1)
	if lo2, hi2 := c.XRange(); lo2 != lo || hi2 != hi {
		t.Fatalf("paused view moved on append: %d–%d", lo2, hi2)
	}
	for i := 0; i < 10; i++ {
		c.PanLeft()
	}
	if lo, _ := c.XRange(); lo != 0 {
		t.Fatalf("pan past the start: lo %d", lo)
	}
	for i := 0; i < 10; i++ {
		c.PanRight()
	}
	if !c.Following() {
		t.Fatal("panning to the newest step did not resume following")
	}
	c.ZoomOut()
	c.ZoomOut()
	if c.Window() != 0 {
		t.Fatalf("zoom out to all: window %d", c.Window())
	}
	for i := 0; i < 20; i++ {
		c.ZoomIn()
	}
	if lo, hi := c.XRange(); hi-lo != minWindow {
		t.Fatalf("deepest zoom spans %d steps", hi-lo)
	}
}

func TestStableColors(t *testing.T) {
	// The hash must not change between versions: a series keeps its colour.
	want := map[string]int{}
	for _, n := range []string{"reward", "kl", "loss", "grad_norm", "r_SS", "r_KL"} {
		want[n] = style.SeriesIndex(n)
	}
	for i := 0; i < 3; i++ {
		for n, w := range want {
			if style.SeriesIndex(n) != w {
				t.Fatalf("colour of %q changed", n)
			}
		}
	}
	if got := style.SeriesIndex("reward"); got != 2 {
		t.Fatalf("SeriesIndex(reward) = %d; the hash changed, which recolours every chart", got)
	}
}

func TestNiceTicks(t *testing.T) {
	cases := []struct {
		lo, hi         float64
		n              int
		step, nlo, nhi float64
	}{
		{0, 1, 5, 0.2, 0, 1},
		{-1.1, 3, 7, 1, -2, 3},
		{0.0123, 0.0456, 4, 0.02, 0, 0.06},
		{5, 5, 3, 0.5, 4.5, 5.5},
		{0, 9999, 12, 1000, 0, 10000},
	}
	for _, tc := range cases {
		s, a, b := NiceTicks(tc.lo, tc.hi, tc.n)
		if math.Abs(s-tc.step) > 1e-12 || math.Abs(a-tc.nlo) > 1e-12 || math.Abs(b-tc.nhi) > 1e-12 {
			t.Errorf("NiceTicks(%v,%v,%d) = %v %v %v, want %v %v %v", tc.lo, tc.hi, tc.n, s, a, b, tc.step, tc.nlo, tc.nhi)
		}
	}
	for _, tc := range []struct {
		v, step float64
		want    string
	}{{0.25, 0.05, "0.25"}, {1500, 500, "1500"}, {15000, 5000, "15k"}, {2.5e6, 5e5, "2.5M"}, {-1e-9, 1, "0"}, {1e-5, 1e-5, "1e-05"}} {
		if got := formatTick(tc.v, tc.step); got != tc.want {
			t.Errorf("formatTick(%v, %v) = %q, want %q", tc.v, tc.step, got, tc.want)
		}
	}
}

// Colour output carries each series' colour and bold for the smoothed line.
func TestColourOutput(t *testing.T) {
	c := New(style.NewTheme(style.TrueColor))
	for i := 0; i < 100; i++ {
		c.Append("reward", int64(i), float64(i))
	}
	c.SetSmoothing(0.5)
	c.SetSize(40, 10)
	v := c.View()
	col := style.SeriesColor("reward")
	fg := fmt.Sprintf("38;2;%d;%d;%d", col.R, col.G, col.B)
	if !strings.Contains(v, "\x1b[1;"+fg+"m") {
		t.Errorf("no bold smoothed line in %q", v)
	}
	if !strings.Contains(v, "\x1b[2;"+fg+"m") {
		t.Errorf("no faint raw line in %q", v)
	}
}

// TestAllHiddenSaysSo: a chart whose every series is hidden says so, not
// that it has no finite points.
func TestAllHiddenSaysSo(t *testing.T) {
	c := New(style.PlainTheme())
	c.SetSize(60, 12)
	c.Append("reward", 0, 1)
	c.Append("reward", 1, 2)
	c.SetHidden("reward", true)
	if v := c.View(); !strings.Contains(v, "every series is hidden") {
		t.Errorf("all hidden:\n%s", v)
	}
	c.SetHidden("reward", false)
	if v := c.View(); strings.Contains(v, "hidden") || strings.Contains(v, "no finite points") {
		t.Errorf("shown again:\n%s", v)
	}
}

// TestFlatSeriesGetsNiceTicks: a series that never moves (a constant
// learning rate) spans a made-up range around its value v, v±d (d: a
// tenth of v); its axis is labelled with nice ticks (5.5, 5.0, 4.5), not
// with the odd values of its top and bottom rows, and symmetric around v
// however short the plot: a plot with room for one tick labels its top
// and bottom rows v+d and v−d, one of two rows v and v+d. A series of 0
// throughout (a penalty rate, a count of failures) spans 0 to 1 instead,
// its line on the bottom row: a rate or a count cannot be negative, and
// its axis read 1, 0, −1 (a series whose own values go negative keeps a
// span around them: "negative").
func TestFlatSeriesGetsNiceTicks(t *testing.T) {
	for _, c := range []struct {
		name   string
		value  float64
		height int
		axis   []string // the labels, top to bottom
	}{
		{"zeros", 0, 12, []string{"1.0", "0.5", "0.0"}},
		{"zeros, 8 high", 0, 8, []string{"1", "0"}},
		{"zeros, 7 high", 0, 7, []string{"1", "0"}},
		{"zeros, 6 high", 0, 6, []string{"1", "0"}},
		{"zeros, two rows", 0, 4, []string{"1", "0"}},
		{"a constant learning rate", 1e-6, 12, []string{"1.1e-06", "1.0e-06", "9.0e-07"}},
		{"a constant learning rate, 7 high", 1e-6, 7, []string{"1.1e-06", "1.0e-06", "9.0e-07"}},
		{"fives", 5, 12, []string{"5.5", "5.0", "4.5"}},
		{"fives, 7 high", 5, 7, []string{"5.5", "5.0", "4.5"}},
		{"fives, two rows", 5, 4, []string{"5.5", "5.0"}},
		{"negative", -2, 7, []string{"-1.8", "-2.0", "-2.2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := New(style.PlainTheme())
			ch.SetSize(60, c.height)
			for i := range 20 {
				ch.Append("rate", int64(i), c.value)
			}
			v := ch.View()
			var axis []string
			for _, l := range strings.Split(v, "\n") {
				if i := strings.Index(l, "┤"); i >= 0 {
					axis = append(axis, strings.TrimSpace(l[:i]))
				}
			}
			if !slices.Equal(axis, c.axis) {
				t.Errorf("axis %q, want %q:\n%s", axis, c.axis, v)
			}
		})
	}
}

// TestSharedDomain: charts given one domain show one window of steps
// under the same zoom and pan calls, whatever steps their own points
// have: a series recorded every few steps reads the steps a series
// recorded every step reads.
func TestSharedDomain(t *testing.T) {
	dense, sparse := New(nil), New(nil)
	for s := int64(0); s <= 50; s++ {
		dense.Append("reward", s, float64(s))
		if s%13 == 0 || s == 49 { // 0 13 26 39 49
			sparse.Append("accuracy", s, float64(s)/50)
		}
	}
	for _, c := range []*Chart{dense, sparse} {
		lo, hi, _ := dense.DataRange()
		c.SetDomain(lo, hi)
	}
	for _, tc := range []struct {
		name   string
		op     func(c *Chart)
		lo, hi int64
	}{
		{"all", func(c *Chart) {}, 0, 50},
		{"zoom in", (*Chart).ZoomIn, 25, 50},
		{"zoom in again", (*Chart).ZoomIn, 38, 50},
		{"pan left", (*Chart).PanLeft, 35, 47},
		{"zoom out", (*Chart).ZoomOut, 26, 50},
		{"pan right", (*Chart).PanRight, 26, 50},
		{"reset", (*Chart).ResetView, 0, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.op(dense)
			tc.op(sparse)
			for _, c := range []*Chart{dense, sparse} {
				if lo, hi := c.XRange(); lo != tc.lo || hi != tc.hi {
					t.Errorf("%s shows steps %d–%d, want %d–%d", c.Series()[0], lo, hi, tc.lo, tc.hi)
				}
			}
		})
	}
	// Without a domain (hi < lo) a chart is back on its own points.
	sparse.SetDomain(0, -1)
	if lo, hi := sparse.XRange(); lo != 0 || hi != 49 {
		t.Errorf("without a domain: steps %d–%d, want its own 0–49", lo, hi)
	}
}

// TestLineEntersTheView: a line with points on either side of the view
// is drawn up to its edges (from the value it has there), also where no
// point of it lies inside the view.
func TestLineEntersTheView(t *testing.T) {
	for _, tc := range []struct {
		name       string
		steps      []int64
		lo, hi     int64
		left, righ bool // dots in the plot's first and last cell column
	}{
		{"a point before the view", []int64{39, 49}, 42, 50, true, false},
		{"a point after the view", []int64{39, 49}, 36, 45, false, true},
		{"points only outside", []int64{30, 60}, 40, 50, true, true},
		{"every point inside", []int64{42, 45, 48}, 40, 50, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(nil)
			for i, s := range tc.steps {
				c.Append("a", s, float64(i))
			}
			c.SetLegend(false)
			c.SetDomain(tc.lo, tc.hi)
			c.SetSize(40, 8)
			c.SetWindow(tc.hi - tc.lo)
			c.SetFollow(false)
			c.end = tc.hi
			c.touch()
			if lo, hi := c.XRange(); lo != tc.lo || hi != tc.hi {
				t.Fatalf("view %d–%d, want %d–%d", lo, hi, tc.lo, tc.hi)
			}
			v := c.View()
			lines := strings.Split(v, "\n")
			plot := lines[1 : len(lines)-1] // header, plot, x axis
			left, right := false, false
			for _, l := range plot {
				cells := []rune(l)
				axis := slices.IndexFunc(cells, func(r rune) bool { return r == '│' || r == '┤' })
				cells = cells[axis+1:]
				left = left || cells[0] != ' '
				right = right || cells[len(cells)-1] != ' '
			}
			if left != tc.left || right != tc.righ {
				t.Errorf("dots at the left edge %v (want %v), at the right edge %v (want %v):\n%s", left, tc.left, right, tc.righ, v)
			}
			if strings.Contains(v, "no finite points in view") {
				t.Errorf("a line crossing the view reads as none:\n%s", v)
			}
		})
	}
}

// TestLegendSaysTheEMA: with smoothing on, the legend gives the last
// value with the EMA the line draws beside it, or, where that would take
// more lines, the EMA alone named as such; never an unmarked EMA.
func TestLegendSaysTheEMA(t *testing.T) {
	for _, c := range []struct {
		smooth float64
		w      int
		want   string
	}{
		{0, 80, " ■ reward 3.000   ■ kl 0.3000"},
		{0.5, 80, " ■ reward 3.000 (ema 2.429)   ■ kl 0.3000 (ema 0.2429)"},
		{0.5, 40, " ■ reward ema 2.429   ■ kl ema 0.2429"}, // one line, where both take two
		{0.5, 30, " ■ reward 3.000 (ema 2.429)"},           // two lines either way: both said
	} {
		ch := New(style.PlainTheme())
		for i, v := range []float64{1, 2, 3} {
			ch.Append("reward", int64(i), v)
			ch.Append("kl", int64(i), v/10)
		}
		ch.SetSmoothing(c.smooth)
		if got := ch.legendLines(c.w, 2); got[0] != c.want {
			t.Errorf("smoothing %v at %d columns: legend %q, want %q first", c.smooth, c.w, got, c.want)
		}
	}
}

// TestTitleGivesWayByParts: a chart narrower than its title line says
// leaves out whole parts, the smoothing first (the dashboard's line says
// it), then following, then the steps shown, never cutting one mid-word
// ("· follow · EMA 0…" read as a value of 0); the title stays whole where
// it fits.
func TestTitleGivesWayByParts(t *testing.T) {
	for _, c := range []struct {
		width     int
		want      string
		cutsTitle bool
	}{
		{60, "format penalty rate · steps 0–5 · follow · EMA 0.60", false},
		{50, "format penalty rate · steps 0–5 · follow", false},
		{39, "format penalty rate · steps 0–5", false},
		{30, "format penalty rate", false},
		{12, "format pena…", true},
	} {
		ch := New(style.PlainTheme())
		ch.SetSize(c.width, 12)
		ch.SetTitle("format penalty rate")
		ch.SetSmoothing(0.6)
		for s := int64(0); s <= 5; s++ {
			ch.Append("rate", s, float64(s)/10)
		}
		first, _, _ := strings.Cut(ch.View(), "\n")
		if got := strings.TrimRight(first, " "); got != c.want {
			t.Errorf("at %d columns: title line %q, want %q", c.width, got, c.want)
		}
	}
}

// TestAllHiddenSaysSoWhole: the message of a chart whose every series is
// hidden is read whole in a chart of a 80-column dashboard's grid (39
// columns), not cut before what brings it back.
func TestAllHiddenSaysSoWhole(t *testing.T) {
	for _, w := range []int{39, 52, 80} {
		c := New(style.PlainTheme())
		c.SetSize(w, 12)
		c.Append("reward", 0, 1)
		c.Append("reward", 1, 2)
		c.SetHidden("reward", true)
		v := c.View()
		if strings.Contains(v, "…") || !strings.Contains(v, "space shows") {
			t.Errorf("all hidden at %d columns: the message is cut:\n%s", w, v)
		}
	}
}

// formatTick is one tick v of ticks step apart written as an axis of it
// alone writes it (axisFormat): "0.25", "1.5k", "2M", "1e-05".
func formatTick(v, step float64) string {
	return axisFormat(step, math.Abs(v))(v)
}

// Titles and series named in wide characters (CJK, emoji) keep inside
// every box, their cuts (style.Fit) counted in cells as the terminal
// draws them: "◽" (two cells) was counted one, and a title of them
// overflowed its line.
func TestWideNamesFitEverySize(t *testing.T) {
	for _, title := range []string{"日本語のタイトル 損失と報酬", "◽◾◽◾◽◾ reward ◽◾◽◾"} {
		c := New(style.NewTheme(style.TrueColor))
		c.SetTitle(title)
		for i, name := range []string{"報酬", "損失◽", "👍 kl", "série-λ"} {
			for s := int64(0); s < 50; s++ {
				c.Append(name, s, float64(i)+float64(s)/10)
			}
		}
		for w := 0; w <= 60; w++ {
			for h := 0; h <= 12; h += 3 {
				c.SetSize(w, h)
				golden.Fits(t, c.View(), w, h)
			}
		}
	}
}
