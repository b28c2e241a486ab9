package ui

import (
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/chart"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
)

func TestDashboardDefaults(t *testing.T) {
	r := newTestRun(t, 12, 1, 2, 4)
	m := sized(t, r, 120, 40, nil)
	for i, c := range m.dash.charts {
		if c.Smoothing() != chart.DefaultSmoothing {
			t.Errorf("chart %q: smoothing %v, want on by default (%v)", m.dash.specs[i].title, c.Smoothing(), chart.DefaultSmoothing)
		}
	}
	if !m.dash.charts[0].HasSpread("reward") {
		t.Error("the reward chart has no ±std band though reward_std is recorded")
	}
	if v := m.View(); !strings.Contains(v, "reward ± std") || !strings.Contains(v, "±0.2") {
		t.Errorf("the reward chart does not say its band:\n%s", v)
	}
}

// TestChartPicker: every recorded metric can be put on the grid (fed
// with the records so far) and taken off.
func TestChartPicker(t *testing.T) {
	r := newTestRun(t, 12, 1, 2, 4)
	m := sized(t, r, 80, 24, nil)
	send(m, press("m"))
	if !m.dash.picking || !m.dash.Capturing() {
		t.Fatal("m did not open the picker")
	}
	for _, want := range []string{"step_time_s", "sampled_tokens_per_s", "reward_std", "loss"} {
		if !strings.Contains(m.View(), want) && !contains(m.dash.names, want) {
			t.Errorf("the picker does not offer %s", want)
		}
	}
	for _, tc := range []struct {
		metric string
		shown  bool // after enter
	}{
		{"step_time_s", true},
		{"step_time_s", false},
		{"reward", false}, // a default chart can be taken off
		{"reward", true},
	} {
		t.Run(fmt.Sprintf("%s→%v", tc.metric, tc.shown), func(t *testing.T) {
			m.dash.pickSel = index(m.dash.names, tc.metric)
			send(m, press("enter"))
			ci := m.dash.shownFor(tc.metric)
			if (ci >= 0) != tc.shown {
				t.Fatalf("%s shown %v, want %v", tc.metric, ci >= 0, tc.shown)
			}
			if tc.shown && m.dash.charts[ci].Len(m.dash.specs[ci].series[0].name) != 12 {
				t.Errorf("%s chart holds %d points, want the 12 recorded", tc.metric, m.dash.charts[ci].Len(tc.metric))
			}
		})
	}
	send(m, press("esc"))
	if m.dash.picking {
		t.Error("esc did not close the picker")
	}
}

// TestChartPickerSaysTheGridsLabels: the picker names a metric the grid
// draws by the grid's label, and its value is signed as the grid draws it:
// kl_reward is r_KL, negated. It listed the raw names alone (kl_reward,
// solution_log_prob_reward), and kl_reward's value negative beside the
// r_KL chart's positive one.
func TestChartPickerSaysTheGridsLabels(t *testing.T) {
	r := newTestRun(t, 12, 1, 2, 4)
	m := sized(t, r, 120, 60, nil)
	send(m, press("m"))
	v := m.View()
	for _, tc := range []struct {
		metric, label string
		sign          float64 // of the recorded value, as shown
	}{
		{"kl_reward", "r_KL · −kl_reward", -1},
		{"solution_log_prob_reward", "r_SS · solution_log_prob_reward", 1},
		{"format_penalty_rate", "format penalty rate · format_penalty_rate", 1},
		{"kl", "KL to reference · kl", 1},
		{"step_time_s", "step time (s) · step_time_s", 1}, // not on the grid: metricTitles' words
	} {
		x, ok := m.dash.last[tc.metric]
		if !ok {
			t.Fatalf("%s not recorded", tc.metric)
		}
		want := " " + chart.FormatValue(tc.sign*x) // the column's rule: one notation here
		var line string
		for _, l := range strings.Split(v, "\n") {
			if strings.Contains(l, tc.metric+"  ") { // the name, then its value
				line = strings.TrimSpace(l)
			}
		}
		if !strings.HasSuffix(line, want) || !strings.Contains(line, tc.label+"  ") {
			t.Errorf("picker line of %s: %q, want %q and then %q", tc.metric, line, tc.label, want)
		}
	}
	// The r_KL chart on the grid draws the value the picker said.
	send(m, press("esc"))
	ci := m.dash.shownFor("kl_reward")
	if ci < 0 || m.dash.specs[ci].title != "r_KL" || !m.dash.specs[ci].series[0].negate {
		t.Fatalf("the grid's r_KL chart is not the one that draws kl_reward negated")
	}
}

func contains(ss []string, s string) bool { return index(ss, s) >= 0 }

func index(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

func TestChartPickerGolden(t *testing.T) {
	r := newTestRun(t, 12, 2, 4, 60)
	for _, sz := range golden.Sizes {
		name := fmt.Sprintf("dashboard_picker_%dx%d", sz.W, sz.H)
		t.Run(name, func(t *testing.T) {
			m := sized(t, r, sz.W, sz.H, &fakeControl{})
			send(m, press("m"))
			send(m, press("j"))
			v := m.View()
			golden.NoEscapes(t, v)
			golden.Fits(t, v, sz.W, sz.H)
			golden.Assert(t, name, v)
		})
	}
}

// e exports the focused chart as SVG (the report's chart code) and CSV in
// the run folder's charts/, says both paths, and the files hold every
// recorded point of the chart's series (r_KL negated as drawn); a band
// the chart draws around its line (reward ± std) is a band in the SVG,
// not a second line on the reward's axis, and its own column in the CSV.
func TestDashboardExportChart(t *testing.T) {
	r := newTestRun(t, 12, 1, 2, 4)
	m := sized(t, r, 80, 24, nil)
	for _, tc := range []struct {
		focus  string // chart title
		file   string
		lines  []string                     // the SVG's polylines
		bands  []string                     // the SVG's spread bands, by the line they surround
		series []string                     // the CSV's columns after step
		value  []func(step float64) float64 // what newTestRun records, as drawn
	}{
		{"reward ± std", "reward", []string{"reward"}, []string{"reward"}, []string{"reward", "reward_std"},
			[]func(float64) float64{func(x float64) float64 { return -1 + 0.1*x }, func(float64) float64 { return 0.2 }}},
		{"r_KL", "kl_reward", []string{"r_KL"}, nil, []string{"r_KL"}, []func(float64) float64{func(x float64) float64 { return -(-0.3 + 0.01*x) }}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			vis := m.dash.visible()
			for k, ci := range vis {
				if m.dash.specs[ci].title == tc.focus {
					m.dash.focus = k
				}
			}
			send(m, press("e"))
			svgPath := filepath.Join(r.Dir(), "charts", tc.file+".svg")
			csvPath := filepath.Join(r.Dir(), "charts", tc.file+".csv")
			if !strings.Contains(m.msg, svgPath) || !strings.Contains(m.msg, csvPath) {
				t.Fatalf("status %q does not name %s and %s", m.msg, svgPath, csvPath)
			}
			svg, err := os.ReadFile(svgPath)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Lines []struct {
					Run string `xml:"data-run,attr"`
				} `xml:"polyline"`
				Paths []struct {
					Class string `xml:"class,attr"`
					Run   string `xml:"data-run,attr"`
				} `xml:"path"`
			}
			if err := xml.Unmarshal(svg, &doc); err != nil {
				t.Fatal(err)
			}
			var lines, bands []string
			for _, l := range doc.Lines {
				lines = append(lines, l.Run)
			}
			for _, p := range doc.Paths {
				if p.Class == "spread" {
					bands = append(bands, p.Run)
				}
			}
			if fmt.Sprint(lines) != fmt.Sprint(tc.lines) || fmt.Sprint(bands) != fmt.Sprint(tc.bands) {
				t.Fatalf("SVG draws lines %v and bands around %v, want lines %v and bands around %v", lines, bands, tc.lines, tc.bands)
			}
			f, err := os.Open(csvPath)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := csv.NewReader(f).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 13 || fmt.Sprint(rows[0]) != fmt.Sprint(append([]string{"step"}, tc.series...)) {
				t.Fatalf("CSV has %d rows (header %v), want a header step,%v and 12 points", len(rows), rows[0], tc.series)
			}
			for _, row := range rows[1:] {
				step, _ := strconv.ParseFloat(row[0], 64)
				for i, f := range tc.value {
					v, _ := strconv.ParseFloat(row[1+i], 64)
					if math.Abs(v-f(step)) > 1e-12 {
						t.Errorf("row %v, want %s at step %v = %v", row, tc.series[i], step, f(step))
					}
				}
			}
		})
	}
}

// e on a run opened read-only writes nothing into the run folder: the
// chart goes to charts/ in the current folder, and the status line says
// where and why.
func TestDashboardExportReadOnly(t *testing.T) {
	r := newTestRun(t, 12, 1, 2, 4)
	wd := t.TempDir()
	t.Chdir(wd)
	m := newModel(Options{Session: &sessions.Session{Run: r, ReadOnly: true}})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	send(m, press("e"))
	want := filepath.Join(wd, "charts", "reward.csv")
	if !strings.Contains(m.msg, want) || !strings.Contains(m.msg, "read-only") {
		t.Fatalf("status %q, want it to name %s and say the run is read-only", m.msg, want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r.Dir(), "charts")); !os.IsNotExist(err) {
		t.Errorf("the read-only run's folder got charts/ (%v)", err)
	}
}

// TestChartPickerOtherTrainer: a verl run folder opened in the workbench
// (imported and followed) charts its metrics mapped to ours by default,
// and the picker offers every name verl logged that is not ours, under
// its own name.
func TestChartPickerOtherTrainer(t *testing.T) {
	s, err := sessions.OpenTrainerRun(t.Context(), "../sessions/testdata/trainers/verl", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := sized(t, s.Run, 100, 30, nil)
	if ci := m.dash.shownFor("reward"); ci < 0 || m.dash.charts[ci].Len("reward") != 2 {
		t.Fatalf("the reward chart does not hold verl's critic/score/mean (chart %d)", ci)
	}
	send(m, press("m"))
	for _, want := range []string{"actor/pg_loss", "critic/rewards/mean", "timing_s/step", "kl", "completion_length"} {
		if !contains(m.dash.names, want) {
			t.Errorf("the picker does not offer %s (offers %v)", want, m.dash.names)
		}
	}
	m.dash.pickSel = index(m.dash.names, "actor/pg_loss")
	send(m, press("enter"))
	if ci := m.dash.shownFor("actor/pg_loss"); ci < 0 || m.dash.charts[ci].Len("actor/pg_loss") != 2 {
		t.Errorf("actor/pg_loss not charted with its 2 records")
	}
}

// TestZoomSharesOneWindow: zoom and pan show one window of steps in every
// chart, the held-out chart (evaluated every 5 steps) included, and a
// chart put on the grid while zoomed and panned shows that window too.
func TestZoomSharesOneWindow(t *testing.T) {
	r := newTestRun(t, 12, 1, 2, 4) // held-out evaluations at steps 5 and 10
	m := sized(t, r, 80, 24, nil)
	heldOut := -1
	for i, s := range m.dash.specs {
		if s.title == "held-out" {
			heldOut = i
		}
	}
	for _, tc := range []struct {
		keys   []string
		lo, hi int64
	}{
		{[]string{"+"}, 7, 12},
		{[]string{"+"}, 8, 12},
		{[]string{"h"}, 7, 11},
		{[]string{"m", "G", "enter", "esc"}, 7, 11}, // a new chart (the last metric) joins the view
		{[]string{"-"}, 4, 12},
		{[]string{"l"}, 4, 12},
		{[]string{"0"}, 1, 12},
	} {
		t.Run(strings.Join(tc.keys, ""), func(t *testing.T) {
			for _, k := range tc.keys {
				send(m, press(k))
			}
			v := m.View()
			for i, c := range m.dash.charts {
				if lo, hi := c.XRange(); lo != tc.lo || hi != tc.hi {
					t.Errorf("chart %q shows steps %d–%d, want %d–%d", m.dash.specs[i].title, lo, hi, tc.lo, tc.hi)
				}
			}
			if tc.lo > 1 {
				want := fmt.Sprintf("steps %d–%d", tc.lo, tc.hi)
				if !strings.Contains(v, "Dashboard") || !strings.Contains(v, want) {
					t.Errorf("the header does not read %q:\n%s", want, v)
				}
				ho := m.dash.charts[heldOut]
				ho.SetSize(40, 10) // off this page at 80×24
				if hv := ho.View(); !strings.Contains(hv, want) || strings.Contains(hv, "no finite points") {
					t.Errorf("the held-out chart does not read %q with its line:\n%s", want, hv)
				}
			}
		})
	}
}

// TestChartsShown: the dashboard's line names the charts its page shows,
// one alone as "chart 1 of 8", not "charts 1–1 of 8".
func TestChartsShown(t *testing.T) {
	for _, c := range []struct {
		first, last, n int
		want           string
	}{
		{0, 1, 8, "chart 1 of 8"},
		{3, 4, 8, "chart 4 of 8"},
		{0, 6, 7, "charts 1–6 of 7"},
		{0, 1, 1, "chart 1 of 1"},
	} {
		if got := chartsShown(c.first, c.last, c.n); got != c.want {
			t.Errorf("chartsShown(%d, %d, %d) = %q, want %q", c.first, c.last, c.n, got, c.want)
		}
	}
}

// TestEngineKeysOfAFinishedRun: p, S and c on a run that has done its
// planned steps, its engine ended here or open to review, say how to
// train it further (its config.toml's steps raised, then r), as r on the
// Runs screen does, not that r resumes it (r has nothing to run); a run
// with steps left to run says r resumes it, as does a finished one whose
// final checkpoint is gone (its resume does its last step again:
// sessions.NothingLeftToRun, the resume's own rule).
func TestEngineKeysOfAFinishedRun(t *testing.T) {
	for _, c := range []struct {
		name     string
		finished bool
		control  bool
		lostLast bool // its final checkpoint's folder gone
		want     string
	}{
		{"finished here", true, true, false, "the engine has stopped: nothing to pause, stop or checkpoint (it has done its planned steps: to train it further, set steps above 3 in "},
		{"finished, in review", true, false, false, "review: no engine runs in this workbench to pause, stop or checkpoint (it has done its planned steps: to train it further, set steps above 3 in "},
		{"stopped here", false, true, false, "the engine has stopped: nothing to pause, stop or checkpoint (4, then r on this run, resumes its training)"},
		{"stopped, in review", false, false, false, "review: no engine runs in this workbench to pause, stop or checkpoint (4, then r on this run, resumes its training)"},
		{"finished, its final checkpoint gone", true, false, true, "review: no engine runs in this workbench to pause, stop or checkpoint (4, then r on this run, resumes its training)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			w, err := sessions.Create(dir, testCfg{Task: "addition", Steps: 3})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			done := 3
			if !c.finished {
				done = 2
			}
			for s := 0; s < done; s++ {
				at := t0.Add(time.Duration(s) * time.Second)
				w.Emit(event.Metrics{Time: at, Step: s, Values: map[string]float64{"reward": 1}})
				w.Emit(event.Checkpoint{Time: at, Step: s, Dir: filepath.Join(dir, sessions.CheckpointsDir, fmt.Sprintf("step-%06d", s))})
				if !c.lostLast || s < done-1 {
					withCheckpoint(t, dir, s)
				}
			}
			ended := "done"
			if !c.finished {
				ended = "stopped"
			}
			w.Emit(event.Phase{Time: t0.Add(time.Minute), Step: done, Name: ended})
			s := &sessions.Session{Run: w, Steps: 3}
			if c.control {
				s.Control = &fakeControl{}
			}
			m := newModel(Options{Session: s})
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
			m.pull()
			for _, k := range []string{"p", "S", "c"} {
				send(m, press(k))
				if !strings.HasPrefix(m.msg, c.want) {
					t.Errorf("%s: %q, want %q…", k, m.msg, c.want)
				}
			}
		})
	}
}

// TestRawLinesKeySaysWhatItDid: r says whether the raw lines are now on
// or off, which no title shows, and, with smoothing off, that the lines
// are the raw values until s turns smoothing on: r changed nothing on
// screen then and said nothing.
func TestRawLinesKeySaysWhatItDid(t *testing.T) {
	r := newTestRun(t, 6, 1, 2, 4)
	m := sized(t, r, 100, 30, nil)
	m.pull()
	for _, c := range []struct{ key, want string }{
		{"r", "raw lines off: the smoothed lines alone"},
		{"r", "raw lines on: the raw values faint under the smoothed lines"},
		{"s", ""}, // smoothing off
		{"r", "raw lines off: they stay off once smoothing is on (s)"},
		{"r", "raw lines on: they show under the smoothed lines once smoothing is on (s)"},
	} {
		send(m, press(c.key))
		if c.want != "" && !strings.HasPrefix(m.msg, c.want) {
			t.Errorf("%s: message %q, want %q…", c.key, m.msg, c.want)
		}
	}
}
