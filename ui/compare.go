package ui

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/lambda"
	"github.com/rlt-workbench/rlt/ui/style"
)

// comparePoll is how often a compared run's files are looked at (a stat
// of metrics.jsonl and events.jsonl; a read only when they grew). Tests
// shorten it.
var comparePoll = time.Second

// compared is another run overlaid on the open run's dashboard: read-only,
// its metrics and events only (sessions.Options.MetricsOnly), followed
// while it is compared.
type compared struct {
	key    string // absolute folder: the run's identity and colour key
	dir    string
	run    *sessions.Run
	lam    lambda.Lambda // its r_KL coefficient, read from its config.toml
	cursor int           // metric records the dashboard has taken
}

// comparison is the set of runs compared with the open one and the
// colours of all of them (style.RunColors: a run keeps its colour while
// others come and go, and while it is marked or open, from one to the
// other included; a colour no run marked or open has is freed). It
// outlives the open run: opening another run keeps the comparison.
type comparison struct {
	colors style.RunColors
	open   string // the open run's key ("": none)
	runs   []*compared
	on     bool            // the dashboard overlays them (C toggles)
	hidden map[string]bool // runs taken out of the overlay and its band, by key
}

func newComparison() *comparison { return &comparison{hidden: map[string]bool{}} }

// has reports whether the run at key is compared.
func (c *comparison) has(key string) bool {
	return slices.ContainsFunc(c.runs, func(r *compared) bool { return r.key == key })
}

// add opens the run at dir for comparing. It reads the run's metrics
// before returning (only those: a run of 10k steps reads in tens of
// milliseconds).
func (c *comparison) add(dir string) (*compared, error) {
	key := absPath(dir)
	if c.has(key) {
		return nil, fmt.Errorf("%s is compared already", filepath.Base(dir))
	}
	r, err := sessions.OpenReadOnlyWith(dir, sessions.Options{MetricsOnly: true, PollInterval: comparePoll})
	if err != nil {
		return nil, err
	}
	cr := &compared{key: key, dir: dir, run: r, lam: lambda.Of(r.Settings())}
	c.colors.Add(key)
	c.runs = append(c.runs, cr)
	c.on = true
	return cr, nil
}

// setOpen makes the run at key ("": none) the open one: it gets its
// colour (keeps the one it has, marked), and the run open before frees
// its colour unless it is marked, before, so that the new one has its own
// colour when it can.
func (c *comparison) setOpen(key string) {
	prev := c.open
	c.open = key
	if prev != "" && prev != key && !c.has(prev) {
		c.colors.Remove(prev)
	}
	if key != "" {
		c.colors.Add(key)
	}
}

// remove stops comparing the run at key (its colour is freed, unless it
// is the open run).
func (c *comparison) remove(key string) error {
	i := slices.IndexFunc(c.runs, func(r *compared) bool { return r.key == key })
	if i < 0 {
		return nil
	}
	r := c.runs[i]
	c.runs = slices.Delete(c.runs, i, i+1)
	if key != c.open {
		c.colors.Remove(key)
	}
	delete(c.hidden, key)
	return r.run.Close()
}

// close ends the following of every compared run (their colours are
// freed, the open run's kept).
func (c *comparison) close() error {
	var errs []string
	for _, r := range c.runs {
		if err := r.run.Close(); err != nil {
			errs = append(errs, err.Error())
		}
		if r.key != c.open {
			c.colors.Remove(r.key)
		}
	}
	c.runs = nil
	if len(errs) > 0 {
		return fmt.Errorf("closing compared runs: %s", strings.Join(errs, "; "))
	}
	return nil
}

// runSource is one run of the overlay, the open one or a compared one.
type runSource struct {
	key   string
	label string // its folder's name (made unique among the sources)
	color style.Color
	lam   lambda.Lambda
	store *sessions.Store
	c     *compared // nil: the open run
}

// sources are the runs the dashboard overlays: the open run first, then
// the compared ones in the order they were added (a compared run that is
// the open one is the open one).
func (d *dashboard) sources() []runSource {
	cmp := d.sh.cmp
	if cmp == nil || d.sh.run == nil {
		return nil
	}
	var out []runSource
	cur := absPath(d.sh.run.Dir())
	out = append(out, runSource{key: cur, label: filepath.Base(d.sh.run.Dir()), color: cmp.colors.Add(cur),
		lam: lambda.Of(d.settings), store: d.sh.store})
	for _, r := range cmp.runs {
		if r.key == cur {
			continue
		}
		col, _ := cmp.colors.Color(r.key)
		out = append(out, runSource{key: r.key, label: filepath.Base(r.dir), color: col,
			lam: r.lam, store: r.run.Store(), c: r})
	}
	seen := map[string]int{}
	for i := range out {
		n := seen[out[i].label]
		seen[out[i].label] = n + 1
		if n > 0 {
			out[i].label = fmt.Sprintf("%s·%d", out[i].label, n+1)
		}
	}
	return out
}

// lambdasDiffer reports whether the sources' λ (the r_KL coefficient)
// are not all the same, so the legend names each (lambda.Differ).
func lambdasDiffer(srcs []runSource) bool {
	ls := make([]lambda.Lambda, len(srcs))
	for i, s := range srcs {
		ls[i] = s.lam
	}
	return lambda.Differ(ls)
}

// ---- the dashboard's comparison grid --------------------------------

// comparing reports whether the dashboard should overlay compared runs.
func (d *dashboard) comparing() bool {
	cmp := d.sh.cmp
	return cmp != nil && cmp.on && d.sh.run != nil && len(d.sources()) >= 2
}

// toggleCompare shows or hides the compared runs (C).
func (d *dashboard) toggleCompare() {
	cmp := d.sh.cmp
	if cmp == nil || len(d.sources()) < 2 {
		d.sh.say("no run to compare: on the Runs screen (4), space marks runs to overlay on this one")
		return
	}
	cmp.on = !cmp.on
	d.syncCompare()
	if cmp.on {
		d.sh.say("comparing %d runs: a line each, mean ± std where two or more have the step (C: this run alone)", len(d.srcs))
	} else {
		d.sh.say("this run alone (C compares the %d marked runs again)", len(cmp.runs))
	}
}

// syncCompare builds the comparison grid when the set of runs compared
// changed, or drops it when there is nothing to compare.
func (d *dashboard) syncCompare() {
	d.dirty = true
	if !d.comparing() {
		if d.cv != nil {
			ci := d.mainIndexFocus()
			d.cv, d.srcs, d.cvFor = nil, nil, ""
			d.focusOn(ci)
		}
		return
	}
	srcs := d.sources()
	keys := make([]string, len(srcs))
	for i, s := range srcs {
		keys[i] = s.key
	}
	if k := strings.Join(keys, "\n"); d.cv != nil && k == d.cvFor {
		return
	} else {
		d.cvFor = k
	}
	focusMain := d.mainIndexFocus()
	d.srcs = srcs
	d.cv = &dashView{}
	for _, s := range d.specs {
		for _, ss := range s.series {
			title := seriesLabel(s, ss)
			// Shown once a run records its metric.
			d.cv.specs = append(d.cv.specs, chartSpec{title: title, optional: true, hidden: s.hidden,
				series: []seriesSpec{{name: ss.name, metric: ss.metric, negate: ss.negate}}})
			d.newChart(d.cv, title)
		}
	}
	for _, src := range srcs {
		ms, cur := src.store.MetricsSince(0)
		if src.c != nil {
			src.c.cursor = cur
		}
		for ci := range d.cv.specs {
			d.feedRun(ci, src, ms)
		}
	}
	d.applyHidden()
	d.selRun = min(d.selRun, len(srcs)-1)
	d.focusOn(d.compareIndex(focusMain))
}

// focusOn focuses chart ci of the grid shown, if it is visible.
func (d *dashboard) focusOn(ci int) {
	for k, v := range d.visible() {
		if v == ci {
			d.focus = k
		}
	}
}

// compareIndex is the comparison chart of main chart ci's first metric.
func (d *dashboard) compareIndex(ci int) int {
	n := 0
	for i := 0; i < ci && i < len(d.specs); i++ {
		n += len(d.specs[i].series)
	}
	return n
}

// mainIndexFocus is the main chart of the focused chart (the comparison's
// chart's spec), for keeping the focus across the switch.
func (d *dashboard) mainIndexFocus() int {
	vis := d.visible()
	if len(vis) == 0 {
		return 0
	}
	f := vis[min(max(d.focus, 0), len(vis)-1)]
	if d.cv == nil {
		return f
	}
	n := 0
	for i, s := range d.specs {
		if n += len(s.series); f < n {
			return i
		}
	}
	return 0
}

// feedRun appends src's values of comparison chart ci's metric from ms.
func (d *dashboard) feedRun(ci int, src runSource, ms []sessions.MetricRecord) {
	ss := d.cv.specs[ci].series[0]
	steps := make([]int64, 0, len(ms))
	vals := make([]float64, 0, len(ms))
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
	c := d.cv.charts[ci]
	if c.Len(src.label) == 0 {
		c.SetColor(src.label, src.color)
		c.SetHidden(src.label, d.sh.cmp.hidden[src.key])
	}
	if len(steps) > 0 {
		c.AppendMany(src.label, steps, vals)
		d.cv.points[ci] += len(steps)
	}
	d.dirty = true
}

// applyHidden hides, in every comparison chart, the runs taken out.
func (d *dashboard) applyHidden() {
	for _, src := range d.srcs {
		for _, c := range d.cv.charts {
			c.SetHidden(src.label, d.sh.cmp.hidden[src.key])
		}
	}
}

// pollCompare takes what the compared runs recorded since the last look
// (their stores follow their files; this copies only the new records).
func (d *dashboard) pollCompare() {
	if d.comparing() != (d.cv != nil) {
		d.syncCompare()
	}
	if d.cv == nil {
		return
	}
	for _, src := range d.srcs[1:] {
		ms, cur := src.store.MetricsSince(src.c.cursor)
		if cur-len(ms) == 0 && src.c.cursor > 0 && cur > 0 {
			// Its records were superseded (a resume): build again.
			d.cvFor = ""
			d.syncCompare()
			return
		}
		src.c.cursor = cur
		if len(ms) > 0 {
			for ci := range d.cv.specs {
				d.feedRun(ci, src, ms)
			}
		}
	}
}

// compareKey handles n, N and space in the comparison: they select a run
// and take it out of (or back into) every chart and the band.
func (d *dashboard) compareKey(k tea.KeyMsg) bool {
	km := d.keys
	n := len(d.srcs)
	switch {
	case key.Matches(k, km.NextSeries):
		d.selRun = (d.selRun + 1) % n
	case key.Matches(k, km.PrevSeries):
		d.selRun = (d.selRun - 1 + 2*n) % n
	case key.Matches(k, km.ToggleSeries):
		if d.selRun < 0 {
			d.sh.say("select a run first: n and N move through them")
			return true
		}
		src := d.srcs[d.selRun]
		d.sh.cmp.hidden[src.key] = !d.sh.cmp.hidden[src.key]
		if d.sh.cmp.hidden[src.key] {
			d.sh.say("%s out of the charts and the band (space brings it back)", src.label)
		}
		d.applyHidden()
	default:
		return false
	}
	sel := ""
	if d.selRun >= 0 {
		src := d.srcs[d.selRun]
		sel = src.label
		if !key.Matches(k, km.ToggleSeries) {
			// The legend may have had to shorten its name.
			lam := ""
			if src.lam.Known {
				lam = ", " + src.lam.String()
			}
			d.sh.say("%s (%s%s): space takes it out of the charts and the band", src.label, dirName(filepath.Dir(src.key)), lam)
		}
	}
	for _, c := range d.cv.charts {
		c.Select(sel)
	}
	d.dirty = true
	return true
}

// legendLines name the compared runs in their colours (with λ when the
// runs' differ) in at most maxLines lines of width w. Labels that do not
// fit lose what they all start with (run folders named alike differ in
// their ends: seeds, times), then are cut; runs left over are counted.
func (d *dashboard) legendLines(w, maxLines int) []string {
	th := d.sh.theme
	lam := lambdasDiffer(d.srcs)
	labels := make([]string, len(d.srcs))
	tails := make([]string, len(d.srcs))
	for i, src := range d.srcs {
		labels[i] = src.label
		if lam {
			tails[i] = " " + src.lam.String()
		}
	}
	item := func(i int, label string) string {
		src := d.srcs[i]
		mark := "■"
		if d.sh.cmp.hidden[src.key] {
			mark = "□"
		}
		sel, spec := " ", style.Spec{}
		if i == d.selRun {
			sel, spec.Attr = "▸", style.Bold|style.Underline
		}
		return sel + th.Paint(style.FG(src.color), mark) + " " + th.Paint(spec, label) + tails[i]
	}
	pack := func(labels []string) (lines []string, left int) {
		cur := ""
		for i, l := range labels {
			it := item(i, l)
			switch {
			case cur == "":
				cur = it
			case ansi.StringWidth(cur)+1+ansi.StringWidth(it) <= w:
				cur += " " + it
			default:
				lines = append(lines, cur)
				if len(lines) == maxLines {
					return lines, len(labels) - i
				}
				cur = it
			}
		}
		return append(lines, cur), 0
	}
	lines, left := pack(labels)
	if left > 0 {
		// Drop the start they share, then cut each to an equal share.
		if p := commonPrefix(labels); len(p) >= 3 {
			for i := range labels {
				labels[i] = strings.TrimPrefix(labels[i], p)
			}
		}
		per := w*maxLines/len(labels) - 4 - ansi.StringWidth(tails[0])
		for i := range labels {
			labels[i] = midFit(labels[i], max(per, 4))
		}
		lines, left = pack(labels)
	}
	if left > 0 {
		more := fmt.Sprintf(" +%d", left)
		last := len(lines) - 1
		lines[last] = fit(lines[last], w-len(more)) + more
	}
	return lines
}

// midFit cuts s to w cells by its middle, keeping its start and its end.
func midFit(s string, w int) string {
	r := []rune(s)
	if len(r) <= w || w < 3 {
		return fit(s, w)
	}
	head := (w - 1) / 2
	return string(r[:head]) + "…" + string(r[len(r)-(w-1-head):])
}

// commonPrefix is the longest start all of ss share (whole runes).
func commonPrefix(ss []string) string {
	if len(ss) < 2 {
		return ""
	}
	p := []rune(ss[0])
	for _, s := range ss[1:] {
		r := []rune(s)
		n := 0
		for n < len(p) && n < len(r) && p[n] == r[n] {
			n++
		}
		p = p[:n]
	}
	return string(p)
}
