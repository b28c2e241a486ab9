package ui

import (
	"fmt"
	"github.com/charmbracelet/bubbles/key"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/sessionstest"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
	"github.com/rlt-workbench/rlt/ui/keys"
	"github.com/rlt-workbench/rlt/ui/style"
)

type testCfg struct {
	Task  string `toml:"task"`
	Steps int    `toml:"steps"`
}

// testRunCfg is newTestRun's config.toml: a run's records every key of
// [reward] (one it lacks the viewers say is at its default).
type testRunCfg struct {
	Task   string              `toml:"task"`
	Steps  int                 `toml:"steps"`
	Reward record.RewardConfig `toml:"reward"`
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newTestRun makes a run folder with steps metric records and, per step,
// groups×samples traces.
func newTestRun(tb testing.TB, steps, groups, samples, explTokens int) *sessions.Run {
	tb.Helper()
	r, err := sessions.Create(filepath.Join(tb.TempDir(), "demo-run"), testRunCfg{Task: "addition", Steps: 20, Reward: record.DefaultRewardConfig()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	for s := 1; s <= steps; s++ {
		x := float64(s)
		vals := map[string]float64{
			"reward": -1 + 0.1*x, "reward_std": 0.2, "solution_log_prob_reward": -0.8 + 0.05*x,
			"kl_reward": -0.3 + 0.01*x, "format_penalty_rate": 0.5 / x, "kl": 0.01 * x, "loss": 1 / x,
			"grad_norm": 2 + math.Sin(x), "completion_length": 40 + x, "explanation_length": 30 + x,
			"step_time_s": 6, "sampled_tokens_per_s": 100,
		}
		if s%5 == 0 {
			vals["eval_accuracy"], vals["eval_verified_rate"], vals["eval_leak_rate"] = 0.1*x/5, 0.2, 0.01
		}
		r.Emit(event.Metrics{Time: t0.Add(time.Duration(s) * 6 * time.Second), Step: s, Values: vals})
		for g := 0; g < groups; g++ {
			for k := 0; k < samples; k++ {
				r.Emit(makeTrace(s, g, k, explTokens))
			}
		}
	}
	return r
}

var words = []string{"The", "Ġsum", "Ġof", "Ġ2", "Ġand", "Ġ3", "Ġis", "Ġ5", ".", "Ċ", "ĠWe", "Ġadd", "Ġthe", "Ġunits", "Ġfirst", ","}

func makeTrace(step, group, sample, n int) event.Trace {
	sc := &record.Scored{Ended: sample%3 != 2}
	var expl strings.Builder
	for i := 0; i < n; i++ {
		tok := words[i%len(words)]
		sc.ExplanationTokens = append(sc.ExplanationTokens, tok)
		sc.ExplanationIDs = append(sc.ExplanationIDs, int32(i%len(words)))
		tl := -0.1 - 0.05*float64((i*7+sample)%11)
		sl := -0.2 - 0.3*float64((i*5+group)%7)
		sc.TeacherLP = append(sc.TeacherLP, float32(tl))
		sc.StudentLP = append(sc.StudentLP, float32(sl))
		sc.D = append(sc.D, float32(tl-sl))
		expl.WriteString(strings.NewReplacer("Ġ", " ", "Ċ", "\n").Replace(tok))
	}
	sc.SolutionTokens = []string{"5"}
	sc.SolutionIDs = []int32{1}
	sc.SolutionLP = []float32{float32(-0.25 - 0.1*float64(sample))}
	cfg := record.DefaultRewardConfig()
	sc.Terms = cfg.Reduce(sc.SolutionLP, sc.D, sc.StudentLP, sc.Ended)
	comp := expl.String()
	if sc.Ended {
		comp += record.EndExplanation
	}
	rec := "5"
	if sample%2 == 1 {
		rec = "6 apples"
	}
	return event.Trace{Time: t0.Add(time.Duration(step) * 6 * time.Second), Step: step, Group: group, Sample: sample,
		Question: fmt.Sprintf("2+%d=?", group+3), Solution: "5", Completion: comp,
		Advantage: float64(sample) - 1.5, Score: sc, Reconstruction: rec}
}

func press(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// send applies msg and then, synchronously, the messages its command
// returns (one level; Quit and nil are dropped).
func send(m *Model, msg tea.Msg) tea.Cmd {
	_, cmd := m.Update(msg)
	if _, isKey := msg.(tea.KeyMsg); !isKey || cmd == nil {
		return nil
	}
	if out := cmd(); out != nil {
		switch out.(type) {
		case openMsg, backMsg:
			m.Update(out)
			return nil
		}
	}
	return cmd
}

func sized(tb testing.TB, r *sessions.Run, w, h int, ctl *fakeControl) *Model {
	opts := Options{Session: &sessions.Session{Run: r, Steps: 20}}
	if ctl != nil {
		opts.Session.Control = ctl
	}
	m := newModel(opts)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

type fakeControl struct{ pause, resume, stop, ckpt int }

func (f *fakeControl) Pause()         { f.pause++ }
func (f *fakeControl) Resume()        { f.resume++ }
func (f *fakeControl) Stop()          { f.stop++ }
func (f *fakeControl) CheckpointNow() { f.ckpt++ }

func TestGoldenViews(t *testing.T) {
	r := newTestRun(t, 12, 2, 4, 60)
	for _, sz := range golden.Sizes {
		for _, scr := range []string{"dashboard", "traces", "detail", "help"} {
			name := fmt.Sprintf("%s_%dx%d", scr, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				m := sized(t, r, sz.W, sz.H, &fakeControl{})
				switch scr {
				case "traces":
					send(m, press("2"))
				case "detail":
					send(m, press("2"))
					send(m, press("enter"))
					send(m, press("right"))
				case "help":
					send(m, press("?"))
				}
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
}

func TestTooSmall(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 10)
	m := sized(t, r, 59, 30, nil)
	v := m.View()
	if !strings.Contains(v, "60×15") || !strings.Contains(v, "now 59×30") {
		t.Fatalf("too-small view = %q", v)
	}
	golden.Fits(t, v, 59, 5) // five short lines, the last saying q quits
	// Narrow, the message is still whole, a short line each.
	m.Update(tea.WindowSizeMsg{Width: 20, Height: 5})
	if v := m.View(); !strings.Contains(v, "60×15") || !strings.Contains(v, "now 20×5") {
		t.Errorf("at 20 columns: %q", v)
	}
	golden.Fits(t, m.View(), 20, 5)
	// No key acts unseen while the frame says only that: a screen switch,
	// a review; quitting still works.
	for _, k := range []string{"2", "3", "!", "?", "a"} {
		send(m, press(k))
	}
	if m.active != scrDashboard || m.help || m.probs.open {
		t.Errorf("keys acted on a too-small terminal: screen %d, help %v, problems %v", m.active, m.help, m.probs.open)
	}
	if _, cmd := m.Update(press("q")); cmd == nil {
		t.Error("q on a too-small terminal did not quit")
	}
}

// TestKeyBurst: keys typed faster than the terminal is read arrive as one
// message of several runes; each acts, as when they come one by one. A
// paste stays one message.
func TestKeyBurst(t *testing.T) {
	r := newTestRun(t, 3, 2, 4, 40)
	one, burst := sized(t, r, 120, 40, nil), sized(t, r, 120, 40, nil)
	for _, m := range []*Model{one, burst} {
		send(m, press("2"))
	}
	for range 3 {
		send(one, press("j"))
	}
	send(burst, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jjj")})
	if one.traces.sel != 3 || burst.traces.sel != one.traces.sel {
		t.Errorf("j three times: selection %d; as one burst \"jjj\": %d; want 3 both", one.traces.sel, burst.traces.sel)
	}
	send(burst, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jj"), Paste: true})
	if burst.traces.sel != 3 {
		t.Errorf("a pasted \"jj\" moved the selection to %d: a paste is not keys", burst.traces.sel)
	}
}

func TestReviewFlow(t *testing.T) {
	r := newTestRun(t, 3, 2, 4, 40)
	st := r.Store()
	m := sized(t, r, 80, 24, &fakeControl{})
	send(m, press("2"))
	if m.active != scrTraces {
		t.Fatalf("active = %d, want traces", m.active)
	}
	send(m, press("down"))
	send(m, press("enter"))
	if m.active != scrDetail || !m.detail.has {
		t.Fatalf("detail not open (active %d)", m.active)
	}
	id := m.detail.rec.ID
	if id != "3-0-1" {
		t.Errorf("opened %s, want 3-0-1 (newest step first, second row)", id)
	}
	if c := m.detail.expl.Cursor(); c != 0 {
		t.Errorf("cursor %d, want 0", c)
	}
	send(m, press("right"))
	send(m, press("right"))
	if c := m.detail.expl.Cursor(); c != 2 {
		t.Errorf("cursor %d after 2×right, want 2", c)
	}
	if v := m.View(); !strings.Contains(v, "tok 3/40") {
		t.Errorf("cursor line missing:\n%s", v)
	}
	send(m, press("m"))
	if c, want := m.detail.expl.Cursor(), m.detail.rec.Terms.KLMaxPos; c != want {
		t.Errorf("m: cursor %d, want max-d_k %d", c, want)
	}
	send(m, press("a"))
	if l := st.Label(id).Label; l != sessions.LabelAccept {
		t.Fatalf("label after a = %q", l)
	}
	send(m, press("f"))
	for _, s := range []string{"l", "o", "o", "k"} {
		send(m, press(s))
	}
	send(m, tea.KeyMsg{Type: tea.KeySpace})
	send(m, press("q")) // typed into the note, not quitting
	send(m, press("enter"))
	if l := st.Label(id); l.Label != sessions.LabelFlag || l.Note != "look q" {
		t.Fatalf("label after flag = %+v", l)
	}
	send(m, press("u"))
	if l := st.Label(id).Label; l != sessions.LabelAccept {
		t.Fatalf("label after undo = %q, want accept again", l)
	}
	send(m, press("e"))
	data, err := os.ReadFile(filepath.Join(r.Dir(), sessions.ExportFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != 1 || !strings.Contains(string(data), "conversations") {
		t.Errorf("export holds %d rows: %q", n, data)
	}
	if !strings.Contains(m.msg, "exported 1 accepted → "+filepath.Join(r.Dir(), sessions.ExportFile)) {
		t.Errorf("status message %q", m.msg)
	}
	send(m, press("u"))
	if l := st.Label(id).Label; l != sessions.LabelNone {
		t.Fatalf("label after 2nd undo = %q", l)
	}
	send(m, press("n"))
	if m.detail.rec.ID == id || st.Label(m.detail.rec.ID).Label != sessions.LabelNone {
		t.Errorf("n opened %s", m.detail.rec.ID)
	}
	send(m, press("esc"))
	if m.active != scrTraces {
		t.Errorf("esc: active %d", m.active)
	}
}

func TestTracesFiltersAndGroup(t *testing.T) {
	r := newTestRun(t, 3, 2, 4, 10)
	m := sized(t, r, 100, 30, nil)
	send(m, press("2"))
	tr := m.traces
	tr.rebuild()
	if len(tr.rows) != 24 {
		t.Fatalf("%d rows", len(tr.rows))
	}
	send(m, press("r"))
	tr.rebuild()
	for i := 1; i < len(tr.rows); i++ {
		if tr.rewardOf(tr.all[tr.rows[i-1]]) < tr.rewardOf(tr.all[tr.rows[i]]) {
			t.Fatal("not sorted by reward")
		}
	}
	send(m, press("v"))
	tr.rebuild()
	if len(tr.rows) != 4 {
		t.Fatalf("group view: %d rows, want 4", len(tr.rows))
	}
	send(m, press("esc"))
	send(m, press("/"))
	for _, s := range []string{"t", "o", "p"} {
		send(m, press(s))
	}
	send(m, press("enter"))
	tr.rebuild()
	if n := len(tr.rows); n == 0 || n >= 24 {
		t.Fatalf("top quartile: %d rows", n)
	}
	send(m, press("esc"))
	send(m, press("/"))
	for _, s := range []string{"-", "9", ".", ".", "-", "5"} {
		send(m, press(s))
	}
	send(m, press("enter"))
	tr.rebuild()
	if len(tr.rows) != 0 {
		t.Fatalf("range -9..-5: %d rows", len(tr.rows))
	}
	send(m, press("esc"))
	r.Review("1-0-0", sessions.LabelReject, "")
	send(m, changedMsg{})
	send(m, press("l"))
	send(m, press("l"))
	send(m, press("l")) // rejected
	tr.rebuild()
	if len(tr.rows) != 1 || tr.all[tr.rows[0]].ID != "1-0-0" {
		t.Fatalf("label filter rejected: %v", tr.rows)
	}
	golden.Fits(t, m.View(), 100, 30)
}

// TestGroupViewSaysTracesLost: a group with fewer traces than the run's
// others (its traces file cut short) says its mean and std are of those
// left, its advantages of the whole group: "std 5.081 over 7" sat above
// advantages of 8 that it did not give.
func TestGroupViewSaysTracesLost(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "cut"), testCfg{Task: "addition", Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	for g := 0; g < 2; g++ {
		for k := 0; k < 4; k++ {
			if g == 1 && k == 3 {
				continue // lost
			}
			r.Emit(makeTrace(1, g, k, 10))
		}
	}
	r.Flush()
	for _, c := range []struct {
		group string
		want  string
		whole bool
	}{
		{"1-0-0", "over 4", true},
		{"1-1-0", "over 3 of 4 (1 lost: advantages are of 4)", false},
	} {
		m := sized(t, r, 80, 30, nil)
		m.pull()
		send(m, press("2"))
		tr := m.traces
		tr.rebuild()
		tr.selID = c.group
		tr.touch()
		send(m, press("v"))
		v := ansi.Strip(m.View())
		flat := strings.Join(strings.Fields(v), " ")
		if !strings.Contains(flat, c.want) || c.whole && strings.Contains(flat, "lost") {
			t.Errorf("group of %s: want %q (and a whole group said whole):\n%s", c.group, c.want, v)
		}
		golden.Fits(t, m.View(), 80, 30)
	}
}

// TestTracesLabelColumn: the traces list says each trace's review as the
// detail, the messages and the report do (Label.Verdict: accepted,
// rejected, flagged), not with the words stored in reviews.jsonl, each
// under the column's name, whole, wide screen or narrow.
func TestTracesLabelColumn(t *testing.T) {
	r := newTestRun(t, 1, 1, 4, 10)
	labels := map[string]sessions.Label{"1-0-0": sessions.LabelAccept, "1-0-1": sessions.LabelReject, "1-0-2": sessions.LabelFlag}
	for id, l := range labels {
		if err := r.Review(id, l, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []int{120, 80, 64, 60} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			m := sized(t, r, w, 24, nil)
			send(m, press("2"))
			lines := strings.Split(ansi.Strip(m.View()), "\n")
			head := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "step grp smp") })
			if head < 0 {
				t.Fatalf("no column names:\n%s", strings.Join(lines, "\n"))
			}
			col := ansi.StringWidth(lines[head][:strings.Index(lines[head], "label")])
			for _, c := range []struct {
				sample int
				want   string
			}{
				{0, "accepted"},
				{1, "rejected"},
				{2, "flagged"},
				{3, "·"},
			} {
				if w < 64 { // the column has 4 cells
					c.want = map[string]string{"accepted": "acc", "rejected": "rej", "flagged": "flag", "·": "·"}[c.want]
				}
				row := fmt.Sprintf("1   0   %d ", c.sample)
				i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, row) })
				if i < 0 {
					t.Fatalf("no row for sample %d:\n%s", c.sample, strings.Join(lines, "\n"))
				}
				cells := []rune(lines[i])
				got := strings.Fields(string(cells[min(col, len(cells)):]))
				if len(got) == 0 || got[0] != c.want {
					t.Errorf("sample %d: label column reads %q, want %q under \"label\":\n%s\n%s", c.sample, got, c.want, lines[head], lines[i])
				}
			}
		})
	}
}

func TestDashboardKeysAndControl(t *testing.T) {
	r := newTestRun(t, 30, 1, 1, 4)
	ctl := &fakeControl{}
	m := sized(t, r, 120, 40, ctl)
	for _, k := range []string{"+", "+", "left", "f", "y", "s", "]", "[", "r", "n", " ", "j", "j", "enter", "enter", "0"} {
		send(m, press(k))
		golden.Fits(t, m.View(), 120, 40)
	}
	for _, c := range m.dash.charts {
		if c.Smoothing() != m.dash.charts[0].Smoothing() || c.LogScale() != m.dash.charts[0].LogScale() {
			t.Fatal("charts out of sync")
		}
	}
	send(m, press("p"))
	send(m, press("c"))
	send(m, press("S"))
	send(m, press("y"))
	if ctl.pause != 1 || ctl.ckpt != 2 || ctl.stop != 1 { // c's checkpoint, and S's of the step it stops after
		t.Errorf("control calls %+v", *ctl)
	}
	if cmd := send(m, press("q")); cmd == nil || ctl.stop != 2 {
		t.Errorf("q: cmd %v, stops %d", cmd, ctl.stop)
	}
	// No controller: the run is open to review (TestEngineKeysSayWhyNot).
	m2 := sized(t, r, 80, 24, nil)
	send(m2, press("p"))
	if !strings.Contains(m2.msg, "review: no engine") {
		t.Errorf("review message %q", m2.msg)
	}
}

func TestLiveDataPull(t *testing.T) {
	r := newTestRun(t, 2, 1, 1, 4)
	m := sized(t, r, 80, 24, nil)
	r.Emit(event.Metrics{Time: t0.Add(time.Minute), Step: 3, Values: map[string]float64{"reward": 0.75}})
	r.Emit(makeTrace(3, 0, 0, 4))
	select {
	case <-r.Store().Changed():
	default:
	}
	if m.lastStep != 2 {
		t.Fatalf("pulled before the signal: step %d", m.lastStep)
	}
	send(m, changedMsg{})
	if m.lastStep != 3 || m.reward != 0.75 || len(m.traces.all) != 3 {
		t.Fatalf("after pull: step %d reward %v traces %d", m.lastStep, m.reward, len(m.traces.all))
	}
	if !strings.Contains(m.View(), "reward 0.750") {
		t.Error("status line lacks the new reward")
	}
	// The wait command returns once the store signals.
	cmd := m.waitChanged()
	go r.Emit(event.Metrics{Time: t0.Add(2 * time.Minute), Step: 4, Values: map[string]float64{"reward": 1}})
	if _, ok := cmd().(changedMsg); !ok {
		t.Fatal("waitChanged did not report a change")
	}
	m.shutdown()
}

func TestResizeStorm(t *testing.T) {
	r := newTestRun(t, 20, 2, 2, 300)
	m := sized(t, r, 80, 24, &fakeControl{})
	send(m, press("2"))
	send(m, press("enter"))
	for i := 0; i < 400; i++ {
		w, h := (i*37)%260, (i*23)%90
		m.Update(tea.WindowSizeMsg{Width: w, Height: h})
		if i%3 == 0 {
			send(m, press("tab"))
		}
		if i%7 == 0 {
			send(m, press("right"))
		}
		v := m.View()
		if w >= MinWidth && h >= MinHeight {
			golden.Fits(t, v, w, h)
		} else if w > 0 && h > 0 {
			golden.Fits(t, v, w, h)
		}
	}
	// At 20 columns the whole message shows, a short line each.
	m.Update(tea.WindowSizeMsg{Width: 20, Height: 10})
	if v := m.View(); !strings.Contains(v, fmt.Sprintf("need %d×%d,", MinWidth, MinHeight)) || !strings.Contains(v, "now 20×10.") {
		t.Errorf("too-small message at 20 columns:\n%s", v)
	}
}

func TestFilterParse(t *testing.T) {
	for _, s := range []string{"top", "bottom", "q2", "..1", "-1..", "0.5..2", ""} {
		if _, err := parseRewardFilter(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"x", "2..1", "a..b"} {
		if _, err := parseRewardFilter(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

// TestReadOnlyReview: sessions refuses reviews on a run opened read-only;
// the workbench says so and the label stays.
// TestEngineKeysSayWhyNot: p, S and c on a run with no engine in this
// workbench say why, in the words the header uses for the run: review, or
// read-only.
func TestEngineKeysSayWhyNot(t *testing.T) {
	w := newTestRun(t, 2, 1, 2, 8)
	review := sized(t, w, 120, 30, nil)
	send(review, press("p"))
	if !strings.Contains(review.msg, "review: no engine runs in this workbench") {
		t.Errorf("p in review: %q", review.msg)
	}
	ro := sized(t, reopenReadOnly(t, w), 120, 30, nil)
	send(ro, press("p"))
	if !strings.HasPrefix(ro.msg, "read-only:") {
		t.Errorf("p read-only: %q", ro.msg)
	}
}

// reopenReadOnly closes the run w and opens it again read-only, as a
// workbench does a run another process holds.
func reopenReadOnly(t *testing.T, w *sessions.Run) *sessions.Run {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := sessions.OpenReadOnly(w.Dir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// The detail's legend states the run's KL coefficients from its
// config.toml; where config.toml does not decode, or is an imported run's
// (the trainer's coefficients are not recorded), it does not claim the
// defaults as the run's.
func TestDetailLegendCoefficients(t *testing.T) {
	ours := func(config string) func(t *testing.T) string {
		return func(t *testing.T) string {
			w := newTestRun(t, 1, 1, 2, 8)
			if err := os.WriteFile(filepath.Join(w.Dir(), "config.toml"), []byte(config), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			return w.Dir()
		}
	}
	// strict opens the run as the launcher does: config.toml decoded
	// strictly, its error a problem of the session.
	strict := func(t *testing.T, dir string, w, h int) *Model {
		ro, err := sessions.OpenReadOnly(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ro.Close() })
		s := &sessions.Session{Run: ro, ReadOnly: true}
		var cfg struct {
			Task   string              `toml:"task"`
			Reward record.RewardConfig `toml:"reward"`
		}
		if err := ro.DecodeConfig(&cfg); err != nil {
			s.Problems = append(s.Problems, err)
		}
		m := newModel(Options{Session: s})
		m.Update(tea.WindowSizeMsg{Width: w, Height: h})
		return m
	}
	for _, tc := range []struct {
		name        string
		dir         func(t *testing.T) string
		open        func(t *testing.T, dir string, w, h int) *Model
		want, never string
	}{
		{"the run's", ours("task = 'addition'\n[reward]\nkl_mean = 5.0\nkl_max = 0.5\n"), strict, "λ=5 α=0.1", "λ=3"},
		{"no penalty", ours("task = 'addition'\n[reward]\nkl_mean = 0.0\nkl_max = 0.0\n"), strict, "λ=0, no KL penalty", "λ=3"},
		// A key [reward] lacks (a hand edit) is its default, as the run
		// resumes and is scored (sessions.RunReward), said so: the file
		// holds no such value. It was shown as the file's.
		{"kl_max not set", ours("task = 'addition'\n[reward]\nkl_mean = 5.0\n"), strict, "λ=5 α=0.006 (kl_max at its default)", "λ=3"},
		{"no [reward]", ours("task = 'addition'\n"), strict, "λ=3 α=0.01 (kl_mean and kl_max at their defaults)", "λ=5"},
		{"kl_mean 0, kl_max not set", ours("task = 'addition'\n[reward]\nkl_mean = 0.0\n"), strict, "(kl_max at its default)", "λ="},
		{"config.toml does not decode", ours("task = 'addition'\n[reward]\nkl_mean = 'five'\n"), strict, "unknown: config.toml", "λ="},
		// A key the settings have no place for is passed over, the rest
		// read, by the one rule rlt score --run scores by
		// (sessions.UnknownKeys): λ=5, as the CLI scores it. The legend
		// said "λ unknown: config.toml (!)", stricter than the CLI. A
		// typo in [reward] leaves its key at its default, said.
		{"a key config.toml does not have", ours("task = 'addition'\nstepz = 3\n[reward]\nkl_mean = 5.0\nkl_max = 0.5\n"), strict, "λ=5 α=0.1", "unknown"},
		{"a typo in [reward]", ours("task = 'addition'\n[reward]\nkl_mean = 5.0\nkl_mx = 0.5\n"), strict, "λ=5 α=0.006 (kl_max at its default)", "unknown"},
		{"imported", func(t *testing.T) string { return importOfficial(t) }, nil, "the trainer's", "λ="},
		// An import whose rows record the reward they were ranked with
		// ([import.reward]) shows it as the rows', where it said the
		// trainer's were not recorded.
		{"imported with its rows' reward", func(t *testing.T) string {
			return withImportReward(t, importOfficial(t), "kl_mean = 5.0\nkl_max = 0.5\n")
		}, nil, "the rows' λ=5 α=0.1", "the trainer's"},
		// A key the rows' reward lacks is its default, said as a run's
		// [reward] says it; it was shown as though the file held it.
		{"imported with its rows' reward, kl_max not set", func(t *testing.T) string {
			return withImportReward(t, importOfficial(t), "kl_mean = 5.0\n")
		}, nil, "the rows' λ=5 α=0.006 (kl_max at its default)", "the trainer's"},
		// One scoring refuses is not claimed (rlt score --run says it).
		{"imported with a reward scoring refuses", func(t *testing.T) string {
			return withImportReward(t, importOfficial(t), "kl_mean = 5.0\ntemperature = 0.0\n")
		}, nil, "the trainer's", "λ="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			for _, width := range []int{80, 120} {
				var m *Model
				if tc.open != nil {
					m = tc.open(t, dir, width, 30)
				} else {
					m = openReadOnly(t, dir, width, 30)
				}
				send(m, press("3"))
				v := ansi.Strip(m.View())
				if !strings.Contains(v, tc.want) || strings.Contains(v, tc.never) {
					t.Errorf("%d columns: detail does not say %q or says %q:\n%s", width, tc.want, tc.never, v)
				}
			}
		})
	}
}

// withImportReward appends an [import.reward] table of keys to the
// imported run dir's config.toml, as an import of rows that record their
// reward writes it (or a user edits it), and returns dir.
func withImportReward(t *testing.T, dir, keys string) string {
	t.Helper()
	path := filepath.Join(dir, sessions.ConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, "\n[import.reward]\n"+keys...), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDetailLegendReadWhole: the heatmap's legend says what its colours
// mean whole at every width the workbench draws, in each colouring (d_k,
// ℓT) and scale (the run's or absolute, the trace's): at 80 columns the
// trace's d_k scale lost "blue: <0" and the absolute log-prob scale its
// "p ≤ 0.67%" off the line's end, at 60 more; and what white is
// ("certain"), where the shortest wording said "log p 0" alone, and what
// red is ("r_KL penalises it"), where 80 columns kept "λ=3 α=0.01" alone.
func TestDetailLegendReadWhole(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 60)
	// What red is ("r_KL penalises it", "penalised by r_KL=…") is said at
	// every width, the coefficients where they fit (from 100 columns
	// here, on one line with the rest).
	dk := []string{"red: d_k", ">0", "penalis", "r_KL", "blue: <0"}
	for _, c := range []struct {
		keys []string
		want []string
	}{
		{nil, append([]string{"run scale (z"}, dk...)},
		{[]string{"z"}, append([]string{"this trace's scale (z"}, dk...)},
		{[]string{"v"}, []string{"absolute scale (z", "white: ", "certain", "dark: ≤ −5", "p ≤ 0.67%"}},
		{[]string{"v", "z"}, []string{"this trace's scale (z", "white: ", "certain", "its lowest"}},
	} {
		for _, w := range []int{60, 80, 100, 120, 200} {
			m := sized(t, r, w, 30, &fakeControl{})
			send(m, press("2"))
			send(m, press("enter"))
			for _, k := range c.keys {
				send(m, press(k))
			}
			v := m.View()
			golden.Fits(t, v, w, 30)
			flat := strings.Join(strings.Fields(ansi.Strip(v)), " ")
			want := c.want
			if c.want[1] == dk[0] && w >= 100 {
				want = append(slices.Clone(want), "d_k=ℓT−ℓS>0", "λ=3 α=0.01")
			}
			for _, part := range want {
				if !strings.Contains(flat, part) {
					t.Errorf("keys %q at %d columns: the legend does not say %q:\n%s", c.keys, w, part, v)
				}
			}
		}
	}
}

// TestDetailReconstructionTitleWhole: the reconstruction's title says
// what it is in words that fit the panel, none cut: at 80 columns it read
// "… given the question and this explana…", beside the heatmap at 120 "the
// student's greedy answer …".
func TestDetailReconstructionTitleWhole(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 20)
	for _, w := range []int{60, 80, 120, 160, 200} {
		m := sized(t, r, w, 30, &fakeControl{})
		send(m, press("2"))
		send(m, press("enter"))
		v := ansi.Strip(m.View())
		var title string
		for _, l := range strings.Split(v, "\n") {
			if _, after, ok := strings.Cut(l, "reconstruction"); ok {
				title = "reconstruction" + strings.TrimRight(after, " ")
			}
		}
		if !strings.HasPrefix(title, "reconstruction: the student's greedy answer") || strings.HasSuffix(title, "…") {
			t.Errorf("%d columns: the reconstruction's title reads %q, want what it is, whole:\n%s", w, title, v)
		}
	}
}

// TestWrapParts: a legend too wide for one line breaks between its parts,
// each line within the width, nothing left out.
func TestWrapParts(t *testing.T) {
	for _, c := range []struct {
		s    string
		w    int
		want []string
	}{
		{"a · b · c", 9, []string{"a · b · c"}},
		{"a · b · c", 8, []string{"a · b", "c"}},
		{"a · b · c", 5, []string{"a · b", "c"}},
		{"a · b · c", 4, []string{"a", "b", "c"}},
		{"scale · red means more · blue", 10, []string{"scale", "red means", "more", "blue"}},
	} {
		got := wrapParts(c.s, " · ", c.w)
		if !slices.Equal(got, c.want) {
			t.Errorf("wrapParts(%q, %d) = %q, want %q", c.s, c.w, got, c.want)
		}
		for _, l := range got {
			if width(l) > c.w {
				t.Errorf("wrapParts(%q, %d): line %q wider than %d", c.s, c.w, l, c.w)
			}
		}
	}
}

func TestReadOnlyReview(t *testing.T) {
	r := reopenReadOnly(t, newTestRun(t, 2, 1, 2, 8))
	m := sized(t, r, 80, 24, nil)
	if len(m.traces.all) != 4 {
		t.Fatalf("read-only run shows %d traces", len(m.traces.all))
	}
	send(m, press("2"))
	send(m, press("enter"))
	id := m.detail.rec.ID
	send(m, press("a"))
	if l := r.Store().Label(id).Label; l != sessions.LabelNone {
		t.Errorf("label %q on a read-only run", l)
	}
	if !strings.Contains(m.msg, "read-only") {
		t.Errorf("message %q", m.msg)
	}
	if v := m.View(); !strings.Contains(v, "read-only") {
		t.Errorf("status line does not say read-only:\n%s", v)
	}
	golden.Fits(t, m.View(), 80, 24)
}

// TestWidth: the fast width agrees with ansi.StringWidth on every line of
// every golden view, on those lines painted in colour, and on text it
// leaves to ansi.StringWidth (wide and combining characters).
func TestWidth(t *testing.T) {
	files, err := filepath.Glob("testdata/*.golden")
	if err != nil || len(files) == 0 {
		t.Fatal("no golden files", err)
	}
	lines := []string{"", "é", "日本語", "e\u0301", "a\tb", "\x1b]8;;x\x1b\\link", "⠿⣿ λ=3 ±0.2 ■□◆● …", "\x1b[38;2;1;2;3m■\x1b[0m x"}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, l := range strings.Split(string(data), "\n") {
			lines = append(lines, l, "\x1b[1;38;5;208m"+l+"\x1b[m")
		}
	}
	for _, l := range lines {
		if got, want := width(l), ansi.StringWidth(l); got != want {
			t.Errorf("width(%q) = %d, ansi.StringWidth %d", l, got, want)
		}
	}
}

// TestMemoryLabel: the header's memory is the GPU's where the step
// measured it, else the process's peak, else nothing.
func TestMemoryLabel(t *testing.T) {
	for _, c := range []struct {
		metrics map[string]float64
		want    string
	}{
		{map[string]float64{"reward": 1}, ""},
		{map[string]float64{"memory_host_gib": 0.25, "memory_host_peak_gib": 0.3125}, "mem 0.31 GiB"},
		{map[string]float64{"memory_host_peak_gib": 1.5, "memory_device_peak_gib": 12.25}, "gpu 12.2 GiB"},
	} {
		get := func(k string) (float64, bool) { v, ok := c.metrics[k]; return v, ok }
		if got := memoryLabel(get); got != c.want {
			t.Errorf("memoryLabel(%v) = %q, want %q", c.metrics, got, c.want)
		}
	}
}

// pausingControl answers Paused as run.Engine does: true from the moment a
// pause is asked for, before the engine reaches the end of its step.
type pausingControl struct {
	fakeControl
	asked bool
}

func (p *pausingControl) Pause()       { p.fakeControl.Pause(); p.asked = true }
func (p *pausingControl) Resume()      { p.fakeControl.Resume(); p.asked = false }
func (p *pausingControl) Paused() bool { return p.asked }

// TestHeaderPausingThenPaused: p asks for a pause; until the engine records
// the paused phase (after its step) the header says pausing, not paused.
func TestHeaderPausingThenPaused(t *testing.T) {
	r := newTestRun(t, 3, 2, 4, 60)
	ctl := &pausingControl{}
	m := newModel(Options{Session: &sessions.Session{Run: r, Steps: 20, Control: ctl}})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	send(m, press("p"))
	header := func() string { return strings.SplitN(m.View(), "\n", 2)[0] }
	if h := header(); !strings.Contains(h, "pausing (after the step in progress)") {
		t.Fatalf("header after p: %q", h)
	}
	r.Emit(event.Phase{Time: t0, Name: "paused", Step: 3})
	r.Flush()
	m.pull()
	if h := header(); !strings.Contains(h, "· paused ·") || strings.Contains(h, "pausing") {
		t.Errorf("header once paused: %q", h)
	}
	send(m, press("p"))
	if h := header(); strings.Contains(h, "paused") || strings.Contains(h, "pausing") {
		t.Errorf("header after resuming: %q", h)
	}
}

// TestHeaderSaysReviewOrReadOnly: a run open with no engine here says
// "(review)" where reviews and exports are written, "(read-only)" only
// where they are refused.
func TestHeaderSaysReviewOrReadOnly(t *testing.T) {
	r := newTestRun(t, 3, 2, 4, 60)
	for _, c := range []struct {
		readOnly bool
		want     string
	}{{false, "(review)"}, {true, "(read-only)"}} {
		m := newModel(Options{Session: &sessions.Session{Run: r, Steps: 20, ReadOnly: c.readOnly}})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
		lines := strings.Split(m.View(), "\n")
		if !strings.Contains(lines[0], c.want) || !strings.Contains(m.View(), strings.Trim(c.want, "()")) {
			t.Errorf("read-only %v: header %q, want %q", c.readOnly, lines[0], c.want)
		}
	}
}

// killWriter leaves the run that w writes as SIGKILL would leave it: its
// records as written, no close event, and run.lock naming a pid no
// process has (sessionstest.DeadPID) while no process holds the lock (w
// is closed in this process to let it go; what a killed writer would not
// have written is taken back).
func killWriter(t *testing.T, w *sessions.Run) {
	t.Helper()
	dir := w.Dir()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sessionstest.TakeBackClose(t, dir)
	evPath := filepath.Join(dir, sessions.EventsFile)
	data, err := os.ReadFile(evPath)
	if err != nil {
		t.Fatal(err)
	}
	// The killed writer's create or open event names its process (an
	// open event's intent may follow it: the last one is the writer's).
	kept := string(data)
	i, self := -1, ""
	for _, end := range []string{"}", ","} {
		if s := fmt.Sprintf(`"pid":%d%s`, os.Getpid(), end); strings.LastIndex(kept, s) > i {
			i, self = strings.LastIndex(kept, s), s
		}
	}
	if i < 0 {
		t.Fatalf("no event names this process: %s", kept)
	}
	dead := sessionstest.DeadPID(t)
	kept = kept[:i] + fmt.Sprintf(`"pid":%d`, dead) + self[len(self)-1:] + kept[i+len(self):]
	if err := os.WriteFile(evPath, []byte(kept), 0o644); err != nil {
		t.Fatal(err)
	}
	lock := fmt.Sprintf(`{"pid":%d,"started":"2026-01-02T03:04:05Z"}`, dead) + "\n"
	if err := os.WriteFile(filepath.Join(dir, sessions.LockFileName), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHeaderSaysAKilledRunStopped: a run whose writer was killed (run.lock
// left behind, held by no process) and that no engine here drives reads
// "stopped, interrupted" with no pace or ETA, as the Runs screen lists it
// stopped, whether it was opened read-only or to review (rlt open takes
// the lock no one holds); opening it says that r on the Runs screen
// resumes it, and r there does. A run watched while its writer lives
// reads running until the writer is killed, then stopped at the next
// tick. The header used to say running: its phases were all it read.
func TestHeaderSaysAKilledRunStopped(t *testing.T) {
	for _, c := range []struct {
		name     string
		killLate bool // killed while watched, not before opening
		// reviewed: opened to review and closed after the kill, before
		// this opening (rlt open, quit): run.lock is emptied, the close
		// event is the review's, and the training's end is still unclean.
		reviewed bool
		open     func(l *testLauncher, dir string) (*sessions.Session, error)
		suffix   string
	}{
		{"read-only", false, false, (*testLauncher).OpenReadOnly, "(read-only)"},
		{"to review", false, false, (*testLauncher).OpenForReview, "(review)"},
		{"read-only, killed while watched", true, false, (*testLauncher).OpenReadOnly, "(read-only)"},
		{"read-only, reviewed since", false, true, (*testLauncher).OpenReadOnly, "(read-only)"},
		{"to review, reviewed since", false, true, (*testLauncher).OpenForReview, "(review)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			dir := filepath.Join("runs", "killed")
			cfg := flowCfg{Task: "addition", Steps: 10}
			w, err := sessions.Create(dir, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for s := 0; s < 3; s++ {
				at := time.Now().Add(time.Duration(s-3) * 6 * time.Second)
				w.Emit(event.Phase{Time: at, Name: "sampling", Step: s})
				w.Emit(event.Metrics{Time: at, Step: s, Values: map[string]float64{"reward": 0.1 * float64(s)}})
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if !c.killLate {
				killWriter(t, w)
			}
			if c.reviewed {
				rv, err := sessions.Open(dir, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := rv.Close(); err != nil {
					t.Fatal(err)
				}
			}
			m, l := viewWith(t, c.open, dir)
			if c.killLate {
				if h := m.statusLine(); !strings.Contains(h, "· running "+c.suffix+" · sampling ·") {
					t.Fatalf("header while the writer lives: %q", h)
				}
				killWriter(t, w)
				awaitKillRead(t, m)
			}
			h := m.statusLine()
			if want := "· stopped, interrupted " + c.suffix + " ·"; !strings.Contains(h, want) {
				t.Errorf("header %q, want %q", h, want)
			}
			for _, avoid := range []string{"running", "st/min", "ETA"} {
				if strings.Contains(h, avoid) {
					t.Errorf("header %q shows %q", h, avoid)
				}
			}
			if !strings.Contains(m.msg, wayOnOfInterrupted(dir)) {
				t.Errorf("message %q does not say how to resume it", m.msg)
			}
			// The Runs screen lists it as the header says.
			hit(t, m, "4")
			listNow(t, m)
			row := m.runs.selected()
			if row == nil || filepath.Base(row.Dir) != "killed" || row.State != string(sessions.StateStopped) {
				t.Fatalf("Runs screen row %+v, want killed, stopped", row)
			}
			// The resume is launched off the event loop: pump its command
			// to the end (hit would drop a launch slower than its settle).
			// A checkpoint to continue from, as a resume needs: one without is
			// refused before the view is closed (resumeRefusal).
			withCheckpoint(t, row.Dir, 0)
			_, cmd := m.Update(keyMsg("r"))
			pump(t, m, cmd, func() bool { return m.switching == "" && m.cur != nil && m.cur.Control != nil })
			if len(l.ctls) != 1 || m.sh.run == nil || filepath.Base(m.sh.run.Dir()) != "killed" {
				t.Errorf("r did not resume it: %d engines, open %q", len(l.ctls), m.openName())
			}
		})
	}
}

// TestHeaderSaysWhatTheListingSaysOfAResume: a run no engine here drives
// reads in the header as the Runs screen lists it while another process
// resumes it (rlt run --resume, r in another workbench), whatever its
// last session ended with. While that process loads the engine (its open
// event says it opens to resume, no resume event yet) the run is
// resuming, not the stopped, finished or failed its phases still say; a
// resume killed while loading leaves it stopped with its exit unclean
// ("stopped, interrupted"), even a finished or failed run; a refused one
// (closed as it found it) leaves it as it was; one that resumed runs. The
// header used to say "stopped (read-only)" for the first and "finished"
// for the second: its phases were all it read once the engine had ended.
func TestHeaderSaysWhatTheListingSaysOfAResume(t *testing.T) {
	type resume int
	const (
		loading resume = iota // opened to resume, its engine loading
		killed                // killed while its engine loaded
		refused               // opened to resume and closed, the run as it was
		resumed               // its engine loaded: the resume event written
	)
	for _, c := range []struct {
		name  string
		ended string // how the session that trained it ended: a phase, or "fatal"
		resume
		// late: the resume is opened (and killed) while the run is
		// watched here, not before it was opened here.
		late   bool
		open   func(l *testLauncher, dir string) (*sessions.Session, error)
		listed sessions.RunState
		want   string // the header's state, with its suffix
	}{
		{"stopped, loading", "stopped", loading, false, (*testLauncher).OpenReadOnly, sessions.StateResuming, "resuming (read-only)"},
		{"finished, loading", "done", loading, false, (*testLauncher).OpenReadOnly, sessions.StateResuming, "resuming (read-only)"},
		{"failed, loading", "fatal", loading, false, (*testLauncher).OpenReadOnly, sessions.StateResuming, "resuming (read-only)"},
		// rlt open of a run another process holds opens it read-only.
		{"finished, loading, opened to review", "done", loading, false, (*testLauncher).OpenForReview, sessions.StateResuming, "resuming (read-only)"},
		{"stopped, loading, while watched", "stopped", loading, true, (*testLauncher).OpenReadOnly, sessions.StateResuming, "resuming (read-only)"},
		{"finished, loading, while watched", "done", loading, true, (*testLauncher).OpenReadOnly, sessions.StateResuming, "resuming (read-only)"},
		{"stopped, killed loading", "stopped", killed, false, (*testLauncher).OpenReadOnly, sessions.StateStopped, "stopped, interrupted (read-only)"},
		{"finished, killed loading", "done", killed, false, (*testLauncher).OpenReadOnly, sessions.StateStopped, "stopped, interrupted (read-only)"},
		{"finished, killed loading, opened to review", "done", killed, false, (*testLauncher).OpenForReview, sessions.StateStopped, "stopped, interrupted (review)"},
		{"failed, killed loading", "fatal", killed, false, (*testLauncher).OpenReadOnly, sessions.StateStopped, "stopped, interrupted (read-only)"},
		{"finished, killed loading while watched", "done", killed, true, (*testLauncher).OpenReadOnly, sessions.StateStopped, "stopped, interrupted (read-only)"},
		{"finished, refused", "done", refused, false, (*testLauncher).OpenReadOnly, sessions.StateFinished, "finished (read-only)"},
		{"finished, refused while watched", "done", refused, true, (*testLauncher).OpenReadOnly, sessions.StateFinished, "finished (read-only)"},
		{"stopped, resumed", "stopped", resumed, false, (*testLauncher).OpenReadOnly, sessions.StateRunning, "running (read-only)"},
		{"stopped, resumed while watched", "stopped", resumed, true, (*testLauncher).OpenReadOnly, sessions.StateRunning, "running (read-only)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			dir := filepath.Join("runs", "resumed")
			w, err := sessions.Create(dir, flowCfg{Task: "addition", Steps: 3})
			if err != nil {
				t.Fatal(err)
			}
			for s := 0; s < 3; s++ {
				at := time.Now().Add(time.Duration(s-3) * 6 * time.Second)
				w.Emit(event.Phase{Time: at, Name: "sampling", Step: s})
				w.Emit(event.Metrics{Time: at, Step: s, Values: map[string]float64{"reward": 0.1 * float64(s)}})
			}
			if c.ended == "fatal" {
				w.Emit(event.Error{Time: time.Now(), Step: 2, Err: fmt.Errorf("boom"), Fatal: true})
			} else {
				w.Emit(event.Phase{Time: time.Now(), Name: c.ended, Step: 2})
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			// The other process: a Run of its own, holding run.lock with
			// a lock of its own as another process's would.
			resumeIt := func() {
				r, err := sessions.OpenWith(dir, nil, sessions.Options{Intent: sessions.IntentResume})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				switch c.resume {
				case killed:
					killWriter(t, r)
				case refused:
					if err := r.Close(); err != nil {
						t.Fatal(err)
					}
				case resumed:
					if err := r.Resume(2); err != nil {
						t.Fatal(err)
					}
				}
				if c.resume == loading || c.resume == resumed {
					if err := r.Flush(); err != nil { // its events on disk, for the listing and the view
						t.Fatal(err)
					}
				}
			}
			if !c.late {
				resumeIt()
			}
			m, _ := viewWith(t, c.open, dir)
			if c.late {
				resumeIt()
				// Wait until the run open here has followed the events
				// the resume wrote (or the kill left), then let a tick
				// ask it as the header does.
				lastKind := map[resume]string{loading: sessions.KindOpen, killed: sessions.KindOpen, refused: sessions.KindClose, resumed: sessions.KindResume}[c.resume]
				for deadline := time.Now().Add(hangGuard); ; time.Sleep(10 * time.Millisecond) {
					st, interrupted, _ := m.sh.run.StateGone()
					evs, _ := m.sh.run.Store().EventsSince(0)
					if st == c.listed && interrupted == (c.resume == killed) && len(evs) > 0 && evs[len(evs)-1].Kind == lastKind {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("the run open here never read the events the resume left: %s, interrupted %v", st, interrupted)
					}
				}
				m.pull()
				m.Update(tickMsg(time.Now()))
			}
			h := m.statusLine()
			if !strings.Contains(h, "· "+c.want+" ·") {
				t.Errorf("header %q, want %q", h, c.want)
			}
			if c.resume == loading || c.resume == killed {
				for _, avoid := range []string{"st/min", "ETA"} {
					if strings.Contains(h, avoid) {
						t.Errorf("header %q shows %q", h, avoid)
					}
				}
			}
			if said := strings.Contains(m.msg, wayOnOfInterrupted(dir)); said != (c.resume == killed) {
				t.Errorf("message %q: says how to resume it %v, want %v", m.msg, said, c.resume == killed)
			}
			// The Runs screen lists it as the header says.
			hit(t, m, "4")
			listNow(t, m)
			row := m.runs.selected()
			if row == nil || filepath.Base(row.Dir) != "resumed" || row.State != string(c.listed) {
				t.Fatalf("Runs screen row %+v, want resumed, %s", row, c.listed)
			}
			if !strings.HasPrefix(c.want, row.State) {
				t.Errorf("header says %q where the Runs screen lists %q", c.want, row.State)
			}
		})
	}
}

// TestRateLeavesOutPauses: the steps per minute (and so the ETA) count the
// time between steps less any time the engine spent paused, ended or not.
func TestRateLeavesOutPauses(t *testing.T) {
	at := func(min float64) time.Time { return t0.Add(time.Duration(min * float64(time.Minute))) }
	for _, c := range []struct {
		name   string
		pauses []pauseSpan
		want   float64
	}{
		{"no pause", nil, 4.0 / 8},
		{"paused 4 of the 8 minutes", []pauseSpan{{at(2), at(6)}}, 4.0 / 4},
		{"paused before the window too", []pauseSpan{{at(-5), at(1)}}, 4.0 / 7},
		{"still paused", []pauseSpan{{from: at(6)}}, 4.0 / 6},
	} {
		m := &Model{runStatus: runStatus{recent: []stepAt{{3, at(0)}, {5, at(3)}, {7, at(8)}}, pauses: c.pauses}}
		if got := m.rate(); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: %.4f steps/min, want %.4f", c.name, got, c.want)
		}
	}
}

// TestRateLeavesOutTimeBetweenSessions: a run resumed later (rlt run
// --resume, r on the Runs screen) did no step between its last session's
// end and the resume, so the steps per minute and the ETA leave that time
// out as they leave out a pause: one step a minute before and after a
// two-hour gap is 1.0 st/min, not 4 steps over two hours. How the earlier
// session ended does not matter, and a pause it ended in is not left out
// twice.
func TestRateLeavesOutTimeBetweenSessions(t *testing.T) {
	for _, c := range []struct {
		name  string
		ended string // the last phase of the first session ("": killed mid-step)
	}{
		{"stopped", "stopped"},
		{"done, resumed to more steps", "done"},
		{"paused when it was closed", "paused"},
		{"killed", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r, err := sessions.Create(dir, testCfg{Task: "addition", Steps: 5})
			if err != nil {
				t.Fatal(err)
			}
			first := time.Now().Add(-2 * time.Hour)
			at := func(min int) time.Time { return first.Add(time.Duration(min) * time.Minute) }
			for s := 0; s < 3; s++ {
				r.Emit(event.Phase{Time: at(s).Add(-time.Second), Name: "sampling", Step: s})
				r.Emit(event.Metrics{Time: at(s), Step: s, Values: map[string]float64{"reward": -1}})
			}
			if c.ended != "" {
				r.Emit(event.Phase{Time: at(2), Name: c.ended, Step: 3})
			} else {
				r.Emit(event.Phase{Time: at(2), Name: "sampling", Step: 3})
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}

			var cfg testCfg
			r, err = sessions.Open(dir, &cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			if err := r.Resume(2); err != nil {
				t.Fatal(err)
			}
			evs, _ := r.Store().EventsSince(0)
			resumed := evs[len(evs)-1].Time
			for s := 3; s < 5; s++ {
				t := resumed.Add(time.Duration(s-2) * time.Minute)
				r.Emit(event.Phase{Time: t.Add(-time.Minute + time.Second), Name: "sampling", Step: s})
				r.Emit(event.Metrics{Time: t, Step: s, Values: map[string]float64{"reward": -1}})
			}
			r.Flush()
			m := newModel(Options{Session: &sessions.Session{Run: r, Control: &fakeControl{}, Steps: 10}})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			m.pull()
			if got := m.rate(); math.Abs(got-1) > 1e-6 {
				t.Errorf("%.4f steps/min, want 1.0000 (pauses %v)", got, m.pauses)
			}
			if s := m.statusLine(); !strings.Contains(s, "step 5/10") || !strings.Contains(s, "ETA 5m0s") {
				t.Errorf("header %q: want step 5/10 and ETA 5m0s", s)
			}
		})
	}
}

// TestHeaderKeepsTheRewardAt80Columns: at 80 columns the header, cut from
// the right, keeps the step and the reward before the device's name.
func TestHeaderKeepsTheRewardAt80Columns(t *testing.T) {
	r := newTestRun(t, 3, 2, 4, 60)
	r.Emit(event.Device{Time: t0, DeviceChoice: event.DeviceChoice{Backend: "vulkan/NVIDIA H200 NVL (rev a1)", GPU: "gpu:3", Why: "asked for"}})
	r.Flush()
	m := sized(t, r, 80, 24, &fakeControl{})
	m.pull()
	h := strings.SplitN(m.View(), "\n", 2)[0]
	step, reward, dev := strings.Index(h, "step "), strings.Index(h, "reward "), strings.Index(h, "vulkan/")
	if step < 0 || reward < 0 || (dev >= 0 && dev < reward) {
		t.Errorf("header %q: want step and reward before the device", h)
	}
}

// TestHeaderKeepsTheDeviceAt120Columns: at 120 columns a run training on
// a GPU, in the step's longest phase (reconstructing), keeps which device
// it trains on in its header: the device's name gives way to its short
// form (gpu:0) before it is left out, and that outlives the memory and
// the pace. The header dropped the device there while it kept them; and
// the memory, while the tabs' names took the room it needed.
func TestHeaderKeepsTheDeviceAt120Columns(t *testing.T) {
	r := newTestRun(t, 12, 2, 4, 60)
	// The device event of the session that resumed it after step 12.
	r.Emit(event.Device{Time: t0.Add(75 * time.Second), Step: 13, DeviceChoice: event.DeviceChoice{Backend: "vulkan/NVIDIA H200 NVL (rev a1)", GPU: "gpu:0", Why: "asked for"}})
	r.Emit(event.Metrics{Time: t0.Add(78 * time.Second), Step: 13, Values: map[string]float64{"reward": 0.3, "memory_device_peak_gib": 3.2, "memory_host_gib": 1.1}})
	r.Emit(event.Progress{Time: t0.Add(82 * time.Second), Started: t0.Add(80 * time.Second), Step: 14, Phase: "reconstructing", Done: 1, Total: 4, Unit: "passes"})
	r.Flush()
	for _, c := range []struct {
		w, h       int
		want       []string
		avoid      []string
		goldenName string
	}{
		// Room for it all but the run's name.
		{240, 30, []string{"vulkan/NVIDIA H200 NVL gpu:0", "gpu 3.2 GiB", "st/min", "ETA", "reconstructing 1/4 passes · 0.5 passes/s · 0s left · step 14/20"}, nil, ""},
		{120, 40, []string{" · gpu:0 · ", "gpu 3.2 GiB", "st/min", "ETA"}, []string{"vulkan/", "reconstructing"}, "dashboard_gpu_120x40"},
	} {
		m := sized(t, r, c.w, c.h, &fakeControl{})
		m.pull()
		v := m.View()
		h := strings.SplitN(v, "\n", 2)[0]
		for _, w := range c.want {
			if !strings.Contains(h, w) {
				t.Errorf("at %d columns the header %q lacks %q", c.w, h, w)
			}
		}
		for _, a := range c.avoid {
			if strings.Contains(h, a) {
				t.Errorf("at %d columns the header %q shows %q", c.w, h, a)
			}
		}
		golden.Fits(t, v, c.w, c.h)
		if c.goldenName != "" {
			golden.Assert(t, c.goldenName, v)
		}
	}
}

// TestHeaderCountsStepsDone: the header counts the steps done against the
// planned total (metrics records number steps from 0, so a finished run of
// 6 steps reads 6/6), the ETA counts the steps left from the same number,
// and the step in progress, named by its index, carries that number too.
func TestHeaderCountsStepsDone(t *testing.T) {
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	for _, c := range []struct {
		name        string
		planned     int           // Session.Steps; 0: open-ended
		records     int           // metrics records of steps 0…records-1, a minute apart
		inProgress  string        // phase of step `records` in progress ("": none)
		finished    bool          // the engine said "done"
		stopAsked   bool          // the researcher asked the run to stop after the step in progress
		paused      bool          // the engine paused after its last step
		now         time.Duration // the workbench's clock: this long after the last record
		want, avoid []string
	}{
		{name: "finished", planned: 6, records: 6, finished: true,
			want: []string{"finished", "step 6/6"}, avoid: []string{"step 5/6", "ETA"}},
		{name: "half done", planned: 6, records: 3,
			want: []string{"running", "step 3/6", "1.0 st/min", "ETA 3m0s"}},
		{name: "fourth step sampling", planned: 6, records: 3, inProgress: "sampling",
			want: []string{"sampling 48/96 tokens · 8 tokens/s · 6s left · step 3/6", "ETA 3m0s"}, avoid: []string{"step 3:"}},
		// Between steps the ETA counts down the step in progress; the
		// steps after it keep their minute each, also once it is overdue.
		{name: "40 s into the fourth step", planned: 6, records: 3, now: 40 * time.Second,
			want: []string{"step 3/6", "1.0 st/min", "ETA 2m20s"}},
		{name: "the fourth step overdue", planned: 6, records: 3, now: 3 * time.Minute,
			want: []string{"step 3/6", "ETA 2m0s"}},
		{name: "first step done", planned: 6, records: 1,
			want: []string{"step 1/6"}, avoid: []string{"step 0/6"}},
		{name: "open-ended", planned: 0, records: 3,
			want: []string{"step 3 "}, avoid: []string{"step 3/", "ETA"}},
		{name: "no step yet", planned: 6, records: 0, // the plan shows from the start
			want: []string{"step 0/6"}},
		{name: "no step yet, open-ended", planned: 0, records: 0,
			avoid: []string{"step "}},
		// A paused engine keeps no pace: the header says none (it showed
		// the pace of before the pause, as if the run went on at it).
		{name: "paused", planned: 6, records: 3, paused: true,
			want: []string{"paused", "step 3/6"}, avoid: []string{"st/min", "ETA"}},
		{name: "stopping", planned: 6, records: 3, inProgress: "sampling", stopAsked: true,
			want: []string{"stopping", "step 3/6", "1.0 st/min", "sampling 48/96 tokens · 8 tokens/s · 6s left"}, avoid: []string{"ETA 3m"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition", Steps: c.planned})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			for s := 0; s < c.records; s++ {
				r.Emit(event.Metrics{Time: at(s), Step: s, Values: map[string]float64{"reward": -1}})
			}
			if c.finished {
				r.Emit(event.Phase{Time: at(c.records), Name: "done", Step: c.records})
			}
			if c.paused {
				r.Emit(event.Phase{Time: at(c.records - 1), Name: "paused", Step: c.records - 1})
			}
			r.Flush()
			m := newModel(Options{Session: &sessions.Session{Run: r, Control: &fakeControl{}, Steps: c.planned}})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			m.pull()
			if c.inProgress != "" {
				r.Emit(event.Progress{Time: at(c.records).Add(6 * time.Second), Started: at(c.records), Step: c.records,
					Phase: c.inProgress, Done: 48, Total: 96, Unit: "tokens"})
			}
			m.sh.stopAsked = c.stopAsked
			if c.records > 0 {
				m.now = at(c.records - 1).Add(c.now)
			}
			s := m.statusLine()
			for _, w := range c.want {
				if !strings.Contains(s, w) {
					t.Errorf("header %q lacks %q", s, w)
				}
			}
			for _, a := range c.avoid {
				if strings.Contains(s, a) {
					t.Errorf("header %q shows %q", s, a)
				}
			}
		})
	}
}

// TestHeaderCountsAnImportedRunsSteps: a run imported from another trainer
// (rlt import, or its folder followed live) keeps the trainer's step
// numbers, which count from 1, so the header's count is its last step
// number: the official trainer's 3 steps read "step 3", not "step 4". It
// counts them against the steps the trainer planned where its files state
// them (the Hugging Face Trainer's max_steps, which config.toml records and
// the session carries): "step 3/3"; verl's and NeMo-RL's state none.
func TestHeaderCountsAnImportedRunsSteps(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      string
	}{
		{"official", "../sessions/testdata/official/run", "step 3/3"},
		{"trl", "../sessions/testdata/trainers/trl", "step 4/4"},
		{"verl", "../sessions/testdata/trainers/verl", "step 2"},
		{"nemo-rl", "../sessions/testdata/trainers/nemo-rl", "step 2"},
	} {
		// The state: an import is done; a followed folder is done once its
		// planned steps are (official, TRL), else followed (verl's and
		// NeMo-RL's files never say the run ended).
		wantState := map[string]string{"imported": "finished", "followed": "finished"}
		if c.name == "verl" || c.name == "nemo-rl" {
			wantState["followed"] = "following"
		}
		for _, how := range []string{"imported", "followed"} {
			t.Run(c.name+" "+how, func(t *testing.T) {
				var s *sessions.Session
				if how == "imported" {
					dir := filepath.Join(t.TempDir(), c.name)
					if _, err := sessions.Import(dir, c.src); err != nil {
						t.Fatal(err)
					}
					r, err := sessions.OpenReadOnly(dir)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { r.Close() })
					// The planned steps as the launcher opens the folder with
					// them (sessions/runner's describe).
					src, _ := sessions.ImportedFrom(dir)
					s = &sessions.Session{Run: r, Steps: src.PlannedSteps}
				} else {
					var err error
					if s, err = sessions.OpenTrainerRun(t.Context(), c.src, ""); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { s.Close() })
				}
				m := newModel(Options{Session: &sessions.Session{Run: s.Run, Steps: s.Steps, ReadOnly: true, FollowsTrainer: s.FollowsTrainer}})
				t.Cleanup(func() { closeModel(t, m) })
				m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
				m.pull()
				if got := regexp.MustCompile(`step \d+(/\d+)?`).FindString(m.statusLine()); got != c.want {
					t.Errorf("header %q counts %q, want %q", m.statusLine(), got, c.want)
				}
				if got, want := m.state(false), wantState[how]+" (read-only)"; got != want {
					t.Errorf("state %q, want %q", got, want)
				}
			})
		}
	}
}

// TestRateCountsOnlyStepsSeenDone: the rate counts from the times steps
// were seen done. Steps a trainer's folder held when it was opened carry
// no time and are no basis; a step's later values do not move when it was
// done; of the steps read at once (a checkpoint's trainer_state.json brings
// every step since the last), only the last was done at that time.
func TestRateCountsOnlyStepsSeenDone(t *testing.T) {
	at := func(min float64) time.Time { return t0.Add(time.Duration(min * float64(time.Minute))) }
	var unknown time.Time
	for _, c := range []struct {
		name    string
		records []stepAt
		want    float64 // steps per minute; 0: no rate
	}{
		{"only steps imported when opened", []stepAt{{1, unknown}, {2, unknown}}, 0},
		{"one read since", []stepAt{{1, unknown}, {2, unknown}, {3, at(0)}, {4, at(0)}}, 0},
		{"two reads since", []stepAt{{1, unknown}, {2, unknown}, {3, at(0)}, {4, at(0)}, {5, at(2)}, {6, at(2)}}, 2.0 / 2},
		{"a step's later values", []stepAt{{4, at(0)}, {6, at(2)}, {6, at(4)}}, 2.0 / 2},
		{"three reads", []stepAt{{3, at(0)}, {4, at(0)}, {5, at(1)}, {6, at(1)}, {7, at(1)}, {8, at(6)}}, 4.0 / 6},
		{"our own steps, each at its time", []stepAt{{0, at(0)}, {1, at(1)}, {2, at(2)}, {3, at(3)}}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := &Model{}
			for _, r := range c.records {
				m.noteDone(r.step, r.t)
			}
			if got := m.rate(); math.Abs(got-c.want) > 1e-9 {
				t.Errorf("%.4f steps/min, want %.4f (basis %v)", got, c.want, m.recent)
			}
		})
	}
}

// TestHeaderETAOfAFollowedTrainerRun follows a TRL run in progress, each
// checkpoint written as the Hugging Face Trainer saves it: the header
// counts against its max_steps, shows no rate nor ETA until two reads of
// new steps give one (the steps done before it was opened say nothing of
// when), then the trainer's pace and the ETA, takes a new max_steps (a run
// resumed with another), and reads done once the planned steps are.
func TestHeaderETAOfAFollowedTrainerRun(t *testing.T) {
	dir := t.TempDir()
	save := func(maxSteps, done int) { t.Helper(); saveTrainerState(t, dir, maxSteps, done) }
	save(6, 2)
	s, err := sessions.OpenTrainerRun(t.Context(), dir, sessions.ImportTRL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	m := newModel(Options{Session: &sessions.Session{Run: s.Run, Steps: s.Steps, ReadOnly: true}})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
	header := func(step int, want, avoid []string) {
		t.Helper()
		// The step's records and the events that came with it (a new
		// plan, the done phase) are two files the run reads in turn: wait
		// for the header to say all of it.
		h := awaitHeader(t, m, want, func() string {
			if !m.hasStep || m.lastStep < step {
				return fmt.Sprintf("step %d", step)
			}
			return ""
		})
		for _, a := range avoid {
			if regexp.MustCompile(a).MatchString(h) {
				t.Errorf("header %q shows %q", h, a)
			}
		}
	}
	header(2, []string{`^.*running \(read-only\)`, `step 2/6 `}, []string{`st/min`, `ETA`, `finished`})
	save(6, 4)
	header(4, []string{`step 4/6 `}, []string{`st/min`, `ETA`})
	time.Sleep(300 * time.Millisecond) // the next save comes later
	save(6, 5)
	header(5, []string{`step 5/6 `, `\d+\.\d st/min`, `ETA \d`}, nil)
	save(8, 6) // resumed to go on to step 8
	header(6, []string{`running`, `step 6/8 `, `ETA \d`}, nil)
	save(8, 8)
	header(8, []string{`finished \(read-only\)`, `step 8/8 `}, []string{`ETA`, `st/min`})
}

// TestRateLeavesOutTimeDoneBeforeANewPlan: the steps per minute of a run
// said done that a plan event sends on to a larger total (a followed
// trainer's run resumed with a larger max_steps) count from the steps read
// with that plan on: the trainer sat done for a while, and when it did the
// first steps after its resume is unknown. A step a minute before and after
// an hour done is 1.0 st/min.
func TestRateLeavesOutTimeDoneBeforeANewPlan(t *testing.T) {
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	for _, c := range []struct {
		name string
		gap  int // minutes from the done phase to the plan event
	}{
		{"resumed an hour later", 60},
		{"resumed at once", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r, err := sessions.Create(dir, testCfg{Task: "addition", Steps: 4})
			if err != nil {
				t.Fatal(err)
			}
			for s := 0; s < 4; s++ {
				r.Emit(event.Metrics{Time: at(s), Step: s, Values: map[string]float64{"reward": -1}})
			}
			r.Emit(event.Phase{Time: at(3), Name: "done", Step: 4})
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			appendLine := func(file, line string) {
				f, err := os.OpenFile(filepath.Join(dir, file), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.WriteString(line + "\n"); err != nil {
					t.Fatal(err)
				}
			}
			resumed := 3 + c.gap
			appendLine(sessions.EventsFile, fmt.Sprintf(`{"time":%q,"kind":"plan","step":0,"count":8}`, at(resumed).Format(time.RFC3339Nano)))
			for s := 4; s < 6; s++ {
				appendLine(sessions.MetricsFile, fmt.Sprintf(`{"step":%d,"time":%q,"values":{"reward":-1}}`, s, at(resumed+s-4).Format(time.RFC3339Nano)))
			}
			ro, err := sessions.OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ro.Close() })
			m := newModel(Options{Session: &sessions.Session{Run: ro, Steps: 4, ReadOnly: true}})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			m.pull()
			if got := m.rate(); math.Abs(got-1) > 1e-6 {
				t.Errorf("%.4f steps/min, want 1.0000 (pauses %v)", got, m.pauses)
			}
			if h := m.statusLine(); strings.Contains(h, "finished") || !strings.Contains(h, "step 6/8") {
				t.Errorf("header %q: want step 6/8, not finished", h)
			}
		})
	}
}

// TestFollowedTrainerRunResumedAfterDone: a followed Hugging Face run that
// reached its max_steps reads done; resumed from its last checkpoint with a
// larger max_steps (the trainer goes on writing checkpoints), it is no
// longer done: the header follows it, counts against the new total with a
// pace and an ETA from the steps that arrive, and reads done again once the
// new total is reached. The follower used to stay done, so the header said
// "done" with steps still arriving and no ETA.
func TestFollowedTrainerRunResumedAfterDone(t *testing.T) {
	for _, c := range []struct {
		name  string
		saves [][2]int // max_steps, steps done: the checkpoints after the first done
		want  []string // in the header once the last save is read
		avoid []string
		dones int // done phases in the followed copy
	}{
		{"new total read", [][2]int{{8, 4}}, []string{`following \(read-only\)`, `step 4/8 `}, []string{`finished`}, 1},
		// The only basis would span the time the trainer sat done.
		{"one step since", [][2]int{{8, 5}}, []string{`following`, `step 5/8 `}, []string{`finished`, `st/min`, `ETA`}, 1},
		{"steps arriving", [][2]int{{8, 4}, {8, 5}, {8, 6}}, []string{`following`, `step 6/8 `, `st/min`, `ETA \d`}, []string{`finished`}, 1},
		{"new total reached", [][2]int{{8, 4}, {8, 6}, {8, 8}}, []string{`finished \(read-only\)`, `step 8/8 `}, []string{`ETA`}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			save := func(maxSteps, done int) { t.Helper(); saveTrainerState(t, dir, maxSteps, done) }
			save(4, 2)
			save(4, 4)
			s, err := sessions.OpenTrainerRun(t.Context(), dir, sessions.ImportTRL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			m := newModel(Options{Session: s})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			m.pull()
			if h := m.statusLine(); !strings.Contains(h, "finished (read-only)") || !strings.Contains(h, "step 4/4 ") {
				t.Fatalf("header %q before the resume: want finished at 4/4", h)
			}
			for _, sv := range c.saves {
				time.Sleep(300 * time.Millisecond) // the trainer's next save comes later
				save(sv[0], sv[1])
				deadline := time.Now().Add(hangGuard)
				for m.pull(); m.plannedSteps() != sv[0] || m.stepsDone() < sv[1]; m.pull() {
					if time.Now().After(deadline) {
						t.Fatalf("save %v never read (header %q)", sv, m.statusLine())
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			dones := func() int {
				evs, _ := s.Run.Store().EventsSince(0)
				n := 0
				for _, e := range evs {
					if e.Kind == sessions.KindPhase && e.Name == "done" {
						n++
					}
				}
				return n
			}
			// A done phase comes with its read, in the events the run
			// reads apart from the steps: give a wrong one its time to
			// come, then wait for the header and the copy to say all they
			// should (the sleep decides nothing).
			time.Sleep(300 * time.Millisecond)
			h := awaitHeader(t, m, c.want, func() string {
				if n := dones(); n < c.dones {
					return fmt.Sprintf("%d done phases of %d", n, c.dones)
				}
				return ""
			})
			for _, a := range c.avoid {
				if regexp.MustCompile(a).MatchString(h) {
					t.Errorf("header %q shows %q", h, a)
				}
			}
			if n := dones(); n != c.dones {
				t.Errorf("%d done phases in the followed copy, want %d", n, c.dones)
			}
		})
	}
}

// hfTrainerState is a Hugging Face trainer_state.json of a run planned to
// take maxSteps optimizer steps, after done of them, logging each step.
func hfTrainerState(maxSteps, done int) []byte {
	var b strings.Builder
	for s := 1; s <= done; s++ {
		if s > 1 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `    {"epoch": %g, "loss": %g, "reward": %g, "step": %d}`, float64(s)/float64(maxSteps), 0.01*float64(s), 0.1*float64(s), s)
	}
	return fmt.Appendf(nil, "{\n  \"epoch\": %g,\n  \"global_step\": %d,\n  \"log_history\": [\n%s\n  ],\n  \"logging_steps\": 1,\n  \"max_steps\": %d,\n  \"save_steps\": 1\n}\n",
		float64(done)/float64(maxSteps), done, b.String(), maxSteps)
}

// saveTrainerState writes a TRL checkpoint of done steps out of maxSteps
// into dir, as the Hugging Face Trainer saves one (checkpoint-N).
func saveTrainerState(t *testing.T, dir string, maxSteps, done int) {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("checkpoint-%d", done), "trainer_state.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, hfTrainerState(maxSteps, done), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHeaderCountsTheHighestStep: the header's step is the highest step the
// run's metric records name, not the last record's: a step's later values
// (an evaluation of step 3 logged after step 5) and an imported trainer's
// records out of order leave the count and the reward at the highest step.
// The header used to read "step 4/20" after step 5's record was followed by
// more values of step 3. The Runs screen's STEPS cell (sessions.StepsCell)
// counts the same, also before the first step: 0/20, where it read "—".
func TestHeaderCountsTheHighestStep(t *testing.T) {
	type rec struct {
		step   int
		reward float64 // NaN: the record has no reward
	}
	nan := math.NaN()
	for _, c := range []struct {
		name    string
		cfg     any
		planned int
		records []rec
		want    string // the header's count
		reward  string
	}{
		{"ours, in order", testCfg{Task: "addition", Steps: 20}, 20,
			[]rec{{0, -1}, {1, -0.5}, {2, -0.25}}, "step 3/20", "reward -0.250"},
		{"ours, a step's later values", testCfg{Task: "addition", Steps: 20}, 20,
			[]rec{{0, -1}, {1, -0.5}, {2, -0.25}, {3, -0.125}, {4, -0.0625}, {5, 0.5}, {3, nan}}, "step 6/20", "reward 0.500"},
		{"ours, a later reward of an earlier step", testCfg{Task: "addition", Steps: 20}, 20,
			[]rec{{0, -1}, {5, 0.5}, {3, 0.25}}, "step 6/20", "reward 0.500"},
		{"imported, out of order", sessions.ImportConfig{Import: sessions.ImportSource{Format: sessions.ImportTRL, PlannedSteps: 10}}, 10,
			[]rec{{1, -1}, {2, -0.5}, {5, 0.75}, {3, 0.25}, {4, 0.5}}, "step 5/10", "reward 0.750"},
		{"ours, no step yet", testCfg{Task: "addition", Steps: 20}, 20, nil, "step 0/20", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r, err := sessions.Create(dir, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range c.records {
				vals := map[string]float64{"eval_accuracy": 0.5}
				if !math.IsNaN(x.reward) {
					vals = map[string]float64{"reward": x.reward}
				}
				r.Emit(event.Metrics{Time: t0.Add(time.Duration(i) * time.Minute), Step: x.step, Values: vals})
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			ro, err := sessions.OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ro.Close() })
			m := newModel(Options{Session: &sessions.Session{Run: ro, Steps: c.planned, ReadOnly: true}})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			m.pull()
			h := m.statusLine()
			if got := regexp.MustCompile(`step \d+(/\d+)?`).FindString(h); got != c.want {
				t.Errorf("header %q counts %q, want %q", h, got, c.want)
			}
			if !strings.Contains(h, c.reward) {
				t.Errorf("header %q lacks %q", h, c.reward)
			}
			// The Runs screen counts the same step, by the same rule.
			list, err := sessions.List(filepath.Dir(dir))
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %v, %v", list, err)
			}
			if got := "step " + sessions.StepsCell(list[0].Numbering, list[0].LastStep, list[0].PlannedSteps); got != c.want {
				t.Errorf("the Runs screen counts %q, the header %q", got, c.want)
			}
		})
	}
}

// TestHeaderCountsBackOnAResume: a session that resumes the open run from
// an earlier checkpoint supersedes the steps recorded after it (it re-does
// them): the header's count goes back to the steps that stand and climbs
// again as they are re-done, as the Runs screen counts them.
func TestHeaderCountsBackOnAResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r, err := sessions.Create(dir, testCfg{Task: "addition", Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 6; s++ {
		r.Emit(event.Metrics{Time: t0.Add(time.Duration(s) * time.Minute), Step: s, Values: map[string]float64{"reward": float64(s)}})
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var cfg testCfg
	if r, err = sessions.Open(dir, &cfg); err != nil {
		t.Fatal(err)
	}
	m := newModel(Options{Session: &sessions.Session{Run: r, Control: &fakeControl{}, Steps: 20}})
	t.Cleanup(func() { closeModel(t, m); r.Close() })
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
	count := func(want, reward string) {
		t.Helper()
		m.pull()
		h := m.statusLine()
		if got := regexp.MustCompile(`step \d+(/\d+)?`).FindString(h); got != want || !strings.Contains(h, reward) {
			t.Errorf("header %q: want %q and %q", h, want, reward)
		}
		list, err := sessions.List(filepath.Dir(dir))
		if err != nil || len(list) != 1 {
			t.Fatalf("List: %v, %v", list, err)
		}
		if got := "step " + sessions.StepsLabel(list[0].StepsDone(), list[0].PlannedSteps); got != want {
			t.Errorf("the Runs screen counts %q, the header %q", got, want)
		}
	}
	count("step 6/20", "reward 5.000")
	if err := r.Resume(3); err != nil {
		t.Fatal(err)
	}
	count("step 4/20", "reward 3.000")
	r.Emit(event.Metrics{Time: t0.Add(time.Hour), Step: 4, Values: map[string]float64{"reward": 4.5}})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	count("step 5/20", "reward 4.500")
}

// followedCopy is the copy of a trainer's run folder that OpenTrainerRun
// follows, written by hand so that the times its steps were seen arriving
// are the test's: steps 1 and 2 were there when it was opened (no time),
// each later one came at its time in arrived, and it plans planned steps.
// It returns the folder and an append of later steps.
func followedCopy(t *testing.T, planned int, arrived ...time.Time) (string, func(step int, at time.Time)) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "followed")
	r, err := sessions.Create(dir, sessions.ImportConfig{Import: sessions.ImportSource{Format: sessions.ImportTRL, PlannedSteps: planned}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// The follower appends to the copy from now on: it is open again (as
	// sessions' writeImport leaves it).
	ev, err := os.OpenFile(filepath.Join(dir, sessions.EventsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(ev, "{\"time\":%q,\"kind\":\"open\"}\n", t0.Format(time.RFC3339))
	if err := ev.Close(); err != nil {
		t.Fatal(err)
	}
	add := func(step int, at time.Time) {
		t.Helper()
		line := fmt.Sprintf(`{"step":%d,"values":{"reward":0.5}}`, step)
		if !at.IsZero() {
			line = fmt.Sprintf(`{"step":%d,"time":%q,"values":{"reward":0.5}}`, step, at.Format(time.RFC3339Nano))
		}
		f, err := os.OpenFile(filepath.Join(dir, sessions.MetricsFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	add(1, time.Time{})
	add(2, time.Time{})
	for i, at := range arrived {
		add(3+i, at)
	}
	return dir, add
}

// TestHeaderSaysAFollowedRunIsQuiet: a followed trainer's run that brings
// no new step for much longer than its own pace — more than 3× the mean
// time between the reads that brought steps, and at least 2 minutes — reads
// "no new step for 14m", with no pace nor ETA, until a step comes again;
// before that its ETA counts down from when the last step arrived. The
// header used to keep its last pace and a frozen ETA, as if the trainer
// still ran.
func TestHeaderSaysAFollowedRunIsQuiet(t *testing.T) {
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for _, c := range []struct {
		name    string
		arrived []time.Time // steps 3, 4, … seen arriving
		looks   []struct {
			at          time.Time // the header's clock (a tick)
			want, avoid []string
		}
	}{
		{"a step a minute: quiet past 3 minutes", []time.Time{at(0), at(time.Minute), at(2 * time.Minute)}, []struct {
			at          time.Time
			want, avoid []string
		}{
			{at(2 * time.Minute), []string{`following \(read-only\) · step 5/10 `, `1\.0 st/min`, `ETA 5m0s`}, []string{`no new step`}},
			{at(2*time.Minute + 30*time.Second), []string{`ETA 4m30s`}, []string{`no new step`}},
			{at(5 * time.Minute), []string{`ETA 2m0s`}, []string{`no new step`}},
			{at(5*time.Minute + time.Second), []string{`following \(read-only\) · no new step for 3m · step 5/10 `}, []string{`ETA`, `st/min`}},
			{at(16 * time.Minute), []string{`no new step for 14m`}, []string{`ETA`, `st/min`}},
			{at(3*time.Hour + 7*time.Minute), []string{`no new step for 3h05m`}, nil},
		}},
		{"a step every 10 seconds: quiet past 2 minutes", []time.Time{at(0), at(10 * time.Second), at(20 * time.Second)}, []struct {
			at          time.Time
			want, avoid []string
		}{
			{at(20 * time.Second), []string{`6\.0 st/min`, `ETA 50s`}, nil},
			{at(90 * time.Second), []string{`ETA 0s`}, []string{`no new step`}},
			{at(2*time.Minute + 20*time.Second), []string{`ETA 0s`}, []string{`no new step`}},
			{at(2*time.Minute + 21*time.Second), []string{`no new step for 2m`}, []string{`ETA`}},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, add := followedCopy(t, 10, c.arrived...)
			ro, err := sessions.OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ro.Close() })
			m := newModel(Options{Session: &sessions.Session{Run: ro, Steps: 10, ReadOnly: true, FollowsTrainer: true}})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			m.pull()
			look := func(now time.Time, want, avoid []string) {
				t.Helper()
				m.Update(tickMsg(now))
				h := m.statusLine()
				for _, w := range want {
					if !regexp.MustCompile(w).MatchString(h) {
						t.Errorf("at %v: header %q lacks %q", now.Sub(t0), h, w)
					}
				}
				for _, a := range avoid {
					if regexp.MustCompile(a).MatchString(h) {
						t.Errorf("at %v: header %q shows %q", now.Sub(t0), h, a)
					}
				}
			}
			last := c.arrived[len(c.arrived)-1]
			for _, l := range c.looks {
				look(l.at, l.want, l.avoid)
				last = l.at
			}
			// A step comes again: following, with a pace and an ETA.
			add(3+len(c.arrived), last)
			if err := waitPulled(m, 3+len(c.arrived)); err != nil {
				t.Fatal(err)
			}
			look(last, []string{`following \(read-only\) · step \d+/10 `, `st/min`, `ETA \d`}, []string{`no new step`})
		})
	}
}

// TestHeaderSaysAFollowedRunQuietFromTheStart: a followed run that brings
// no step after it was opened reads quiet 2 minutes after it was opened
// (the steps already there say nothing of when they were done).
func TestHeaderSaysAFollowedRunQuietFromTheStart(t *testing.T) {
	dir, _ := followedCopy(t, 0)
	ro, err := sessions.OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	m := newModel(Options{Session: &sessions.Session{Run: ro, ReadOnly: true, FollowsTrainer: true}})
	t.Cleanup(func() { closeModel(t, m) })
	opened := time.Now()
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
	m.pull()
	m.Update(tickMsg(opened.Add(time.Minute)))
	if h := m.statusLine(); !strings.Contains(h, "following (read-only) · step 2 ") || strings.Contains(h, "no new step") {
		t.Errorf("a minute after opening: header %q", h)
	}
	m.Update(tickMsg(opened.Add(7*time.Minute + 30*time.Second)))
	if h := m.statusLine(); !regexp.MustCompile(`following \(read-only\) · no new step for 7m · step 2 `).MatchString(h) {
		t.Errorf("7 minutes after opening: header %q", h)
	}
}

// hangGuard bounds a test's wait for what the workbench reads or does
// apart from the test (a follower's poll, a command's answer, the program
// quitting): a bound on a hang only, past which the test fails saying what
// never came. At 10 or 20 s a loaded machine (CI's two cores running test
// binaries side by side) could reach it where nothing hung.
const hangGuard = time.Minute

// waitPulled pulls the open run's records until step has come.
func waitPulled(m *Model, step int) error {
	deadline := time.Now().Add(hangGuard)
	for m.pull(); !m.hasStep || m.lastStep < step; m.pull() {
		if time.Now().After(deadline) {
			return fmt.Errorf("step %d never came (header %q)", step, m.statusLine())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// awaitHeader pulls the open run's records until the header matches every
// pattern of want and ready says nothing is lacking (ready may be nil), and
// returns the header: what it shows comes from files the run reads in turn
// (steps, events, traces), so one pull may see a step without the rest. It
// fails after hangGuard saying what is lacking; nothing is timed.
func awaitHeader(t *testing.T, m *Model, want []string, ready func() string) string {
	t.Helper()
	lacks := func(h string) string {
		for _, w := range want {
			if !regexp.MustCompile(w).MatchString(h) {
				return w
			}
		}
		if ready != nil {
			return ready()
		}
		return ""
	}
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(20 * time.Millisecond) {
		m.pull()
		h := m.statusLine()
		missing := lacks(h)
		if missing == "" {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("header %q: %q never came", h, missing)
		}
	}
}

// TestWorkbenchFollowsAnOfficialRunToItsPlan follows the official RLT
// trainer's folder as the trainer writes it, through the real follower:
// a plan larger than the steps written reads following, each step appended
// (its log_history entry and its completions) counts against the plan, and
// the last one reads done. A trainer whose folder then states more steps
// than it planned (its plan was not its end: the plan on record is older
// than the steps) is not done: it reads following again with its count
// past the plan, which it does not count against.
func TestWorkbenchFollowsAnOfficialRunToItsPlan(t *testing.T) {
	for _, c := range []struct {
		name    string
		planned int
		appends []int      // steps the trainer logs after the folder is opened
		want    [][]string // in the header after each append
		avoid   [][]string
	}{
		{"up to its plan", 5, []int{4, 5},
			[][]string{{`following \(read-only\) · step 4/5 `}, {`finished \(read-only\) · step 5/5 `}},
			[][]string{{`finished`}, {`ETA`, `st/min`, `following`}}},
		{"past its plan", 3, []int{4},
			[][]string{{`following \(read-only\) · step 4 \(3 planned\) `}},
			[][]string{{`finished`, `ETA`, `4/3`}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "official")
			copyTree(t, "../sessions/testdata/official/run", src)
			statePath := filepath.Join(src, "trainer_state.json")
			state, err := os.ReadFile(statePath)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(state), `"max_steps": 3,`) {
				t.Fatalf("the fixture plans other than 3 steps:\n%s", state)
			}
			state = []byte(strings.Replace(string(state), `"max_steps": 3,`, fmt.Sprintf(`"max_steps": %d,`, c.planned), 1))
			if err := os.WriteFile(statePath, state, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := sessions.OpenTrainerRun(t.Context(), src, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			m := newModel(Options{Session: s})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			m.pull()
			opening := `finished \(read-only\) · step 3/3 `
			if c.planned > 3 {
				opening = fmt.Sprintf(`following \(read-only\) · step 3/%d `, c.planned)
			}
			if h := m.statusLine(); !regexp.MustCompile(opening).MatchString(h) {
				t.Errorf("opened: header %q, want %q", h, opening)
			}
			for i, step := range c.appends {
				time.Sleep(300 * time.Millisecond) // the trainer's next step comes later
				// The trainer logs the step and stores its completions.
				const logHistory = `"log_history": [`
				j := strings.Index(string(state), logHistory) + len(logHistory)
				state = []byte(string(state[:j]) + fmt.Sprintf("\n    {\"step\": %d, \"reward\": -0.5, \"loss\": 0.1},", step) + string(state[j:]))
				if err := os.WriteFile(statePath, state, 0o644); err != nil {
					t.Fatal(err)
				}
				row := fmt.Sprintf("step,prompt,completion,reward\n%d,\"<|im_start|>system\nYou are a teacher.<|im_end|>\n<|im_start|>user\nWhat is 1+1?<|im_end|>\n<|im_start|>assistant\n<|begin_of_solution|>2<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n\",\"One and one make two.<|end_of_explanation|><|im_end|>\",-0.4\n", step)
				if err := os.WriteFile(filepath.Join(src, "stored_completions", fmt.Sprintf("%d.csv", step)), []byte(row), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := waitPulled(m, step); err != nil {
					t.Fatal(err)
				}
				// The step's done phase and its trace are read apart from
				// its metrics (the trace a poll later when the follower read
				// trainer_state.json before the CSV was written): wait for
				// the header and the trace, then look.
				id := fmt.Sprintf("%d-0-0", step)
				h := awaitHeader(t, m, c.want[i], func() string {
					if _, err := s.Run.Store().Trace(id); err != nil {
						return "trace " + id
					}
					return ""
				})
				for _, a := range c.avoid[i] {
					if regexp.MustCompile(a).MatchString(h) {
						t.Errorf("after step %d: header %q shows %q", step, h, a)
					}
				}
				if tr, err := s.Run.Store().Trace(id); err != nil || tr.Question != "What is 1+1?" || tr.SourceReward != -0.4 {
					t.Errorf("step %d's trace: %+v (%v)", step, tr, err)
				}
			}
		})
	}
}

// awaitKillRead waits until the run open in m has followed its events as
// killWriter left them (the close it takes back may have been read
// already: a killed writer writes none), then lets a tick ask the run's
// state as the header does. It fails after hangGuard; nothing is timed.
func awaitKillRead(t *testing.T, m *Model) {
	t.Helper()
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(10 * time.Millisecond) {
		if _, interrupted, _ := m.sh.run.StateGone(); interrupted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run open here never read the events as the kill left them")
		}
	}
	m.Update(tickMsg(time.Now()))
}

// viewWith opens the run at dir as open opens it, with a test launcher
// over the runs folder "runs" (returned too), in a workbench 200×30
// closed when the test ends.
func viewWith(t *testing.T, open func(l *testLauncher, dir string) (*sessions.Session, error), dir string) (*Model, *testLauncher) {
	t.Helper()
	l := &testLauncher{runs: "runs"}
	s, err := open(l, dir)
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(Options{Session: s, Launcher: l, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
	return m, l
}

// TestStopQuits: closing Options.Stop (the commands close it on SIGHUP, a
// closed terminal) quits the workbench as q does, with no key pressed.
func TestStopQuits(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 10)
	stop := make(chan struct{})
	in, _ := io.Pipe() // input that never comes
	done := make(chan error, 1)
	go func() {
		done <- Run(Options{Session: &sessions.Session{Run: r, Steps: 20}, Stop: stop, Theme: style.NewTheme(style.NoColor)}, in, io.Discard)
	}()
	select {
	case err := <-done:
		t.Fatalf("the workbench ended before Stop closed: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(stop)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("quit on Stop: %v", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("the workbench did not quit when Stop closed")
	}
}

// TestLongMessageShownWhole: a message wider than the terminal is wrapped
// onto a few lines over the bottom of the body, not cut; the frame keeps
// its height.
func TestLongMessageShownWhole(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 8)
	m := sized(t, r, 80, 24, nil)
	long := "runs/20261205-024645 was interrupted: the process that trained it is gone without stopping it; r on the Runs screen resumes it from its last checkpoint, step 3"
	m.say("%s", long)
	v := m.View()
	if n := len(strings.Split(v, "\n")); n != 24 {
		t.Errorf("the frame is %d lines, want 24", n)
	}
	if got := strings.Join(strings.Fields(v), " "); !strings.Contains(got, long) {
		t.Errorf("the message is not shown whole:\n%s", v)
	}
	golden.Fits(t, v, 80, 24)
}

// TestHelpScrolls: help taller than the terminal scrolls (j, k, PgDn), so
// that every key is reachable, and says where it is.
func TestHelpScrolls(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 8)
	m := sized(t, r, 60, 15, nil)
	send(m, press("?"))
	groups := append(append([][]key.Binding{}, m.dash.FullHelp()...), m.global.FullHelp()...)
	all := splitLines(keys.FullHelpView(groups, 60, 0, m.helpStyle()))
	last := strings.TrimSpace(all[len(all)-1])
	if v := m.View(); strings.Contains(v, last) || !strings.Contains(v, fmt.Sprintf("1–11/%d · j/k scroll", len(all))) {
		t.Fatalf("help at 60×15 before scrolling: want its first lines and where they are, not its last %q:\n%s", last, v)
	}
	for range len(all) {
		send(m, press("j"))
	}
	if v := m.View(); !strings.Contains(v, last) || !strings.Contains(v, fmt.Sprintf("%d–%d/%d", len(all)-10, len(all), len(all))) {
		t.Errorf("help scrolled to its end: want its last line %q:\n%s", last, v)
	}
	send(m, press("k"))
	if m.helpTop != len(all)-12 {
		t.Errorf("k from the end: top %d, want %d", m.helpTop, len(all)-12)
	}
	send(m, press("esc"))
	send(m, press("?"))
	if m.helpTop != 0 {
		t.Errorf("help opened again at line %d, want its top", m.helpTop)
	}
}

// TestTracesFollowNewSteps: on the newest-first list, a selection on the
// first row follows the traces of new steps as they come; one on another
// row stays on its trace.
func TestTracesFollowNewSteps(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 4) // steps 0 and 1, 2 samples each
	top, mid := sized(t, r, 120, 30, nil), sized(t, r, 120, 30, nil)
	for _, m := range []*Model{top, mid} {
		send(m, press("2"))
	}
	send(mid, press("j"))
	kept := mid.traces.selected().ID
	r.Emit(makeTrace(2, 0, 0, 4))
	r.Emit(makeTrace(2, 0, 1, 4))
	r.Flush()
	for _, m := range []*Model{top, mid} {
		send(m, changedMsg{})
	}
	if got := top.traces.selected(); got.Step != 2 || top.traces.sel != 0 {
		t.Errorf("selection on the first row: now trace %s (row %d), want the newest step's first, on row 0", got.ID, top.traces.sel)
	}
	if got := mid.traces.selected().ID; got != kept {
		t.Errorf("selection on the second row: now trace %s, want it kept on %s", got, kept)
	}
}

// TestHeaderFit: a status line too wide for the terminal leaves out its
// least telling parts first (the run's name, then the step's phase), then
// says the device in a word (cpu) before the memory and the pace go, so
// that the run's ETA, its reward and where it runs stay.
func TestHeaderFit(t *testing.T) {
	parts := []headerPart{{text: "[1 Dashboard]", keep: keepAlways}, {text: "running", keep: keepAlways},
		{text: "step 4: backward 0/8 micro-batches · 2.1 micro-batches/s · 3s left", keep: keepPhase},
		{text: "step 4/20", keep: keepHigh}, {text: "reward -0.8", keep: keepHigh},
		{text: "cpu/avx512", keep: keepDevice, short: "cpu", shortKeep: keepDeviceShort}, {text: "cpu 0.3 GiB", keep: keepMemory},
		{text: "44.7 st/min", keep: keepPace}, {text: "ETA 21s", keep: keepETA}, {text: "20261205-024645", keep: keepName}}
	for _, c := range []struct {
		w    int
		want string
	}{
		{220, "[1 Dashboard] · running · step 4: backward 0/8 micro-batches · 2.1 micro-batches/s · 3s left · step 4/20 · reward -0.8 · cpu/avx512 · cpu 0.3 GiB · 44.7 st/min · ETA 21s · 20261205-024645"},
		{180, "[1 Dashboard] · running · step 4: backward 0/8 micro-batches · 2.1 micro-batches/s · 3s left · step 4/20 · reward -0.8 · cpu/avx512 · cpu 0.3 GiB · 44.7 st/min · ETA 21s"},
		// The phase left out makes room for the run's name, which went first.
		{120, "[1 Dashboard] · running · step 4/20 · reward -0.8 · cpu/avx512 · cpu 0.3 GiB · 44.7 st/min · ETA 21s · 20261205-024645"},
		{105, "[1 Dashboard] · running · step 4/20 · reward -0.8 · cpu/avx512 · cpu 0.3 GiB · 44.7 st/min · ETA 21s"},
		{95, "[1 Dashboard] · running · step 4/20 · reward -0.8 · cpu · cpu 0.3 GiB · 44.7 st/min · ETA 21s"},
		{80, "[1 Dashboard] · running · step 4/20 · reward -0.8 · cpu · 44.7 st/min · ETA 21s"},
		{70, "[1 Dashboard] · running · step 4/20 · reward -0.8 · cpu · ETA 21s"},
		{60, "[1 Dashboard] · running · step 4/20 · reward -0.8 · ETA 21s"},
		{49, "[1 Dashboard] · running · step 4/20 · reward -0.8"},
		{48, "[1 Dashboard] · running · step 4/20"}, // the reward left out whole, not cut
		{30, "[1 Dashboard] · running"},
	} {
		if got := headerFit(slices.Clone(parts), c.w); got != c.want {
			t.Errorf("at %d columns:\n got %q\nwant %q", c.w, got, c.want)
		}
	}
}

// TestHeaderTabsGiveWay: on a run with problems at 80 columns the tab
// strip gives way to the screen shown alone before the reward is cut,
// and only once the parts ranked below it (the ETA, the run's name) are
// gone.
func TestHeaderTabsGiveWay(t *testing.T) {
	parts := []headerPart{{text: "[1 Dashboard] 2  3  4 ", keep: keepTabs, short: "[1 Dashboard]", shortKeep: keepAlways},
		{text: "running (review)", keep: keepAlways}, {text: "3 problems (!)", keep: keepHigh}, {text: "step 3/4", keep: keepHigh},
		{text: "reward -10.188", keep: keepHigh}, {text: "ETA 21s", keep: keepETA}, {text: "20261205-024645", keep: keepName}}
	for _, c := range []struct {
		w    int
		want string
	}{
		{120, "[1 Dashboard] 2  3  4  · running (review) · 3 problems (!) · step 3/4 · reward -10.188 · ETA 21s · 20261205-024645"},
		{100, "[1 Dashboard] 2  3  4  · running (review) · 3 problems (!) · step 3/4 · reward -10.188 · ETA 21s"},
		{90, "[1 Dashboard] 2  3  4  · running (review) · 3 problems (!) · step 3/4 · reward -10.188"},
		{80, "[1 Dashboard] · running (review) · 3 problems (!) · step 3/4 · reward -10.188"},
		{60, "[1 Dashboard] · running (review) · 3 problems (!) · step 3/4"}, // the reward left out whole, not cut
	} {
		if got := headerFit(slices.Clone(parts), c.w); got != c.want {
			t.Errorf("at %d columns:\n got %q\nwant %q", c.w, got, c.want)
		}
	}

	// The tabs' names give way to their numbers before the run's figures
	// go, the reward's step outlives the tab strip's numbers, and what a
	// later, wider cut freed takes back what fits of what went before it,
	// the most kept first (the device's word where the reward's step
	// does not fit).
	numbers := headerPart{text: "[1 Dashboard] 2  3  4 ", keep: keepTabs, short: "[1 Dashboard]", shortKeep: keepAlways}
	parts = []headerPart{{text: "[1 Dashboard] 2 Traces  3 Detail  4 Runs ", keep: keepTabNames, then: &numbers},
		{text: "running · scoring", keep: keepAlways}, {text: "1 problem (!)", keep: keepHigh}, {text: "step 12/30", keep: keepHigh},
		{text: "reward -6.110 (step 11)", keep: keepRewardStep, short: "reward -6.110", shortKeep: keepHigh},
		{text: "cpu/avx512", keep: keepDevice, short: "cpu", shortKeep: keepDeviceShort},
		{text: "mem 0.39 GiB", keep: keepMemory}, {text: "35.2 st/min", keep: keepPace}, {text: "ETA 33s", keep: keepETA},
		{text: "20261205-155657", keep: keepName}}
	for _, c := range []struct {
		w    int
		want string
	}{
		{160, "[1 Dashboard] 2  3  4  · running · scoring · 1 problem (!) · step 12/30 · reward -6.110 (step 11) · cpu/avx512 · mem 0.39 GiB · 35.2 st/min · ETA 33s"},
		{121, "[1 Dashboard] 2  3  4  · running · scoring · 1 problem (!) · step 12/30 · reward -6.110 (step 11) · cpu/avx512 · ETA 33s"},
		{94, "[1 Dashboard] · running · scoring · 1 problem (!) · step 12/30 · reward -6.110 (step 11) · cpu"},
		{85, "[1 Dashboard] · running · scoring · 1 problem (!) · step 12/30 · reward -6.110 · cpu"},
		{79, "[1 Dashboard] · running · scoring · 1 problem (!) · step 12/30 · reward -6.110"},
	} {
		if got := headerFit(slices.Clone(parts), c.w); got != c.want {
			t.Errorf("at %d columns:\n got %q\nwant %q", c.w, got, c.want)
		}
	}

	// The run as the workbench opens it: a broken metrics line is a
	// problem the header counts, and the reward stays whole.
	w := newTestRun(t, 3, 1, 2, 4)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	editLine(t, filepath.Join(w.Dir(), sessions.MetricsFile), 2, false, func(old string) string { return old[:len(old)/2] })
	r, err := sessions.OpenReadOnly(w.Dir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	m := sized(t, r, 80, 24, nil)
	m.pull()
	h := ansi.Strip(strings.SplitN(m.View(), "\n", 2)[0])
	if !strings.Contains(h, "(!)") || !strings.HasSuffix(h, "reward -0.700") {
		t.Errorf("header %q: want the problems counted and the reward whole", h)
	}
}

// TestReviewSaidInTheFiltersWords: the detail and its messages say a
// trace's review in the words of the Traces screen's label filter
// (accepted, rejected, flagged, unreviewed), an undo what the trace is
// now ('undone (now ·)' said nothing).
func TestReviewSaidInTheFiltersWords(t *testing.T) {
	r := newTestRun(t, 1, 1, 2, 8)
	m := sized(t, r, 80, 24, &fakeControl{})
	openTrace(t, m, "1-0-0")
	for _, tc := range []struct {
		keys       []string
		msg, shown string
	}{
		{[]string{"a"}, "1-0-0: accepted", "· accepted"},
		{[]string{"x"}, "1-0-0: rejected", "· rejected"},
		{[]string{"f", "h", "m", "enter"}, "1-0-0: flagged", "· flagged “hm”"},
		{[]string{"u"}, "1-0-0: undone (now rejected)", "· rejected"},
		{[]string{"u", "u"}, "1-0-0: undone (now unreviewed)", "· unreviewed"},
	} {
		t.Run(strings.Join(tc.keys, " "), func(t *testing.T) {
			for _, k := range tc.keys {
				send(m, press(k))
			}
			if m.msg != tc.msg {
				t.Errorf("says %q, want %q", m.msg, tc.msg)
			}
			if h := strings.Split(ansi.Strip(m.View()), "\n")[1]; !strings.Contains(h, tc.shown) {
				t.Errorf("the detail's head %q does not read %q", h, tc.shown)
			}
		})
	}
}

// TestDetailReconstructionWholeAt80x24: at 80×24 the reference vs
// reconstruction diff is read whole, its rec and marker rows too, with a
// long explanation above it (whose heatmap scrolls) and the verifier's
// line: the detail used to end at 'ref │5', the rest below the screen
// with no way to reach it.
func TestDetailReconstructionWholeAt80x24(t *testing.T) {
	for _, expl := range []int{20, 60, 400} {
		r := newTestRun(t, 1, 1, 2, expl)
		m := sized(t, r, 80, 24, &fakeControl{})
		m.Update(openMsg{"1-0-1"}) // reconstructed as "6 apples", the reference "5"
		if m.active != scrDetail {
			t.Fatalf("trace 1-0-1 did not open")
		}
		v := m.View()
		golden.Fits(t, v, 80, 24)
		lines := strings.Split(v, "\n")
		at := -1
		for i, l := range lines {
			if strings.HasPrefix(l, "ref │") {
				at = i
			}
		}
		if at < 0 || at+2 >= len(lines)-1 || !strings.HasPrefix(lines[at+1], "rec │6") ||
			!strings.HasPrefix(lines[at+2], "    │") || !strings.ContainsAny(lines[at+2], "^+") {
			t.Errorf("%d explanation tokens: the diff is not whole above the footer:\n%s", expl, v)
		}
		if !strings.Contains(v, "d_k") || !strings.Contains(v, "reconstruction") {
			t.Errorf("%d explanation tokens: the explanation's legend or the reconstruction's title is gone:\n%s", expl, v)
		}
	}
}

// TestRunKeysOffTheDashboard: p, S and c pressed on the Traces or the
// Detail screen do not act there; the status line says they work on the
// Dashboard, and the engine is left as it was.
func TestRunKeysOffTheDashboard(t *testing.T) {
	r := newTestRun(t, 3, 1, 2, 4)
	for _, c := range []struct {
		screen, key, want string
	}{
		{"2", "p", "p (pause/resume run) works on the Dashboard: 1, then p"},
		{"2", "S", "S (stop run (asks)) works on the Dashboard: 1, then S"},
		{"3", "c", "c (checkpoint now) works on the Dashboard: 1, then c"},
	} {
		ctl := &fakeControl{}
		m := sized(t, r, 100, 30, ctl)
		m.pull()
		send(m, press(c.screen))
		send(m, press(c.key))
		if m.msg != c.want || *ctl != (fakeControl{}) {
			t.Errorf("%s on screen %s: status %q, control %+v; want %q and nothing done", c.key, c.screen, m.msg, *ctl, c.want)
		}
	}
	// A run with no engine to control here says so wherever the key is
	// pressed, as the Dashboard does, not that the key works there.
	for _, readOnly := range []bool{false, true} {
		m := newModel(Options{Session: &sessions.Session{Run: r, Steps: 20, ReadOnly: readOnly}})
		m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
		m.pull()
		send(m, press("2"))
		send(m, press("p"))
		want := "review: no engine runs in this workbench"
		if readOnly {
			want = "read-only: this workbench does not drive the engine"
		}
		if !strings.HasPrefix(m.msg, want) {
			t.Errorf("p on Traces, read-only %v, no engine here: status %q, want %q…", readOnly, m.msg, want)
		}
	}
}

// TestMessageStaysOnItsScreen: a message answers what was done on the
// screen it was said on, and ends when the user moves to another: the
// Detail's read-only refusal of a review was still shown on the Runs
// screen, over its keys, as if said of the run selected there. A move
// that says something (r on the run open here, which goes to the
// Dashboard) says it on the screen it moved to (TestResumeOfTheRunTrainingHere).
func TestMessageStaysOnItsScreen(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 4)
	m := newModel(Options{Session: &sessions.Session{Run: r, ReadOnly: true}})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	send(m, press("3"))
	send(m, press("a"))
	const refusal = "read-only: accept is off"
	if !strings.Contains(ansi.Strip(m.View()), refusal) {
		t.Fatalf("a on the Detail of a read-only run: want %q said:\n%s", refusal, ansi.Strip(m.View()))
	}
	for _, k := range []string{"4", "3"} {
		send(m, press(k))
		if v := ansi.Strip(m.View()); strings.Contains(v, refusal) {
			t.Errorf("after %s the Detail's refusal is still shown:\n%s", k, v)
		}
	}
}
