package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/hf/hftest"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
)

// editLine rewrites line n (1-based) of the file at path with edit, which
// gets the old line without its newline; insert puts a new line there
// instead.
func editLine(t *testing.T, path string, n int, insert bool, edit func(old string) string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if insert {
		lines = append(lines[:n-1], append([]string{edit("") + "\n"}, lines[n-1:]...)...)
	} else {
		lines[n-1] = edit(strings.TrimSuffix(lines[n-1], "\n")) + "\n"
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// brokenRun writes runs/broken-run under a fresh working folder (entered
// with t.Chdir, so the paths shown are the same everywhere) with one of
// each kind of damage a crash, a full disk or another tool can leave: a
// truncated metrics line, a garbage traces line, a bad reviews line, a
// corrupt latest checkpoint, a trace whose teacher_lp array is short, and
// a config.toml key the configuration does not have.
func brokenRun(t *testing.T) string {
	t.Helper()
	t.Chdir(t.TempDir())
	dir := filepath.Join("runs", "broken-run")
	w, err := sessions.Create(dir, testCfg{Task: "addition", Steps: 4})
	if err != nil {
		t.Fatal(err)
	}
	save := func(d string) error { return os.WriteFile(filepath.Join(d, "weights.bin"), make([]byte, 64), 0o644) }
	for s := 1; s <= 3; s++ {
		w.Emit(event.Metrics{Time: t0.Add(time.Duration(s) * 6 * time.Second), Step: s,
			Values: map[string]float64{"reward": -1 + 0.2*float64(s), "kl": 0.01 * float64(s)}})
		for k := 0; k < 2; k++ {
			w.Emit(makeTrace(s, 0, k, 12))
		}
		if s == 3 {
			short := makeTrace(3, 1, 0, 12)
			sc := short.Score
			sc.TeacherLP = sc.TeacherLP[:5] // 5 values for 12 tokens
			w.Emit(short)
		}
		if s >= 2 {
			if _, err := w.SaveCheckpoint(s, save, sessions.CheckpointState{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Review("1-0-0", sessions.LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Step 2's metrics line cut in half (a crash, then a resumed writer
	// appended after it); trace 2-0-1's line overwritten with garbage; a
	// review with a label nobody knows.
	editLine(t, filepath.Join(dir, sessions.MetricsFile), 2, false, func(old string) string { return old[:len(old)/2] })
	editLine(t, filepath.Join(dir, sessions.TracesDir, "000002.jsonl"), 2, false, func(string) string { return "\x00\x00garbage from a bad disk block" })
	editLine(t, filepath.Join(dir, sessions.ReviewsFile), 2, true, func(string) string {
		return `{"time":"2026-01-02T03:05:00Z","trace":"1-0-1","label":"maybe"}`
	})
	if err := os.Truncate(filepath.Join(dir, sessions.CheckpointsDir, "step-000003", "weights.bin"), 10); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, sessions.ConfigFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "stepz = 3")
	f.Close()
	return dir
}

// brokenLauncher opens runs as the rlt command does for viewing: the
// configuration is decoded strictly and its error kept as a problem, and
// the checkpoints are checked.
type brokenLauncher struct{ testLauncher }

func (l *brokenLauncher) OpenReadOnly(dir string) (*sessions.Session, error) {
	rec, err := sessions.OpenReadOnly(dir)
	if err != nil {
		return nil, err
	}
	s := &sessions.Session{Run: rec, ReadOnly: true, Close: rec.Close}
	var c testCfg
	if err := rec.DecodeConfig(&c); err != nil {
		s.Problems = append(s.Problems, err)
	} else {
		s.Steps = c.Steps
	}
	rec.LatestCheckpoint()
	return s, nil
}

// TestBrokenRunOpens: a run folder with broken files opens read-only from
// the Runs screen; ! lists each problem with its file and line; the rest
// is browsable (curves, traces, the detail of a trace with a short array,
// which says what is missing); resuming is refused with the config
// error's line. Golden views at 80×24 and 120×40, colour off.
func TestBrokenRunOpens(t *testing.T) {
	brokenRun(t)
	for _, sz := range golden.Sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.W, sz.H), func(t *testing.T) {
			l := &brokenLauncher{testLauncher{runs: "runs"}}
			m := newModel(Options{Launcher: l, RunsDir: "runs"})
			defer closeModel(t, m)
			m.Update(tea.WindowSizeMsg{Width: sz.W, Height: sz.H})
			listNow(t, m)
			// Resuming is refused: the configuration does not decode.
			hit(t, m, "r")
			pump(t, m, nil, func() bool { return m.switching == "" && m.runs.msg != "" })
			if want := `resume broken-run: config.toml:3:1: unknown key "stepz"`; !strings.Contains(m.runs.msg, want) || !m.runs.msgErr {
				t.Errorf("resume: message %q, want %q", m.runs.msg, want)
			}
			_, cmd := m.Update(keyMsg("enter"))
			pump(t, m, cmd, func() bool { return m.hasRun() })
			if !strings.Contains(m.msg, "! lists") {
				t.Errorf("opening does not point at the problems: %q", m.msg)
			}
			m.msg = ""
			views := map[string]string{}
			check := func(name string) {
				t.Helper()
				v := m.View()
				golden.NoEscapes(t, v)
				golden.Fits(t, v, sz.W, sz.H)
				if n := len(strings.Split(v, "\n")); n != sz.H {
					t.Errorf("%s: %d lines, want %d", name, n, sz.H)
				}
				views[name] = v
				if sz.W >= 80 {
					golden.Assert(t, fmt.Sprintf("broken_%s_%dx%d", name, sz.W, sz.H), v)
				}
			}
			// The rest is browsable: the curves (steps 1 and 3; step 2's
			// line is broken) …
			if !m.hasStep || m.lastStep != 3 || m.sh.readOnly != true {
				t.Errorf("dashboard: last step %d (has %v), read-only %v", m.lastStep, m.hasStep, m.sh.readOnly)
			}
			check("dashboard")
			hit(t, m, "!")
			if !m.probs.open {
				t.Fatal("! did not open the problems")
			}
			check("problems")
			v := views["problems"]
			wantAll := []string{"config.toml:3", `unknown key "stepz"`, "metrics.jsonl:2", filepath.Join("traces", "000002.jsonl") + ":2",
				"reviews.jsonl:2", `unknown label "maybe"`, filepath.Join("traces", "000003.jsonl") + ":3", "teacher_lp (ℓT) has 5 values"}
			if sz.W >= 120 {
				wantAll = append(wantAll, "checkpoints", "skipped checkpoint of step 3")
			}
			for _, want := range wantAll {
				if sz.W >= 80 && !strings.Contains(v, want) {
					t.Errorf("the problems view lacks %q:\n%s", want, v)
				}
			}
			// enter on the incomplete trace opens its detail.
			list := m.problemList()
			at := -1
			for i, p := range list {
				if p.trace == "3-1-0" {
					at = i
				}
			}
			if at < 0 {
				t.Fatalf("no problem about trace 3-1-0: %+v", list)
			}
			for range at {
				hit(t, m, "j")
			}
			hit(t, m, "enter")
			if m.probs.open || m.active != scrDetail || m.detail.rec.ID != "3-1-0" {
				t.Fatalf("enter: overlay open %v, screen %d, trace %q", m.probs.open, m.active, m.detail.rec.ID)
			}
			check("detail")
			if !strings.Contains(views["detail"], "! incomplete record: teacher_lp (ℓT) has 5 values for 12 t") {
				t.Errorf("the detail does not say what is missing:\n%s", views["detail"])
			}
			// … the traces (the garbage line's trace is missing, the short
			// one is marked).
			hit(t, m, "2")
			check("traces")
			if n := len(m.traces.all); n != 6 {
				t.Errorf("%d traces listed, want 6 (7 written, 1 line broken)", n)
			}
			if !strings.Contains(views["traces"], "! incomplete") && sz.W >= 80 {
				t.Errorf("the short trace is not marked:\n%s", views["traces"])
			}
			if !strings.Contains(m.statusLine(), "problems (!)") {
				t.Errorf("status line %q does not count the problems", m.statusLine())
			}
		})
	}
}

// A failed checkpoint that stopped the run: the status says failed, the
// problems view has it as an error; a data warning is a warning.
func TestProblemsFatalAndWarning(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 8)
	m := sized(t, r, 100, 30, &fakeControl{})
	r.Emit(event.Error{Time: t0, Step: 0, Severity: event.SeverityWarning, Err: errors.New("data train.jsonl: skipped 2 of 40 rows: line 3: not JSON")})
	m.pull()
	if s := m.statusLine(); !strings.Contains(s, "1 warning (!)") || strings.Contains(s, "failed") {
		t.Errorf("status with a warning: %q", s)
	}
	r.Emit(event.Error{Time: t0, Step: 2, Fatal: true, Err: errors.New("checkpoint of step 2 failed, so the run stops: no space left on device")})
	m.pull()
	if s := m.statusLine(); !strings.Contains(s, "failed") || !strings.Contains(s, "2 problems (!)") {
		t.Errorf("status after the fatal error: %q", s)
	}
	if !strings.Contains(m.msg, "the run stopped: checkpoint of step 2 failed") {
		t.Errorf("footer message %q", m.msg)
	}
	hit(t, m, "!")
	v := m.View()
	for _, want := range []string{"1 error, 1 warning", "✗ engine", "no space left on device", "! engine", "skipped 2 of 40 rows",
		"affects: the run stopped at step 2"} {
		if !strings.Contains(v, want) {
			t.Errorf("problems view lacks %q:\n%s", want, v)
		}
	}
	// Its title says the engine failed, and why, not that it finished.
	if title := ansi.Strip(m.problemsBody(200, 10)[0]); !strings.Contains(title, "(engine failed: checkpoint of step 2 failed, so the run stops: no space left on device)") {
		t.Errorf("problems title %q: want the engine failed, with its error", title)
	}
	if d := m.openDescription(); !strings.Contains(d, "(engine failed: checkpoint of step 2 failed") {
		t.Errorf("the Runs screen's open run %q: want the engine failed, with its error", d)
	}
	hit(t, m, "esc")
	if m.probs.open {
		t.Error("esc did not close the problems")
	}
	// A later session resumes the training: no longer failed, the error
	// stays listed, and its engine's start saying the data's warning again
	// lists it once.
	if err := r.Resume(2); err != nil {
		t.Fatal(err)
	}
	r.Emit(event.Error{Time: t0, Step: 2, Severity: event.SeverityWarning, Err: errors.New("data train.jsonl: skipped 2 of 40 rows: line 3: not JSON")})
	m.pull()
	if s := m.statusLine(); strings.Contains(s, "failed") || !strings.Contains(s, "2 problems (!)") {
		t.Errorf("status after a resume: %q", s)
	}
	// Nothing wrong: the view says so.
	clean := newTestRun(t, 1, 1, 1, 4)
	m = sized(t, clean, 80, 24, nil)
	hit(t, m, "!")
	if v := m.View(); !strings.Contains(v, "nothing wrong") || strings.Contains(m.statusLine(), "(!)") {
		t.Errorf("clean run:\n%s", v)
	}
}

// TestNothingWrongReadWhole: the problems view of a run with nothing
// wrong says so, and that it follows the run, whole at 60 and 80 columns
// (it was cut off at "as they happ…" below 104); enter there says there
// is nothing to open.
func TestNothingWrongReadWhole(t *testing.T) {
	clean := newTestRun(t, 1, 1, 1, 4)
	for _, w := range []int{60, 80, 120} {
		m := sized(t, clean, w, 24, nil)
		hit(t, m, "!")
		v := m.View()
		golden.Fits(t, v, w, 24)
		flat := strings.Join(strings.Fields(ansi.Strip(v)), " ")
		for _, want := range []string{"nothing wrong: every record of demo-run was read whole.",
			"This list follows the run: broken records, failed writes and engine errors appear here as they happen."} {
			if !strings.Contains(flat, want) {
				t.Errorf("%d columns: the view does not say %q:\n%s", w, want, v)
			}
		}
	}
	// enter, with no problem listed, says there is none to open; it said
	// "this problem is not about one trace".
	m := sized(t, clean, 80, 24, nil)
	hit(t, m, "!", "enter")
	if want := "no problem to open: nothing wrong with demo-run"; m.msg != want || !m.probs.open {
		t.Errorf("enter on an empty list: says %q (overlay open %v), want %q and the overlay open", m.msg, m.probs.open, want)
	}
}

// TestShortTraceHasItsLine: the problems view lists a trace whose
// per-token array is short at its file and line, as it lists broken
// records, however the line was written: as this process writes it (the
// run sampled here), as written and read back, or rewritten by another
// tool (spaces after the colons, as Python's json.dumps writes them).
func TestShortTraceHasItsLine(t *testing.T) {
	spaced := strings.NewReplacer(`":`, `": `, `,"`, `, "`)
	for _, c := range []struct {
		name    string
		reopen  bool                // closed, then opened read-only
		rewrite func(string) string // line 2 as another tool left it (nil: as written)
	}{
		{"sampled in this session", false, nil},
		{"read back", true, nil},
		{"rewritten with spaces", true, spaced.Replace},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			dir := filepath.Join("runs", "short-run")
			w, err := sessions.Create(dir, testCfg{Task: "addition", Steps: 1})
			if err != nil {
				t.Fatal(err)
			}
			w.Emit(makeTrace(0, 0, 0, 12))
			short := makeTrace(0, 0, 1, 12)
			short.Score.TeacherLP = short.Score.TeacherLP[:9] // 9 values for 12 tokens, on line 2
			w.Emit(short)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			r := w
			if c.reopen {
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if c.rewrite != nil {
					editLine(t, filepath.Join(dir, sessions.TracesDir, "000000.jsonl"), 2, false, c.rewrite)
				}
				if r, err = sessions.OpenReadOnly(dir); err != nil {
					t.Fatal(err)
				}
			}
			t.Cleanup(func() { r.Close() })
			m := sized(t, r, 120, 30, nil)
			m.pull()
			hit(t, m, "!")
			want := filepath.Join("traces", "000000.jsonl") + ":2"
			var got []string
			for _, p := range m.problemList() {
				got = append(got, p.where+" "+p.msg)
				if p.trace == "0-0-1" && p.where == want && strings.Contains(p.msg, "teacher_lp (ℓT) has 9 values for 12 tokens") {
					return
				}
			}
			t.Errorf("no problem at %s about trace 0-0-1's short teacher_lp; listed:\n%s", want, strings.Join(got, "\n"))
		})
	}
}

// The followed folders survive a restart of the workbench; a corrupt list
// is reported and ignored.
func TestFollowedPersist(t *testing.T) {
	root := runsWorld(t)
	m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	hit(t, m, "a", "text:ext/official", "enter")
	closeModel(t, m)
	data, err := os.ReadFile(filepath.Join("runs", FollowedFile))
	quoted, _ := json.Marshal(filepath.Join(root, "ext", "official")) // as the file writes it ("\\" on Windows)
	if err != nil || !strings.Contains(string(data), string(quoted)) {
		t.Fatalf("%s: %v\n%s", FollowedFile, err, data)
	}
	m = newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	listNow(t, m)
	if len(m.runs.follow) != 1 || len(m.runs.rows) != 4 || m.runs.rows[3].Kind != kindOfficial {
		t.Fatalf("after a restart: following %v, %d rows", m.runs.follow, len(m.runs.rows))
	}
	// Following it again under its relative name is not a second entry.
	hit(t, m, "a", "text:ext/official", "enter")
	if len(m.runs.follow) != 1 || !strings.Contains(m.runs.msg, "already following") {
		t.Errorf("following twice: %v, %q", m.runs.follow, m.runs.msg)
	}
	hit(t, m, "G", "x")
	if data, _ := os.ReadFile(filepath.Join("runs", FollowedFile)); strings.Contains(string(data), "official") {
		t.Errorf("x did not save the list: %s", data)
	}
	// A corrupt file: reported, ignored, nothing crashes.
	os.WriteFile(filepath.Join("runs", FollowedFile), []byte(`{"folders": [`), 0o644)
	m2 := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m2) })
	m2.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	if len(m2.runs.follow) != 0 || !m2.runs.msgErr || !strings.Contains(m2.runs.msg, FollowedFile) {
		t.Errorf("corrupt list: following %v, message %q", m2.runs.follow, m2.runs.msg)
	}
	if v := m2.View(); !strings.Contains(v, "not restored") {
		t.Errorf("the Runs screen does not show it:\n%s", v)
	}
}

// The header shows where the engine is within the step in progress, and
// drops it once that step's metrics are in.
func TestHeaderShowsStepProgress(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 8)
	m := sized(t, r, 160, 30, &fakeControl{})
	m.pull()
	last := m.lastStep
	m.Update(tickMsg(t0.Add(5 * time.Second))) // the clock, a tick before the progress came
	r.Emit(event.Progress{Time: t0.Add(6 * time.Second), Started: t0, Step: last + 1, Phase: "sampling", Done: 48, Total: 96, Unit: "tokens"})
	want := fmt.Sprintf("sampling 48/96 tokens · 8 tokens/s · 6s left · step %d/", last+1) // the count names the step
	if s := m.statusLine(); !strings.Contains(s, want) || strings.Count(s, "ETA") > 1 {
		t.Errorf("status line %q lacks %q, or has two ETAs (the phase's time left is said as such)", s, want)
	}
	// The time left counts down with the clock until the next progress.
	m.Update(tickMsg(t0.Add(8 * time.Second)))
	if s, w := m.statusLine(), fmt.Sprintf("sampling 48/96 tokens · 8 tokens/s · 4s left · step %d/", last+1); !strings.Contains(s, w) {
		t.Errorf("2 s after the progress, status line %q lacks %q", s, w)
	}
	m.Update(tickMsg(t0.Add(5 * time.Second)))
	// The engine's phase event says the same: the header names the phase
	// once, in the progress.
	r.Emit(event.Phase{Time: t0.Add(6 * time.Second), Name: "sampling", Step: last + 1})
	r.Flush()
	m.pull()
	if s := m.statusLine(); strings.Count(s, "sampling") != 1 || !strings.Contains(s, want) || !strings.Contains(s, "· running ·") {
		t.Errorf("status line %q: want the phase once, in %q, after the state running", s, want)
	}
	r.Emit(event.Progress{Time: t0, Started: t0, Step: last, Phase: "scoring", Total: 2, Unit: "forwards"})
	if s := m.statusLine(); strings.Contains(s, "scoring") {
		t.Errorf("status line %q shows the progress of step %d, whose metrics are in", s, last)
	}
}

// TestFollowedProgressCountsDown: a run followed read-only while another
// session trains it shows the progress that session's writer last put in
// progress.json (written at most every sessions.ProgressEvery), and its
// time left counts down with the workbench's clock between two writes:
// it stood at the record's "8s left" until the next.
func TestFollowedProgressCountsDown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w, err := sessions.CreateWith(dir, testCfg{Task: "addition", Steps: 20}, sessions.Options{SyncInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.Emit(event.Phase{Time: t0, Name: "sampling", Step: 0})
	// 32 of 96 tokens in 4 s: 8 tokens/s, 8 s left as of its time.
	at := time.Now().Truncate(time.Second)
	w.Emit(event.Progress{Time: at, Started: at.Add(-4 * time.Second), Step: 0, Phase: "sampling", Done: 32, Total: 96, Unit: "tokens"})
	waitProgress(t, dir, 0)

	ro, err := sessions.OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	m := newModel(Options{Session: &sessions.Session{Run: ro, Steps: 20}})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
	m.pull()
	for _, c := range []struct {
		since time.Duration
		want  string
	}{
		{0, "sampling 32/96 tokens · 8 tokens/s · 8s left · step 0/20"},
		{3 * time.Second, "sampling 32/96 tokens · 8 tokens/s · 5s left · step 0/20"},
		{20 * time.Second, "sampling 32/96 tokens · 8 tokens/s · 0s left · step 0/20"},
	} {
		m.Update(tickMsg(at.Add(c.since)))
		if s := m.statusLine(); !strings.Contains(s, c.want) {
			t.Errorf("%v after the record, the follower's header %q lacks %q", c.since, s, c.want)
		}
	}
	// Nothing written for 15 minutes (the writer stopped by a signal): the
	// progress is old news, and the header says what is known instead.
	m.Update(tickMsg(at.Add(15 * time.Minute)))
	if s := m.statusLine(); strings.Contains(s, "sampling 32/96") || !strings.Contains(s, "nothing written for 1") {
		t.Errorf("a quiet writer's follower's header %q: want its progress gone and the quiet said", s)
	}
}

// waitProgress waits until the run in dir's progress.json is of step.
func waitProgress(t *testing.T, dir string, step int) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for {
		var rec sessions.ProgressRecord
		data, err := os.ReadFile(filepath.Join(dir, sessions.ProgressFile))
		if err == nil && json.Unmarshal(data, &rec) == nil && rec.Step == step {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress of step %d in %s within %v (%q, %v)", step, dir, hangGuard, data, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestIssueAboutATraceOpensIt: a store issue about one trace (an array
// dropped from it) is a problem enter opens the trace from, as a gap is.
func TestIssueAboutATraceOpensIt(t *testing.T) {
	is := sessions.Issue{File: filepath.Join("run", "traces", "000000.jsonl"), Line: 1, Trace: "0-0-0",
		Msg: "trace 0-0-0: array teacher_lp: dropped, the rest of the trace kept"}
	want := filepath.Join("traces", "000000.jsonl") + ":1"
	if p := issueProblem(is, "run", relativizer("run")); p.trace != "0-0-0" || p.where != want {
		t.Errorf("problem %+v, want it to name trace 0-0-0 at %s", p, want)
	}
}

// A resume the real launcher refuses for its config.toml says every
// problem on the Runs screen where it is, in the words rlt run --resume
// prints (the file's own name for its path): at config.toml:LINE:COL, a
// key the file does not set with its zero value (the file is read over
// nothing, so no default is named), a file that does not decode at its
// line; and that the run can still be opened.
func TestRefusedResumeSaysEachProblemWhereItIs(t *testing.T) {
	root := t.TempDir()
	runs, models := filepath.Join(root, "runs"), hftest.StubModels(t, filepath.Join(root, "models"))
	dir := filepath.Join(runs, "bad")
	rec, err := sessions.Create(dir, run.DefaultConfig(filepath.Join(models, "teacher"), filepath.Join(models, "student")))
	if err != nil {
		t.Fatal(err)
	}
	rec.Close()
	path := filepath.Join(dir, sessions.ConfigFile)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	// A key the file does not set is 0 (a run's config.toml records every
	// key), but [reward]'s, which are their defaults (sessions.RunReward):
	// grpo.samples, not reward.temperature, is the one dropped.
	stepsLine, grpoSamples := 0, 0
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "steps = ") && stepsLine == 0:
			stepsLine = i + 1
		case l == "[grpo]":
			grpoSamples = -1 // the next samples is [grpo]'s
		case strings.HasPrefix(l, "samples = ") && grpoSamples == -1:
			grpoSamples = i + 1
		}
	}
	if stepsLine == 0 || grpoSamples <= 0 {
		t.Fatalf("no steps or [grpo] samples in\n%s", text)
	}
	edit := func(drop int, replace map[int]string) string {
		var out []string
		for i, l := range lines {
			switch {
			case i+1 == drop:
				continue
			case replace[i+1] != "":
				l = replace[i+1]
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	for _, c := range []struct {
		name, text, want string
	}{
		{"a value on its line", edit(0, map[int]string{stepsLine: "steps = -3"}),
			fmt.Sprintf("resume bad: config.toml:%d:1: steps -3 must not be negative (enter opens it read-only)", stepsLine)},
		{"a key the file does not set, with one on its line", edit(grpoSamples, map[int]string{stepsLine: "steps = -3"}),
			fmt.Sprintf("resume bad: 2 problems: config.toml:%d:1: steps -3 must not be negative · "+
				"config.toml: grpo.samples (not set in this file, so 0): samples 0 must be positive (enter opens it read-only)", stepsLine)},
		{"a file that does not decode", edit(0, map[int]string{stepsLine: "stepz = 2"}),
			fmt.Sprintf(`resume bad: config.toml:%d:1: unknown key "stepz" at top level`, stepsLine)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			m := newModel(Options{Launcher: runner.NewLauncher(context.Background(), runs, models), RunsDir: runs})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
			hit(t, m, "4")
			listNow(t, m)
			if sel := m.runs.selected(); sel == nil || filepath.Base(sel.Dir) != "bad" {
				t.Fatalf("cannot select the run: %+v", sel)
			}
			_, cmd := m.Update(keyMsg("r"))
			pump(t, m, cmd, func() bool { return m.switching == "" && m.runs.msg != "" })
			if !strings.HasPrefix(m.runs.msg, c.want) || !m.runs.msgErr {
				t.Errorf("message\n%q\nwant it to start\n%q", m.runs.msg, c.want)
			}
		})
	}
}

// A workbench following a run that another process resumes with another
// number of steps counts against the new plan (config.toml, read when the
// run was opened, said the old one).
func TestFollowedRunTakesTheNewPlan(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w, err := sessions.Create(dir, testCfg{Task: "addition", Steps: 30})
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 3; s++ {
		w.Emit(event.Metrics{Time: t0.Add(time.Duration(s) * time.Second), Step: s, Values: map[string]float64{"reward": 1}})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := sessions.OpenReadOnlyWith(dir, sessions.Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	m := newModel(Options{Session: &sessions.Session{Run: ro, ReadOnly: true, Steps: 30}}) // as rlt open reads config.toml
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	awaitHeader(t, m, []string{`step 3/30`}, nil)
	w, err = sessions.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.RecordSteps(7); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	awaitHeader(t, m, []string{`step 3/7`}, nil)
}

// TestProblemsViewScreenKeys: the screen keys act from the problems view
// as from the screen under it, whose tab the header highlights: 1–4, tab
// and S-tab close the view and switch, ? lists the view's keys over it
// and esc comes back to it. They used to do nothing there, the tab strip
// naming a screen the keys did not reach.
func TestProblemsViewScreenKeys(t *testing.T) {
	r := newTestRun(t, 3, 1, 2, 8)
	m := sized(t, r, 80, 24, &fakeControl{})
	send(m, press("2"))
	send(m, press("enter"))
	if m.active != scrDetail {
		t.Fatalf("enter on the Traces screen: screen %d, want the detail", m.active)
	}
	for _, c := range []struct {
		key  string
		want screenID
	}{{"1", scrDashboard}, {"3", scrDetail}, {"3", scrDetail}, {"tab", scrRuns}, {"2", scrTraces}, {"4", scrRuns}} {
		send(m, press("!"))
		if !m.probs.open {
			t.Fatalf("! did not open the problems view")
		}
		send(m, press(c.key))
		if m.probs.open || m.active != c.want {
			t.Errorf("%s in the problems view: open %v, screen %s; want it closed on %s", c.key, m.probs.open, screenNames[m.active], screenNames[c.want])
		}
		if c.want == scrRuns {
			send(m, press("esc")) // back to the screen the Runs screen was entered from
		}
	}
	send(m, press("!"))
	send(m, press("?"))
	if !m.help || !strings.Contains(m.View(), "Keys: Problems") || !strings.Contains(m.View(), "open the trace it is about") {
		t.Errorf("? in the problems view: help %v, view:\n%s", m.help, m.View())
	}
	send(m, press("esc"))
	if m.help || !m.probs.open {
		t.Errorf("esc in the help over the problems view: help %v, problems %v; want the problems view back", m.help, m.probs.open)
	}
	send(m, press("esc"))
	if m.probs.open {
		t.Errorf("esc did not close the problems view")
	}
}

// TestOpenDescriptionSaysHowTheEngineEnded: the Runs screen and the
// problems view say of the run open here whose engine has ended that it
// stopped (S, or q's stop) or finished (its planned steps done), as the
// header does; a stopped one read "engine finished".
func TestOpenDescriptionSaysHowTheEngineEnded(t *testing.T) {
	for _, c := range []struct{ phase, want string }{
		{"stopped", "(engine stopped)"},
		{"done", "(engine finished)"},
	} {
		r := newTestRun(t, 2, 1, 2, 8)
		m := sized(t, r, 100, 30, &fakeControl{})
		r.Emit(event.Phase{Time: t0, Step: 2, Name: c.phase})
		m.pull()
		if d := m.openDescription(); !strings.HasSuffix(d, c.want) {
			t.Errorf("engine's last phase %q: the open run %q, want …%s", c.phase, d, c.want)
		}
	}
}

// TestHeaderSaysTheStepOnceWithoutAPlan: the header's step count names
// the step in progress, with no step plan (--steps 0) by its number
// alone, which its progress line also started with: "step 1: sampling
// 0/96 tokens · step 1". It is said once, with a plan too, where it read
// "step 1: sampling 0/96 tokens · step 1/20".
func TestHeaderSaysTheStepOnceWithoutAPlan(t *testing.T) {
	for _, c := range []struct {
		name    string
		planned int
		first   bool // the first step in progress, none done: no count to say it
		want    string
	}{
		{"no plan", 0, false, "sampling 0/96 tokens · step 1"},
		{"planned", 20, false, "sampling 0/96 tokens · step 1/20"},
		{"planned, the first step", 20, true, "sampling 0/96 tokens · step 0/20"},
		{"no plan, the first step", 0, true, "step 0: sampling 0/96 tokens"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := sessions.Create(filepath.Join(t.TempDir(), "demo-run"), testCfg{Task: "addition", Steps: c.planned})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			step := 0
			if !c.first {
				r.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": -1}})
				step = 1
			}
			m := newModel(Options{Session: &sessions.Session{Run: r, Steps: c.planned, Control: &fakeControl{}}})
			m.Update(tea.WindowSizeMsg{Width: 160, Height: 30})
			m.pull()
			m.Update(tickMsg(t0))
			r.Emit(event.Progress{Time: t0, Started: t0, Step: step, Phase: "sampling", Total: 96, Unit: "tokens"})
			s := ansi.Strip(m.statusLine())
			if n := strings.Count(s, fmt.Sprintf("step %d", step)); !strings.Contains(s, c.want) || n != 1 {
				t.Errorf("status line %q: want %q, \"step %d\" said once, not %d times", s, c.want, step, n)
			}
		})
	}
}
