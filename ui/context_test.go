package ui

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
	"github.com/rlt-workbench/rlt/ui/style"
)

// dTrace is a trace whose explanation tokens carry the given d_k (ℓS 0).
func dTrace(step, sample int, toks []string, d []float32) event.Trace {
	sc := &record.Scored{Ended: true}
	sc.ExplanationTokens, sc.TeacherLP, sc.D, sc.StudentLP = toks, d, d, make([]float32, len(d))
	sc.SolutionTokens, sc.SolutionLP = []string{"5"}, []float32{-0.5}
	for i := range toks {
		sc.ExplanationIDs = append(sc.ExplanationIDs, int32(i))
	}
	sc.SolutionIDs = []int32{1}
	sc.Terms = record.DefaultRewardConfig().Reduce(sc.SolutionLP, sc.D, sc.StudentLP, true)
	return event.Trace{Time: t0, Step: step, Sample: sample, Question: "2+3=?", Solution: "5",
		Completion: strings.Join(toks, "") + record.EndExplanation, Score: sc}
}

// openTrace opens trace id in the detail screen of m and returns its view.
func openTrace(t *testing.T, m *Model, id string) string {
	t.Helper()
	m.Update(openMsg{id})
	if !m.detail.has || m.detail.rec.ID != id {
		t.Fatalf("trace %s not open", id)
	}
	m.detail.View()
	return m.detail.expl.View()
}

// colourOf is the escape sequence the heatmap view opens token tok with.
func colourOf(t *testing.T, view, tok string) string {
	t.Helper()
	i := strings.Index(view, tok)
	if i < 0 {
		t.Fatalf("token %q not in %q", tok, view)
	}
	j := strings.LastIndex(view[:i], "\x1b[0m") // the previous token's close
	k := max(j+len("\x1b[0m"), 0)
	if j < 0 {
		k = strings.Index(view, "\n") + 1 // the first token of the first content line
	}
	return view[k:i]
}

func TestHeatmapColourSameAcrossTraces(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Token "X" has d_k 0.8 in both traces; the rest of the first trace is
	// small, of the second large, so per-trace scales differ 30-fold.
	r.Emit(dTrace(1, 0, []string{"a", "X", "b"}, []float32{0.9, 0.8, -0.02}))
	r.Emit(dTrace(1, 1, []string{"c", "X", "d"}, []float32{24, 0.8, -20}))
	for k := 2; k < 60; k++ { // the bulk of the run: |d_k| up to 1
		r.Emit(dTrace(1, k, []string{"e", "f", "g"}, []float32{1, -1, 0.5}))
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	m := newModel(Options{Session: &sessions.Session{Run: r}, Theme: style.NewTheme(style.TrueColor)})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.pull()
	for _, tc := range []struct {
		name     string
		perTrace bool
		same     bool
	}{{"run scale", false, true}, {"per-trace scale", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			if m.detail.perTrace != tc.perTrace {
				m.Update(openMsg{"1-0-0"})
				send(m, press("z"))
			}
			a := colourOf(t, openTrace(t, m, "1-0-0"), "X")
			b := colourOf(t, openTrace(t, m, "1-0-1"), "X")
			if !strings.Contains(a, "48;2;") {
				t.Fatalf("token X has no background colour: %q", a)
			}
			if (a == b) != tc.same {
				t.Errorf("colour of d_k 0.8 in the two traces: %q and %q, want same=%v", a, b, tc.same)
			}
		})
	}
}

// TestNextUnreviewedFollowsList: n in the detail goes to the next
// unreviewed trace in the Traces list's order, within its filters.
func TestNextUnreviewedFollowsList(t *testing.T) {
	r := newTestRun(t, 3, 2, 4, 8)
	m := sized(t, r, 80, 24, &fakeControl{})
	send(m, press("2"))
	send(m, press("r")) // sort by reward, highest first
	send(m, press("/"))
	for _, k := range "top" {
		send(m, press(string(k)))
	}
	send(m, press("enter"))
	m.traces.rebuild()
	var want []string
	for _, i := range m.traces.rows {
		want = append(want, m.traces.all[i].ID)
	}
	if len(want) < 3 || len(want) == len(m.traces.all) {
		t.Fatalf("the filter kept %d of %d rows", len(want), len(m.traces.all))
	}
	send(m, press("enter"))
	var got []string
	for range want {
		got = append(got, m.detail.rec.ID)
		send(m, press("a"))
		send(m, press("n"))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("a then n visited %v, want the list's order %v", got, want)
	}
	if !strings.Contains(m.msg, "no unreviewed trace left in the Traces list") {
		t.Errorf("after the last: %q", m.msg)
	}
}

func TestGroupViewGolden(t *testing.T) {
	r := newTestRun(t, 12, 2, 4, 60)
	for _, sz := range golden.Sizes {
		name := fmt.Sprintf("traces_group_%dx%d", sz.W, sz.H)
		t.Run(name, func(t *testing.T) {
			m := sized(t, r, sz.W, sz.H, &fakeControl{})
			send(m, press("2"))
			send(m, press("v"))
			send(m, press("]"))
			v := m.View()
			golden.NoEscapes(t, v)
			golden.Fits(t, v, sz.W, sz.H)
			golden.Assert(t, name, v)
		})
	}
}

// TestGroupNavigation: [ and ] move between groups in the list's step
// order, and a group whose rewards are all equal is marked.
func TestGroupNavigation(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for k := 0; k < 4; k++ {
		r.Emit(dTrace(1, k, []string{"a", "b"}, []float32{0.1 * float32(k), 0}))
		r.Emit(dTrace(2, k, []string{"a", "b"}, []float32{0.3, 0})) // all equal
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	m := sized(t, r, 120, 40, nil)
	m.pull()
	send(m, press("2"))
	for _, tc := range []struct {
		key      string
		step     int
		zeroVar  bool
		saysNone bool
	}{
		{"v", 2, true, false}, // the selected trace's group: newest step first
		{"]", 1, false, false},
		{"]", 1, false, true}, // no further group
		{"[", 2, true, false},
	} {
		m.msg = ""
		send(m, press(tc.key))
		v := m.View()
		if !m.traces.group || m.traces.groupKey[0] != tc.step {
			t.Fatalf("after %s: group view %v of step %d, want step %d", tc.key, m.traces.group, m.traces.groupKey[0], tc.step)
		}
		if got := strings.Contains(v, "zero variance"); got != tc.zeroVar {
			t.Errorf("after %s (step %d): zero variance marked %v, want %v\n%s", tc.key, tc.step, got, tc.zeroVar, v)
		}
		if got := strings.Contains(m.msg, "no further group"); got != tc.saysNone {
			t.Errorf("after %s: message %q", tc.key, m.msg)
		}
		if !strings.Contains(v, "group reward mean") {
			t.Errorf("after %s: no group statistics", tc.key)
		}
	}
}

// TestGroupNavigationFollowsReversedList: once R reversed the list (oldest
// step first), ] goes down it as shown, to the newer step's groups, and [
// back up; they went newest step first whatever the list's order, so ]
// on the reversed list's first group (step 1) said there was none further.
func TestGroupNavigationFollowsReversedList(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for s := 1; s <= 3; s++ { // a group of two samples a step
		for k := 0; k < 2; k++ {
			r.Emit(dTrace(s, k, []string{"a", "b"}, []float32{0.1 * float32(k+s), 0}))
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	m := sized(t, r, 120, 40, nil)
	m.pull()
	send(m, press("2"))
	send(m, press("R")) // the list the other way round: oldest step first
	send(m, press("g")) // its first row
	if rows := m.traces.rows; len(rows) == 0 || m.traces.all[rows[0]].Step != 1 {
		t.Fatalf("R did not put step 1 first")
	}
	for _, tc := range []struct {
		key      string
		step     int
		saysNone bool
	}{
		{"v", 1, false}, // the selected (first) trace's group
		{"]", 2, false}, // down the reversed list: the newer step
		{"]", 3, false},
		{"]", 3, true}, // the list's last group
		{"[", 2, false},
		{"[", 1, false},
		{"[", 1, true}, // the list's first group
	} {
		m.msg = ""
		send(m, press(tc.key))
		if !m.traces.group || m.traces.groupKey[0] != tc.step {
			t.Fatalf("after %s: group view %v of step %d, want step %d", tc.key, m.traces.group, m.traces.groupKey[0], tc.step)
		}
		if got := strings.Contains(m.msg, "no further group"); got != tc.saysNone {
			t.Errorf("after %s (step %d): message %q", tc.key, tc.step, m.msg)
		}
	}
	// The help says which way each goes, in every sort: by step (it said
	// "down the list", which a reward sort's rows, mixing the groups, are
	// not), R flipping it.
	send(m, press("?"))
	if v := m.View(); !strings.Contains(v, "next group, toward older steps (R: newer)") || !strings.Contains(v, "previous group, toward newer steps (R: older)") {
		t.Errorf("help does not say ] goes toward older steps and [ toward newer ones, R the other way:\n%s", v)
	}
}

// TestGroupNavigationInARewardSort: ] and [ go through the groups in step
// order whatever the sort, and R flips that order with the rows, as
// docs/workbench.md says: in a reward sort, highest first, ] goes to
// older steps; reversed (lowest reward first), to newer ones. The rows of
// a reward sort mix the groups, so "down the list" is the step order's.
func TestGroupNavigationInARewardSort(t *testing.T) {
	for _, c := range []struct {
		name    string
		reverse bool
		first   int   // the step of the first row: the highest reward, or with R the lowest
		after   []int // the group's step after ], ], [, [
	}{
		{"highest first", false, 1, []int{1, 1, 2, 3}},
		{"R: lowest first", true, 3, []int{3, 3, 2, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for s := 1; s <= 3; s++ { // the later the step, the lower its rewards
				for k := 0; k < 2; k++ {
					r.Emit(dTrace(s, k, []string{"a", "b"}, []float32{0.1 * float32(k+s), 0}))
				}
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			m := sized(t, r, 120, 40, nil)
			m.pull()
			send(m, press("2"))
			send(m, press("r"))
			if c.reverse {
				send(m, press("R"))
			}
			send(m, press("g"))
			if rows := m.traces.rows; len(rows) == 0 || m.traces.all[rows[0]].Step != c.first {
				t.Fatalf("first row not of step %d", c.first)
			}
			send(m, press("v"))
			for i, k := range []string{"]", "]", "[", "["} {
				send(m, press(k))
				if !m.traces.group || m.traces.groupKey[0] != c.after[i] {
					t.Fatalf("after %s (%d): group view %v of step %d, want step %d", k, i+1, m.traces.group, m.traces.groupKey[0], c.after[i])
				}
			}
		})
	}
}

// ckptControl writes a real checkpoint of the run when asked.
type ckptControl struct {
	fakeControl
	r *sessions.Run
	t *testing.T
}

func (c *ckptControl) CheckpointNow() {
	c.ckpt++
	_, err := c.r.SaveCheckpoint(12, func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "weights"), []byte("w"), 0o644)
	}, sessions.CheckpointState{Step: 12, Time: t0})
	if err != nil {
		c.t.Fatal(err)
	}
}

// TestCheckpointConfirmed: c says when the checkpoint it asked for is on
// disk, and where.
func TestCheckpointConfirmed(t *testing.T) {
	r := newTestRun(t, 12, 1, 1, 4)
	ctl := &ckptControl{r: r, t: t}
	m := newModel(Options{Session: &sessions.Session{Run: r, Control: ctl}})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	send(m, press("c"))
	if !strings.Contains(m.msg, "checkpoint requested") {
		t.Errorf("after c: %q", m.msg)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	m.pull()
	if want := "checkpoint of step 12 written: " + filepath.Join(r.Dir(), sessions.CheckpointsDir); !strings.Contains(m.msg, want) {
		t.Errorf("after the checkpoint: %q, want %q", m.msg, want)
	}
}

// TestRunStateInHeader: the header follows the engine's phases, S, the
// engine's "stopped", and a later resume; p after the stop says there is
// nothing to pause.
func TestRunStateInHeader(t *testing.T) {
	r := newTestRun(t, 3, 1, 1, 4)
	ctl := &fakeControl{}
	m := sized(t, r, 120, 40, ctl)
	phase := func(name string) {
		r.Emit(event.Phase{Time: t0, Name: name, Step: 3})
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		m.pull()
	}
	header := func() string { return strings.SplitN(m.View(), "\n", 2)[0] }
	steps := []struct {
		do         func()
		want, lack string
	}{
		{func() { phase("sampling") }, "running · sampling", "stopping"},
		{func() { send(m, press("S")); send(m, press("y")) }, "stopping (after the step in progress)", "running"},
		{func() { phase("stopped") }, "· stopped ·", "st/min"},
		{func() { send(m, press("p")) }, "· stopped ·", "paused"},
		{func() { r.Resume(3); r.Flush(); m.pull(); phase("scoring") }, "running · scoring", "stopped"},
		{func() { phase("done") }, "· finished ·", "st/min"},
	}
	for i, s := range steps {
		s.do()
		h := header()
		if !strings.Contains(h, s.want) || strings.Contains(h, s.lack) {
			t.Errorf("step %d: header %q, want %q without %q", i, h, s.want, s.lack)
		}
	}
	if ctl.pause != 0 {
		t.Errorf("p after the stop paused the engine (%d calls)", ctl.pause)
	}
}

// TestStopAndQuitStopAlike: S (confirmed) and q stop the engine through
// one path: a stepping engine is asked for a checkpoint of the step it
// ends on as well (S's lands at once, and its line says where, not only
// when the workbench later closes the run), a paused one is not (it does
// no step more), and each says when the engine stops in the same words,
// the header saying stopping.
func TestStopAndQuitStopAlike(t *testing.T) {
	for _, c := range []struct {
		name      string
		paused    bool
		onDisk    bool // the paused engine's last step is checkpointed already
		keys      []string
		ckpt      int
		header    string
		msg, then string // the status line at once, and once the checkpoint is read
	}{
		{"S while stepping", false, false, []string{"S", "y"}, 1, "stopping (after the step in progress)",
			"stopping demo-run after its current step, then writing its final checkpoint", "checkpoint of step 12 written: "},
		// A paused engine writes its last step's checkpoint as it stops
		// (run.Engine.Run): it was left to the run's close.
		{"S while paused", true, false, []string{"S", "y"}, 1, "stopping",
			"stopping demo-run now (it is paused), then writing its final checkpoint (a line here says when)", "checkpoint of step 12 written: "},
		{"S while paused, its last step on disk", true, true, []string{"S", "y"}, 1, "stopping",
			"stopping demo-run now (it is paused): the checkpoint of its last step, 11, is on disk already", ""},
		{"q while stepping", false, false, []string{"q"}, 1, "stopping (after the step in progress)",
			"stopping demo-run after its current step, then writing its final checkpoint… (q again: leave now)", ""},
		{"q while paused", true, false, []string{"q"}, 1, "stopping",
			"stopping demo-run now (it is paused), then writing its final checkpoint… (q again: leave now)", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRun(t, 12, 1, 1, 4)
			ctl := &ckptControl{r: r, t: t}
			// Close set: the workbench ends the run itself, so q stays on
			// screen while the engine stops (its command is not run here).
			m := newModel(Options{Session: &sessions.Session{Run: r, Control: ctl, Close: r.Close}})
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
			if c.onDisk {
				saveTestCheckpoint(t, r, 11)
			}
			if c.paused {
				r.Emit(event.Phase{Time: t0, Name: "paused", Step: 12})
				if err := r.Flush(); err != nil {
					t.Fatal(err)
				}
				m.pull()
			}
			for _, k := range c.keys {
				m.Update(press(k))
			}
			if ctl.stop != 1 || ctl.ckpt != c.ckpt {
				t.Errorf("engine asked to stop %d times and to checkpoint %d times, want 1 and %d", ctl.stop, ctl.ckpt, c.ckpt)
			}
			if h := strings.SplitN(m.View(), "\n", 2)[0]; !strings.Contains(h, "· "+c.header+" ·") {
				t.Errorf("header %q, want %q", h, c.header)
			}
			if !strings.Contains(m.msg, c.msg) {
				t.Errorf("status line %q, want %q", m.msg, c.msg)
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			m.pull()
			want := c.then
			if want == "" {
				want = c.msg // nothing new to say
			}
			if !strings.Contains(m.msg, want) {
				t.Errorf("status line once the checkpoint is read %q, want %q", m.msg, want)
			}
		})
	}
}

func TestStoppedGolden(t *testing.T) {
	r := newTestRun(t, 12, 2, 4, 60)
	r.Emit(event.Phase{Time: t0, Name: "stopped", Step: 12})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, sz := range golden.Sizes {
		name := fmt.Sprintf("dashboard_stopped_%dx%d", sz.W, sz.H)
		t.Run(name, func(t *testing.T) {
			m := sized(t, r, sz.W, sz.H, &fakeControl{})
			m.pull()
			v := m.View()
			golden.Fits(t, v, sz.W, sz.H)
			golden.Assert(t, name, v)
		})
	}
}

// The group view's std is the one the run's advantages divide by (the
// engine's GRPO, RLT.md §4: Bessel's correction, as the reward_std metric
// too), so (reward − mean) / std of the rows reads back their advantages.
func TestGroupViewStdIsTheAdvantages(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rewards []float64
		want    string
	}{
		{"eight samples", []float64{-4.306, -5.299, -5.299, -7.644, -7.818, -7.937, -7.937, -11.040},
			"group reward mean -7.160 std 2.138 over 8"},
		{"two samples", []float64{1, 2}, "group reward mean 1.500 std 0.707 over 2"},
		{"one sample", []float64{3}, "group reward mean 3.000 std 0.000 over 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			var mean, ss float64
			for _, v := range tc.rewards {
				mean += v / float64(len(tc.rewards))
			}
			for _, v := range tc.rewards {
				ss += (v - mean) * (v - mean)
			}
			std := 0.0
			if len(tc.rewards) > 1 {
				std = math.Sqrt(ss / float64(len(tc.rewards)-1))
			}
			for k, v := range tc.rewards {
				tr := makeTrace(1, 0, k, 4)
				tr.Score.Terms.Reward = v
				tr.Advantage = (v - mean) / (std + 1e-4) // engine/rlt.Advantages
				r.Emit(tr)
			}
			m := sized(t, r, 120, 30, nil)
			send(m, press("2"))
			send(m, press("v"))
			v := ansi.Strip(m.View())
			if !strings.Contains(v, tc.want) {
				t.Fatalf("group view does not say %q:\n%s", tc.want, v)
			}
		})
	}
}

// A trace whose file is gone (removed after the run was opened) still
// opens in the detail with its scores and the starts of its question and
// explanation (the store's previews), and the status line says why its
// texts and tokens are missing.
func TestDetailTraceFileGone(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 20)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	m := sized(t, r, 160, 40, &fakeControl{})
	send(m, press("2"))
	if err := os.RemoveAll(filepath.Join(r.Dir(), sessions.TracesDir)); err != nil {
		t.Fatal(err)
	}
	send(m, press("enter"))
	v := m.View()
	for _, want := range []string{"read its texts and per-token arrays back", "question (its start; not read back) 2+3=?", "r_SS",
		"the 20 explanation tokens could not be read back", "(the explanation's start: its text and tokens could not be read back) The sum of",
		"reference not read back"} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
}

// The Traces list shows a trace's previews, which the store keeps of a
// trace in its file in place of its texts, and the detail reads the texts
// back whole: a question and an explanation longer than a preview end
// with "…" in the list of the widest screen (the question at its third
// of the preview column, the explanation at its preview's end) and are
// read to their last word in the detail.
func TestLongTextsListedAndShownWhole(t *testing.T) {
	r := newTestRun(t, 1, 1, 1, 20)
	words := func(lead, tail string) string {
		var b strings.Builder
		b.WriteString(lead)
		for i := 0; b.Len() < 2*sessions.PreviewWidth; i++ {
			fmt.Fprintf(&b, " w%d", i)
		}
		return b.String() + " " + tail
	}
	question, expl := words("Question:", "LASTQ"), words("Because", "LASTE")
	r.Emit(event.Trace{Time: t0, Step: 2, Question: question, Solution: "42",
		Completion: expl + record.EndExplanation + "42" + record.ImEnd, Reconstruction: "41"})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	m := sized(t, r, 520, 60, nil)
	send(m, press("2"))
	list := ansi.Strip(m.View())
	if want := question[:questionW(m.traces.previewW())-1] + "… │"; !strings.Contains(list, want) || strings.Contains(list, "LASTQ") {
		t.Errorf("the list does not show the question's start %q:\n%s", want, list)
	}
	if want := expl[:sessions.PreviewWidth-1] + "…"; !strings.Contains(list, want) || strings.Contains(list, "LASTE") {
		t.Errorf("the list does not show the explanation's preview %q:\n%s", want, list)
	}
	m.Update(openMsg{"2-0-0"})
	detail := ansi.Strip(m.View())
	for _, want := range []string{"LASTQ", "LASTE", "reference 42"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the detail lacks %q (the texts read back whole):\n%s", want, detail)
		}
	}
}

// TestHeaderPhaseGivesWay: the step's phase said in the header's state
// (no progress line says it: a run followed read-only, a phase without
// counts) is left out before the reward is cut, as the progress line is.
func TestHeaderPhaseGivesWay(t *testing.T) {
	for _, c := range []struct {
		w          int
		want, lack string
	}{
		{200, "· running · reconstructing · step 5/20 · reward -0.600 (step 4) · 10.0 st/min · ETA", ""},
		{80, "· running · step 5/20 · reward -0.600 (step 4)", "reconstructing"},
		{60, "· running · step 5/20 · reward -0.600", "reconstructing"},
	} {
		t.Run(fmt.Sprint(c.w), func(t *testing.T) {
			r := newTestRun(t, 4, 1, 1, 4)
			m := sized(t, r, c.w, 24, &fakeControl{})
			r.Emit(event.Phase{Time: t0, Name: "reconstructing", Step: 4})
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			m.pull()
			h := strings.SplitN(m.View(), "\n", 2)[0]
			if !strings.Contains(h, c.want) || (c.lack != "" && strings.Contains(h, c.lack)) || strings.Contains(h, "…") {
				t.Errorf("header %q, want %q uncut without %q", h, c.want, c.lack)
			}
		})
	}
}

// TestDetailVerdictReadWhole: the verifier's verdict and the summary of
// the reconstruction's diff are read whole, wrapped where the line has
// no room, at 80×24 and in the 200-column layout's right panel.
func TestDetailVerdictReadWhole(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "verdict"), testCfg{Task: "addition", Steps: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	toks := []string{"4131", "Ġplus", "Ġ69", ":", "Ġ1", "+", "9", "=", "11", ",", "Ġso", "Ġwe", "Ġsay", "Ġ490", "."}
	tr := dTrace(1, 0, toks, make([]float32, len(toks)))
	tr.Question, tr.Solution, tr.Reconstruction = "4131+69=?", "4200", "490"
	r.Emit(tr)
	add, _ := task.Lookup("addition")
	verdict := "verifier (addition): " + verdictText(add.VerifyExplanation(tr.Question, strings.Join(toks, "")))
	summary := "differs: 0 of 1 reference word reproduced · 1 changed · 2 of 4 characters in place"
	words := func(s string) string { return strings.Join(strings.Fields(ansi.Strip(s)), " ") }
	for _, tc := range []struct {
		w, h int
	}{{80, 24}, {80, 40}, {200, 50}} {
		t.Run(fmt.Sprintf("%dx%d", tc.w, tc.h), func(t *testing.T) {
			m := sized(t, r, tc.w, tc.h, nil)
			openTrace(t, m, "1-0-0")
			v := m.View()
			golden.Fits(t, v, tc.w, tc.h)
			if !strings.Contains(words(v), words(verdict)) {
				t.Errorf("the verdict %q is not read whole:\n%s", verdict, ansi.Strip(v))
			}
			// The diff as the screen lays it out: the right panel at
			// 120 columns and more.
			pw := tc.w
			if tc.w >= 120 {
				pw = tc.w - tc.w*3/5 - 3
			}
			part := m.detail.solutionPart(pw, 20, m.detail.diffLines(pw))
			if !strings.Contains(words(strings.Join(part, "\n")), summary) {
				t.Errorf("the diff's summary is not read whole in %d columns:\n%s", pw, strings.Join(part, "\n"))
			}
		})
	}
}

// TestDetailQuestionAndReferenceReadWhole: at 80 columns the question is
// wrapped and the reference read whole, on the question's last line where
// it fits there, else on a line of its own; a question of one long word
// does not push the reference off the screen.
func TestDetailQuestionAndReferenceReadWhole(t *testing.T) {
	for _, c := range []struct {
		name               string
		question, solution string
		w, h               int
	}{
		{"short, one line", "4131+69=?", "4200", 80, 24},
		{"long question", "What is the sum of 4131 and 69, written in digits, when every step of the carrying is shown and explained?", "4 & 200: 4200", 80, 24},
		{"one long word", strings.Repeat("x", 130) + "=?", "4200", 80, 24},
		{"long reference", "4131+69=?", "4131 plus 69 carries a one into the tens, then into the hundreds, so the sum is 4200 in all", 80, 24},
		{"long question, tall", "What is the sum of 4131 and 69, written in digits, when every step of the carrying is shown and explained?", "4 & 200: 4200", 80, 40},
		{"one long word, narrow", strings.Repeat("y", 90), "4200", 60, 15},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := sessions.Create(filepath.Join(t.TempDir(), "ctx"), testCfg{Task: "addition", Steps: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			toks := []string{"4131", "Ġplus", "Ġ69"}
			tr := dTrace(1, 0, toks, make([]float32, len(toks)))
			tr.Question, tr.Solution, tr.Reconstruction = c.question, c.solution, "4200"
			r.Emit(tr)
			m := sized(t, r, c.w, c.h, nil)
			openTrace(t, m, "1-0-0")
			v := m.View()
			golden.Fits(t, v, c.w, c.h)
			lines := m.detail.context()
			squash := func(s string) string { return strings.Join(strings.Fields(ansi.Strip(s)), "") }
			got := squash(strings.Join(lines, "\n"))
			for _, want := range []string{"question " + c.question, "reference " + c.solution} {
				if !strings.Contains(got, squash(want)) || !strings.Contains(squash(v), squash(want)) {
					t.Errorf("%q is not read whole:\n%s", want, ansi.Strip(strings.Join(lines, "\n")))
				}
			}
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > c.w || strings.Contains(l, "…") {
					t.Errorf("context line %q is %d wide or cut, in %d columns", ansi.Strip(l), w, c.w)
				}
			}
		})
	}
}

// TestHeaderPhaseKeepsItsPlace: the step's phase is said right after the
// state whether the state says it (a phase event alone) or the progress
// line does, so it does not move about the header between the two; and a
// narrow header shows the reward whole or not at all (reward -3.… cut it
// mid-number), on every screen.
func TestHeaderPhaseKeepsItsPlace(t *testing.T) {
	for _, c := range []struct {
		name     string
		progress bool
		want     string
	}{
		{"phase alone", false, "· running · reconstructing · step 5/20 ·"},
		{"with its progress", true, "· running · reconstructing 1/4 passes · "},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRun(t, 4, 1, 1, 4)
			m := sized(t, r, 200, 24, &fakeControl{})
			r.Emit(event.Phase{Time: t0, Name: "reconstructing", Step: 5})
			if c.progress {
				r.Emit(event.Progress{Time: t0.Add(1 * time.Second), Started: t0, Step: 5, Phase: "reconstructing", Done: 1, Total: 4, Unit: "passes"})
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			m.pull()
			if h := m.statusLine(); !strings.Contains(h, c.want) || !strings.Contains(h, " · step 5/20 · ") || strings.Index(h, "reconstructing") > strings.Index(h, "step 5/20") {
				t.Errorf("header %q, want %q before the step count", h, c.want)
			}
		})
	}
	for _, scr := range []string{"1", "2", "3", "4"} {
		for _, w := range []int{40, 50, 55, 60, 70} {
			t.Run(fmt.Sprintf("screen %s at %d", scr, w), func(t *testing.T) {
				r := newTestRun(t, 4, 1, 1, 4)
				r.Emit(event.Metrics{Time: t0, Step: 5, Values: map[string]float64{"reward": -3.14159}})
				if err := r.Flush(); err != nil {
					t.Fatal(err)
				}
				m := sized(t, r, w, 15, &fakeControl{})
				send(m, press(scr))
				m.pull()
				h := strings.SplitN(ansi.Strip(m.View()), "\n", 2)[0]
				if i := strings.Index(h, "reward"); i >= 0 && !strings.Contains(h, "reward -3.142") {
					t.Errorf("header %q cuts the reward", h)
				}
				if !strings.Contains(h, "step 6/20") && strings.Contains(h, "step") {
					t.Errorf("header %q cuts the step", h)
				}
			})
		}
	}
}

// TestQuitSaysStoppingInHeader: q on a run training here, which the
// workbench ends itself, says in the header that it is stopping until the
// program exits, as S, y does; it used to say "running · sampling" while
// the message line said it was stopping.
func TestQuitSaysStoppingInHeader(t *testing.T) {
	for _, c := range []struct {
		phase, before, want string
	}{
		{"sampling", "running · sampling", "stopping (after the step in progress)"},
		// A paused engine has no step in progress: it stops now.
		{"paused", "paused", "stopping"},
	} {
		r := newTestRun(t, 3, 1, 1, 4)
		ctl := &fakeControl{}
		m := newModel(Options{Session: &sessions.Session{Run: r, Steps: 20, Control: ctl, Close: r.Close}})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		r.Emit(event.Phase{Time: t0, Name: c.phase, Step: 3})
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		m.pull()
		header := func() string { return strings.SplitN(m.View(), "\n", 2)[0] }
		if h := header(); !strings.Contains(h, c.before) {
			t.Fatalf("%s, before q: header %q", c.phase, h)
		}
		m.Update(press("q")) // its command (closing the run) is not run: the step is still in progress
		if !strings.Contains(m.msg, "stopping") {
			t.Errorf("%s, after q: message %q, want it to say stopping", c.phase, m.msg)
		}
		if h := header(); !strings.Contains(h, "· "+c.want+" ·") || strings.Contains(h, "running") {
			t.Errorf("%s, after q: header %q, want %s, not running", c.phase, h, c.want)
		}
		if ctl.stop != 1 {
			t.Errorf("%s: q asked the engine to stop %d times, want 1", c.phase, ctl.stop)
		}
	}
}

// TestDetailRedrawKeepsItsHeatmaps: a redraw of the Detail screen (each
// flush of a live run's files marks it) measures the heatmaps' whole
// height without setting it, so neither heatmap renders again when
// nothing in it changed. Measuring by SetSize(w, 1<<20) threw the
// rendered explanation away at every redraw on screens under 120 columns.
func TestDetailRedrawKeepsItsHeatmaps(t *testing.T) {
	for _, w := range []int{80, 140} {
		r := newTestRun(t, 2, 1, 2, 400)
		m := sized(t, r, w, 24, nil)
		m.pull()
		send(m, press("2"))
		send(m, press("enter"))
		if m.active != scrDetail || !m.detail.has {
			t.Fatalf("%d columns: no trace open on the Detail screen", w)
		}
		m.View()
		expl, sol := m.detail.expl.Renders(), m.detail.sol.Renders()
		for range 5 {
			m.detail.storeChanged()
			m.detail.settle()
		}
		if e, s := m.detail.expl.Renders()-expl, m.detail.sol.Renders()-sol; e != 0 || s != 0 {
			t.Errorf("%d columns: 5 redraws rendered the explanation's heatmap %d times and the solution's %d, want 0", w, e, s)
		}
	}
}
