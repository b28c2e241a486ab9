package ui

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/chart"
	"github.com/rlt-workbench/rlt/ui/keys"
	"github.com/rlt-workbench/rlt/ui/report"
	"github.com/rlt-workbench/rlt/ui/style"
)

type seriesSpec struct {
	name, metric string
	negate       bool
	// spread names the metric recorded as this series' standard deviation
	// ("reward_std"), drawn as a ±band around it.
	spread string
}

type chartSpec struct {
	title    string
	series   []seriesSpec
	optional bool // shown only once it has data
	hidden   bool // taken off the grid with the chart picker
}

// dashboardCharts are the charts in grid order. loss (β·KL, the KL chart
// again) and explanation_length (completion_length less the tags) are
// left to the chart picker, as is every other recorded metric.
var dashboardCharts = []chartSpec{
	{title: "reward ± std", series: []seriesSpec{{name: "reward", metric: "reward", spread: "reward_std"}}},
	// The reward's terms as the run says them (record.StepTerm: r_KL is
	// kl_reward negated), as rlt run --headless's step line says them.
	{title: "r_SS", series: []seriesSpec{{name: "r_SS", metric: record.StepRSS.Metric, negate: record.StepRSS.Negated}}},
	{title: "r_KL", series: []seriesSpec{{name: "r_KL", metric: record.StepRKL.Metric, negate: record.StepRKL.Negated}}},
	{title: "format penalty rate", series: []seriesSpec{{name: "penalty rate", metric: "format_penalty_rate"}}},
	{title: "KL to reference", series: []seriesSpec{{name: "kl", metric: "kl"}}},
	{title: "grad norm", series: []seriesSpec{{name: "grad norm", metric: "grad_norm"}}},
	{title: "completion length (tokens)", series: []seriesSpec{{name: "completion", metric: "completion_length"}}},
	{title: "held-out", optional: true, series: []seriesSpec{{name: "accuracy", metric: "eval_accuracy"}, {name: "verified", metric: "eval_verified_rate"}, {name: "leak", metric: "eval_leak_rate"}}},
}

// metricTitles name the recorded metrics the picker offers in words.
var metricTitles = map[string]string{
	"reward_std":             "reward std within groups",
	"learning_rate":          "learning rate",
	"step_time_s":            "step time (s)",
	"sampled_tokens_per_s":   "sampling tokens/s",
	"zero_variance_share":    "zero-variance groups (share)",
	"loss":                   "loss (β·KL)",
	"explanation_length":     "explanation length (tokens)",
	"clip_fraction":          "clip fraction",
	"time_sample_s":          "sampling time (s)",
	"time_score_s":           "scoring time (s)",
	"time_optimise_s":        "optimiser time (s)",
	"memory_host_gib":        "host memory (GiB, resident)",
	"memory_host_peak_gib":   "host memory peak (GiB)",
	"memory_device_peak_gib": "GPU memory peak in the step (GiB)",
	// The share of the step's explanations whose texts the tokenizer could
	// not place its tokens in whole (rlt.Layout.Whole): encoded part by part.
	"layout_part_by_part_share": "texts tokenized part by part (share)",
	// The reward's parts before their weights (the official trainer's
	// names: docs/engine.md): what a sweep of a weight compares across
	// runs, where r_SS and r_KL move with the weights themselves.
	"answer_log_prob_mean": "solution log-prob, mean (r_SS, unweighted)",
	"answer_log_prob_min":  "solution log-prob, min (r_SS, unweighted)",
	"reasoning_kl_mean":    "d mean (r_KL's λ term, unweighted)",
	"reasoning_kl_max":     "d max (r_KL, unweighted)",
	"match_reward":         "format penalty m",
}

// metricTitle is how the chart picker (and a chart it puts on the grid)
// names recorded metric m: a metric the grid draws by the grid's label
// (seriesLabel: "r_KL", not kl_reward alone), the name after it, signed
// as drawn ("r_KL · −kl_reward": the grid draws its negation, and the
// picker's value is that too, shownValue); another by metricTitles'
// words; the name alone where there are none.
func metricTitle(m string) string {
	if s, ss, ok := gridSeries(m); ok {
		name := m
		if ss.negate {
			name = "−" + m
		}
		if l := seriesLabel(s, ss); l != m {
			return l + " · " + name
		}
		return name
	}
	if t, ok := metricTitles[m]; ok {
		return t + " · " + m
	}
	return m
}

// seriesLabel is how the grid names series ss of its chart s on its own:
// the chart's title (less its band, " ± std"), with the series' name
// where the chart draws several ("held-out · accuracy"). The comparison's
// charts, one a series, and the chart picker say it so.
func seriesLabel(s chartSpec, ss seriesSpec) string {
	title := strings.TrimSuffix(s.title, " ± std")
	if len(s.series) > 1 {
		title += " · " + ss.name
	}
	return title
}

// gridSeries is the grid's chart and series that draw metric m (ok false:
// the grid draws it nowhere; reward_std is the reward's band, not drawn
// as a line of its own).
func gridSeries(m string) (chartSpec, seriesSpec, bool) {
	for _, s := range dashboardCharts {
		for _, ss := range s.series {
			if ss.metric == m {
				return s, ss, true
			}
		}
	}
	return chartSpec{}, seriesSpec{}, false
}

// shownValue is metric m's recorded value v as the grid draws it: negated
// where its series negates it (r_KL, the penalty as it weighs on the
// reward, is −kl_reward).
func shownValue(m string, v float64) float64 {
	if _, ss, ok := gridSeries(m); ok && ss.negate {
		return -v
	}
	return v
}

// minChartHeight is the least height a chart in the grid gets.
const minChartHeight = 7

type dashKeys struct {
	keys.Dashboard
	Pause, Stop, Checkpoint, Pick, Export, Compare key.Binding
}

func (k dashKeys) ShortHelp() []key.Binding {
	return append(k.Dashboard.ShortHelp(), k.Pick, k.Compare, k.Pause)
}

func (k dashKeys) FullHelp() [][]key.Binding {
	return append(k.Dashboard.FullHelp(), []key.Binding{k.Pick, k.Export, k.Compare, k.Pause, k.Stop, k.Checkpoint})
}

// dashView is a grid of charts: the open run's (one chart per spec, its
// series together) or the comparison's (one chart per metric, a line per
// run and their mean ± std band).
type dashView struct {
	specs  []chartSpec
	charts []*chart.Chart
	points []int // points appended per chart
}

type dashboard struct {
	sh   *shared
	keys dashKeys
	dashView
	// cv is the comparison's grid while the dashboard overlays compared
	// runs (nil otherwise), built from the specs above; srcs are its runs
	// and cvFor the set it was built for.
	cv     *dashView
	srcs   []runSource
	cvFor  string
	cmpRaw bool // raw lines under the smoothed ones in the comparison (off: the band shows the spread)
	selRun int  // the run n/N selected in the comparison (-1: none)
	// settings are the open run's (its λ for the comparison's legend).
	settings sessions.Settings

	w, h        int
	focus       int // index into visible charts
	expanded    bool
	raw         bool
	confirmStop bool

	// names are the metrics recorded so far, sorted (the picker's list).
	names   []string
	nameSet map[string]bool
	last    map[string]float64 // each metric's latest recorded value
	picking bool
	pickSel int

	dirty bool   // the frame needs drawing again (settle)
	cache string // the frame settle drew: what View shows
}

func newDashboard(sh *shared) *dashboard {
	d := &dashboard{sh: sh, dashView: dashView{specs: append([]chartSpec(nil), dashboardCharts...)}, raw: true, dirty: true, nameSet: map[string]bool{}, last: map[string]float64{}}
	d.keys = dashKeys{
		Dashboard:  keys.NewDashboard(),
		Pause:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause/resume run")),
		Stop:       key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "stop run (asks)")),
		Checkpoint: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "checkpoint now")),
		Pick:       key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "pick charts (every metric)")),
		Export:     key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "export chart (SVG, CSV)")),
		Compare:    key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "compared runs on/off")),
	}
	d.selRun = -1
	if sh.run != nil {
		d.settings = sh.settings
	}
	for _, s := range d.specs {
		d.newChart(&d.dashView, s.title)
	}
	return d
}

// v is the grid shown: the comparison's while comparing.
func (d *dashboard) v() *dashView {
	if d.cv != nil {
		return d.cv
	}
	return &d.dashView
}

// newChart adds a chart titled title to v, smoothed by default with the
// raw series faint behind it, in the view of the charts already shown.
func (d *dashboard) newChart(v *dashView, title string) *chart.Chart {
	c := chart.New(d.sh.theme)
	c.SetTitle(title)
	c.SetSmoothing(chart.DefaultSmoothing)
	c.SetShowRaw(d.raw)
	if len(d.charts) > 0 { // the two grids share one view (all)
		c.CopyView(d.charts[0])
	}
	if v == d.cv {
		c.SetMeanBand(true)
		c.SetLegend(false) // the dashboard's legend line names the runs
		c.SetShowRaw(d.cmpRaw)
	}
	v.charts = append(v.charts, c)
	v.points = append(v.points, 0)
	return c
}

func (d *dashboard) clear() {
	clear(d.last)
	for i, c := range d.charts {
		c.Clear()
		d.points[i] = 0
	}
	// The comparison is built again by the next add, from the records
	// the store holds then (building it now and adding them would draw
	// them twice).
	d.cv, d.srcs, d.cvFor = nil, nil, ""
	d.dirty = true
}

// add appends metric records of the open run to the charts.
func (d *dashboard) add(ms []sessions.MetricRecord) {
	if len(ms) == 0 {
		return
	}
	for ci := range d.specs {
		d.feed(ci, ms)
	}
	if d.cv != nil && len(d.srcs) > 0 {
		for ci := range d.cv.specs {
			d.feedRun(ci, d.srcs[0], ms)
		}
	} else if cmp := d.sh.cmp; cmp != nil && cmp.on && len(cmp.runs) > 0 {
		d.syncCompare() // after clear: from the store, which holds ms
	}
	for _, r := range ms {
		for k, n := range r.Names {
			d.last[n] = r.Values[k]
			if !d.nameSet[n] {
				d.nameSet[n] = true
				i, _ := slices.BinarySearch(d.names, n)
				d.names = slices.Insert(d.names, i, n)
			}
		}
	}
	d.dirty = true
}

// feed appends the series of chart ci from ms.
func (d *dashboard) feed(ci int, ms []sessions.MetricRecord) {
	steps := make([]int64, 0, len(ms))
	vals := make([]float64, 0, len(ms))
	pick := func(metric string, negate bool) {
		steps, vals = steps[:0], vals[:0]
		for _, r := range ms {
			v, ok := r.Get(metric)
			if !ok {
				continue
			}
			if negate {
				v = -v
			}
			steps = append(steps, int64(r.Step))
			vals = append(vals, v)
		}
	}
	for _, ss := range d.specs[ci].series {
		pick(ss.metric, ss.negate)
		if len(steps) > 0 {
			d.charts[ci].AppendMany(ss.name, steps, vals)
			d.points[ci] += len(steps)
		}
		if ss.spread != "" {
			if pick(ss.spread, false); len(steps) > 0 {
				d.charts[ci].AppendSpread(ss.name, steps, vals)
			}
		}
	}
}

// shownFor is the chart that shows metric m on the grid, -1 if none.
func (d *dashboard) shownFor(m string) int {
	for i, s := range d.specs {
		if s.hidden {
			continue
		}
		for _, ss := range s.series {
			// A spread is shown as its series' band, but not in the
			// comparison, whose band is across the runs.
			if ss.metric == m || ss.spread == m && d.cv == nil {
				return i
			}
		}
	}
	return -1
}

// pick shows metric m on the grid (a chart of its own, fed with every
// record so far, focused) or takes its chart off.
func (d *dashboard) pick(m string) {
	if ci := d.shownFor(m); ci >= 0 {
		d.specs[ci].hidden = true
		d.sh.say("chart %q off the grid (m to bring it back)", d.specs[ci].title)
		d.dirty = true
		if d.cv != nil {
			d.cvFor = "" // the comparison's grid follows
			d.syncCompare()
		}
		return
	}
	for i, s := range d.specs {
		if s.hidden && len(s.series) == 1 && s.series[0].metric == m {
			d.specs[i].hidden = false
			d.focusChart(i)
			return
		}
	}
	_, grid, _ := gridSeries(m) // a series of a chart of several (held-out's): drawn as the grid draws it
	d.specs = append(d.specs, chartSpec{title: metricTitle(m), series: []seriesSpec{{name: m, metric: m, negate: grid.negate}}})
	ci := len(d.specs) - 1
	d.newChart(&d.dashView, metricTitle(m))
	if d.sh.store != nil {
		ms, _ := d.sh.store.MetricsSince(0)
		d.feed(ci, ms)
	}
	d.focusChart(ci)
}

// focusChart focuses the chart that shows main chart ci (in the
// comparison: its first metric's) if it is shown.
func (d *dashboard) focusChart(ci int) {
	if d.cv != nil {
		d.cvFor = "" // the grid's charts changed: rebuild
		d.syncCompare()
		ci = d.compareIndex(ci)
	}
	for k, v := range d.visible() {
		if v == ci {
			d.focus = k
		}
	}
	d.dirty = true
}

// visible returns the indices of the charts shown.
func (d *dashboard) visible() []int {
	v := d.v()
	out := make([]int, 0, len(v.charts))
	for i, s := range v.specs {
		if s.hidden || s.optional && v.points[i] == 0 {
			continue
		}
		out = append(out, i)
	}
	return out
}

func (d *dashboard) SetSize(w, h int) {
	if w != d.w || h != d.h {
		d.w, d.h = w, h
		d.dirty = true
	}
}

func (d *dashboard) Capturing() bool { return d.picking }
func (d *dashboard) ShortHelp() []key.Binding {
	if d.picking {
		return []key.Binding{
			key.NewBinding(key.WithKeys("j", "k"), key.WithHelp("↑/↓", "move")),
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter/space", "chart on/off")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc/m", "close")),
		}
	}
	return d.keys.ShortHelp()
}
func (d *dashboard) FullHelp() [][]key.Binding { return d.keys.FullHelp() }

func (d *dashboard) columns() int {
	switch {
	case d.w >= 120:
		return 3
	case d.w >= 80:
		return 2
	}
	return 1
}

// grid returns columns, rows per page and chart height for n charts in
// gridH lines.
func (d *dashboard) grid(n, gridH int) (cols, rows, ch int) {
	cols = d.columns()
	rows = max(gridH/minChartHeight, 1)
	need := (n + cols - 1) / cols
	rows = max(min(rows, need), 1)
	return cols, rows, max(gridH/rows, 1)
}

func (d *dashboard) focused() *chart.Chart {
	vis := d.visible()
	if len(vis) == 0 {
		return nil
	}
	d.focus = min(max(d.focus, 0), len(vis)-1)
	return d.v().charts[vis[d.focus]]
}

// all applies f to every chart, the open run's and the comparison's, so
// that the two grids keep one view.
func (d *dashboard) all(f func(c *chart.Chart)) {
	d.syncDomain()
	d.each(f)
	d.dirty = true
}

func (d *dashboard) each(f func(c *chart.Chart)) {
	for _, c := range d.charts {
		f(c)
	}
	if d.cv != nil {
		for _, c := range d.cv.charts {
			f(c)
		}
	}
}

// syncDomain gives every chart the steps all of them span, so that zoom
// and pan, applied to each, show one window of steps in all: a chart of a
// metric recorded every few steps (held-out evaluation) reads the steps
// the reward's reads, not half of its own points' range.
func (d *dashboard) syncDomain() {
	lo, hi, found := int64(0), int64(-1), false
	d.each(func(c *chart.Chart) {
		if a, b, ok := c.DataRange(); ok {
			if !found {
				lo, hi, found = a, b, true
			}
			lo, hi = min(lo, a), max(hi, b)
		}
	})
	d.each(func(c *chart.Chart) { c.SetDomain(lo, hi) })
}

func (d *dashboard) Update(k tea.KeyMsg) tea.Cmd {
	km := d.keys
	if d.confirmStop {
		d.confirmStop = false
		if k.String() == "y" && d.sh.control != nil {
			d.sh.stop()
		} else {
			d.sh.say("stop cancelled")
		}
		return nil
	}
	if d.picking {
		d.updatePicker(k)
		return nil
	}
	f := d.focused()
	switch {
	case key.Matches(k, km.Pick):
		d.picking = true
		d.dirty = true
		return nil
	case key.Matches(k, km.Pause), key.Matches(k, km.Stop), key.Matches(k, km.Checkpoint):
		return d.control(k)
	case key.Matches(k, km.Compare):
		d.toggleCompare()
		return nil
	case f == nil:
		return nil
	case d.cv != nil && d.compareKey(k):
		return nil
	case key.Matches(k, km.Export):
		d.export()
	case key.Matches(k, km.ZoomIn):
		d.all((*chart.Chart).ZoomIn)
	case key.Matches(k, km.ZoomOut):
		d.all((*chart.Chart).ZoomOut)
	case key.Matches(k, km.PanLeft):
		d.all((*chart.Chart).PanLeft)
	case key.Matches(k, km.PanRight):
		d.all((*chart.Chart).PanRight)
	case key.Matches(k, km.ResetView):
		d.all((*chart.Chart).ResetView)
	case key.Matches(k, km.Follow):
		on := !f.Following()
		d.all(func(c *chart.Chart) { c.SetFollow(on) })
	case key.Matches(k, km.LogScale):
		on := !f.LogScale()
		d.all(func(c *chart.Chart) { c.SetLogScale(on) })
	case key.Matches(k, km.Smoothing):
		w := chart.DefaultSmoothing
		if f.Smoothing() > 0 {
			w = 0
		}
		d.all(func(c *chart.Chart) { c.SetSmoothing(w) })
	case key.Matches(k, km.SmoothMore):
		w := f.Smoothing()
		if w == 0 {
			w = chart.DefaultSmoothing
		} else {
			w = 1 - (1-w)/2
		}
		d.all(func(c *chart.Chart) { c.SetSmoothing(w) })
	case key.Matches(k, km.SmoothLess):
		w := 1 - (1-f.Smoothing())*2
		if w < 0.3 {
			w = 0
		}
		d.all(func(c *chart.Chart) { c.SetSmoothing(w) })
	case key.Matches(k, km.RawLines) && d.cv != nil:
		d.cmpRaw = !d.cmpRaw
		for _, c := range d.cv.charts {
			c.SetShowRaw(d.cmpRaw)
		}
		d.dirty = true
		d.sayRaw(d.cmpRaw, f.Smoothing())
	case key.Matches(k, km.RawLines):
		d.raw = !d.raw
		for _, c := range d.charts {
			c.SetShowRaw(d.raw)
		}
		d.dirty = true
		d.sayRaw(d.raw, f.Smoothing())
	case key.Matches(k, km.NextSeries):
		f.SelectNext()
		d.dirty = true
	case key.Matches(k, km.PrevSeries):
		f.SelectPrev()
		d.dirty = true
	case key.Matches(k, km.ToggleSeries):
		f.ToggleSelected()
		d.dirty = true
	case key.Matches(k, km.NextChart):
		d.focus++
		d.focused()
		d.dirty = true
	case key.Matches(k, km.PrevChart):
		d.focus--
		d.focused()
		d.dirty = true
	case key.Matches(k, km.ExpandChart):
		d.expanded = !d.expanded
		d.dirty = true
	}
	return nil
}

// sayRaw says what r did, which no title shows: the raw lines, faint
// under the smoothed ones, on or off; with smoothing off the lines drawn
// are the raw values whatever r says, and r shows nothing until s.
func (d *dashboard) sayRaw(on bool, smoothing float64) {
	switch {
	case smoothing == 0 && on:
		d.sh.say("raw lines on: they show under the smoothed lines once smoothing is on (s); now the lines are the raw values")
	case smoothing == 0:
		d.sh.say("raw lines off: they stay off once smoothing is on (s); now the lines are the raw values")
	case on:
		d.sh.say("raw lines on: the raw values faint under the smoothed lines")
	default:
		d.sh.say("raw lines off: the smoothed lines alone")
	}
}

// export writes the focused chart's series, every recorded point of them
// (not only the zoomed window), as SVG (the report's chart) and CSV, and
// says where. They go to the run folder's charts/, or, for a run opened
// read-only (which this workbench does not write), to charts/ in the
// current folder. In the comparison the chart is the focused metric of
// every run shown (one CSV column per run, and the mean, std and count
// where two or more have a value).
func (d *dashboard) export() {
	vis := d.visible()
	if len(vis) == 0 || d.sh.run == nil || d.sh.store == nil {
		d.sh.say("no chart to export")
		return
	}
	v := d.v()
	spec := v.specs[vis[d.focus]]
	dir := filepath.Join(d.sh.run.Dir(), "charts")
	where := ""
	if d.sh.readOnly {
		dir, where = absPath("charts"), " (the run is read-only here)"
	}
	name := spec.series[0].metric
	var series []report.Series
	if d.cv != nil {
		name = "compare-" + name
		ss := spec.series[0]
		for _, src := range d.srcs {
			if d.sh.cmp.hidden[src.key] {
				continue
			}
			ms, _ := src.store.MetricsSince(0)
			if s := seriesOf(ss, ms, src.label, src.color); len(s.Values) > 0 {
				series = append(series, s)
			}
		}
	} else {
		ms, _ := d.sh.store.MetricsSince(0)
		for _, ss := range spec.series {
			s := seriesOf(ss, ms, ss.name, style.SeriesColor(ss.name))
			if len(s.Values) == 0 {
				continue
			}
			if ss.spread != "" {
				// The band drawn around it is a band in the SVG and its
				// own column in the CSV: the files hold what the chart
				// shows.
				s.Spread, s.SpreadName = spreadOf(ss.spread, ms, s.Steps), ss.spread
			}
			series = append(series, s)
		}
	}
	svg, csv, err := report.ExportChart(dir, name, spec.title, series, d.cv != nil)
	if err != nil {
		d.sh.say("export failed: %v", err)
		return
	}
	d.sh.say("chart %q written%s: %s and %s", spec.title, where, svg, csv)
}

// seriesOf is the finite values of ss's metric in ms, as drawn (negated
// where the chart negates it).
func seriesOf(ss seriesSpec, ms []sessions.MetricRecord, name string, col style.Color) report.Series {
	s := report.Series{Name: name, Color: col}
	for _, r := range ms {
		if v, ok := r.Get(ss.metric); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			if ss.negate {
				v = -v
			}
			s.Steps = append(s.Steps, float64(r.Step))
			s.Values = append(s.Values, v)
		}
	}
	return s
}

// spreadOf is metric's value in ms at each of steps (NaN where a step
// does not record a finite one): a series' band, point by point.
func spreadOf(metric string, ms []sessions.MetricRecord, steps []float64) []float64 {
	at := make(map[float64]float64, len(steps))
	for _, r := range ms {
		if v, ok := r.Get(metric); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			at[float64(r.Step)] = v
		}
	}
	out := make([]float64, len(steps))
	for i, x := range steps {
		v, ok := at[x]
		if !ok {
			v = math.NaN()
		}
		out[i] = v
	}
	return out
}

// updatePicker moves through the picker's list of metrics; enter or
// space puts the selected metric's chart on the grid or takes it off.
func (d *dashboard) updatePicker(k tea.KeyMsg) {
	d.dirty = true
	switch k.String() {
	case "esc", "m", "q":
		d.picking = false
	case "down", "j":
		d.pickSel++
	case "up", "k":
		d.pickSel--
	case "home", "g":
		d.pickSel = 0
	case "end", "G":
		d.pickSel = len(d.names) - 1
	case "enter", " ":
		if d.pickSel >= 0 && d.pickSel < len(d.names) {
			d.pick(d.names[d.pickSel])
		}
	}
	d.pickSel = min(max(d.pickSel, 0), max(len(d.names)-1, 0))
}

// pickerView lists every recorded metric, marked when a chart on the
// grid shows it, with its latest value, in w×h. The values are a column:
// each to 4 significant digits (chart.FormatValues: plainly, e-notation
// only for a value below 1e-3 or from 1e15), after the longest name,
// their points one above another. Each row's value written right after
// its name read "52.00" over "0.2000" over "0.01000" at every place.
func (d *dashboard) pickerView(w, h int) []string {
	th := d.sh.theme
	// The header gives way by whole parts ("enter/space …" was cut at
	// 60 columns): the keys are the footer's to say too.
	rec := fmt.Sprintf(" · %d metrics recorded", len(d.names))
	head, ok := longestFitting(w, "Charts"+rec+" · ■ on the grid · enter/space on/off · esc closes",
		"Charts"+rec+" · ■ on the grid", "Charts"+rec)
	if ok {
		head = th.Paint(style.Spec{Attr: style.Bold}, "Charts") + strings.TrimPrefix(head, "Charts")
	} else {
		head = fit("Charts"+rec, w)
	}
	out := []string{head}
	if len(d.names) == 0 {
		return block(append(out, "no metrics recorded yet"), w, h)
	}
	vals := pickerValues(d.names, d.last)
	nameW, intW, valW := 0, 0, 0
	for i, n := range d.names {
		nameW = max(nameW, width(metricTitle(n)))
		intW = max(intW, intPart(vals[i]))
	}
	for _, v := range vals {
		if v != "" {
			valW = max(valW, intW-intPart(v)+width(v))
		}
	}
	// Names are cut ("…") only where the column would not fit beside
	// them; the value, what the picker is read for, stays whole.
	nameW = max(min(nameW, w-1-2-2-valW), 1)
	rows := max(h-1, 1)
	top := max(min(d.pickSel-rows/2, len(d.names)-rows), 0)
	for i := top; i < len(d.names) && i < top+rows; i++ {
		n := d.names[i]
		mark := "□"
		if d.shownFor(n) >= 0 {
			mark = "■"
		}
		line := mark + " " + metricTitle(n)
		if v := vals[i]; v != "" {
			line = mark + " " + pad(pickerName(n, nameW), nameW) + "  " + strings.Repeat(" ", intW-intPart(v)) + v
		}
		if i == d.pickSel {
			line = th.Paint(style.Spec{Attr: style.Reverse}, "▸"+pad(line, max(w-1, 1)))
		} else {
			line = " " + line
		}
		out = append(out, line)
	}
	return block(out, w, h)
}

// pickerName is metricTitle(m) in w cells: where it does not fit, the
// metric's name alone, signed as drawn ("explanation_length",
// "−kl_reward"), whole rather than cut mid-word ("explanation_len…");
// cut only where that does not fit either.
func pickerName(m string, w int) string {
	t := metricTitle(m)
	if width(t) <= w {
		return t
	}
	if i := strings.LastIndex(t, " · "); i >= 0 && width(t[i+len(" · "):]) <= w {
		return t[i+len(" · "):]
	}
	return fit(t, w)
}

// pickerValues is the picker's column of latest values, one per name
// ("" where none is recorded), as the grid's charts draw them
// (shownValue), written by chart.FormatValues.
func pickerValues(names []string, last map[string]float64) []string {
	var at []int
	var vs []float64
	for i, n := range names {
		if x, ok := last[n]; ok {
			at, vs = append(at, i), append(vs, shownValue(n, x))
		}
	}
	out := make([]string, len(names))
	for k, s := range chart.FormatValues(vs) {
		out[at[k]] = s
	}
	return out
}

// intPart is the cells of a written value before its point (or its
// whole number part, "12" of "12k"), where a column aligns it. A word
// (chart.FormatValue's "NaN", "+Inf", "-Inf") is all whole part: it ends
// where the integer parts end, as "0" does, not a word's width right of
// the points.
func intPart(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return i
	}
	if !strings.ContainsAny(s, "0123456789") {
		return width(s)
	}
	i := 0
	if strings.HasPrefix(s, "-") {
		i = 1
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

func (d *dashboard) control(k tea.KeyMsg) tea.Cmd {
	c := d.sh.control
	onward := ""
	if d.sh.onward != nil {
		if o := d.sh.onward(); o != "" {
			onward = " (" + o + ")"
		}
	}
	if c == nil {
		// Said as the header says the run: open to review, or read-only.
		if d.sh.readOnly {
			d.sh.say("read-only: this workbench does not drive the engine")
		} else {
			d.sh.say("review: no engine runs in this workbench to pause, stop or checkpoint%s", onward)
		}
		return nil
	}
	if d.sh.engineEnded {
		d.sh.say("the engine has stopped: nothing to pause, stop or checkpoint%s", onward)
		return nil
	}
	switch {
	case key.Matches(k, d.keys.Pause):
		if p, ok := c.(interface{ Paused() bool }); ok && p.Paused() {
			c.Resume()
			d.sh.say("resumed")
		} else if !ok && d.sh.pausedHint {
			c.Resume()
			d.sh.pausedHint = false
			d.sh.say("resumed")
		} else {
			c.Pause()
			d.sh.pausedHint = true
			d.sh.say("pause requested: the engine pauses after its current step")
		}
	case key.Matches(k, d.keys.Stop):
		d.confirmStop = true
		d.sh.say("stop the run? press y to confirm, any other key cancels")
	case key.Matches(k, d.keys.Checkpoint):
		d.sh.checkpoint()
	}
	return nil
}

// settle draws the frame View shows again where anything it shows
// changed (dirty): the charts take their sizes, titles and steps there
// (render). The Model calls it after each message while the dashboard is
// drawn (Model.Update), so that View only returns the frame.
func (d *dashboard) settle() {
	if !d.dirty && d.cache != "" {
		return
	}
	d.cache = d.render()
	d.dirty = false
}

// View is the frame settle drew.
func (d *dashboard) View() string { return d.cache }

func (d *dashboard) render() string {
	if d.w <= 0 || d.h <= 0 {
		return ""
	}
	th := d.sh.theme
	if d.picking {
		return strings.Join(d.pickerView(d.w, d.h), "\n")
	}
	d.syncDomain() // the records added since, the series shown or hidden
	vis := d.visible()
	info := "Dashboard"
	if len(vis) == 0 {
		return strings.Join(block([]string{info, "", "no metrics yet"}, d.w, d.h), "\n")
	}
	f := d.focused()
	var legend []string
	if d.cv != nil {
		maxL := 1
		if d.h >= 20 {
			maxL = 2
		}
		legend = d.legendLines(d.w, maxL)
	}
	gridH := d.h - 1 - len(legend)
	cols, rows, ch := d.grid(len(vis), gridH)
	cw := max((d.w-(cols-1))/cols, 1)
	per := cols * rows
	if d.expanded {
		per, cols, cw, ch = 1, 1, d.w, max(gridH, 1)
	}
	page := d.focus / per
	first, last := page*per, min(page*per+per, len(vis))
	view := "all steps"
	if lo, hi := f.XRange(); f.Window() > 0 {
		view = fmt.Sprintf("steps %d–%d", lo, hi)
	}
	flags := []string{view}
	if f.Following() {
		flags = append(flags, "follow")
	}
	if f.LogScale() {
		flags = append(flags, "log y")
	}
	if w := f.Smoothing(); w > 0 {
		flags = append(flags, fmt.Sprintf("smooth %.2f", w))
	}
	switch {
	case d.sh.control == nil && d.sh.readOnly:
		flags = append(flags, "read-only")
	case d.sh.control == nil:
		flags = append(flags, "review")
	}
	head := "Dashboard"
	if d.cv != nil {
		head += fmt.Sprintf(" · %d runs ━ mean ± std", len(d.srcs))
	}
	info = th.Paint(style.Spec{Attr: style.Bold}, head) + " · " + chartsShown(first, last, len(vis)) +
		" · " + strings.Join(flags, " · ")
	out := append([]string{info}, legend...)
	for r := 0; first+r*cols < last; r++ {
		var row []string
		for c := 0; c < cols; c++ {
			i := first + r*cols + c
			if i >= last {
				break
			}
			ci := vis[i]
			ch0 := d.v().charts[ci]
			title := d.v().specs[ci].title
			if i == d.focus {
				title = "▸ " + title
			}
			ch0.SetTitle(title)
			ch0.SetSize(cw, ch)
			lines := block(splitLines(ch0.View()), cw, ch)
			if row == nil {
				row = lines
			} else {
				row = sideBySide(row, lines, cw*c+(c-1), " ")
			}
		}
		out = append(out, row...)
	}
	return strings.Join(block(out, d.w, d.h), "\n")
}

// chartsShown says which of n charts the page shows, first (0-based) to
// last (exclusive): "charts 1–6 of 7", or "chart 1 of 8" for one alone.
func chartsShown(first, last, n int) string {
	if last-first == 1 {
		return fmt.Sprintf("chart %d of %d", first+1, n)
	}
	return fmt.Sprintf("charts %d–%d of %d", first+1, last, n)
}
