package ui

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/lambda"
	"github.com/rlt-workbench/rlt/ui/chart"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
	"github.com/rlt-workbench/rlt/ui/report"
	"github.com/rlt-workbench/rlt/ui/style"
)

// cmpCfg is a run's config.toml with the r_KL coefficient λ.
type cmpCfg struct {
	Task   string `toml:"task"`
	Reward struct {
		KLMean float64 `toml:"kl_mean"`
	} `toml:"reward"`
}

// cmpRun describes a run of the comparison tests: its steps (from, to)
// and λ; reward at step s is base + 0.1·s, and grad_norm is recorded
// only when grad is set (a metric some runs lack).
type cmpRun struct {
	name     string
	from, to int
	lambda   float64
	base     float64
	grad     bool
}

func (c cmpRun) reward(step int) float64 { return c.base + 0.1*float64(step) }

// writeCmpRun writes run c under root with sessions (a real run folder),
// closed unless keep, in which case the writer is returned open.
func writeCmpRun(t *testing.T, root string, c cmpRun, keep bool) *sessions.Run {
	t.Helper()
	var cfg cmpCfg
	cfg.Task, cfg.Reward.KLMean = "addition", c.lambda
	r, err := sessions.Create(filepath.Join(root, c.name), cfg)
	if err != nil {
		t.Fatal(err)
	}
	emitCmp(r, c, c.from, c.to)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if keep {
		t.Cleanup(func() { r.Close() })
		return r
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return nil
}

func emitCmp(r *sessions.Run, c cmpRun, from, to int) {
	for s := from; s <= to; s++ {
		vals := map[string]float64{"reward": c.reward(s), "reward_std": 0.1, "kl": 0.01 * float64(s)}
		if c.grad {
			vals["grad_norm"] = 1 + c.base
		}
		r.Emit(event.Metrics{Time: t0.Add(time.Duration(s) * time.Minute), Step: s, Values: vals})
	}
}

// The runs compared: the open one (12 steps, λ=0), a shorter and a
// longer one at λ=3 that start later, and one without grad_norm.
var (
	cmpOpen  = cmpRun{name: "lam0-seed1", from: 1, to: 12, lambda: 0, base: -1, grad: true}
	cmpOther = []cmpRun{
		{name: "lam3-seed1", from: 1, to: 8, lambda: 3, base: -1.2, grad: true},
		{name: "lam3-seed2", from: 4, to: 16, lambda: 3, base: -0.7, grad: true},
		{name: "lam0-seed2", from: 1, to: 12, lambda: 0, base: -0.9},
	}
)

// compareWorld is a working folder with runs/ holding the open run
// (returned, writable) and the others, entered with t.Chdir so that paths
// shown are the same on every machine.
func compareWorld(t *testing.T) *sessions.Run {
	t.Helper()
	root := t.TempDir()
	t.Chdir(root)
	for _, c := range cmpOther {
		writeCmpRun(t, "runs", c, false)
	}
	return writeCmpRun(t, "runs", cmpOpen, true)
}

// compareModel opens the workbench on r at w×h with the Runs screen
// listing runs/.
func compareModel(t *testing.T, r *sessions.Run, w, h int) *Model {
	t.Helper()
	m := newModel(Options{Session: &sessions.Session{Run: r, Control: &fakeControl{}, Steps: 20}, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	hit(t, m, "4")
	listNow(t, m)
	return m
}

// mark selects the run named name on the Runs screen and presses space.
func mark(t *testing.T, m *Model, name string) {
	t.Helper()
	for i, row := range m.runs.rows {
		if filepath.Base(row.Dir) == name {
			m.runs.sel = i
			m.runs.syncSel()
			hit(t, m, " ")
			return
		}
	}
	t.Fatalf("run %s not listed", name)
}

// runColor is the colour run name is drawn in on the comparison's reward
// chart.
func runColor(t *testing.T, m *Model, name string) (style.Color, bool) {
	t.Helper()
	if m.dash.cv == nil {
		return style.Color{}, false
	}
	return m.dash.cv.charts[0].Color(name)
}

// TestCompareKeepsColours: marking and unmarking runs never changes the
// colour of a run still shown, the runs shown have distinct colours, and
// rlt report's rule gives the runs the same colours for the same order.
func TestCompareKeepsColours(t *testing.T) {
	r := compareWorld(t)
	m := compareModel(t, r, 120, 40)
	open := cmpOpen.name
	for _, tc := range []struct {
		key   string // the run marked or unmarked
		shown []string
	}{
		{"lam3-seed1", []string{open, "lam3-seed1"}},
		{"lam3-seed2", []string{open, "lam3-seed1", "lam3-seed2"}},
		{"lam3-seed1", []string{open, "lam3-seed2"}},
		{"lam0-seed2", []string{open, "lam3-seed2", "lam0-seed2"}},
		{"lam3-seed1", []string{open, "lam3-seed2", "lam0-seed2", "lam3-seed1"}},
	} {
		before := map[string]style.Color{}
		for _, n := range tc.shown {
			if c, ok := runColor(t, m, n); ok {
				before[n] = c
			}
		}
		mark(t, m, tc.key)
		t.Run(fmt.Sprintf("space on %s", tc.key), func(t *testing.T) {
			if got := len(m.dash.srcs); got != len(tc.shown) {
				t.Fatalf("%d runs overlaid, want %d", got, len(tc.shown))
			}
			seen := map[style.Color]string{}
			for _, n := range tc.shown {
				c, ok := runColor(t, m, n)
				if !ok {
					t.Fatalf("%s is not drawn", n)
				}
				if o, dup := seen[c]; dup {
					t.Errorf("%s and %s share %s", n, o, c.Hex())
				}
				seen[c] = n
				if b, was := before[n]; was && b != c {
					t.Errorf("%s changed colour from %s to %s", n, b.Hex(), c.Hex())
				}
				// Every chart of the comparison draws the run in one colour.
				for ci, ch := range m.dash.cv.charts {
					if cc, ok := ch.Color(n); ok && cc != c {
						t.Errorf("chart %q draws %s in %s, the reward chart in %s", m.dash.cv.specs[ci].title, n, cc.Hex(), c.Hex())
					}
				}
			}
		})
	}
	// rlt report on runs named in the order they were marked (none
	// unmarked between) gives each the colour it has in a workbench that
	// marked them so (the same rule, style.RunColors).
	m2 := compareModel(t, r, 120, 40)
	dirs := []string{r.Dir()}
	for _, c := range cmpOther {
		mark(t, m2, c.name)
		dirs = append(dirs, filepath.Join("runs", c.name))
	}
	runs, err := report.Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	for _, rd := range runs {
		if c, _ := runColor(t, m2, rd.Name); c != rd.Color {
			t.Errorf("rlt report colours %s %s, the workbench %s", rd.Name, rd.Color.Hex(), c.Hex())
		}
	}
}

// TestCompareBand: the comparison's band is, at each step where two or
// more runs record the metric, the mean ± population std of their values;
// read back from the exported CSV (a column per run, then mean, std, n)
// and from the chart, and checked against the values the runs recorded.
// Runs of different lengths, a metric one run lacks, and a run taken out
// with space are all covered.
func TestCompareBand(t *testing.T) {
	r := compareWorld(t)
	m := compareModel(t, r, 80, 24)
	for _, c := range cmpOther {
		mark(t, m, c.name)
	}
	hit(t, m, "1")
	all := append([]cmpRun{cmpOpen}, cmpOther...)
	for _, tc := range []struct {
		name   string
		metric string
		title  string
		value  func(c cmpRun, step int) (float64, bool)
		hide   string // a run taken out with n… and space first
	}{
		{"reward, different lengths", "reward", "reward", func(c cmpRun, s int) (float64, bool) {
			return c.reward(s), s >= c.from && s <= c.to
		}, ""},
		{"grad_norm, one run lacks it", "grad_norm", "grad norm", func(c cmpRun, s int) (float64, bool) {
			return 1 + c.base, c.grad && s >= c.from && s <= c.to
		}, ""},
		{"reward, one run taken out", "reward", "reward", func(c cmpRun, s int) (float64, bool) {
			return c.reward(s), c.name != "lam3-seed2" && s >= c.from && s <= c.to
		}, "lam3-seed2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.hide != "" {
				for i := 0; m.dash.selRun < 0 || m.dash.srcs[m.dash.selRun].label != tc.hide; i++ {
					if i > 10 {
						t.Fatal("n never selects", tc.hide)
					}
					hit(t, m, "n")
				}
				hit(t, m, " ")
			}
			ci := -1
			for k, v := range m.dash.visible() {
				if m.dash.cv.specs[v].title == tc.title {
					m.dash.focus, ci = k, v
				}
			}
			if ci < 0 {
				t.Fatalf("no comparison chart %q", tc.title)
			}
			// Expected, from what the runs recorded.
			type stat struct{ mean, std float64 }
			want := map[int]stat{}
			for s := 0; s <= 20; s++ {
				var vs []float64
				for _, c := range all {
					if v, ok := tc.value(c, s); ok {
						vs = append(vs, v)
					}
				}
				if len(vs) < 2 {
					continue
				}
				mean, sq := 0.0, 0.0
				for _, v := range vs {
					mean += v
				}
				mean /= float64(len(vs))
				for _, v := range vs {
					sq += (v - mean) * (v - mean)
				}
				want[s] = stat{mean, math.Sqrt(sq / float64(len(vs)))}
			}
			// The chart's band.
			steps, mean, std := m.dash.cv.charts[ci].MeanBand()
			if len(steps) != len(want) {
				t.Errorf("band at %d steps %v, want %d", len(steps), steps, len(want))
			}
			for i, s := range steps {
				w, ok := want[int(s)]
				if !ok || math.Abs(mean[i]-w.mean) > 1e-12 || math.Abs(std[i]-w.std) > 1e-12 {
					t.Errorf("chart band at step %d: %v ± %v, want %+v (%v)", s, mean[i], std[i], w, ok)
				}
			}
			// The export, parsed back.
			hit(t, m, "e")
			path := filepath.Join(r.Dir(), "charts", "compare-"+tc.metric+".csv")
			if !strings.Contains(m.msg, path) {
				t.Fatalf("status %q does not name %s", m.msg, path)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			head := rows[0]
			if head[0] != "step" || head[len(head)-3] != "mean" || head[len(head)-2] != "std" || head[len(head)-1] != "n" {
				t.Fatalf("CSV header %v", head)
			}
			byName := map[string]cmpRun{}
			for _, c := range all {
				byName[c.name] = c
			}
			bands := 0
			for _, row := range rows[1:] {
				s, _ := strconv.Atoi(row[0])
				for k, name := range head[1 : len(head)-3] {
					v, has := tc.value(byName[name], s)
					if cell := row[1+k]; has != (cell != "") {
						t.Errorf("step %d %s: cell %q, want a value %v", s, name, cell, has)
					} else if got, _ := strconv.ParseFloat(cell, 64); has && got != v {
						t.Errorf("step %d %s: %v, want %v", s, name, got, v)
					}
				}
				w, ok := want[s]
				if row[len(row)-3] == "" {
					if ok {
						t.Errorf("step %d: no band in the CSV, want %+v", s, w)
					}
					continue
				}
				bands++
				gm, _ := strconv.ParseFloat(row[len(row)-3], 64)
				gs, _ := strconv.ParseFloat(row[len(row)-2], 64)
				if !ok || math.Abs(gm-w.mean) > 1e-12 || math.Abs(gs-w.std) > 1e-12 {
					t.Errorf("CSV band at step %d: %v ± %v, want %+v", s, gm, gs, w)
				}
			}
			if bands != len(want) {
				t.Errorf("CSV has the band at %d steps, want %d", bands, len(want))
			}
			if tc.hide != "" {
				hit(t, m, " ") // back in
			}
		})
	}
}

// TestCompareLive: a compared run that another process writes keeps
// coming in (on the tick), as the open run does, and C shows the open run
// alone and the comparison again.
func TestCompareLive(t *testing.T) {
	old := comparePoll
	comparePoll = 20 * time.Millisecond
	t.Cleanup(func() { comparePoll = old })
	r := compareWorld(t)
	live := cmpRun{name: "live", from: 1, to: 3, lambda: 3, base: 0, grad: true}
	w := writeCmpRun(t, "runs", live, true)
	m := compareModel(t, r, 80, 24)
	mark(t, m, "live")
	if v := m.View(); !strings.Contains(v, "◆live") || !strings.Contains(v, "◆ 1 compared") {
		t.Errorf("the Runs screen does not mark the compared run:\n%s", v)
	}
	hit(t, m, "1")
	if n := m.dash.cv.charts[0].Len("live"); n != 3 {
		t.Fatalf("live run drawn with %d points, want 3", n)
	}
	emitCmp(w, live, 4, 9)
	w.Flush()
	deadline := time.Now().Add(hangGuard) // a bound against a hang, not a measure
	for m.dash.cv.charts[0].Len("live") < 9 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		m.Update(tickMsg(time.Now()))
	}
	if n := m.dash.cv.charts[0].Len("live"); n != 9 {
		t.Fatalf("after the writer's 6 more steps the live run has %d points, want 9", n)
	}
	if !strings.Contains(m.View(), "λ=3") {
		t.Errorf("the legend does not give the runs' differing λ:\n%s", m.View())
	}
	hit(t, m, "C")
	if m.dash.cv != nil || strings.Contains(m.View(), "mean ± std") {
		t.Fatal("C did not show the open run alone")
	}
	hit(t, m, "C")
	if m.dash.cv == nil || m.dash.cv.charts[0].Len("live") != 9 {
		t.Fatal("C did not bring the comparison back whole")
	}
	// The open run's store superseded (a resume): the charts start over
	// from its records, each drawn once.
	m.dash.clear()
	ms, _ := r.Store().MetricsSince(0)
	m.dash.add(ms)
	if m.dash.cv == nil || m.dash.cv.charts[0].Len(cmpOpen.name) != 12 || m.dash.cv.charts[0].Len("live") != 9 {
		t.Fatalf("after a reset the comparison holds %v", m.dash.cv)
	}
}

// TestComparePicker: in the comparison, m puts any recorded metric on the
// grid with a line per run (and the band), s and ] smooth every chart,
// and n names the selected run in full.
func TestComparePicker(t *testing.T) {
	r := compareWorld(t)
	m := compareModel(t, r, 80, 24)
	for _, c := range cmpOther {
		mark(t, m, c.name)
	}
	hit(t, m, "1", "m")
	m.dash.pickSel = index(m.dash.names, "reward_std")
	hit(t, m, "enter", "esc")
	ci := -1
	for i, s := range m.dash.cv.specs {
		if s.series[0].metric == "reward_std" && !s.hidden {
			ci = i
		}
	}
	if ci < 0 {
		t.Fatal("the picked metric has no comparison chart")
	}
	c := m.dash.cv.charts[ci]
	for _, run := range append([]cmpRun{cmpOpen}, cmpOther...) {
		if n := c.Len(run.name); n != run.to-run.from+1 {
			t.Errorf("%s: %d points of reward_std, want %d", run.name, n, run.to-run.from+1)
		}
	}
	if steps, _, _ := c.MeanBand(); len(steps) == 0 {
		t.Error("the picked chart has no band")
	}
	hit(t, m, "s")
	for _, c := range m.dash.cv.charts {
		if c.Smoothing() != 0 {
			t.Fatal("s left a comparison chart smoothed")
		}
	}
	hit(t, m, "]")
	for _, c := range m.dash.cv.charts {
		if c.Smoothing() != chart.DefaultSmoothing {
			t.Fatalf("] smooths a comparison chart at %v, want %v", c.Smoothing(), chart.DefaultSmoothing)
		}
	}
	hit(t, m, "n", "n")
	if !strings.Contains(m.msg, "lam3-seed1 (") || !strings.Contains(m.msg, "λ=3") {
		t.Errorf("n says %q, want the second run named in full with its λ", m.msg)
	}
}

// TestCompareGolden: the comparison at the three sizes: three runs marked
// with space on the Runs screen, then the dashboard.
func TestCompareGolden(t *testing.T) {
	r := compareWorld(t)
	for _, sz := range golden.Sizes {
		name := fmt.Sprintf("dashboard_compare_%dx%d", sz.W, sz.H)
		t.Run(name, func(t *testing.T) {
			m := compareModel(t, r, sz.W, sz.H)
			for _, c := range cmpOther {
				mark(t, m, c.name)
			}
			hit(t, m, "1")
			v := m.View()
			golden.NoEscapes(t, v)
			golden.Fits(t, v, sz.W, sz.H)
			if n := len(strings.Split(v, "\n")); n != sz.H {
				t.Errorf("%d lines, want %d", n, sz.H)
			}
			golden.Assert(t, name, v)
		})
	}
}

// TestCompareColoursStayWhileMarkedOrOpen: a run keeps its colour while
// it is marked or open, from one to the other too, and a colour no run
// marked or open has is freed. A marked run opened gave its colour up and
// took one again, another where a run unmarked meanwhile had freed the
// one it first wanted; and the run open before kept its colour for good.
func TestCompareColoursStayWhileMarkedOrOpen(t *testing.T) {
	t.Chdir(t.TempDir()) // the runs' keys, their absolute folders, are known from here
	r := writeCmpRun(t, "runs", cmpRun{name: "open", from: 1, to: 12, base: -1}, true)
	openKey := absPath(r.Dir())
	// Two runs that want the same colour (style.SeriesIndex of their
	// folders), not the open run's: the second marked takes another.
	var first, second string
	wants := map[int]string{}
	for i := 0; second == ""; i++ {
		name := fmt.Sprintf("run-%d", i)
		w := style.SeriesIndex(absPath(filepath.Join("runs", name)))
		switch {
		case w == style.SeriesIndex(openKey):
		case wants[w] != "":
			first, second = wants[w], name
		default:
			wants[w] = name
		}
	}
	for _, name := range []string{first, second} {
		writeCmpRun(t, "runs", cmpRun{name: name, from: 1, to: 12, base: -0.8}, false)
	}
	m := newModel(Options{Session: &sessions.Session{Run: r, Close: r.Close}, Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	hit(t, m, "4")
	listNow(t, m)
	mark(t, m, first)
	mark(t, m, second)
	colour, ok := runColor(t, m, second)
	if !ok {
		t.Fatalf("%s is not drawn once marked", second)
	}
	if want, _ := runColor(t, m, first); colour == want {
		t.Fatalf("%s and %s share %s", first, second, colour.Hex())
	}
	mark(t, m, first) // unmarked: the colour both want is free
	secondKey := absPath(filepath.Join("runs", second))
	hit(t, m, "4")
	m.runs.sel = slices.IndexFunc(m.runs.rows, func(row runRow) bool { return filepath.Base(row.Dir) == second })
	m.runs.syncSel()
	_, cmd := m.Update(keyMsg("enter"))
	pump(t, m, cmd, func() bool { return m.switching == "" && m.openName() == second })
	hit(t, m, "1")
	if c, ok := m.cmp.colors.Color(secondKey); !ok || c != colour {
		t.Errorf("opened, %s has %s (%v), want %s as when it was marked", second, c.Hex(), ok, colour.Hex())
	}
	for _, key := range []string{openKey, absPath(filepath.Join("runs", first))} {
		if c, ok := m.cmp.colors.Color(key); ok {
			t.Errorf("%s, neither marked nor open, still holds %s", filepath.Base(key), c.Hex())
		}
	}
}

// TestCompareImportedRowsLambda: a compared import whose rows record the
// reward they were ranked with ([import.reward]) is named with their λ,
// as the rows' (it was λ=? beside runs of ours, though the run records
// it); one that records none stays λ=?.
func TestCompareImportedRowsLambda(t *testing.T) {
	for _, c := range []struct {
		name, keys string // keys: [import.reward]'s ("" for no table)
		tail       string
	}{
		{"the rows' reward", "kl_mean = 5.0\n", " rows' λ=5"},
		{"the rows' reward, λ as a run's", "kl_mean = 3.0\n", " rows' λ=3"},
		{"none recorded", "", " λ=?"},
		// kl_mean not set: its default, said as a run's is.
		{"the rows' reward without kl_mean", "kl_max = 0.5\n", " rows' λ=3 (kl_mean at its default)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := importOfficial(t)
			if c.keys != "" {
				withImportReward(t, dir, c.keys)
			}
			cmp := newComparison()
			t.Cleanup(func() { cmp.close() })
			cr, err := cmp.add(dir)
			if err != nil {
				t.Fatal(err)
			}
			ours := runSource{label: "ours", lam: lambda.Lambda{Value: 3, Known: true}}
			src := runSource{label: "imported", lam: cr.lam}
			d := &dashboard{srcs: []runSource{ours, src}, sh: &shared{cmp: cmp, theme: style.NewTheme(style.Plain)}}
			got := strings.Join(d.legendLines(200, 2), "\n")
			if !strings.Contains(got, "imported"+c.tail) || !strings.Contains(got, "ours λ=3") {
				t.Errorf("legend %q, want imported%s beside ours λ=3", got, c.tail)
			}
		})
	}
}

// TestCompareLambdaAtItsDefault: a compared run whose config.toml's
// [reward] lacks kl_mean (a hand edit) is named with λ at its default, as
// it resumes and is scored (sessions.RunReward), said so: the file holds
// no λ. It was named λ=3 as though the file said it.
func TestCompareLambdaAtItsDefault(t *testing.T) {
	for _, c := range []struct {
		name, config string
		tail         string
	}{
		{"kl_mean set", "task = 'addition'\n[reward]\nkl_mean = 3.0\n", " λ=3\n"},
		{"kl_mean not set", "task = 'addition'\n[reward]\nkl_max = 0.5\n", " λ=3 (kl_mean at its default)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newTestRun(t, 1, 1, 2, 8)
			if err := os.WriteFile(filepath.Join(w.Dir(), sessions.ConfigFile), []byte(c.config), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			cmp := newComparison()
			t.Cleanup(func() { cmp.close() })
			cr, err := cmp.add(w.Dir())
			if err != nil {
				t.Fatal(err)
			}
			ours := runSource{label: "ours", lam: lambda.Lambda{Value: 5, Known: true}}
			src := runSource{label: "theirs", lam: cr.lam}
			d := &dashboard{srcs: []runSource{ours, src}, sh: &shared{cmp: cmp, theme: style.NewTheme(style.Plain)}}
			got := strings.Join(d.legendLines(200, 2), "\n") + "\n"
			if !strings.Contains(got, "theirs"+c.tail) || !strings.Contains(got, "ours λ=5") {
				t.Errorf("legend %q, want theirs%s beside ours λ=5", got, c.tail)
			}
		})
	}
}
