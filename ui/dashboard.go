package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/chart"
	"github.com/rlt-workbench/rlt/ui/keys"
	"github.com/rlt-workbench/rlt/ui/style"
)

type seriesSpec struct {
	name, metric string
	negate       bool
}

type chartSpec struct {
	title    string
	series   []seriesSpec
	optional bool // shown only once it has data
}

// dashboardCharts are the charts in grid order.
var dashboardCharts = []chartSpec{
	{title: "reward", series: []seriesSpec{{"reward", "reward", false}}},
	{title: "r_SS", series: []seriesSpec{{"r_SS", "solution_log_prob_reward", false}}},
	{title: "r_KL", series: []seriesSpec{{"r_KL", "kl_reward", true}}},
	{title: "format penalty rate", series: []seriesSpec{{"penalty rate", "format_penalty_rate", false}}},
	{title: "KL to reference", series: []seriesSpec{{"kl", "kl", false}}},
	{title: "loss", series: []seriesSpec{{"loss", "loss", false}}},
	{title: "grad norm", series: []seriesSpec{{"grad norm", "grad_norm", false}}},
	{title: "length (tokens)", series: []seriesSpec{{"completion", "completion_length", false}, {"explanation", "explanation_length", false}}},
	{title: "held-out", optional: true, series: []seriesSpec{{"accuracy", "eval_accuracy", false}, {"verified", "eval_verified_rate", false}, {"leak", "eval_leak_rate", false}}},
}

// minChartHeight is the least height a chart in the grid gets.
const minChartHeight = 7

type dashKeys struct {
	keys.Dashboard
	Pause, Stop, Checkpoint key.Binding
}

func (k dashKeys) ShortHelp() []key.Binding {
	return append(k.Dashboard.ShortHelp(), k.Pause)
}

func (k dashKeys) FullHelp() [][]key.Binding {
	return append(k.Dashboard.FullHelp(), []key.Binding{k.Pause, k.Stop, k.Checkpoint})
}

type dashboard struct {
	sh     *shared
	keys   dashKeys
	specs  []chartSpec
	charts []*chart.Chart
	points []int // points appended per chart

	w, h        int
	focus       int // index into visible charts
	expanded    bool
	raw         bool
	confirmStop bool

	dirty bool
	cache string
}

func newDashboard(sh *shared) *dashboard {
	d := &dashboard{sh: sh, specs: dashboardCharts, raw: true, dirty: true}
	d.keys = dashKeys{
		Dashboard:  keys.NewDashboard(),
		Pause:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause/resume run")),
		Stop:       key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "stop run (asks)")),
		Checkpoint: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "checkpoint now")),
	}
	for _, s := range d.specs {
		c := chart.New(sh.theme)
		c.SetTitle(s.title)
		d.charts = append(d.charts, c)
		d.points = append(d.points, 0)
	}
	return d
}

func (d *dashboard) clear() {
	for i, c := range d.charts {
		c.Clear()
		d.points[i] = 0
	}
	d.dirty = true
}

// add appends metric records to the charts.
func (d *dashboard) add(ms []sessions.MetricRecord) {
	if len(ms) == 0 {
		return
	}
	steps := make([]int64, 0, len(ms))
	vals := make([]float64, 0, len(ms))
	for ci, s := range d.specs {
		for _, ss := range s.series {
			steps, vals = steps[:0], vals[:0]
			for _, r := range ms {
				v, ok := r.Get(ss.metric)
				if !ok {
					continue
				}
				if ss.negate {
					v = -v
				}
				steps = append(steps, int64(r.Step))
				vals = append(vals, v)
			}
			if len(steps) > 0 {
				d.charts[ci].AppendMany(ss.name, steps, vals)
				d.points[ci] += len(steps)
			}
		}
	}
	d.dirty = true
}

// visible returns the indices of the charts shown.
func (d *dashboard) visible() []int {
	out := make([]int, 0, len(d.charts))
	for i, s := range d.specs {
		if s.optional && d.points[i] == 0 {
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

func (d *dashboard) Capturing() bool           { return false }
func (d *dashboard) ShortHelp() []key.Binding  { return d.keys.ShortHelp() }
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

// grid returns columns, rows per page and chart height.
func (d *dashboard) grid(n int) (cols, rows, ch int) {
	gridH := d.h - 1
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
	return d.charts[vis[d.focus]]
}

func (d *dashboard) all(f func(c *chart.Chart)) {
	for _, c := range d.charts {
		f(c)
	}
	d.dirty = true
}

func (d *dashboard) Update(k tea.KeyMsg) tea.Cmd {
	km := d.keys
	if d.confirmStop {
		d.confirmStop = false
		if k.String() == "y" && d.sh.control != nil {
			d.sh.control.Stop()
			d.sh.say("stop requested: the engine finishes its step and stops")
		} else {
			d.sh.say("stop cancelled")
		}
		return nil
	}
	f := d.focused()
	switch {
	case key.Matches(k, km.Pause), key.Matches(k, km.Stop), key.Matches(k, km.Checkpoint):
		return d.control(k)
	case f == nil:
		return nil
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
	case key.Matches(k, km.RawLines):
		d.raw = !d.raw
		d.all(func(c *chart.Chart) { c.SetShowRaw(d.raw) })
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

func (d *dashboard) control(k tea.KeyMsg) tea.Cmd {
	c := d.sh.control
	if c == nil {
		d.sh.say("read-only: this workbench does not drive the engine")
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
		c.CheckpointNow()
		d.sh.say("checkpoint requested")
	}
	return nil
}

func (d *dashboard) View() string {
	if !d.dirty && d.cache != "" {
		return d.cache
	}
	d.cache = d.render()
	d.dirty = false
	return d.cache
}

func (d *dashboard) render() string {
	if d.w <= 0 || d.h <= 0 {
		return ""
	}
	th := d.sh.theme
	vis := d.visible()
	info := "Dashboard"
	if len(vis) == 0 {
		return strings.Join(block([]string{info, "", "no metrics yet"}, d.w, d.h), "\n")
	}
	f := d.focused()
	cols, rows, ch := d.grid(len(vis))
	cw := max((d.w-(cols-1))/cols, 1)
	per := cols * rows
	if d.expanded {
		per, cols, cw, ch = 1, 1, d.w, max(d.h-1, 1)
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
	if d.sh.control == nil {
		flags = append(flags, "read-only")
	}
	info = th.Paint(style.Spec{Attr: style.Bold}, "Dashboard") + fmt.Sprintf(" · charts %d–%d of %d", first+1, last, len(vis)) +
		" · " + strings.Join(flags, " · ")
	out := []string{info}
	for r := 0; first+r*cols < last; r++ {
		var row []string
		for c := 0; c < cols; c++ {
			i := first + r*cols + c
			if i >= last {
				break
			}
			ci := vis[i]
			ch0 := d.charts[ci]
			title := d.specs[ci].title
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
