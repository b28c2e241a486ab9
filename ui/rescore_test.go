package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/heatmap"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
)

// officialFixture is the official trainer's run folder the sessions tests
// import (relative to this package).
const officialFixture = "../sessions/testdata/official/run"

// importOfficial imports the committed official trainer fixture into a
// run folder named "official" and returns its path.
func importOfficial(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "official")
	if _, err := sessions.Import(dir, officialFixture); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// fakeRescore scores trace tr's text the way rlt score --run --write
// records it, with made-up but deterministic log-probs: the explanation
// split into byte-level word tokens, the solution into one token per word.
func fakeRescore(tr sessions.TraceRecord, cfg record.RewardConfig, seed int) sessions.RescoreRecord {
	var sc record.Scored
	sc.Ended = tr.Ended
	i := 0
	for _, line := range strings.SplitAfter(tr.Explanation, "\n") {
		for j, w := range strings.Fields(line) {
			tok := w
			if j > 0 || i > 0 {
				tok = "Ġ" + w
			}
			sc.ExplanationTokens = append(sc.ExplanationTokens, tok)
			sc.ExplanationIDs = append(sc.ExplanationIDs, int32(i))
			tl := float32(-0.2 - 0.07*float64((i*5+seed)%9))
			sl := float32(-0.3 - 0.25*float64((i*3+seed)%7))
			sc.TeacherLP = append(sc.TeacherLP, tl)
			sc.StudentLP = append(sc.StudentLP, sl)
			sc.D = append(sc.D, tl-sl)
			i++
		}
		if strings.HasSuffix(line, "\n") && i > 0 {
			sc.ExplanationTokens = append(sc.ExplanationTokens, "Ċ")
			sc.ExplanationIDs = append(sc.ExplanationIDs, int32(i))
			sc.TeacherLP = append(sc.TeacherLP, -0.05)
			sc.StudentLP = append(sc.StudentLP, -0.1)
			sc.D = append(sc.D, 0.05)
			i++
		}
	}
	for k, w := range strings.Fields(tr.Solution) {
		sc.SolutionTokens = append(sc.SolutionTokens, w)
		sc.SolutionIDs = append(sc.SolutionIDs, int32(k))
		sc.SolutionLP = append(sc.SolutionLP, float32(-0.15-0.2*float64((k+seed)%4)))
	}
	sc.Terms = cfg.Reduce(sc.SolutionLP, sc.D, sc.StudentLP, sc.Ended)
	rec := sessions.NewRescore(tr.ID, sc, "engine/defaults/models/teacher", "engine/defaults/models/student", cfg)
	rec.Time = t0.Add(time.Hour)
	return rec
}

// appendRescores opens dir for writing (as rlt score --run --write does),
// appends a rescore of every trace keep accepts, and closes it.
func appendRescores(tb testing.TB, dir string, cfg record.RewardConfig, seed int, keep func(sessions.TraceRecord) bool) []string {
	tb.Helper()
	w, err := sessions.Open(dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Close()
	ts, _ := w.Store().TracesSince(0)
	var recs []sessions.RescoreRecord
	var ids []string
	for _, listed := range ts {
		tr, err := w.Store().Trace(listed.ID) // its texts, to score
		if err != nil {
			tb.Fatal(err)
		}
		if keep(tr) {
			recs = append(recs, fakeRescore(tr, cfg, seed+len(recs)))
			ids = append(ids, tr.ID)
		}
	}
	if err := w.AppendRescores(recs); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return ids
}

func openReadOnly(tb testing.TB, dir string, w, h int) *Model {
	tb.Helper()
	ro, err := sessions.OpenReadOnlyWith(dir, sessions.Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ro.Close() })
	m := newModel(Options{Session: &sessions.Session{Run: ro, ReadOnly: true}})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// The detail of an imported trace shows its rescore's scores and arrays,
// labelled, with the source's file:line and reward; the traces list sorts
// on the rescored reward and marks it.
func TestGoldenImportedRescore(t *testing.T) {
	dir := importOfficial(t)
	// Every trace but the last is re-scored.
	ids := appendRescores(t, dir, record.DefaultRewardConfig(), 0, func(tr sessions.TraceRecord) bool { return tr.ID != "2-0-1" })
	if len(ids) != 4 {
		t.Fatalf("rescored %v, want 4 of the fixture's 5 traces", ids)
	}
	for _, sz := range golden.Sizes[:2] {
		for _, scr := range []string{"traces", "detail"} {
			name := fmt.Sprintf("rescore_%s_%dx%d", scr, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				m := openReadOnly(t, dir, sz.W, sz.H)
				send(m, press("2"))
				send(m, press("r")) // by reward: the rescored ones count
				if scr == "detail" {
					m.Update(openMsg{"1-0-1"})
					for range 3 {
						send(m, press("right"))
					}
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

func TestImportedRescoreDetail(t *testing.T) {
	dir := importOfficial(t)
	appendRescores(t, dir, record.DefaultRewardConfig(), 0, func(tr sessions.TraceRecord) bool { return tr.ID != "2-0-1" })
	m := openReadOnly(t, dir, 120, 40)
	st := m.sh.store
	own, _ := st.Trace("1-0-1")
	rs, _ := st.ReadRescore("1-0-1")
	if own.HasScore || len(own.ExplanationTokens) != 0 || own.Source == "" || !own.HasSourceReward {
		t.Fatalf("the fixture's trace is not an imported one: %+v", own)
	}
	m.Update(openMsg{"1-0-1"})
	d := m.detail
	if !d.useRS || d.rec.Terms != rs.Terms || len(d.rec.D) != len(rs.D) || d.rec.Source != own.Source {
		t.Fatalf("imported trace with a rescore: useRS %v, shown %+v", d.useRS, d.rec.Terms)
	}
	v := m.View()
	for _, want := range []string{
		"re-scored 2026-01-02 04:04 UTC (rescores.jsonl) · no scores of its own",
		"teacher " + filepath.Join("…", "models", "teacher") + " · student " + filepath.Join("…", "models", "student"),
		"c1 1 ", "reward " + num(rs.Terms.Reward, 3) + " (rescore)",
		"imported from " + own.Source, "the source's reward " + num(own.SourceReward, 3),
		fmt.Sprintf("tok 1/%d", len(rs.ExplanationTokens)),
	} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "no per-token scores") || strings.Contains(v, "advantage") {
		t.Errorf("detail of a rescored import:\n%s", v)
	}
	// A rescore whose log-probs are at another temperature than the run's
	// (through a server that computes them of the raw logits) says so.
	if l := d.rescoreLabel(); strings.Contains(strings.Join(l, "\n"), "log-probs at τ") {
		t.Errorf("a rescore at the run's temperature warns: %q", l)
	}
	saved := d.rs.Reward
	d.rs.Reward.Temperature = 1
	// An imported run records not its trainer's τ: the rescore's is
	// compared with the default, not claimed as the run's.
	if l := d.rescoreLabel(); !strings.Contains(l[2], "τ 1 ") || !strings.Contains(l[2], "log-probs at τ 1, not the default 0.7") {
		t.Errorf("a rescore at τ 1 of an imported run: %q", l)
	}
	// One whose rows record their reward ([import.reward]) is compared
	// with the rows' τ, said as theirs.
	d.settings.ImportedReward = &record.RewardConfig{Temperature: 0.9, KLMean: 3, Estimator: record.LogRatio}
	if l := d.rescoreLabel(); !strings.Contains(l[2], "log-probs at τ 1, not the rows' 0.9") {
		t.Errorf("a rescore at τ 1 of an import of rows ranked at τ 0.9: %q", l)
	}
	d.settings.ImportedReward = nil
	d.rs.Reward = saved
	send(m, press("s")) // nothing of its own to toggle to
	if !d.useRS || !strings.Contains(m.msg, "no scores of its own") {
		t.Errorf("s on an imported trace: useRS %v, %q", d.useRS, m.msg)
	}
	send(m, press("m"))
	if c := d.expl.Cursor(); c != rs.Terms.KLMaxPos || c < 0 {
		t.Errorf("m: cursor %d, want the rescore's max d_k %d", c, rs.Terms.KLMaxPos)
	}
	// The trace without a rescore says how to make one.
	m.Update(openMsg{"2-0-1"})
	if d.useRS || !strings.Contains(m.View(), "no per-token scores: imported from") {
		t.Errorf("import without a rescore:\n%s", m.View())
	}
	send(m, press("s"))
	if !strings.Contains(m.msg, "has no rescore: in another terminal run rlt score --run "+dir+" --teacher TEACHER --student STUDENT --write") {
		t.Errorf("s without a rescore: %q", m.msg)
	}
	// The list: rescored rewards sort and filter, marked; the one without
	// has none.
	send(m, press("esc"))
	tr := m.traces
	send(m, press("r"))
	tr.rebuild()
	if len(tr.rows) != 5 || tr.nRescored != 4 {
		t.Fatalf("%d rows, %d rescored", len(tr.rows), tr.nRescored)
	}
	for i := 1; i < 4; i++ {
		if tr.rewardOf(tr.all[tr.rows[i-1]]) < tr.rewardOf(tr.all[tr.rows[i]]) {
			t.Fatal("not sorted by the rescored reward")
		}
	}
	if id := tr.all[tr.rows[4]].ID; id != "2-0-1" {
		t.Errorf("the trace without a reward sorts %s last, want 2-0-1", id)
	}
	lv := m.View()
	if !strings.Contains(lv, num(rs.Terms.Reward, 3)+rescoreMark) || !strings.Contains(lv, rescoreLegend) {
		t.Errorf("list lacks the marked rescore reward %s or the legend:\n%s", num(rs.Terms.Reward, 3), lv)
	}
	send(m, press("/"))
	for _, s := range strings.Split(fmt.Sprintf("%.4f..%.4f", rs.Terms.Reward-1e-4, rs.Terms.Reward+1e-4), "") {
		send(m, press(s))
	}
	send(m, press("enter"))
	tr.rebuild()
	if len(tr.rows) != 1 || tr.all[tr.rows[0]].ID != "1-0-1" {
		t.Errorf("reward filter on the rescored reward kept %d rows", len(tr.rows))
	}
	send(m, press("?"))
	if hv := m.View(); !strings.Contains(hv, "sort by reward ("+rescoreMark+": a rescore's, the trace has none)") {
		t.Errorf("traces help does not explain the mark:\n%s", hv)
	}
	send(m, press("?"))
	send(m, press("3"))
	send(m, press("?"))
	if hv := m.View(); !strings.Contains(hv, "own scores / rescore") {
		t.Errorf("detail help does not list the toggle:\n%s", hv)
	}
}

// Our own trace re-scored with other coefficients: its own scores by
// default, s toggles to the rescore and back, the cursor stays.
func TestRescoreToggle(t *testing.T) {
	r := newTestRun(t, 3, 2, 4, 40)
	cfg := record.DefaultRewardConfig()
	cfg.KLMean, cfg.KLMax = 0.5, 0
	tr, _ := r.Store().Trace("3-0-1")
	rs := fakeRescore(tr, cfg, 3)
	if err := r.AppendRescores([]sessions.RescoreRecord{rs}); err != nil {
		t.Fatal(err)
	}
	m := sized(t, r, 120, 40, nil)
	send(m, press("2"))
	send(m, press("down"))
	send(m, press("enter"))
	d := m.detail
	if d.rec.ID != "3-0-1" || d.useRS || !d.hasRS {
		t.Fatalf("opened %s, useRS %v hasRS %v", d.rec.ID, d.useRS, d.hasRS)
	}
	v := m.View()
	if strings.Contains(v, "re-scored 2026-01-02") || !strings.Contains(v, "reward "+num(tr.Terms.Reward, 3)+" │ advantage") {
		t.Errorf("own scores not shown by default:\n%s", v)
	}
	send(m, press("right"))
	send(m, press("right"))
	send(m, press("s"))
	if !d.useRS || d.rec.Terms != rs.Terms || d.expl.Cursor() != 2 || !strings.Contains(m.msg, "showing its rescore") {
		t.Fatalf("after s: useRS %v terms %+v cursor %d msg %q", d.useRS, d.rec.Terms, d.expl.Cursor(), m.msg)
	}
	v = m.View()
	for _, want := range []string{"re-scored 2026-01-02 04:04 UTC (rescores.jsonl) · s: its own scores",
		"c1 1 c2 0.01 c3 0.5 c4 0 ", "reward " + num(rs.Terms.Reward, 3) + " (rescore)",
		fmt.Sprintf("tok 3/%d %q ℓT %s", len(rs.ExplanationTokens), heatmap.Visible(rs.ExplanationTokens[2]), num(float64(rs.TeacherLP[2]), 4))} {
		if !strings.Contains(v, want) {
			t.Errorf("rescore view lacks %q:\n%s", want, v)
		}
	}
	golden.Fits(t, v, 120, 40)
	send(m, press("s"))
	if d.useRS || d.rec.Terms != tr.Terms || !strings.Contains(m.View(), "│ advantage") {
		t.Errorf("s again: useRS %v", d.useRS)
	}
	// The list keeps the trace's own reward (it has one): nothing marked.
	send(m, press("esc"))
	if v := m.View(); strings.Contains(v, rescoreLegend) {
		t.Errorf("own rewards marked as rescored:\n%s", v)
	}
	// Another trace has no rescore.
	send(m, press("down"))
	send(m, press("enter"))
	send(m, press("s"))
	if d.useRS || !strings.Contains(m.msg, "has no rescore") {
		t.Errorf("s without a rescore: %v %q", d.useRS, m.msg)
	}
}

// A rescore appended by another process while the run is open read-only
// reaches the open detail and the list.
func TestRescoreAppendedWhileOpen(t *testing.T) {
	dir := importOfficial(t)
	m := openReadOnly(t, dir, 80, 24)
	send(m, press("2"))
	m.Update(openMsg{"1-0-0"})
	if m.detail.useRS || !strings.Contains(m.View(), "no per-token scores") {
		t.Fatalf("before the rescore:\n%s", m.View())
	}
	st := m.sh.store
	appendRescores(t, dir, record.DefaultRewardConfig(), 0, func(tr sessions.TraceRecord) bool { return tr.ID == "1-0-0" })
	deadline := time.Now().Add(hangGuard)
	for {
		if _, ok := st.Rescore("1-0-0"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rescore never reached the read-only store")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rs, _ := st.Rescore("1-0-0")
	m.Update(changedMsg{m.gen})
	if !m.detail.useRS || m.detail.rec.Terms != rs.Terms {
		t.Fatalf("the open detail did not pick up the rescore: useRS %v", m.detail.useRS)
	}
	v := m.View()
	if !strings.Contains(v, "re-scored 2026-01-02") || !strings.Contains(v, "reward "+num(rs.Terms.Reward, 3)+" (rescore)") {
		t.Errorf("detail after the rescore arrived:\n%s", v)
	}
	send(m, press("esc"))
	if v := m.View(); !strings.Contains(v, num(rs.Terms.Reward, 3)+rescoreMark) {
		t.Errorf("list after the rescore arrived:\n%s", v)
	}
	if m.traces.nRescored != 1 {
		t.Errorf("%d rescored rows, want 1", m.traces.nRescored)
	}
}

func TestShortPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "?"},
		{"runs/teacher", "runs/teacher"},
		{"/home/me/work/models/qwen-7b/teacher", filepath.FromSlash("…/qwen-7b/teacher")}, // the system's separator
		{"http://gpu-node-17.cluster.example:8000", "gpu-node-17.cluster.example:8000"},
		{"https://scoring.example.org/vllm/teacher", "scoring.example.org"},
	} {
		if got := shortPath(c.in); got != c.want {
			t.Errorf("shortPath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// rescoredTrace is a model on a run of one trace, 1-0-0 with score own,
// re-scored with rescore; edit (if not nil) then changes the run folder.
// It shows the trace's detail.
func rescoredTrace(t *testing.T, own, rescore record.Scored, edit func(dir string)) *Model {
	t.Helper()
	r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ev := makeTrace(1, 0, 0, 20)
	ev.Score = &own
	r.Emit(ev)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	rs := sessions.NewRescore("1-0-0", rescore, "T", "S", record.DefaultRewardConfig())
	if err := r.AppendRescores([]sessions.RescoreRecord{rs}); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(r.Dir())
	}
	m := sized(t, r, 160, 40, nil)
	send(m, press("2"))
	send(m, press("enter"))
	return m
}

// Our own trace with a short array, re-scored with complete arrays: s
// shows the rescore, and the "incomplete record" warning (about the
// trace's own arrays) goes, since traceGaps reads the shown record's
// Lengths (withRescore sets the rescore's; 87940c7 kept the trace's).
func TestRescoreOfShortTraceNotIncomplete(t *testing.T) {
	full := *makeTrace(1, 0, 0, 20).Score
	short := full
	short.TeacherLP = short.TeacherLP[:17]
	m := rescoredTrace(t, short, full, nil)
	if v := m.View(); !strings.Contains(v, "incomplete record") {
		t.Fatalf("own short trace not marked incomplete:\n%s", v)
	}
	send(m, press("s"))
	if !m.detail.useRS {
		t.Fatalf("s did not switch to the rescore: %q", m.msg)
	}
	if v := m.View(); strings.Contains(v, "incomplete record") {
		t.Errorf("rescore (complete arrays) shown with the own trace's incomplete-record warning:\n%s", v)
	}
}

// A rescore whose arrays cannot be read back (rescores.jsonl rewritten since
// the run was opened): s shows it saying that its tokens were to come from
// rescores.jsonl, not the trace file (whose tokens read back fine), and the
// status line keeps the reason rather than only "showing its rescore".
func TestRescoreUnreadNamesRescoresFile(t *testing.T) {
	sc := *makeTrace(1, 0, 0, 20).Score
	m := rescoredTrace(t, sc, sc, func(dir string) {
		// Another process rewrites rescores.jsonl: the line no longer holds it.
		if err := os.WriteFile(filepath.Join(dir, sessions.RescoresFile), []byte("\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	if v := m.View(); !strings.Contains(v, "tok 1/20") {
		t.Fatalf("the trace's own tokens are not shown:\n%s", v)
	}
	send(m, press("s"))
	if !m.detail.useRS {
		t.Fatalf("s did not switch to the rescore: %q", m.msg)
	}
	v := m.View()
	if !strings.Contains(v, "the 20 explanation tokens could not be read back from rescores.jsonl") {
		t.Errorf("the rescore's missing tokens are not said to come from rescores.jsonl:\n%s", v)
	}
	if !strings.Contains(m.msg, "without per-token arrays") || !strings.Contains(m.msg, "no longer holds it") {
		t.Errorf("status line after s: %q", m.msg)
	}
	send(m, press("s"))
	if v := m.View(); !strings.Contains(v, "tok 1/20") {
		t.Errorf("back to its own scores, the tokens are not shown:\n%s", v)
	}
}
