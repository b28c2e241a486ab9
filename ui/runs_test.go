package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
	"github.com/rlt-workbench/rlt/ui/style"
)

// flowCfg is the configuration the test launcher starts runs from.
type flowCfg struct {
	Task  string `toml:"task"`
	Steps int    `toml:"steps"`
	GRPO  struct {
		Questions   int     `toml:"questions"`
		Samples     int     `toml:"samples"`
		Temperature float64 `toml:"temperature"`
	} `toml:"grpo"`
}

// testLauncher is a Launcher on the real sessions package in a folder:
// Start creates a run folder and a fake engine emits one step into it.
type testLauncher struct {
	runs    string
	n       int
	ctls    []*fakeControl
	closed  []string
	started []string
}

func (l *testLauncher) NewConfig() ([]byte, error) {
	c := flowCfg{Task: "addition", Steps: 2}
	c.GRPO.Questions, c.GRPO.Samples, c.GRPO.Temperature = 8, 8, 0.7
	return sessions.EncodeTOML(c)
}

// lineOf is the 1-based line of "key =" in data.
func lineOf(data []byte, key string) int {
	for i, l := range strings.Split(string(data), "\n") {
		if k, _, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == key {
			return i + 1
		}
	}
	return 1
}

func (l *testLauncher) decode(data []byte) (flowCfg, error) {
	var c flowCfg
	if err := sessions.DecodeStrict(sessions.ConfigFile, data, &c); err != nil {
		return c, err
	}
	var errs []error
	if c.Steps < 0 {
		errs = append(errs, &sessions.ConfigError{File: sessions.ConfigFile, Line: lineOf(data, "steps"), Column: 1, Key: "steps",
			Msg: fmt.Sprintf("steps %d must not be negative", c.Steps)})
	}
	if c.Task != "addition" && c.Task != "linear" {
		errs = append(errs, &sessions.ConfigError{File: sessions.ConfigFile, Line: lineOf(data, "task"), Column: 1, Key: "task",
			Msg: fmt.Sprintf("unknown task %q (known: addition, linear)", c.Task)})
	}
	return c, errors.Join(errs...)
}

func (l *testLauncher) Check(data []byte) error {
	_, err := l.decode(data)
	return err
}

func (l *testLauncher) session(rec *sessions.Run, steps int) *sessions.Session {
	ctl := &fakeControl{}
	l.ctls = append(l.ctls, ctl)
	dir := rec.Dir()
	return &sessions.Session{Run: rec, Control: ctl, Steps: steps, Close: func() error {
		l.closed = append(l.closed, filepath.Base(dir))
		return rec.Close()
	}}
}

func (l *testLauncher) Start(data []byte) (*sessions.Session, error) {
	c, err := l.decode(data)
	if err != nil {
		return nil, err
	}
	l.n++
	dir := filepath.Join(l.runs, fmt.Sprintf("new-%d", l.n))
	rec, err := sessions.Create(dir, c)
	if err != nil {
		return nil, err
	}
	rec.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": -1.5}})
	l.started = append(l.started, dir)
	return l.session(rec, c.Steps), nil
}

func (l *testLauncher) Resume(dir string) (*sessions.Session, error) {
	var c flowCfg
	rec, err := sessions.Open(dir, &c)
	if err != nil {
		return nil, err
	}
	return l.session(rec, c.Steps), nil
}

func (l *testLauncher) OpenReadOnly(dir string) (*sessions.Session, error) {
	rec, err := sessions.OpenReadOnly(dir)
	if err != nil {
		return nil, err
	}
	return &sessions.Session{Run: rec, ReadOnly: true, Close: rec.Close}, nil
}

// OpenForReview opens dir writable when no process holds it, as the
// runner's launcher does, else (or where its lock can be neither taken nor
// found held) read-only.
func (l *testLauncher) OpenForReview(dir string) (*sessions.Session, error) {
	rec, err := sessions.OpenWith(dir, nil, sessions.Options{Intent: sessions.IntentReview})
	if lu := (*sessions.LockUnknownError)(nil); errors.Is(err, sessions.ErrLocked) || errors.As(err, &lu) {
		return l.OpenReadOnly(dir)
	}
	if err != nil {
		return nil, err
	}
	return &sessions.Session{Run: rec, Close: rec.Close}, nil
}

// pump runs cmd, and the commands the messages it yields return, feeding
// every message to m on this goroutine, until done() holds. Commands that
// wait (for data, for the tick) are left waiting; ticks are dropped.
func pump(t *testing.T, m *Model, cmd tea.Cmd, done func() bool) {
	t.Helper()
	ch := make(chan tea.Msg, 64)
	stop := make(chan struct{})
	defer close(stop)
	run := func(c tea.Cmd) {
		if c == nil {
			return
		}
		go func() {
			msg := c()
			select {
			case ch <- msg:
			case <-stop:
			}
		}()
	}
	run(cmd)
	deadline := time.After(hangGuard)
	for !done() {
		select {
		case msg := <-ch:
			switch msg := msg.(type) {
			case nil, tickMsg, tea.QuitMsg:
			case tea.BatchMsg:
				for _, c := range msg {
					run(c)
				}
			default:
				_, next := m.Update(msg)
				run(next)
			}
		case <-deadline:
			t.Fatalf("timed out; the screen is:\n%s", m.View())
		}
	}
}

// closeModel ends what the model holds, as Run does when the program
// exits.
func closeModel(t *testing.T, m *Model) {
	m.shutdown()
	if err := m.finish(); err != nil {
		t.Error(err)
	}
}

func keyMsg(s string) tea.KeyMsg {
	types := map[string]tea.KeyType{"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "left": tea.KeyLeft,
		"right": tea.KeyRight, "up": tea.KeyUp, "down": tea.KeyDown, "end": tea.KeyEnd, "home": tea.KeyHome,
		"backspace": tea.KeyBackspace, "ctrl+s": tea.KeyCtrlS, "ctrl+c": tea.KeyCtrlC, "ctrl+k": tea.KeyCtrlK, "ctrl+r": tea.KeyCtrlR}
	if t, ok := types[s]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// keys presses each key in turn; "text:…" types the text.
func hit(t *testing.T, m *Model, ks ...string) {
	t.Helper()
	for _, k := range ks {
		if txt, ok := strings.CutPrefix(k, "text:"); ok {
			for _, r := range txt {
				m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			}
			continue
		}
		_, cmd := m.Update(keyMsg(k))
		settle(t, m, cmd)
	}
}

// settle runs cmd and what follows from it until nothing more arrives for
// a moment (commands that wait for data or ticks are left waiting).
func settle(t *testing.T, m *Model, cmd tea.Cmd) {
	t.Helper()
	if cmd == nil {
		return
	}
	ch := make(chan tea.Msg, 64)
	stop := make(chan struct{})
	defer close(stop)
	run := func(c tea.Cmd) {
		if c == nil {
			return
		}
		go func() {
			msg := c()
			select {
			case ch <- msg:
			case <-stop:
			}
		}()
	}
	run(cmd)
	for {
		select {
		case msg := <-ch:
			switch msg := msg.(type) {
			case nil, tickMsg, tea.QuitMsg:
			case tea.BatchMsg:
				for _, c := range msg {
					run(c)
				}
			default:
				_, next := m.Update(msg)
				run(next)
			}
		case <-time.After(200 * time.Millisecond):
			return
		}
	}
}

// listNow refreshes the Runs screen's list and waits for it.
func listNow(t *testing.T, m *Model) {
	t.Helper()
	pump(t, m, m.runs.refresh(), func() bool { return !m.runs.listing })
}

// writeRun writes a run folder by hand, with fixed times, so that its
// size and summary are the same on every machine.
func writeRun(t *testing.T, dir string, created time.Time, steps int, finished bool) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, _ := sessions.EncodeTOML(testCfg{Task: "addition", Steps: steps})
	ev := fmt.Sprintf(`{"time":"%s","kind":"create"}`+"\n", created.Format(time.RFC3339))
	if finished { // a run that says where it computed (the Runs screen's DEVICE)
		ev += fmt.Sprintf(`{"time":"%s","kind":"device","step":0,"device":{"backend":"vulkan/NVIDIA H200","gpu":"gpu:1","why":"a discrete GPU"}}`+"\n", created.Format(time.RFC3339))
	}
	var met strings.Builder
	for s := 0; s < steps; s++ {
		fmt.Fprintf(&met, `{"step":%d,"time":"%s","values":{"reward":%.3f}}`+"\n", s, created.Add(time.Duration(s)*time.Minute).Format(time.RFC3339), -2+0.25*float64(s))
	}
	if finished {
		ev += fmt.Sprintf(`{"time":"%s","kind":"phase","step":%d,"name":"done"}`+"\n", created.Add(time.Hour).Format(time.RFC3339), steps)
	}
	// Its writer closed it, as every session that ends cleanly does: a
	// training session with no close was killed (an unclean exit).
	ev += fmt.Sprintf(`{"time":"%s","kind":"close","step":0}`+"\n", created.Add(time.Hour).Format(time.RFC3339))
	for name, data := range map[string]string{sessions.ConfigFile: string(cfg), sessions.EventsFile: ev, sessions.MetricsFile: met.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// copyTree copies the official trainer's fixture folder.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// runsWorld is a working folder with runs/ (three runs of ours) and
// ext/official (an official trainer's run), entered with t.Chdir so that
// the paths shown are the same everywhere.
func runsWorld(t *testing.T) (root string) {
	t.Helper()
	official, err := filepath.Abs("../sessions/testdata/official/run")
	if err != nil {
		t.Fatal(err)
	}
	root = t.TempDir()
	writeRun(t, filepath.Join(root, "runs", "20260102-030405"), t0, 12, true)
	writeRun(t, filepath.Join(root, "runs", "20260103-101500"), t0.Add(31*time.Hour), 3, false)
	writeRun(t, filepath.Join(root, "runs", "20260104-090000"), t0.Add(54*time.Hour), 0, false)
	copyTree(t, official, filepath.Join(root, "ext", "official"))
	t.Chdir(root)
	zone = time.UTC // the Created column is in local time otherwise
	t.Cleanup(func() { zone = nil })
	return root
}

func TestRunsScreenGolden(t *testing.T) {
	runsWorld(t)
	// The run open here is outside runs/ (rlt open elsewhere/demo-run),
	// listed as the open one: written with fixed times, so that its row
	// reads the same on every machine.
	writeRun(t, filepath.Join("elsewhere", "demo-run"), t0.Add(60*time.Hour), 12, false)
	r, err := sessions.OpenReadOnly(filepath.Join("elsewhere", "demo-run"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	for _, sz := range golden.Sizes {
		for _, what := range []string{"list", "editor"} {
			name := fmt.Sprintf("runs_%s_%dx%d", what, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				os.Remove(filepath.Join("runs", FollowedFile)) // the previous size's, restored otherwise
				l := &testLauncher{runs: "runs"}
				m := newModel(Options{Session: &sessions.Session{Run: r, Control: &fakeControl{}, Steps: 20}, Launcher: l, RunsDir: "runs"})
				defer closeModel(t, m)
				m.Update(tea.WindowSizeMsg{Width: sz.W, Height: sz.H})
				hit(t, m, "4", "a", "text:ext/official", "enter")
				listNow(t, m)
				if what == "list" {
					hit(t, m, "up")
				} else {
					// An error on line 2, shown under the line.
					hit(t, m, "n", "down", "end", "backspace", "text:-1", "ctrl+s")
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

// TestRunsScreenFlow: from a live run, the Runs screen opens, a new run's
// configuration is edited, a bad value gives an error naming its line,
// the fix is saved and the run starts in place of the old one (which is
// stopped and closed first).
func TestRunsScreenFlow(t *testing.T) {
	root := t.TempDir()
	l := &testLauncher{runs: filepath.Join(root, "runs")}
	if err := os.Mkdir(l.runs, 0o755); err != nil { // empty, not missing (TestRunsFolderThatDoesNotExist)
		t.Fatal(err)
	}
	first := newTestRun(t, 3, 1, 2, 8)
	ctl := &fakeControl{}
	closedFirst := 0
	m := newModel(Options{Session: &sessions.Session{Run: first, Control: ctl, Steps: 20,
		Close: func() error { closedFirst++; return first.Close() }}, Launcher: l, RunsDir: l.runs})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})

	hit(t, m, "4")
	if m.active != scrRuns {
		t.Fatalf("4: active %d, want the Runs screen", m.active)
	}
	listNow(t, m)
	// No run in runs/: the open run, from elsewhere, is listed alone.
	if v := m.View(); !strings.Contains(v, "Runs · 0 in") || !strings.Contains(v, "● the open run") || !strings.Contains(v, "[4 Runs]") ||
		len(m.runs.rows) != 1 || m.runs.rows[0].Origin != originOpen {
		t.Errorf("empty runs screen:\n%s", v)
	}
	hit(t, m, "n")
	if !m.runs.editing || !m.runs.Capturing() {
		t.Fatal("n did not open the configuration editor")
	}
	// steps = 2 → steps = -3: a value Validate refuses.
	hit(t, m, "down", "end", "backspace", "text:-3", "ctrl+s")
	if m.runs.edCount != 1 || len(m.runs.ed.notes) != 1 || m.runs.ed.notes[0].line != 1 {
		t.Fatalf("problems %d, notes %+v; want one on line 2", m.runs.edCount, m.runs.ed.notes)
	}
	v := m.View()
	for _, want := range []string{"✗ 2 │ steps = -3█", "↳ line 2: steps -3 must not be negative", "✗ 1 problem: line 2"} {
		if !strings.Contains(v, want) {
			t.Errorf("the editor does not show %q:\n%s", want, v)
		}
	}
	// An unknown key is refused by the strict decoder, with its line.
	hit(t, m, "end", "enter", "text:stepz = 1", "ctrl+s")
	if len(m.runs.ed.notes) != 1 || m.runs.ed.notes[0].line != 2 || !strings.Contains(m.runs.ed.notes[0].msg, `unknown key "stepz"`) {
		t.Fatalf("unknown key: notes %+v", m.runs.ed.notes)
	}
	hit(t, m, "home", "ctrl+k", "backspace") // delete the line again
	// The fix: steps = 3.
	hit(t, m, "backspace", "backspace", "text:3", "ctrl+s")
	if m.runs.edCount != 0 {
		t.Fatalf("still %d problems: %+v %v", m.runs.edCount, m.runs.ed.notes, m.runs.edLoose)
	}
	// The first run's engine is running: starting asks first.
	if m.runs.confirm == nil || !strings.Contains(m.View(), "y confirms") {
		t.Fatalf("no confirmation asked:\n%s", m.View())
	}
	_, cmd := m.Update(keyMsg("y"))
	pump(t, m, cmd, func() bool { return m.switching == "" && m.hasRun() })
	if closedFirst != 1 || ctl.stop == 0 {
		t.Errorf("the first run was closed %d times, its engine stopped %d times; want 1 and ≥1", closedFirst, ctl.stop)
	}
	if len(l.started) != 1 || m.sh.run.Dir() != l.started[0] || m.active != scrDashboard {
		t.Fatalf("started %v, open %s, active %d", l.started, m.sh.run.Dir(), m.active)
	}
	saved, err := os.ReadFile(filepath.Join(l.started[0], sessions.ConfigFile))
	if err != nil || !strings.Contains(string(saved), "steps = 3") || !strings.Contains(string(saved), "[grpo]") {
		t.Fatalf("saved config.toml: %v\n%s", err, saved)
	}
	pump(t, m, nil, func() bool { return m.hasStep })
	if v := m.View(); !strings.Contains(v, "step 1/3") || !strings.Contains(v, "new-1") {
		t.Errorf("the new run is not on the dashboard:\n%s", v)
	}
	// Back on the Runs screen the new run is listed and marked as open.
	hit(t, m, "4")
	listNow(t, m)
	if v := m.View(); !strings.Contains(v, "●new-1") && !strings.Contains(v, "● new-1") {
		t.Errorf("the open run is not marked:\n%s", v)
	}
	hit(t, m, "esc")
	if m.active != scrDashboard {
		t.Errorf("esc: active %d, want the dashboard", m.active)
	}
	// Quitting ends the open run (it is the workbench's).
	_, cmd = m.Update(keyMsg("q"))
	quit := false
	pump(t, m, func() tea.Msg { return cmd() }, func() bool { quit = m.stopped; return quit })
	if err := m.finish(); err != nil {
		t.Fatal(err)
	}
	if len(l.closed) != 1 || l.closed[0] != "new-1" {
		t.Errorf("closed %v, want [new-1]", l.closed)
	}
}

// TestRunsScreenReadOnly: a run opened read-only from the Runs screen
// refuses review (accept, flag, undo, export) and says why.
func TestRunsScreenReadOnly(t *testing.T) {
	root := t.TempDir()
	runs := filepath.Join(root, "runs")
	w, err := sessions.Create(filepath.Join(runs, "done-run"), testCfg{Task: "addition", Steps: 2})
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= 2; s++ {
		w.Emit(event.Metrics{Time: t0, Step: s, Values: map[string]float64{"reward": float64(s)}})
		w.Emit(makeTrace(s, 0, 0, 8))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	l := &testLauncher{runs: runs}
	m := newModel(Options{Launcher: l, RunsDir: runs})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if m.active != scrRuns || m.hasRun() {
		t.Fatalf("without a run the workbench opens on the Runs screen (active %d)", m.active)
	}
	hit(t, m, "1")
	if m.active != scrRuns || !strings.Contains(m.msg, "no run open") {
		t.Errorf("1 without a run: active %d, message %q", m.active, m.msg)
	}
	listNow(t, m)
	_, cmd := m.Update(keyMsg("enter"))
	pump(t, m, cmd, func() bool { return m.hasRun() })
	if !m.sh.readOnly || m.active != scrDashboard || !strings.Contains(m.View(), "read-only") {
		t.Fatalf("opened read-only? %v, active %d:\n%s", m.sh.readOnly, m.active, m.View())
	}
	hit(t, m, "2")
	m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	if m.traces.sel != 1 {
		t.Errorf("wheel down on the traces: selection %d, want 1", m.traces.sel)
	}
	hit(t, m, "enter")
	if m.active != scrDetail {
		t.Fatalf("no trace detail (active %d)", m.active)
	}
	id := m.detail.rec.ID
	for _, k := range []string{"a", "x", "f", "u", "e"} {
		m.msg = ""
		hit(t, m, k)
		if !strings.Contains(m.msg, "read-only") {
			t.Errorf("%s: message %q does not say read-only", k, m.msg)
		}
		if m.detail.editing {
			t.Fatalf("%s opened the note editor on a read-only run", k)
		}
	}
	if l := m.sh.store.Label(id).Label; l != sessions.LabelNone {
		t.Errorf("label %q on a read-only run", l)
	}
	if _, err := os.Stat(filepath.Join(runs, "done-run", sessions.ExportFile)); err == nil {
		t.Error("export wrote into a read-only run")
	}
	if v := m.View(); !strings.Contains(v, "read-only") {
		t.Errorf("the detail does not say read-only:\n%s", v)
	}
	data, _ := os.ReadFile(filepath.Join(runs, "done-run", sessions.ReviewsFile))
	if len(data) != 0 {
		t.Errorf("reviews.jsonl written: %q", data)
	}
}

// TestRunsScreenFollow: following an official trainer's folder lists it;
// it cannot be resumed; x stops following it; a bad path is refused.
func TestRunsScreenFollow(t *testing.T) {
	root := runsWorld(t)
	l := &testLauncher{runs: "runs"}
	m := newModel(Options{Launcher: l, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	listNow(t, m)
	if len(m.runs.rows) != 3 {
		t.Fatalf("%d rows, want 3", len(m.runs.rows))
	}
	hit(t, m, "a", "text:nowhere", "enter")
	if !m.runs.msgErr || !strings.Contains(m.runs.msg, "nowhere") {
		t.Errorf("bad path: %q", m.runs.msg)
	}
	hit(t, m, "a", "text:"+filepath.Join(root, "ext", "official"), "enter")
	listNow(t, m)
	if len(m.runs.rows) != 4 {
		t.Fatalf("%d rows after following, want 4", len(m.runs.rows))
	}
	row := m.runs.rows[3]
	if row.Kind != kindOfficial || row.LastStep != 3 || row.Best != -0.91 || m.runs.sel != 3 {
		t.Errorf("official row %+v (selected %d)", row, m.runs.sel)
	}
	hit(t, m, "r")
	if !strings.Contains(m.runs.msg, "cannot be resumed") {
		t.Errorf("resume official: %q", m.runs.msg)
	}
	// The mouse wheel moves the selection.
	m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	if m.runs.sel != 2 {
		t.Errorf("wheel up: selection %d, want 2", m.runs.sel)
	}
	hit(t, m, "x")
	if !m.runs.msgErr {
		t.Errorf("x on a run of the runs folder: %q", m.runs.msg)
	}
	hit(t, m, "G", "x")
	listNow(t, m)
	if len(m.runs.rows) != 3 || len(m.runs.follow) != 0 {
		t.Errorf("after x: %d rows, following %v", len(m.runs.rows), m.runs.follow)
	}
}

// TestFollowListedFolderRefused: following the runs folder, or a run
// folder in it, is refused as already listed, and nothing is saved; a
// folder of runs inside the runs folder, which it does not list, is
// followed.
func TestFollowListedFolderRefused(t *testing.T) {
	for _, c := range []struct {
		name, path string // as typed, relative to the test's root (the working folder)
		abs        bool   // typed as an absolute path
		refused    bool
	}{
		{"the runs folder", "runs", false, true},
		{"the runs folder, absolute", "runs", true, true},
		{"the runs folder, with a slash", "runs/", false, true},
		{"a run in it", "runs/20260103-101500", false, true},
		{"a run in it, absolute", "runs/20260103-101500", true, true},
		{"a run in it, named roundabout", "runs/../runs/20260103-101500/", false, true},
		{"a folder of runs in it", "runs/archive", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := runsWorld(t)
			writeRun(t, filepath.Join(root, "runs", "archive", "20251201-000000"), t0.Add(-48*time.Hour), 2, true)
			m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 160, Height: 30})
			hit(t, m, "4")
			listNow(t, m)
			path := filepath.FromSlash(c.path)
			if c.abs {
				path = filepath.Join(root, path)
			}
			hit(t, m, "a", "text:"+path, "enter")
			msg, msgErr := m.runs.msg, m.runs.msgErr
			listNow(t, m)
			data, ferr := os.ReadFile(filepath.Join("runs", FollowedFile))
			if !c.refused {
				if msgErr || len(m.runs.follow) != 1 || len(m.runs.rows) != 4 || ferr != nil {
					t.Errorf("not followed: %q, following %v, %d rows, %s: %v", msg, m.runs.follow, len(m.runs.rows), FollowedFile, ferr)
				}
				return
			}
			if !msgErr || !strings.Contains(msg, "not following") || !strings.Contains(msg, "already listed") {
				t.Errorf("message %q (error %v), want it refused as already listed", msg, msgErr)
			}
			if len(m.runs.follow) != 0 || len(m.runs.rows) != 3 {
				t.Errorf("following %v, %d rows, want none and 3", m.runs.follow, len(m.runs.rows))
			}
			if !errors.Is(ferr, fs.ErrNotExist) {
				t.Errorf("%s written: %v %s", FollowedFile, ferr, data)
			}
			if v := m.View(); strings.Contains(v, "followed") {
				t.Errorf("the header counts followed folders:\n%s", v)
			}
		})
	}
}

// TestFollowedListedDropped: a folder the runs folder lists, saved in
// the followed list before following one was refused, is dropped when
// the list is read, the list saved without it and the user told; the
// other followed folders stay.
func TestFollowedListedDropped(t *testing.T) {
	root := runsWorld(t)
	official := filepath.Join(root, "ext", "official")
	saved, _ := json.Marshal(followedJSON{Folders: []string{
		filepath.Join(root, "runs"), filepath.Join(root, "runs", "20260103-101500"), official}})
	if err := os.WriteFile(filepath.Join("runs", FollowedFile), saved, 0o644); err != nil {
		t.Fatal(err)
	}
	m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 30})
	hit(t, m, "4")
	listNow(t, m)
	if !slices.Equal(m.runs.follow, []string{official}) || len(m.runs.rows) != 4 {
		t.Errorf("following %v, %d rows; want only %s, 4 rows", m.runs.follow, len(m.runs.rows), official)
	}
	if msg := m.runs.msg; m.runs.msgErr || !strings.Contains(msg, "20260103-101500") || !strings.Contains(msg, "already listed under the runs folder") {
		t.Errorf("message %q (error %v)", msg, m.runs.msgErr)
	}
	var f followedJSON
	data, err := os.ReadFile(filepath.Join("runs", FollowedFile))
	if err == nil {
		err = json.Unmarshal(data, &f)
	}
	if err != nil || !slices.Equal(f.Folders, []string{official}) {
		t.Errorf("%s not rewritten without them: %v\n%s", FollowedFile, err, data)
	}
	if v := m.View(); !strings.Contains(v, "· 1 followed") {
		t.Errorf("the header does not count the one followed folder:\n%s", v)
	}
}

func TestTextEditor(t *testing.T) {
	var e textEditor
	e.SetText("a = 1\nb = 2\n")
	e.SetNotes([]lineNote{{line: 1, msg: "bad b"}})
	for _, k := range []string{"end", "enter"} {
		e.Update(keyMsg(k))
	}
	for _, r := range "c = 3" {
		e.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	if got := e.Text(); got != "a = 1\nc = 3\nb = 2\n" {
		t.Fatalf("text %q", got)
	}
	if e.notes[0].line != 2 {
		t.Errorf("note moved to line %d, want 2 (with b)", e.notes[0].line)
	}
	e.Update(keyMsg("home"))
	e.Update(keyMsg("backspace")) // joins with the line above
	if got := e.Text(); got != "a = 1c = 3\nb = 2\n" || e.notes[0].line != 1 {
		t.Fatalf("after join: %q, note line %d", got, e.notes[0].line)
	}
	if l, c := e.Cursor(); l != 1 || c != 6 {
		t.Errorf("cursor %d:%d, want 1:6", l, c)
	}
	// Pasted text keeps its lines.
	e.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x\ny\r"), Paste: true})
	if got := e.Text(); got != "a = 1x\nyc = 3\nb = 2\n" || e.notes[0].line != 2 {
		t.Fatalf("after paste: %q, note line %d", got, e.notes[0].line)
	}
	th := style.PlainTheme()
	for w := 6; w <= 40; w++ {
		for h := 1; h <= 5; h++ {
			lines := e.Lines(w, h, th)
			golden.Fits(t, strings.Join(lines, "\n"), w, h)
		}
	}
}

// TestResumeAfterStopHere: a run stopped with S in this workbench is
// listed as stopped (open here, no engine running) and r resumes it in
// place: the stopped session is closed first, then the run reopened.
func TestResumeAfterStopHere(t *testing.T) {
	root := t.TempDir()
	l := &testLauncher{runs: filepath.Join(root, "runs")}
	s, err := l.Start(mustConfig(t, l))
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(Options{Session: &sessions.Session{Run: s.Run, Control: s.Control, Steps: s.Steps, Close: s.Close}, Launcher: l, RunsDir: l.runs})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	hit(t, m, "S", "y")
	s.Run.Emit(event.Phase{Time: t0, Name: "stopped", Step: 0})
	if err := s.Run.Flush(); err != nil {
		t.Fatal(err)
	}
	m.pull()
	if h := strings.SplitN(m.View(), "\n", 2)[0]; !strings.Contains(h, "· stopped ·") {
		t.Fatalf("header after the stop: %q", h)
	}
	hit(t, m, "4")
	listNow(t, m)
	v := m.View()
	state := ""
	for _, line := range strings.Split(v, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[0], "new-1") {
			state = f[1]
		}
	}
	if state != "stopped" || !strings.Contains(v, "no engine running") {
		t.Errorf("the Runs screen lists the run as %q, want stopped (no engine running):\n%s", state, v)
	}
	// A checkpoint to continue from, as a resume needs: one without is
	// refused before the view is closed (resumeRefusal).
	withCheckpoint(t, s.Run.Dir(), 0)
	_, cmd := m.Update(keyMsg("r"))
	pump(t, m, cmd, func() bool { return m.switching == "" && m.hasRun() && len(l.ctls) == 2 })
	// The real launcher records the resume (sessions/runner); this one
	// only reopens the folder.
	if err := m.sh.run.Resume(0); err != nil {
		t.Fatal(err)
	}
	m.sh.run.Flush()
	m.pull()
	if len(l.closed) != 1 || m.sh.run.Dir() != s.Run.Dir() || m.sh.control != l.ctls[1] || m.sh.engineEnded {
		t.Errorf("closed %v, open %s with control %p (want %p), engine ended %v", l.closed, m.sh.run.Dir(), m.sh.control, l.ctls[1], m.sh.engineEnded)
	}
}

// finishedRun is a testLauncher with one run it started, done after one
// step and flushed, still open (s).
func finishedRun(t *testing.T) (*testLauncher, *sessions.Session) {
	t.Helper()
	l := &testLauncher{runs: filepath.Join(t.TempDir(), "runs")}
	s, err := l.Start(mustConfig(t, l))
	if err != nil {
		t.Fatal(err)
	}
	s.Run.Emit(event.Phase{Time: t0, Name: "done", Step: 0})
	if err := s.Run.Flush(); err != nil {
		t.Fatal(err)
	}
	return l, s
}

func mustConfig(t *testing.T, l *testLauncher) []byte {
	t.Helper()
	c, err := l.NewConfig()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFollowRowsOtherTrainers: the Runs screen's follow list accepts a
// TRL, verl or NeMo-RL folder and says which trainer wrote it.
func TestFollowRowsOtherTrainers(t *testing.T) {
	for _, c := range []struct{ dir, state, note string }{
		{"../sessions/testdata/trainers/trl", "trl", "TRL GRPOTrainer run folder"},
		{"../sessions/testdata/trainers/verl", "verl", "verl run folder"},
		{"../sessions/testdata/trainers/nemo-rl", "nemo-rl", "NeMo-RL run folder"},
		{"../sessions/testdata/official/run", "official", "official RLT trainer run"},
	} {
		rows, _, err := followRows(new(sessions.Lister), c.dir)
		if err != nil || len(rows) != 1 || rows[0].Kind != kindOfficial || rows[0].State != c.state || !strings.Contains(rows[0].Note, c.note) {
			t.Errorf("%s: %+v, %v", c.dir, rows, err)
		}
	}
}

// TestRefusedResumeKeepsARunOpen: a resume the launcher refuses (here a
// run whose config.toml does not decode) leaves the run that was open
// open again, read-only, and says so; the workbench is never left with no
// run by a switch that did not happen.
func TestRefusedResumeKeepsARunOpen(t *testing.T) {
	l, s := finishedRun(t)
	broken := filepath.Join(l.runs, "broken")
	b, err := sessions.Create(broken, flowCfg{Task: "addition", Steps: 2})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	os.WriteFile(filepath.Join(broken, sessions.ConfigFile), []byte("stepz = 2\n"), 0o644)

	m := newModel(Options{Session: &sessions.Session{Run: s.Run, Steps: s.Steps, Close: s.Close}, Launcher: l, RunsDir: l.runs})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	hit(t, m, "4")
	listNow(t, m)
	for i := 0; i < 5 && (m.runs.selected() == nil || filepath.Base(m.runs.selected().Dir) != "broken"); i++ {
		hit(t, m, "j")
	}
	if sel := m.runs.selected(); sel == nil || filepath.Base(sel.Dir) != "broken" {
		t.Fatalf("cannot select the broken run: %+v", sel)
	}
	// A checkpoint to continue from, as a resume needs: one without is
	// refused before the view is closed (resumeRefusal).
	withCheckpoint(t, broken, 0)
	_, cmd := m.Update(keyMsg("r"))
	pump(t, m, cmd, func() bool { return m.switching == "" && m.runs.msg != "" })
	if !m.hasRun() || m.sh.run.Dir() != s.Run.Dir() {
		t.Fatalf("after the refused resume the open run is %v, want %s again", m.sh.run, s.Run.Dir())
	}
	if want := "new-1 is open again, to review"; !strings.Contains(m.runs.msg, `unknown key "stepz"`) || !strings.Contains(m.runs.msg, want) {
		t.Errorf("message %q, want the refusal and %q", m.runs.msg, want)
	}
}

// TestDraftEditsAreNotLostUnasked: with edits in the draft configuration,
// c on a run and C-r in the editor ask first; a second press replaces.
func TestDraftEditsAreNotLostUnasked(t *testing.T) {
	m := finishedOnRuns(t, 120, 30)
	hit(t, m, "n", "text:# mine", "enter")
	edited := m.runs.ed.Text()
	hit(t, m, "ctrl+r")
	if m.runs.ed.Text() != edited || !strings.Contains(m.View(), "press ctrl+r again to replace them") {
		t.Fatalf("C-r replaced the edited draft without asking:\n%s", m.View())
	}
	hit(t, m, "esc", "c")
	if m.runs.ed.Text() != edited || !strings.Contains(m.View(), "press c again to replace them") {
		t.Fatalf("c replaced the edited draft without asking:\n%s", m.View())
	}
	hit(t, m, "c")
	if m.runs.ed.Text() == edited || !strings.Contains(m.runs.edFrom, "config of new-1") {
		t.Errorf("a second c did not replace the draft (from %q)", m.runs.edFrom)
	}
	// Quitting with an edited draft asks once: it is saved nowhere.
	hit(t, m, "n", "text:# mine again", "enter")
	if _, cmd := m.Update(keyMsg("ctrl+c")); cmd != nil || !strings.Contains(m.msg, "press q or ctrl+c again to quit without them") {
		t.Fatalf("ctrl+c with an edited draft quit at once (message %q)", m.msg)
	}
	if _, cmd := m.Update(keyMsg("ctrl+c")); cmd == nil {
		t.Error("a second ctrl+c did not quit")
	}
}

// refusingLauncher refuses to start, as the memory check does: a plain
// error about no one line, whose advice comes last.
type refusingLauncher struct{ testLauncher }

const refusal = "this run needs about 2966.90 GiB (teacher weights (float32) 2.9 MiB; sampling 800000 sequences of 224 tokens) and this machine has 22.35 GiB: lower grpo.questions or grpo.samples, or set micro_batch_tokens"

func (l *refusingLauncher) Start([]byte) (*sessions.Session, error) { return nil, errors.New(refusal) }

// TestEditorShowsARefusalWhole: a refusal with no line (the memory
// check's) is shown whole under the draft, its advice included, not cut
// to the action line's width.
func TestEditorShowsARefusalWhole(t *testing.T) {
	l := &refusingLauncher{testLauncher{runs: filepath.Join(t.TempDir(), "runs")}}
	m := newModel(Options{Launcher: l, RunsDir: l.runs})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	listNow(t, m)
	_, cmd := m.Update(keyMsg("n"))
	pump(t, m, cmd, func() bool { return m.runs.editing })
	_, cmd = m.Update(keyMsg("ctrl+s"))
	pump(t, m, cmd, func() bool { return m.switching == "" && m.runs.edCount > 0 })
	v := m.View()
	golden.Fits(t, v, 80, 24)
	if flat := strings.Join(strings.Fields(v), " "); !strings.Contains(flat, "lower grpo.questions or grpo.samples, or set micro_batch_tokens") {
		t.Errorf("the refusal's advice is not shown:\n%s", v)
	}
}

// TestReadOnlyViewerGetsReviewBack: a run viewed read-only (another process
// held it) that is no longer held opens again to review with enter on
// the Runs screen, as rlt open would open it.
func TestReadOnlyViewerGetsReviewBack(t *testing.T) {
	l, s := finishedRun(t)
	dir := s.Run.Dir()
	if err := s.Close(); err != nil { // the trainer lets go
		t.Fatal(err)
	}
	ro, err := l.OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(Options{Session: &sessions.Session{Run: ro.Run, ReadOnly: true, Close: ro.Close}, Launcher: l, RunsDir: l.runs})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	if !m.sh.readOnly {
		t.Fatal("not read-only to begin with")
	}
	hit(t, m, "4")
	listNow(t, m)
	_, cmd := m.Update(keyMsg("enter"))
	pump(t, m, cmd, func() bool { return m.switching == "" && m.hasRun() && !m.sh.readOnly })
	if m.sh.run.Dir() != dir || m.sh.readOnly {
		t.Errorf("open %s, read-only %v; want %s open to review", m.sh.run.Dir(), m.sh.readOnly, dir)
	}
}

// TestRunsScreenCountsStepsDone: the Runs screen's STEPS column counts the
// steps a run has done against those it plans, the numbers its header shows
// once open (metrics records number steps from 0; writeRun plans the steps
// it writes): a run planning 200 steps with none done yet reads 0/200, as
// its header says step 0/200, where it read "—", which stays for a run
// with neither a step nor a plan.
func TestRunsScreenCountsStepsDone(t *testing.T) {
	for _, c := range []struct {
		name    string
		steps   int // metrics records of steps 0…steps-1
		planned int // its config.toml's steps, where not steps
		want    string
	}{
		{"six steps", 6, 0, "6/6"},
		{"one step", 1, 0, "1/1"},
		{"no step", 0, 0, "—"},
		{"no step of 200 planned", 0, 200, "0/200"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "runs", "20260102-030405")
			writeRun(t, dir, t0, c.steps, c.planned == 0) // stopped before its first step of 200
			if c.planned != 0 {
				cfg, _ := sessions.EncodeTOML(testCfg{Task: "addition", Steps: c.planned})
				if err := os.WriteFile(filepath.Join(dir, sessions.ConfigFile), cfg, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(root)
			m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
			listNow(t, m)
			v := m.View()
			row := regexp.MustCompile(`20260102-030405\s+(?:finished|stopped)\s+(\S+)\s`).FindStringSubmatch(v)
			if row == nil || row[1] != c.want {
				t.Errorf("want its STEPS column to read %s:\n%s", c.want, v)
			}
			if !strings.Contains(v, "STEPS") {
				t.Errorf("no STEPS column:\n%s", v)
			}
		})
	}
}

// TestRunsScreenCountsAnImportedRunsSteps: the STEPS column of a run
// imported from another trainer (rlt import into the runs folder, or the
// trainer's folder followed) counts the steps the trainer did, the
// header's number once open: the trainer's step numbers count from 1, so
// the official fixture's 3 steps read 3, not 4 (of the 3 planned). A
// followed TRL, verl or NeMo-RL folder reads as its import does, STEPS and
// BEST REWARD; it used to read "—" until opened.
func TestRunsScreenCountsAnImportedRunsSteps(t *testing.T) {
	root := t.TempDir()
	for name, src := range map[string]string{
		"official": "../sessions/testdata/official/run",
		"trl":      "../sessions/testdata/trainers/trl",
		"verl":     "../sessions/testdata/trainers/verl",
		"nemo-rl":  "../sessions/testdata/trainers/nemo-rl",
	} {
		if _, err := sessions.Import(filepath.Join(root, "runs", name), src); err != nil {
			t.Fatal(err)
		}
	}
	official, err := filepath.Abs("../sessions/testdata/official/run")
	if err != nil {
		t.Fatal(err)
	}
	copyTree(t, official, filepath.Join(root, "ext", "official"))
	for _, name := range []string{"trl", "verl", "nemo-rl"} {
		src, err := filepath.Abs(filepath.Join("../sessions/testdata/trainers", name))
		if err != nil {
			t.Fatal(err)
		}
		copyTree(t, src, filepath.Join(root, "ext", name))
	}
	t.Chdir(root)
	m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 30})
	for _, name := range []string{"official", "trl", "verl", "nemo-rl"} {
		hit(t, m, "4", "a", "text:ext/"+name, "enter")
	}
	listNow(t, m)
	v := m.View()
	best := map[string]string{}
	for _, c := range []struct{ row, state, want, sameBestAs string }{
		{"official", "finished", "3/3", ""},
		{"trl", "finished", "4/4", ""},
		{"verl", "finished", "2", ""},
		{"nemo-rl", "finished", "2", ""},
		// the followed folders, as the system writes paths
		{filepath.Join("ext", "official"), "official", "3/3", "official"},
		{filepath.Join("ext", "trl"), "trl", "4/4", "trl"},
		{filepath.Join("ext", "verl"), "verl", "2", "verl"},
		{filepath.Join("ext", "nemo-rl"), "nemo-rl", "2", "nemo-rl"},
	} {
		got := regexp.MustCompile(`\s` + regexp.QuoteMeta(c.row) + `\s+` + c.state + `\s+(\S+)\s+(\S+)\s`).FindStringSubmatch(v)
		if got == nil || got[1] != c.want {
			t.Errorf("%s: want its STEPS column to read %s:\n%s", c.row, c.want, v)
			continue
		}
		best[c.row] = got[2]
		if c.sameBestAs != "" && got[2] != best[c.sameBestAs] {
			t.Errorf("%s: BEST REWARD %s, its import's %s:\n%s", c.row, got[2], best[c.sameBestAs], v)
		}
	}
}

// TestRunsScreenCountsAgainstThePlan: the STEPS column counts each run's
// steps done against its plan, as the header does once it is open: a run
// of ours against its config.toml's steps, one imported with rlt import
// against the max_steps its trainer's files stated (planned_steps), a
// followed official trainer's folder against its trainer_state.json's; a
// run past a stale plan says so. The column used to show the count alone.
func TestRunsScreenCountsAgainstThePlan(t *testing.T) {
	runsWorld(t) // ext/official: the official trainer's 3 steps of 3
	writeRun(t, filepath.Join("runs", "ours"), t0.Add(60*time.Hour), 4, false)
	if _, err := sessions.Import(filepath.Join("runs", "imported"), "ext/official"); err != nil {
		t.Fatal(err)
	}
	// Resumed with rlt run --resume --steps 6 past the 4 config.toml plans.
	past := filepath.Join("runs", "past")
	writeRun(t, past, t0.Add(61*time.Hour), 4, false)
	appendTo(t, filepath.Join(past, sessions.MetricsFile), `{"step":4,"values":{"reward":1}}`+"\n"+`{"step":5,"values":{"reward":1}}`+"\n")
	r := newTestRun(t, 3, 1, 1, 8)
	m := newModel(Options{Session: &sessions.Session{Run: r, Control: &fakeControl{}, Steps: 20}, Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	defer closeModel(t, m)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	hit(t, m, "4", "a", "text:ext/official", "enter")
	listNow(t, m)
	v := m.View()
	for name, want := range map[string]string{
		"20260102-030405": "12/12", "ours": "4/4", "imported": "3/3", filepath.Join("ext", "official"): "3/3",
		"past": "6 (4 planned)", "20260104-090000": "—",
	} {
		re := regexp.MustCompile(`(?m)^..` + regexp.QuoteMeta(name) + ` +\S+ +(.+?) +(-?\d+\.\d{3}|—) `)
		if g := re.FindStringSubmatch(v); g == nil || g[1] != want {
			t.Errorf("%s: STEPS %q, want %q in\n%s", name, g, want, v)
		}
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestResumeRefusedForTheRunViewedWhileHeld: r on the Runs screen for the
// run viewed read-only while another process holds it (trains it, has it
// paused, or has opened it to resume and loads its engine) is refused in
// the words the screen gives any other held run, and the view stays open:
// closing it would only lead to a resume that fails on the lock. Its phases
// may say the engine ended (a resume loading over a stopped, finished or
// failed run), which makes r resume in place a run this workbench let go
// of; they say nothing of who holds it now. Once the other process has let
// go (its resume refused, or killed while loading), r resumes it in place.
func TestResumeRefusedForTheRunViewedWhileHeld(t *testing.T) {
	type other int
	const (
		trains  other = iota // the process that created it trains it still
		pauses               // and has paused it
		loading              // opened to resume it, its engine loading
		resumed              // its engine loaded: the resume event written
		refused              // opened to resume it and closed it as it was
		killed               // killed while its engine loaded
	)
	for _, c := range []struct {
		name   string
		ended  string // how the session that created it ended: a phase, "fatal", or "" (it goes on: trains, pauses)
		other  other
		open   func(l *testLauncher, dir string) (*sessions.Session, error)
		listed sessions.RunState
		refuse bool
	}{
		{"running", "", trains, (*testLauncher).OpenReadOnly, sessions.StateRunning, true},
		{"paused", "", pauses, (*testLauncher).OpenReadOnly, sessions.StatePaused, true},
		{"stopped, resuming", "stopped", loading, (*testLauncher).OpenReadOnly, sessions.StateResuming, true},
		{"finished, resuming", "done", loading, (*testLauncher).OpenReadOnly, sessions.StateResuming, true},
		{"failed, resuming", "fatal", loading, (*testLauncher).OpenReadOnly, sessions.StateResuming, true},
		// rlt open of a run another process holds opens it read-only.
		{"finished, resuming, opened to review", "done", loading, (*testLauncher).OpenForReview, sessions.StateResuming, true},
		{"stopped, resumed", "stopped", resumed, (*testLauncher).OpenReadOnly, sessions.StateRunning, true},
		{"finished, resume refused", "done", refused, (*testLauncher).OpenReadOnly, sessions.StateFinished, false},
		{"finished, resume killed loading", "done", killed, (*testLauncher).OpenReadOnly, sessions.StateStopped, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			dir := filepath.Join("runs", "held")
			planned := 3
			if c.other == refused {
				// Its plan raised since it finished, so that r here has
				// steps to run (with its 3 steps planned done, r says
				// there is nothing left to run).
				planned = 5
			}
			w := recordedSteps(t, dir, planned, 3)
			t.Cleanup(func() { w.Close() })
			switch c.ended {
			case "":
				if c.other == pauses {
					w.Emit(event.Phase{Time: t0, Name: "paused", Step: 2})
				}
				// The other process is the one that created it: its Run
				// holds run.lock with a lock of its own.
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			case "fatal":
				w.Emit(event.Error{Time: t0, Step: 2, Err: errors.New("boom"), Fatal: true})
			default:
				w.Emit(event.Phase{Time: t0, Name: c.ended, Step: 2})
			}
			if c.ended != "" {
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				// The other process opens it to resume it, with a Run and
				// a lock of its own.
				r, err := sessions.OpenWith(dir, nil, sessions.Options{Intent: sessions.IntentResume})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				switch c.other {
				case resumed:
					if err := r.Resume(2); err != nil {
						t.Fatal(err)
					}
				case refused:
					if err := r.Close(); err != nil {
						t.Fatal(err)
					}
				case killed:
					killWriter(t, r)
				}
				if c.other == loading || c.other == resumed {
					if err := r.Flush(); err != nil { // its events on disk, for the listing and the view
						t.Fatal(err)
					}
				}
			}
			m, l := viewWith(t, c.open, dir)
			if !m.sh.readOnly {
				t.Fatal("not viewed read-only")
			}
			viewed := m.cur
			hit(t, m, "4")
			listNow(t, m)
			row := m.runs.selected()
			if row == nil || filepath.Base(row.Dir) != "held" || row.State != string(c.listed) {
				t.Fatalf("Runs screen row %+v, want held, %s", row, c.listed)
			}
			// A checkpoint to continue from, as a resume needs: one without is
			// refused before the view is closed (resumeRefusal).
			withCheckpoint(t, row.Dir, 0)
			m.runs.msg = ""
			_, cmd := m.Update(keyMsg("r"))
			if !c.refuse {
				pump(t, m, cmd, func() bool { return m.switching == "" && m.cur != nil && m.cur.Control != nil })
				if len(l.ctls) != 1 || filepath.Base(m.sh.run.Dir()) != "held" || m.sh.readOnly {
					t.Errorf("r did not resume it: %d engines, open %q, read-only %v", len(l.ctls), m.openName(), m.sh.readOnly)
				}
				return
			}
			if cmd != nil {
				// What r did before it was refused: the view closed, then
				// a resume that the lock refuses, then the run reopened.
				pump(t, m, cmd, func() bool { return m.switching == "" && m.runs.msg != "" })
			}
			// It is the run viewed here: enter has nothing more to open.
			want := fmt.Sprintf("held is held by another process (pid %d, %s): not resumed; it is open here read-only", os.Getpid(), row.Holder.Doing)
			if !strings.Contains(m.runs.msg, want) {
				t.Errorf("message %q, want %q", m.runs.msg, want)
			}
			if m.cur != viewed || !m.sh.readOnly || len(l.ctls) != 0 || m.active != scrRuns {
				t.Errorf("the view did not stay as it was: same view %v, read-only %v, %d engines, screen %d", m.cur == viewed, m.sh.readOnly, len(l.ctls), m.active)
			}
		})
	}
}

// TestResumeRefusedForARunReviewedElsewhere: a run another process keeps
// open to review it (rlt open: run.lock held, no engine) is held as a
// training run is: r on the Runs screen refuses it at once, saying who
// holds it and why, and whatever is open here stays open, also the run
// itself viewed read-only (where enter keeps the view too: no review can
// be opened while the other one holds it). So is one that rlt score
// --write keeps open, which says it writes re-scores into it. It used to
// be tried: the open run was closed, the resume failed on the lock, and
// the run reopened read-only.
func TestResumeRefusedForARunReviewedElsewhere(t *testing.T) {
	for _, c := range []struct {
		name  string
		ended string // how the session that created it ended
		// open is what is open here when r is pressed ("": no run).
		open string
		how  func(l *testLauncher, dir string) (*sessions.Session, error)
		// rescore: the other process opens it as rlt score --write does,
		// to write re-scores into it, not to review it.
		rescore bool
	}{
		{"stopped, viewed here read-only", "stopped", "held", (*testLauncher).OpenReadOnly, false},
		{"finished, viewed here as rlt open opens it", "done", "held", (*testLauncher).OpenForReview, false},
		{"stopped, another run open for review", "stopped", "other", (*testLauncher).OpenForReview, false},
		{"finished, no run open", "done", "", nil, false},
		{"finished, re-scored elsewhere, viewed here read-only", "done", "held", (*testLauncher).OpenReadOnly, true},
		{"stopped, re-scored elsewhere, no run open", "stopped", "", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			for _, name := range []string{"other", "held"} {
				w, err := sessions.Create(filepath.Join("runs", name), flowCfg{Task: "addition", Steps: 3})
				if err != nil {
					t.Fatal(err)
				}
				for s := 0; s < 3; s++ {
					w.Emit(event.Phase{Time: t0, Name: "sampling", Step: s})
					w.Emit(event.Metrics{Time: t0, Step: s, Values: map[string]float64{"reward": 0.1 * float64(s)}})
				}
				w.Emit(event.Phase{Time: t0, Name: c.ended, Step: 3})
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			// The other process reviews it, with a Run and a lock of its
			// own, as rlt open does (or re-scores it, as rlt score --write).
			intent := sessions.IntentReview
			if c.rescore {
				intent = sessions.IntentRescore
			}
			rv, err := sessions.OpenWith(filepath.Join("runs", "held"), nil, sessions.Options{Intent: intent})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rv.Close() }) // its open event is on disk: OpenWith returned
			var m *Model
			l := &testLauncher{runs: "runs"}
			if c.open != "" {
				m, l = viewWith(t, c.how, filepath.Join("runs", c.open))
				hit(t, m, "4")
			} else {
				m = newModel(Options{Launcher: l, RunsDir: "runs"})
				t.Cleanup(func() { closeModel(t, m) })
				m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			}
			viewed, readOnly := m.cur, m.sh.readOnly
			listNow(t, m)
			for i, row := range m.runs.rows {
				if filepath.Base(row.Dir) == "held" {
					m.runs.sel = i
					m.runs.syncSel()
				}
			}
			row := m.runs.selected()
			if row == nil || filepath.Base(row.Dir) != "held" || row.State != map[string]string{"stopped": "stopped", "done": "finished"}[c.ended] {
				t.Fatalf("Runs screen row %+v, want held, by its training state", row)
			}
			// The process that holds it is this test's, whose listing says
			// so in words (any other reads its pid: sessions'
			// TestListSaysTheRunOpenHere); the Holder names the pid.
			doing, note := "reviewing it", "open here for review, no engine running"
			if c.rescore {
				doing, note = "writing re-scores into it", "open here writing re-scores, no engine running"
			}
			if row.Note != note {
				t.Errorf("Runs screen note %q, want %q", row.Note, note)
			}
			want := fmt.Sprintf("held is held by another process (pid %d, %s); enter opens it read-only", os.Getpid(), doing)
			if c.open == "held" { // viewed here: enter has nothing more to open
				want = fmt.Sprintf("held is held by another process (pid %d, %s): not resumed; it is open here read-only", os.Getpid(), doing)
			}
			keys := []string{"r"}
			if c.open == "held" {
				keys = append(keys, "enter")
			}
			for _, k := range keys {
				m.runs.msg, m.msg = "", ""
				_, cmd := m.Update(keyMsg(k))
				if cmd != nil {
					// What the key did before it was refused: the view
					// closed, then a resume or review the lock refuses,
					// then the run open reopened.
					pump(t, m, cmd, func() bool { return m.switching == "" && (m.runs.msg != "" || m.msg != "") })
				}
				switch k {
				case "r":
					if !strings.Contains(m.runs.msg, want) {
						t.Errorf("r: message %q, want %q", m.runs.msg, want)
					}
				case "enter":
					if !strings.Contains(m.msg, "held is the run open here") {
						t.Errorf("enter: message %q, want it to say the run is the one open here", m.msg)
					}
				}
				if m.cur != viewed || m.sh.readOnly != readOnly || len(l.ctls) != 0 {
					t.Errorf("%s: the view did not stay as it was: same view %v, read-only %v (was %v), %d engines", k, m.cur == viewed, m.sh.readOnly, readOnly, len(l.ctls))
				}
			}
		})
	}
}

// TestRunsMessagesReadWhole: at 80×24 a message on the Runs screen wider
// than the terminal (a refusal with its reason, a question that says which
// key confirms) is wrapped over the list's last rows, not cut where the
// terminal ends; a question asked about the draft is shown over the draft's
// problems, and only the key pressed again at once confirms it.
func TestRunsMessagesReadWhole(t *testing.T) {
	missing := "/nonexistent/" + strings.Repeat("a-folder-with-a-long-name/", 4) + "run"
	for _, c := range []struct {
		name string
		keys []string
		want string // the message's last words, in sight
	}{
		{"a folder that is not there", []string{"a", "text:" + missing, "enter"}, "a folder of runs that is there"},
		{"the question before a run is opened", []string{"enter"}, "y confirms, any other key cancels"},
		{"C-r in a draft with a problem", []string{"n", "text:steps = -3", "enter", "ctrl+s", "ctrl+r"}, "any other key keeps them"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := &testLauncher{runs: filepath.Join(t.TempDir(), "runs")}
			s, err := l.Start(mustConfig(t, l)) // its engine runs: opening another asks first
			if err != nil {
				t.Fatal(err)
			}
			writeRun(t, filepath.Join(l.runs, "other"), t0, 2, true)
			m := newModel(Options{Session: &sessions.Session{Run: s.Run, Control: s.Control, Steps: s.Steps, Close: s.Close}, Launcher: l, RunsDir: l.runs})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			hit(t, m, "4")
			listNow(t, m)
			hit(t, m, "g")
			for i := 0; i < 3 && (m.runs.selected() == nil || filepath.Base(m.runs.selected().Dir) != "other"); i++ {
				hit(t, m, "j")
			}
			hit(t, m, c.keys...)
			v := m.View()
			golden.Fits(t, v, 80, 24)
			if n := len(strings.Split(v, "\n")); n != 24 {
				t.Errorf("%d lines, want 24", n)
			}
			flat := strings.Join(strings.Fields(v), " ")
			if !strings.Contains(flat, c.want) {
				t.Errorf("the message's end %q is not in sight:\n%s", c.want, v)
			}
		})
	}
}

// TestDraftDiscardAskedAgain: C-r in the editor asks before it replaces an
// edited draft; a key pressed between the two takes the question back, so
// that a C-r pressed later, after more edits, asks again.
func TestDraftDiscardAskedAgain(t *testing.T) {
	for _, c := range []struct {
		name     string
		between  []string
		replaced bool
	}{
		{"pressed again at once", nil, true},
		{"after more typing", []string{"text:x"}, false},
		{"after moving the cursor", []string{"down"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := finishedOnRuns(t, 80, 24)
			hit(t, m, "n", "text:# mine", "enter", "ctrl+r")
			hit(t, m, c.between...)
			edited := m.runs.ed.Text()
			hit(t, m, "ctrl+r")
			if replaced := m.runs.ed.Text() != edited; replaced != c.replaced {
				t.Errorf("the second C-r replaced the draft: %v, want %v", replaced, c.replaced)
			}
		})
	}
}

// finishedOnRuns is the Runs screen, w×h, of a workbench open on a
// finished run (finishedRun), listed.
func finishedOnRuns(t *testing.T, w, h int) *Model {
	t.Helper()
	l, s := finishedRun(t)
	m := newModel(Options{Session: &sessions.Session{Run: s.Run, Steps: s.Steps, Close: s.Close}, Launcher: l, RunsDir: l.runs})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	hit(t, m, "4")
	listNow(t, m)
	return m
}

// liveOnRuns is the Runs screen of a workbench whose engine (a fake
// control) trains runs/live under the current folder: step 0 recorded
// with reward, step 1 sampling.
func liveOnRuns(t *testing.T, reward float64) (*Model, *sessions.Run) {
	t.Helper()
	rec, err := sessions.Create(filepath.Join("runs", "live"), testCfg{Task: "addition", Steps: 4})
	if err != nil {
		t.Fatal(err)
	}
	rec.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": reward}})
	rec.Emit(event.Phase{Time: t0, Name: "sampling", Step: 1})
	rec.Flush()
	m := onRuns(t, &sessions.Session{Run: rec, Control: &fakeControl{}, Steps: 4, Close: rec.Close}, &testLauncher{runs: "runs"}, 120)
	return m, rec
}

// trainingHere is a session whose engine (ctl, a fake control) trains
// dir, a run of 4 steps created there, at step's sampling.
func trainingHere(t *testing.T, dir string, step int, ctl *fakeControl) *sessions.Session {
	t.Helper()
	rec, err := sessions.Create(dir, testCfg{Task: "addition", Steps: 4})
	if err != nil {
		t.Fatal(err)
	}
	rec.Emit(event.Phase{Time: t0, Name: "sampling", Step: step})
	return &sessions.Session{Run: rec, Control: ctl, Steps: 4, Close: rec.Close}
}

// onRuns is the Runs screen, w×30, of a workbench with s open here (nil:
// nothing) and l its launcher, the runs folder "runs" listed.
func onRuns(t *testing.T, s *sessions.Session, l Launcher, w int) *Model {
	t.Helper()
	m := newModel(Options{Session: s, Launcher: l, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: w, Height: 30})
	hit(t, m, "4")
	listNow(t, m)
	return m
}

// selectRun selects the Runs screen's row of the folder dir, and stops the
// test where there is none.
func selectRun(t *testing.T, m *Model, dir string) {
	t.Helper()
	m.runs.sel = slices.IndexFunc(m.runs.rows, func(r runRow) bool { return absPath(r.Dir) == absPath(dir) })
	m.runs.syncSel()
	if row := m.runs.selected(); row == nil || absPath(row.Dir) != absPath(dir) {
		t.Fatalf("selected %+v, want %s", row, dir)
	}
}

// TestRunsScreenFollowsTheOpenRun: the open run's row reads what the
// header reads at every pull of its store, not what the last relisting
// (every relistEvery) read: its state, steps done and best reward. The
// header read 'finished · step 30/30' while the row read 'running 29/30'.
func TestRunsScreenFollowsTheOpenRun(t *testing.T) {
	t.Chdir(t.TempDir())
	m, rec := liveOnRuns(t, -1.5)
	metrics := func(step int, reward float64) {
		rec.Emit(event.Metrics{Time: t0.Add(time.Duration(step) * time.Second), Step: step, Values: map[string]float64{"reward": reward}})
	}
	rowRe := regexp.MustCompile(`●live\s+(\S+)\s+(\S+)\s+(\S+)\s`)
	for _, tc := range []struct {
		name               string
		write              func()
		state, steps, best string
	}{
		{"as listed", func() {}, "running", "1/4", "-1.500"},
		{"a step later", func() { metrics(1, -0.5) }, "running", "2/4", "-0.500"},
		{"a worse step", func() { metrics(2, -0.9) }, "running", "3/4", "-0.500"},
		{"finished", func() { metrics(3, -0.7); rec.Emit(event.Phase{Time: t0, Name: "done", Step: 3}) }, "finished", "4/4", "-0.500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.write()
			rec.Flush()
			m.Update(changedMsg{gen: m.gen}) // the store's news, pulled; no relisting
			v := ansi.Strip(m.View())
			row := rowRe.FindStringSubmatch(v)
			if row == nil || row[1] != tc.state || row[2] != tc.steps || row[3] != tc.best {
				t.Errorf("want the open run's row to read %s %s %s:\n%s", tc.state, tc.steps, tc.best, v)
			}
			if h := strings.SplitN(v, "\n", 2)[0]; !strings.Contains(h, tc.state) || !strings.Contains(h, "step "+tc.steps) {
				t.Errorf("header %q does not read %s, step %s", h, tc.state, tc.steps)
			}
		})
	}
}

// TestRunsMessageExpires: the Runs screen's message goes as the footer's
// do, at the first tick msgShown after it was said, not when the next
// one comes; one that asks what a key will do stays while it asks; one
// said while another screen was shown is read there before it goes.
func TestRunsMessageExpires(t *testing.T) {
	const refused, asked, told = "only followed folders can be removed", "press ctrl+r again", "is the open run: the runs marked with space"
	type step struct {
		keys  []string
		after time.Duration // then a tick this long after now (0: none)
		want  string        // the message "shown" or "gone" then ("": not looked at)
	}
	for _, c := range []struct {
		name, msg string
		steps     []step
	}{
		{"an outcome goes after its time", told, []step{
			{keys: []string{" "}, want: "shown"},
			{after: time.Second, want: "shown"},
			{after: time.Minute, want: "gone"},
		}},
		{"an error stays until a key", refused, []step{
			{keys: []string{"x"}, want: "shown"},
			{after: time.Hour, want: "shown"},
			{keys: []string{"down"}, want: "gone"},
		}},
		{"a question stays while it asks", asked, []step{
			{keys: []string{"n", "text:# mine", "enter", "ctrl+r"}, want: "shown"},
			{after: time.Minute, want: "shown"},
			{keys: []string{"down"}, after: time.Minute}, // answered: any other key keeps the draft
			{keys: []string{"esc"}, want: "gone"},
		}},
		{"said elsewhere, read here", told, []step{
			{keys: []string{" ", "1"}, after: time.Minute},
			{keys: []string{"4"}, want: "shown"},
			{after: time.Second, want: "shown"},
			{after: time.Minute, want: "gone"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := finishedOnRuns(t, 100, 24)
			for i, st := range c.steps {
				hit(t, m, st.keys...)
				if st.after > 0 {
					m.Update(tickMsg(time.Now().Add(st.after)))
				}
				v := ansi.Strip(m.View())
				if shown := strings.Contains(v, c.msg); st.want != "" && shown != (st.want == "shown") {
					t.Errorf("step %d (keys %v, then a tick %v later): want %q %s:\n%s", i, st.keys, st.after, c.msg, st.want, v)
				}
			}
		})
	}
}

// TestRunsMessageSeenKeepsItsTime: a message read on the Runs screen
// does not start its time again when the screen is shown again: it goes
// when it would have.
func TestRunsMessageSeenKeepsItsTime(t *testing.T) {
	m := finishedOnRuns(t, 100, 24)
	hit(t, m, " ")
	if m.runs.msg == "" || m.runs.msgErr {
		t.Fatalf("no outcome said: %q", m.runs.msg)
	}
	m.runs.msgAt = m.runs.msgAt.Add(-5 * time.Second) // read for 5 s
	hit(t, m, "1", "4")
	m.Update(tickMsg(time.Now().Add(2 * time.Second)))
	if m.runs.msg != "" {
		t.Errorf("shown again, the message started its time again: %q", m.runs.msg)
	}
}

// TestRunsRowTakesTheHeadersStateAsData: the open run's row takes the
// state the header says as data (Model.runState), not cut out of the
// header's words, which say more ("stopped, interrupted (review)", the
// step's phase); a moment only the header sees (stopping) leaves the
// listed state. The row follows after a message, not while it is drawn.
func TestRunsRowTakesTheHeadersStateAsData(t *testing.T) {
	const gone = "the process that trained it is gone without stopping it"
	for _, c := range []struct {
		name   string
		set    func(m *Model)
		st     sessions.RunState
		header string // the header's words (phase not shown by a progress line)
		row    string // the row's STATE
	}{
		{"running, its phase said", func(m *Model) {}, sessions.StateRunning, "running · sampling", "running"},
		{"interrupted", func(m *Model) { m.gone = gone }, sessions.StateStopped, "stopped, interrupted", "stopped"},
		{"interrupted, reviewed", func(m *Model) { m.gone, m.sh.control = gone, nil }, sessions.StateStopped, "stopped, interrupted (review)", "stopped"},
		{"not known whether held", func(m *Model) { m.heldUnknown, m.sh.control, m.sh.readOnly = true, nil, true }, sessions.StateUnknown, "unknown (read-only)", "unknown"},
		{"read-only", func(m *Model) { m.done, m.sh.control, m.sh.readOnly = true, nil, true }, sessions.StateFinished, "finished (read-only)", "finished"},
		{"failed", func(m *Model) { m.probs.fatal = "out of memory" }, sessions.StateFailed, "failed", "failed"},
		{"resuming", func(m *Model) { m.resuming = true }, sessions.StateResuming, "resuming", "resuming"},
		{"paused", func(m *Model) { m.paused = true }, sessions.StatePaused, "paused", "paused"},
		{"stopping", func(m *Model) { m.sh.stopAsked = true }, "", "stopping (after the step in progress)", "running"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			m, _ := liveOnRuns(t, -1)
			rowState := func() string {
				row := regexp.MustCompile(`●live\s+(\S+)`).FindStringSubmatch(ansi.Strip(m.View()))
				if row == nil {
					t.Fatalf("no row for the open run:\n%s", ansi.Strip(m.View()))
				}
				return row[1]
			}
			c.set(m)
			if st, text := m.runState(false); st != c.st || text != c.header {
				t.Errorf("runState = %q, %q; want %q, %q", st, text, c.st, c.header)
			}
			if got := rowState(); got != "running" {
				t.Errorf("drawing the list changed its row to %q: it is changed by a message, not by View", got)
			}
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 30}) // any message
			if got := rowState(); got != c.row {
				t.Errorf("the open run's row reads %q, want %q", got, c.row)
			}
		})
	}
}

// TestLaunchedNamesTheRunOnce: what opening, resuming or starting a run
// says names the run once ('open 20261205-071425 read-only:
// 20261205-071425' named it twice).
func TestLaunchedNamesTheRunOnce(t *testing.T) {
	t.Chdir(t.TempDir())
	writeRun(t, filepath.Join("runs", "20261205-071425"), t0, 3, true)
	for _, tc := range []struct {
		kind     launchKind
		readOnly bool
		want     string
	}{
		{launchReadOnly, true, "opened 20261205-071425 read-only"},
		{launchReview, false, "opened 20261205-071425 to review"},
		{launchReview, true, "opened 20261205-071425 read-only"}, // another process holds it
		{launchResume, false, "resumed 20261205-071425"},
		{launchStart, false, "started 20261205-071425"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			dir := filepath.Join("runs", "20261205-071425")
			open := func() (*sessions.Run, error) {
				return sessions.OpenWith(dir, nil, sessions.Options{Intent: sessions.IntentReview})
			}
			if tc.readOnly {
				open = func() (*sessions.Run, error) { return sessions.OpenReadOnly(dir) }
			}
			rec, err := open()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rec.Close() })
			m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
			m.runs.launched(launchReq{kind: tc.kind, dir: rec.Dir()}, &opened{Session: &sessions.Session{Run: rec, ReadOnly: tc.readOnly}})
			if m.runs.msg != tc.want || m.runs.msgErr {
				t.Errorf("says %q, want %q", m.runs.msg, tc.want)
			}
		})
	}
}

// TestStopQuestionSaysWhen: opening another run while the engine driven
// here runs asks first, saying when it stops: after its current step, or
// now where it is paused (no step is in progress to finish).
func TestStopQuestionSaysWhen(t *testing.T) {
	t.Chdir(t.TempDir())
	writeRun(t, filepath.Join("runs", "20261205-071425"), t0, 3, true)
	rec, err := sessions.Create(filepath.Join("runs", "live"), testCfg{Task: "addition", Steps: 4})
	if err != nil {
		t.Fatal(err)
	}
	rec.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": -1}})
	m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs",
		Session: &sessions.Session{Run: rec, Control: &fakeControl{}, Steps: 4, Close: rec.Close}})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	hit(t, m, "4")
	listNow(t, m)
	for _, tc := range []struct {
		name  string
		phase string
		want  string
	}{
		{"running", "sampling", "Stop live after its current step and open 20261205-071425 read-only?"},
		{"paused", "paused", "Stop live now (it is paused) and open 20261205-071425 read-only?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.Emit(event.Phase{Time: t0, Name: tc.phase, Step: 1})
			rec.Flush()
			m.pull()
			m.runs.sel = slices.IndexFunc(m.runs.rows, func(r runRow) bool { return r.Name == "20261205-071425" })
			m.runs.syncSel()
			m.runs.act(launchReadOnly)
			if m.runs.confirm == nil {
				t.Fatal("no question asked")
			}
			if q, _, _ := m.runs.action(); !strings.HasPrefix(q, tc.want) {
				t.Errorf("asks %q, want %q", q, tc.want)
			}
			hit(t, m, "n") // cancels
		})
	}
}

// TestResumeLooksAgainBeforeStoppingTheLiveRun: r on another run while a
// run trains here looks at that run again before asking to stop the live
// one, so a run another process took since the last listing (rlt open
// reviewing it), one with nothing left to run (by its resume's rule,
// sessions.NothingLeftToRun) or one with no checkpoint to continue from
// is refused on the message line with no question asked and the live run
// left running; a run that can resume is asked about as before.
func TestResumeLooksAgainBeforeStoppingTheLiveRun(t *testing.T) {
	for _, c := range []struct {
		name string
		// done is how many of its 3 planned steps the run has done; ended
		// the phase its session ended with.
		done  int
		ended string
		ck    int // the step of its newest checkpoint; -1: none
		// heldAfterListing: another process opens it to review after the
		// Runs screen listed it (the listing still says no one holds it).
		heldAfterListing bool
		want             string // the message, or the question's start
		asks             bool
	}{
		{"reviewed elsewhere since the listing", 2, "stopped", 1, true,
			fmt.Sprintf("other is held by another process (pid %d, reviewing it); enter opens it read-only; live keeps running", os.Getpid()), false},
		{"finished, nothing left to run", 3, "done", 2, false,
			"other has nothing left to run (3/3 steps done): not resumed, live keeps running", false},
		{"stopped with all its steps done", 3, "stopped", 2, false,
			"other has nothing left to run (3/3 steps done)", false},
		{"stopped with a step left", 2, "stopped", 1, false, "Stop live after its current step and resume other?", true},
		// Its resume does its last step again from the checkpoint before.
		{"finished, its final checkpoint gone", 3, "done", 1, false, "Stop live after its current step and resume other?", true},
		{"finished, no checkpoint", 3, "done", -1, false,
			"live keeps running; resume " + filepath.Join("runs", "other") + ": it has no checkpoint to continue from; start it again: rlt run --config " +
				sessions.ShellQuote(filepath.Join("runs", "other", sessions.ConfigFile)), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			w, err := sessions.Create(filepath.Join("runs", "other"), flowCfg{Task: "addition", Steps: 3})
			if err != nil {
				t.Fatal(err)
			}
			for s := 0; s < c.done; s++ {
				w.Emit(event.Phase{Time: t0, Name: "sampling", Step: s})
				w.Emit(event.Metrics{Time: t0, Step: s, Values: map[string]float64{"reward": 0.1 * float64(s)}})
			}
			w.Emit(event.Phase{Time: t0, Name: c.ended, Step: c.done})
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if c.ck >= 0 {
				withCheckpoint(t, filepath.Join("runs", "other"), c.ck)
			}
			ctl := &fakeControl{}
			s := trainingHere(t, filepath.Join("runs", "live"), 0, ctl)
			m := onRuns(t, s, &testLauncher{runs: "runs"}, 200)
			selectRun(t, m, filepath.Join("runs", "other"))
			if row := m.runs.selected(); row.Holder.Held() {
				t.Fatalf("selected %+v, want other, held by no one when listed", row)
			}
			if c.heldAfterListing {
				rv, err := sessions.OpenWith(filepath.Join("runs", "other"), nil, sessions.Options{Intent: sessions.IntentReview})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { rv.Close() })
			}
			_, cmd := m.Update(keyMsg("r"))
			if m.runs.confirm != nil {
				t.Fatal("asked to stop the live run before looking at the run to resume again")
			}
			pump(t, m, cmd, func() bool { return m.runs.checking == "" })
			if c.asks {
				if m.runs.confirm == nil {
					t.Fatalf("no question asked; message %q", m.runs.msg)
				}
				if q, _, _ := m.runs.action(); !strings.HasPrefix(q, c.want) {
					t.Errorf("asks %q, want %q", q, c.want)
				}
				hit(t, m, "n")
				return
			}
			if m.runs.confirm != nil {
				q, _, _ := m.runs.action()
				t.Fatalf("asks %q, want it refused with %q", q, c.want)
			}
			if !strings.Contains(m.runs.msg, c.want) || !m.runs.msgErr {
				t.Errorf("message %q (error %v), want %q", m.runs.msg, m.runs.msgErr, c.want)
			}
			// A command to copy ends the message, alone: "…config.toml';
			// live keeps running" read as more of it.
			if strings.Contains(c.want, "rlt run --config") && !strings.HasSuffix(m.runs.msg, c.want) {
				t.Errorf("message %q: its command is not at its end", m.runs.msg)
			}
			if !m.engineRunning() || m.switching != "" || ctl.stop > 0 {
				t.Errorf("the live run did not keep running: running %v, switching %q, stopped %v", m.engineRunning(), m.switching, ctl.stop > 0)
			}
		})
	}
}

// TestRunsScreenSaysWhereARunningStepIs: the selected run, when it is
// running and its writer's progress.json says where its step is, has that
// said under the list, in the header's words ("step 1: sampling 32/96
// tokens · 8 tokens/s · 7s left"), before its note (the writer's pid), at 60, 80
// and 120 columns; a run that is not running has none. The run open here
// says the header's progress, the engine's latest, not progress.json's
// (written at most every sessions.ProgressEvery), and none once its step's
// metrics are in, as the header.
func TestRunsScreenSaysWhereARunningStepIs(t *testing.T) {
	t.Chdir(t.TempDir())
	writeRun(t, filepath.Join("runs", "a-finished"), t0, 2, true)
	dir := filepath.Join("runs", "b-running")
	w, err := sessions.CreateWith(dir, testCfg{Task: "addition", Steps: 4}, sessions.Options{SyncInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": -1}})
	w.Emit(event.Phase{Time: t0, Name: "sampling", Step: 1})
	// 32 of 96 tokens in 4 s: 8 tokens/s.
	w.Emit(event.Progress{Time: t0.Add(4 * time.Second), Started: t0, Step: 1, Phase: "sampling", Done: 32, Total: 96, Unit: "tokens"})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	waitProgress(t, dir, 1)

	m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	// As of a clock 1 s after the progress was written: 64 tokens left at
	// 8 tokens/s, 7 s, as the header and rlt sessions count it down.
	const want = "step 1: sampling 32/96 tokens · 8 tokens/s · 7s left"
	note := "; open here, training it" // its writer is this test's process
	for _, width := range []int{60, 80, 120} {
		m.Update(tea.WindowSizeMsg{Width: width, Height: 20})
		m.now = t0.Add(5 * time.Second)
		listNow(t, m)
		if s := m.runs.selected(); s == nil || s.Name != "b-running" {
			t.Fatalf("selected %+v, want the newest run, b-running", s)
		}
		v := ansi.Strip(m.View())
		lines := strings.Split(v, "\n")
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "▸ "+dir) })
		if i < 0 || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], want) {
			t.Errorf("at %d columns, the line under the selected run's folder does not start with %q:\n%s", width, want, v)
			continue
		}
		if width >= 80 && !strings.HasPrefix(lines[i+1], want+note) {
			t.Errorf("at %d columns, %q, want %q then its note %q", width, lines[i+1], want, note)
		}
	}
	hit(t, m, "k") // the finished run
	if v := ansi.Strip(m.View()); strings.Contains(v, "sampling") {
		t.Errorf("a finished run selected, the screen says a step's progress:\n%s", v)
	}

	// The run open here: the header's progress, then none.
	m2, rec := liveOnRuns(t, -1.5)
	rec.Emit(event.Progress{Time: t0.Add(4 * time.Second), Started: t0, Step: 1, Phase: "sampling", Done: 32, Total: 96, Unit: "tokens"})
	waitProgress(t, filepath.Join("runs", "live"), 1)
	listNow(t, m2)
	hit(t, m2, "G") // live, the newest
	m2.now = t0.Add(5 * time.Second)
	if v := ansi.Strip(m2.View()); !strings.Contains(v, want) {
		t.Errorf("the open run listed with its progress.json, the screen lacks %q:\n%s", want, v)
	}
	rec.Emit(event.Progress{Time: t0.Add(6 * time.Second), Started: t0, Step: 1, Phase: "sampling", Done: 48, Total: 96, Unit: "tokens"})
	m2.Update(tea.WindowSizeMsg{Width: 120, Height: 30}) // any message
	if v, w := ansi.Strip(m2.View()), "step 1: sampling 48/96 tokens · 8 tokens/s"; !strings.Contains(v, w) {
		t.Errorf("the engine's latest progress (the header's), the open run's line lacks %q:\n%s", w, v)
	}
	rec.Emit(event.Metrics{Time: t0.Add(8 * time.Second), Step: 1, Values: map[string]float64{"reward": -1}})
	rec.Flush()
	m2.Update(changedMsg{gen: m2.gen})
	if v := ansi.Strip(m2.View()); strings.Contains(v, "sampling 48/96") {
		t.Errorf("step 1's metrics in, the open run's line still says its progress:\n%s", v)
	}
}

// TestOpenRunFromElsewhereIsListed: a run opened with rlt open DIR, DIR
// outside the runs folder, is listed on the Runs screen as the open one
// (selected when the screen is first shown), where r resumes it; a
// refused resume of another run opens it again to review, as it was
// open. It used to be missing from the list: r acted on another run, and
// that run's refused resume reopened the open run read-only, its review
// lost.
func TestOpenRunFromElsewhereIsListed(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	l := &testLauncher{runs: "runs"}
	writeRun(t, filepath.Join("runs", "other"), t0, 3, false)
	broken := filepath.Join("runs", "broken")
	writeRun(t, broken, t0.Add(time.Hour), 2, false)
	os.WriteFile(filepath.Join(broken, sessions.ConfigFile), []byte("stepz = 2\n"), 0o644)

	killed := filepath.Join(root, "elsewhere", "killed")
	w, err := sessions.Create(killed, flowCfg{Task: "addition", Steps: 3})
	if err != nil {
		t.Fatal(err)
	}
	w.Emit(event.Phase{Time: t0, Name: "sampling", Step: 0})
	w.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": -1}})
	killWriter(t, w)

	s, err := l.OpenForReview(killed)
	if err != nil || s.IsReadOnly() {
		t.Fatalf("open for review: %v (read-only %v)", err, s.IsReadOnly())
	}
	m := newModel(Options{Session: s, Launcher: l, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	hit(t, m, "4")
	listNow(t, m)
	sel := m.runs.selected()
	if sel == nil || absPath(sel.Dir) != killed || sel.Origin != originOpen {
		t.Fatalf("the open run is not listed and selected: selected %+v\n%s", sel, m.View())
	}
	if v := m.View(); !strings.Contains(v, "● the open run") || !strings.Contains(v, "●…") && !strings.Contains(v, "●"+killed) {
		t.Errorf("the list does not mark the open run:\n%s", v)
	}
	choose := func(name string) {
		t.Helper()
		hit(t, m, "g")
		for i := 0; i < len(m.runs.rows) && filepath.Base(m.runs.selected().Dir) != name; i++ {
			hit(t, m, "j")
		}
		if filepath.Base(m.runs.selected().Dir) != name {
			t.Fatalf("cannot select %s", name)
		}
	}

	// A refused resume of another run: the open run is open again, to
	// review as it was.
	// A checkpoint to continue from, as a resume needs: one without is
	// refused before the view is closed (resumeRefusal).
	withCheckpoint(t, broken, 0)
	choose("broken")
	_, cmd := m.Update(keyMsg("r"))
	pump(t, m, cmd, func() bool { return m.switching == "" && m.runs.msg != "" })
	if !m.hasRun() || absPath(m.sh.run.Dir()) != killed || m.sh.readOnly {
		t.Fatalf("after the refused resume: open %v, read-only %v; want %s to review", m.sh.run, m.sh.readOnly, killed)
	}
	if want := "killed is open again, to review"; !strings.Contains(m.runs.msg, want) {
		t.Errorf("message %q, want %q", m.runs.msg, want)
	}

	// r on its row resumes it.
	listNow(t, m)
	// A checkpoint to continue from, as a resume needs: one without is
	// refused before the view is closed (resumeRefusal).
	withCheckpoint(t, killed, 0)
	choose("killed")
	_, cmd = m.Update(keyMsg("r"))
	pump(t, m, cmd, func() bool { return m.switching == "" && m.cur != nil && m.cur.Control != nil })
	if absPath(m.sh.run.Dir()) != killed {
		t.Errorf("r resumed %s, want %s", m.sh.run.Dir(), killed)
	}
}

// TestHeldRefusalOfTheRunViewedHere: r on the run viewed here read-only
// while another process holds it says so without pointing at enter (it
// is already open here), and the message goes once a listing shows that
// process gone. It used to say "enter opens it read-only", and stayed,
// untrue, after the process had let go, until a key.
func TestHeldRefusalOfTheRunViewedHere(t *testing.T) {
	t.Chdir(t.TempDir())
	held := filepath.Join("runs", "held")
	w, err := sessions.Create(held, flowCfg{Task: "addition", Steps: 3})
	if err != nil {
		t.Fatal(err)
	}
	w.Emit(event.Phase{Time: t0, Name: "sampling", Step: 0})
	w.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": -1}})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	m, _ := viewWith(t, (*testLauncher).OpenForReview, held)
	if !m.sh.readOnly {
		t.Fatal("the run held by another process opened writable")
	}
	hit(t, m, "4")
	listNow(t, m)
	if row := m.runs.selected(); row == nil || row.Dir != held || !row.Holder.Held() {
		t.Fatalf("selected %+v, want %s, held", row, held)
	}
	hit(t, m, "r")
	if msg := m.runs.msg; !strings.Contains(msg, "held is held by another process") || !strings.Contains(msg, "open here read-only") ||
		strings.Contains(msg, "enter") {
		t.Errorf("r: message %q, want who holds it and that it is open here, nothing about enter", msg)
	}
	// The other process finishes the run and lets go of it.
	w.Emit(event.Phase{Time: t0, Name: "done", Step: 1})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	listNow(t, m)
	if msg := m.runs.msg; strings.Contains(msg, "held by another process") {
		t.Errorf("after the holder let go, the message still says it holds the run: %q", msg)
	}
}

// resumeRefuser refuses every resume as the runner's launcher does,
// with refusal(dir): its error names the request and the folder.
type resumeRefuser struct {
	testLauncher
	refusal func(dir string) error
}

func (l *resumeRefuser) Resume(dir string) (*sessions.Session, error) {
	return nil, l.refusal(dir)
}

// TestFinishedRunSaysHowToTrainFurther: a finished run with its planned
// steps done says, opened to review and on r, that it has nothing left to
// run and how the workbench trains it further (its config.toml's steps
// raised, then r), not that r resumes it; and a refusal that names its
// request is not prefixed with it again. They used to read "(r on the
// Runs screen, 4, resumes training)" and "resume X: resume /path/X: …".
func TestFinishedRunSaysHowToTrainFurther(t *testing.T) {
	t.Chdir(t.TempDir())
	fin := filepath.Join("runs", "fin")
	writeRun(t, fin, t0, 12, true)
	withCheckpoint(t, fin, 11)
	writeRun(t, filepath.Join("runs", "other"), t0.Add(time.Hour), 2, false)
	nothing := func(dir string) error {
		return sessions.Refused("resume", dir, &sessions.NothingToRunError{Done: 2, LastStep: 1, Planned: 2})
	}
	l := &resumeRefuser{testLauncher{runs: "runs"}, nothing}
	s, err := l.OpenForReview(fin)
	if err != nil {
		t.Fatal(err)
	}
	// The planned steps and the note the runner's launcher gives a run
	// opened to review.
	s.Steps = 12
	s.Notes = []string{"opened for review: no engine trains it here"}
	m := newModel(Options{Session: s, Launcher: l, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
	further := "to train it further, set steps above 12 in " + filepath.Join(fin, sessions.ConfigFile)
	if strings.Contains(m.msg, "resumes training") || !strings.Contains(m.msg, further) {
		t.Errorf("opened: message %q, want %q and nothing of r resuming it", m.msg, further)
	}
	hit(t, m, "4")
	listNow(t, m)
	choose := func(name string) {
		t.Helper()
		m.runs.sel = slices.IndexFunc(m.runs.rows, func(r runRow) bool { return r.Name == name })
		m.runs.syncSel()
	}
	choose("fin")
	viewed := m.cur
	hit(t, m, "r")
	if want := "fin has nothing left to run (12/12 steps done): not resumed; " + further + ", then r here"; m.runs.msg != want {
		t.Errorf("r: message %q, want %q", m.runs.msg, want)
	}
	if m.cur != viewed || m.switching != "" {
		t.Errorf("r on the finished run closed the view")
	}
	// A run listed with steps left that the launcher finds done (its
	// listing was out of date) is said as a listed one is.
	// A checkpoint to continue from, as a resume needs: one without is
	// refused before the view is closed (resumeRefusal).
	withCheckpoint(t, filepath.Join("runs", "other"), 0)
	choose("other")
	_, cmd := m.Update(keyMsg("r"))
	pump(t, m, cmd, func() bool { return m.switching == "" && m.runs.msg != "" })
	otherCfg := filepath.Join("runs", "other", sessions.ConfigFile)
	if want := "other has nothing left to run (2/2 steps done): not resumed; to train it further, set steps above 2 in " + otherCfg + ", then r here"; !strings.HasPrefix(m.runs.msg, want) {
		t.Errorf("resume refused by the launcher for nothing to run: message %q, want %q", m.runs.msg, want)
	}
	// Another refusal names the request and its folder (as given, or
	// made absolute), joined with what opening noted: said once.
	for _, named := range []string{filepath.Join("runs", "other"), absPath(filepath.Join("runs", "other"))} {
		l.refusal = func(string) error {
			return errors.Join(sessions.Refusedf("resume", named, "no GPU here, so the run is unchanged"), errors.New("repaired: a torn line"))
		}
		m.runs.msg = ""
		_, cmd = m.Update(keyMsg("r"))
		pump(t, m, cmd, func() bool { return m.switching == "" && m.runs.msg != "" })
		if msg := m.runs.msg; strings.Count(msg, "resume ") != 1 || !strings.HasPrefix(msg, "resume "+named+": no GPU here") {
			t.Errorf("refused resume of %s: message %q, want the launcher's refusal once", named, msg)
		}
	}
}

// recordedSteps creates a run in dir that plans planned steps and records
// its steps 0 to steps-1: each a "sampling" phase, its reward (0.1 a
// step) and then the phases after, if any.
func recordedSteps(t *testing.T, dir string, planned, steps int, after ...string) *sessions.Run {
	t.Helper()
	w, err := sessions.Create(dir, flowCfg{Task: "addition", Steps: planned})
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < steps; s++ {
		w.Emit(event.Phase{Time: t0, Name: "sampling", Step: s})
		w.Emit(event.Metrics{Time: t0, Step: s, Values: map[string]float64{"reward": 0.1 * float64(s)}})
		for _, p := range after {
			w.Emit(event.Phase{Time: t0, Name: p, Step: s})
		}
	}
	return w
}

// withCheckpoint gives the run in dir a checkpoint of step (its manifest
// alone: what a listing and the hints read; a resume would refuse it).
func withCheckpoint(t *testing.T, dir string, step int) {
	t.Helper()
	ck := filepath.Join(dir, sessions.CheckpointsDir, fmt.Sprintf("step-%06d", step))
	if err := os.MkdirAll(ck, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ck, sessions.CheckpointStateFile), []byte(fmt.Sprintf(`{"step":%d,"files":{}}`, step)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOpenedToReviewSaysHowItResumes: a run opened to review here says how
// its training goes on, once: r resumes one stopped with steps left; a
// finished one says how to plan more; one open read-only says neither (r
// is not for it here). The launcher's note said "r … resumes training"
// of every run it opened to review, an imported one and a finished one
// included, and a second time beside an interrupted run's own note.
func TestOpenedToReviewSaysHowItResumes(t *testing.T) {
	for _, c := range []struct {
		name     string
		finished bool
		readOnly bool
		want     string // "": no word of resuming
	}{
		{"stopped with steps left", false, false, "r on the Runs screen (4) resumes training"},
		{"finished", true, false, "it has done its planned steps: to train it further, set steps above 12"},
		{"read-only", false, true, ""},
		{"no checkpoint", false, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			writeRun(t, dir, t0, 12, c.finished)
			if c.name != "no checkpoint" {
				withCheckpoint(t, dir, 11)
			}
			l := &testLauncher{runs: filepath.Dir(dir)}
			open := l.OpenForReview
			if c.readOnly {
				open = l.OpenReadOnly
			}
			s, err := open(dir)
			if err != nil {
				t.Fatal(err)
			}
			s.Steps = 12
			if !c.finished {
				s.Steps = 20
			}
			m := newModel(Options{Session: s, Launcher: l, RunsDir: filepath.Dir(dir)})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			if n := strings.Count(m.msg, "resume") + strings.Count(m.msg, "planned steps"); c.want == "" && n != 0 || c.want != "" && (n != 1 || !strings.Contains(m.msg, c.want)) {
				t.Errorf("opened: message %q, want %q once", m.msg, c.want)
			}
		})
	}
}

// TestImportedRunIsNotToldToPlanMoreSteps: r on a finished run imported
// from a trainer's folder is refused as an import, in the launcher's
// words (an import has no training to resume:
// TestResumeOfAnImportSaysWhatItIs); the workbench's "set steps above N
// in its config.toml" is for runs of ours, and an import's config.toml
// is its record.
func TestImportedRunIsNotToldToPlanMoreSteps(t *testing.T) {
	runsWorld(t) // ext/official: the official trainer's 3 steps of 3
	if _, err := sessions.Import(filepath.Join("runs", "imported"), "ext/official"); err != nil {
		t.Fatal(err)
	}
	writeRun(t, filepath.Join("runs", "ours"), t0.Add(60*time.Hour), 4, true)
	withCheckpoint(t, filepath.Join("runs", "ours"), 3)
	m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	defer closeModel(t, m)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	listNow(t, m)
	for name, want := range map[string]string{"imported": "imported is not resumed: it was imported from", "ours": "has nothing left to run (4/4 steps done)"} {
		i := slices.IndexFunc(m.runs.rows, func(r runRow) bool { return r.Name == name })
		if i < 0 {
			t.Fatalf("no row %s", name)
		}
		got, _ := m.runs.resumeRefusal(m.runs.rows[i], false)
		if !strings.Contains(got, want) || name == "imported" && strings.Contains(got, "steps") {
			t.Errorf("%s: refusal %q, want %q", name, got, want)
		}
	}
}

// TestRaisedStepsResumeAtOnce: a run listed with its planned steps done,
// whose config.toml's steps were raised a moment ago, is resumed on r at
// once, not refused on the listing (up to relistEvery old): the refusal
// looks at the folder again first.
func TestRaisedStepsResumeAtOnce(t *testing.T) {
	t.Chdir(t.TempDir())
	fin := filepath.Join("runs", "fin")
	writeRun(t, fin, t0, 12, true)
	withCheckpoint(t, fin, 11)
	var asked []string
	l := &resumeRefuser{testLauncher{runs: "runs"}, func(dir string) error {
		asked = append(asked, dir)
		return sessions.Refusedf("resume", dir, "refused by the test's launcher")
	}}
	m := newModel(Options{Launcher: l, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
	hit(t, m, "4")
	listNow(t, m)
	m.runs.sel = slices.IndexFunc(m.runs.rows, func(r runRow) bool { return r.Name == "fin" })
	m.runs.syncSel()
	hit(t, m, "r")
	if !strings.Contains(m.runs.msg, "nothing left to run") || len(asked) != 0 {
		t.Fatalf("r on the finished run: message %q, launcher asked %v; want it refused here", m.runs.msg, asked)
	}
	cfg, _ := sessions.EncodeTOML(testCfg{Task: "addition", Steps: 20})
	if err := os.WriteFile(filepath.Join(fin, sessions.ConfigFile), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	hit(t, m, "r")
	if len(asked) != 1 || !strings.HasPrefix(m.runs.msg, "resume "+fin+": refused by the test's launcher") {
		t.Errorf("r after raising its steps: message %q, launcher asked %v; want its resume asked for", m.runs.msg, asked)
	}
}

// TestNoRoomRefusalSaidOnce: a resume refused for a disk too full for its
// checkpoints (sessions.NoRoomError, which names the request and the
// folder itself: 'not enough room to resume runs/X: …') is said once, not
// behind 'resume X: ' again.
func TestNoRoomRefusalSaidOnce(t *testing.T) {
	t.Chdir(t.TempDir())
	run := filepath.Join("runs", "run")
	writeRun(t, run, t0, 2, false)
	withCheckpoint(t, run, 0) // a step left to run: one of step 1 has nothing to (NothingLeftToRun)
	l := &resumeRefuser{testLauncher{runs: "runs"}, func(dir string) error {
		return errors.Join(&sessions.NoRoomError{Dir: dir, Resume: true, Free: 1 << 20, Need: 1 << 20, Held: 1, KeepLast: 3, KeepBest: true},
			errors.New("repaired: a torn line"))
	}}
	m := newModel(Options{Launcher: l, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
	hit(t, m, "4")
	listNow(t, m)
	m.runs.sel = slices.IndexFunc(m.runs.rows, func(r runRow) bool { return r.Name == "run" })
	m.runs.syncSel()
	hit(t, m, "r")
	if msg := m.runs.msg; strings.Count(msg, run) != 1 || !strings.HasPrefix(msg, "not enough room to resume "+run+": ") {
		t.Errorf("resume refused for room: message %q, want the refusal said once", msg)
	}
}

// TestOpeningAComparedRunUnmarksIt: a run marked for comparison and then
// opened is the open run, compared with the others and not with itself:
// its mark goes (the Runs screen counts only the others, the dashboard
// overlays them on it in the colour it had), and it does not come back
// on its row when another run is opened after it.
func TestOpeningAComparedRunUnmarksIt(t *testing.T) {
	r := compareWorld(t)
	m := newModel(Options{Session: &sessions.Session{Run: r, Close: r.Close}, Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	hit(t, m, "4")
	listNow(t, m)
	mark(t, m, "lam3-seed1")
	mark(t, m, "lam3-seed2")
	colour, ok := runColor(t, m, "lam3-seed1")
	if !ok {
		t.Fatal("lam3-seed1 is not drawn once marked")
	}
	open := func(name string) {
		t.Helper()
		hit(t, m, "4")
		for i, row := range m.runs.rows {
			if filepath.Base(row.Dir) == name {
				m.runs.sel = i
				m.runs.syncSel()
				_, cmd := m.Update(keyMsg("enter"))
				pump(t, m, cmd, func() bool { return m.switching == "" && m.openName() == name })
				hit(t, m, "4")
				listNow(t, m)
				return
			}
		}
		t.Fatalf("run %s not listed", name)
	}
	rowOf := func(name string) string { // its line in the list, below the column heads
		lines := strings.Split(m.View(), "\n")
		for i, l := range lines {
			if strings.Contains(l, "RUN") && strings.Contains(l, "STATE") {
				for _, l := range lines[i+1:] {
					if strings.Contains(l, name) {
						return l
					}
				}
			}
		}
		return ""
	}
	open("lam3-seed1")
	if m.cmp.has(absPath(filepath.Join("runs", "lam3-seed1"))) || len(m.cmp.runs) != 1 {
		t.Errorf("opened, lam3-seed1 is still marked: %d runs compared", len(m.cmp.runs))
	}
	if v := m.View(); !strings.Contains(v, "◆ 1 compared with the open run") {
		t.Errorf("the Runs screen counts the open run among those compared:\n%s", v)
	}
	if l := rowOf("lam3-seed1"); !strings.Contains(l, "●") {
		t.Errorf("lam3-seed1's row, open: %q", l)
	}
	hit(t, m, "1")
	if c, ok := runColor(t, m, "lam3-seed1"); !ok || c != colour {
		t.Errorf("open, lam3-seed1 is drawn in %s (drawn %v), want %s as when it was compared", c.Hex(), ok, colour.Hex())
	}
	if got := len(m.dash.srcs); got != 2 {
		t.Errorf("%d runs overlaid, want lam3-seed1 open and lam3-seed2", got)
	}
	open(cmpOpen.name)
	if l := rowOf("lam3-seed1"); strings.Contains(l, "◆") || m.cmp.has(absPath(filepath.Join("runs", "lam3-seed1"))) {
		t.Errorf("lam3-seed1 is marked again once another run is opened: %q", l)
	}
	if l := rowOf("lam3-seed2"); !strings.Contains(l, "◆") {
		t.Errorf("lam3-seed2 lost its mark: %q", l)
	}
}

// TestRunsAnswerNotUnderAnOlderMessage: what the Runs screen says to a key
// pressed there is in sight at once, not under a message said before it
// (opening's note, wrapped over the bottom lines for its few seconds): r
// on a finished run opened a moment ago seemed to do nothing until the
// note went.
func TestRunsAnswerNotUnderAnOlderMessage(t *testing.T) {
	t.Chdir(t.TempDir())
	fin := filepath.Join("runs", "fin")
	writeRun(t, fin, t0, 12, true)
	withCheckpoint(t, fin, 11)
	l := &testLauncher{runs: "runs"}
	s, err := l.OpenForReview(fin)
	if err != nil {
		t.Fatal(err)
	}
	s.Steps = 12
	s.Notes = []string{"opened for review: no engine trains it here"}
	m := newModel(Options{Session: s, Launcher: l, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if m.msg == "" {
		t.Fatal("opening said nothing: the test needs a message shown")
	}
	hit(t, m, "4")
	listNow(t, m)
	for _, c := range []struct {
		keys []string
		want string
	}{
		{[]string{"r"}, "fin has nothing left to run"},
		{[]string{" "}, "fin is the open run"},
		{[]string{"x"}, "only followed folders can be removed"},
	} {
		m.say("an earlier message, long enough to take two lines at 80 columns: %s", strings.Repeat("words ", 10))
		hit(t, m, c.keys...)
		if flat := strings.Join(strings.Fields(ansi.Strip(m.View())), " "); !strings.Contains(flat, c.want) {
			t.Errorf("keys %q: the answer %q is not in sight:\n%s", c.keys, c.want, m.View())
		}
	}
}

// TestResumeOfTheRunTrainingHere: r on the run whose engine this
// workbench drives says what r cannot do for it and what does: paused,
// that p on the Dashboard goes on; training, that it trains already. It
// said only "live is the run open here", which read as r doing nothing to
// a paused run.
func TestResumeOfTheRunTrainingHere(t *testing.T) {
	for _, c := range []struct {
		name   string
		paused bool
		want   string
	}{
		{"training", false, "live is the run open here, training here already: nothing to resume"},
		{"paused", true, "live is the run open here, paused: p here goes on with its training"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			rec, err := sessions.Create(filepath.Join("runs", "live"), testCfg{Task: "addition", Steps: 4})
			if err != nil {
				t.Fatal(err)
			}
			rec.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": -1}})
			rec.Flush()
			ctl := &pausingControl{}
			m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs",
				Session: &sessions.Session{Run: rec, Control: ctl, Steps: 4, Close: rec.Close}})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
			if c.paused {
				hit(t, m, "p")
			}
			hit(t, m, "4")
			listNow(t, m)
			hit(t, m, "r")
			if m.msg != c.want || m.active != scrDashboard || m.switching != "" {
				t.Errorf("r: message %q on screen %v (switching %q), want %q on the Dashboard and nothing launched", m.msg, m.active, m.switching, c.want)
			}
			hit(t, m, "p")
			if paused := ctl.asked; paused == c.paused {
				t.Errorf("p after r: paused %v, want the engine's pause turned over", paused)
			}
		})
	}
}

// TestRunsNoteReadWhole: the note on the selected run (a damaged run's
// says what is lost and what to do) is read whole on the lines the list
// leaves empty, not cut at the screen's width with "…".
func TestRunsNoteReadWhole(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := filepath.Join("runs", "damaged")
	writeRun(t, dir, t0, 3, true)
	for _, name := range []string{sessions.MetricsFile, sessions.EventsFile} {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(`{"step":3,"time":"2026-`) // cut mid-record, as a crash leaves it
		f.Close()
	}
	m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	for _, c := range []struct{ w, h int }{{60, 20}, {80, 24}, {120, 30}} {
		m.Update(tea.WindowSizeMsg{Width: c.w, Height: c.h})
		listNow(t, m)
		s := m.runs.selected()
		if s == nil || len(s.Note) <= c.w {
			t.Fatalf("selected %+v: want a run whose note is wider than %d columns (the test's premise)", s, c.w)
		}
		v := ansi.Strip(m.View())
		flat := strings.Join(strings.Fields(v), " ")
		if !strings.Contains(flat, strings.Join(strings.Fields(s.Note), " ")) {
			t.Errorf("at %d×%d the note %q is not read whole:\n%s", c.w, c.h, s.Note, v)
		}
		for i, l := range strings.Split(v, "\n") {
			if n := ansi.StringWidth(l); n > c.w {
				t.Errorf("at %d×%d line %d is %d wide", c.w, c.h, i, n)
			}
		}
		if lines := strings.Split(v, "\n"); len(lines) != c.h {
			t.Errorf("at %d×%d the screen has %d lines", c.w, c.h, len(lines))
		}
	}
}

// TestRunsFolderThatDoesNotExist: a --runs folder that is not there is
// said to be missing, with what to do, where the title read "0 in
// /tmp/x/" as of an empty folder (a mistyped --runs looked like no runs);
// one that exists and holds none still says "no runs in … yet". A runs
// folder that is a file, or lies below one, is said in rlt open --runs
// FILE's words (what, where, what to do), where the screen showed the
// listing's "list runs: open afile: not a directory" under "no runs in
// afile/ yet: n starts one".
func TestRunsFolderThatDoesNotExist(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir("empty", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("afile", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dir, want, lack string
	}{
		{"nowhere", "nowhere/ (no such folder)", "yet"},
		{"empty", "no runs in empty/ yet", "no such folder"},
		{"afile", "the runs folder afile is a file, not a folder: a follows a folder; or quit (q) and give rlt --runs the folder that holds your runs", "yet"},
		{filepath.Join("afile", "runs"), "the runs folder afile/runs: afile is a file, not a folder: a follows a folder;", "yet"},
	} {
		t.Run(c.dir, func(t *testing.T) {
			m := newModel(Options{Launcher: &testLauncher{runs: c.dir}, RunsDir: c.dir})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 24})
			listNow(t, m)
			v := ansi.Strip(m.View())
			flat := strings.Join(strings.Fields(v), " ")
			if !strings.Contains(flat, c.want) || strings.Contains(v, c.lack) || strings.Contains(v, "not a directory") {
				t.Errorf("want %q, not %q nor the listing's \"not a directory\":\n%s", c.want, c.lack, v)
			}
			if c.dir == "nowhere" && !strings.Contains(v, "--runs") {
				t.Errorf("a missing runs folder: want what to do (--runs) said:\n%s", v)
			}
			golden.Fits(t, m.View(), 120, 24)
		})
	}
}

// TestMissingFollowSaysWhatToDo: a path to follow that does not exist,
// typed after a or followed once and gone since, is said with what to do,
// where "follow X: it does not exist" left the user to guess: check the
// path and a again; put the folder back, or x stops following it.
func TestMissingFollowSaysWhatToDo(t *testing.T) {
	t.Chdir(t.TempDir())
	elsewhere := filepath.Join(t.TempDir(), "elsewhere")
	writeRun(t, elsewhere, t0, 2, true)
	m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	listNow(t, m)

	hit(t, m, "a", "text:"+elsewhere+"-typo", "enter")
	if want := "it does not exist: check the path, then a again"; !strings.Contains(m.runs.msg, want) {
		t.Errorf("a with a path not there: message %q, want %q", m.runs.msg, want)
	}
	hit(t, m, "a", "text:"+elsewhere, "enter")
	if err := os.RemoveAll(elsewhere); err != nil {
		t.Fatal(err)
	}
	listNow(t, m)
	i := slices.IndexFunc(m.runs.rows, func(r runRow) bool { return r.State == "missing" })
	if i < 0 {
		t.Fatalf("no row of the followed folder gone: %+v", m.runs.rows)
	}
	if want := "it does not exist: put it back, or x stops following it"; !strings.Contains(m.runs.rows[i].Note, want) {
		t.Errorf("a followed folder gone: note %q, want %q", m.runs.rows[i].Note, want)
	}
}

// TestEnterReadsTheOpenRunAgain: enter on the run open here, no engine
// running it and no other process holding it, opens it again from its
// files, as the Detail's "reopen the run" asks where a trace file was
// removed since it was opened: enter said only "X is the run open here",
// and no key reopened it.
func TestEnterReadsTheOpenRunAgain(t *testing.T) {
	t.Chdir(t.TempDir())
	l := &testLauncher{runs: "runs"}
	r := newTestRun(t, 2, 1, 2, 8)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	m := newModel(Options{Session: &sessions.Session{Run: r, Steps: 20, Close: r.Close}, Launcher: l, RunsDir: l.runs})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	if err := os.RemoveAll(filepath.Join(r.Dir(), sessions.TracesDir)); err != nil {
		t.Fatal(err)
	}
	hit(t, m, "2", "enter")
	if !strings.Contains(m.msg, "reopen the run") {
		t.Fatalf("the Detail of a trace whose file is gone: message %q, want it to say to reopen the run", m.msg)
	}
	was := m.cur
	hit(t, m, "4")
	listNow(t, m)
	if row := m.runs.selected(); row == nil || !m.runs.isCurrent(*row) {
		t.Fatalf("selected %+v, want the run open here", row)
	}
	_, cmd := m.Update(keyMsg("enter"))
	pump(t, m, cmd, func() bool { return m.switching == "" && m.cur != was })
	if m.cur == was || m.sh.readOnly || strings.Contains(m.msg, "is the run open here") {
		t.Errorf("enter on the run open here: opened again %v, read-only %v, message %q; want it opened again to review", m.cur != was, m.sh.readOnly, m.msg)
	}
	if _, n, _ := m.sh.store.Counts(); n != 0 {
		t.Errorf("opened again, the run lists %d traces, want none (their file is gone)", n)
	}
}

// TestFailedNamesTheRequestOnce: a launch that failed is said on the Runs
// screen naming its request once: a refusal that names it itself ('start
// runs/X: …', 'resume runs/X: …') as it is, one that does not after the
// request's words. A start with no draft to put its problems under (its
// refusal said on the list) read 'start a new run: start runs/X: …'.
func TestFailedNamesTheRequestOnce(t *testing.T) {
	t.Chdir(t.TempDir())
	loads := errors.New("teacher/model.safetensors: no such file")
	dir := filepath.Join("runs", "20261205-071425")
	for _, tc := range []struct {
		name string
		req  launchReq
		err  error
		want string
	}{
		{"a start refused", launchReq{kind: launchStart}, sessions.Refused("start", filepath.Join("runs", "new-1"), loads),
			"start " + filepath.Join("runs", "new-1") + ": " + loads.Error()},
		{"a start failed", launchReq{kind: launchStart}, loads, "start a new run: " + loads.Error()},
		{"a resume refused", launchReq{kind: launchResume, dir: dir}, sessions.Refused("resume", dir, loads),
			"resume " + dir + ": " + loads.Error()},
		{"a resume failed", launchReq{kind: launchResume, dir: dir}, loads, "resume 20261205-071425: " + loads.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
			m.runs.failed(tc.req, tc.err)
			if m.runs.msg != tc.want || !m.runs.msgErr || m.runs.editing {
				t.Errorf("says %q (error %v, editing %v), want %q, an error, on the list", m.runs.msg, m.runs.msgErr, m.runs.editing, tc.want)
			}
		})
	}
}

// TestRunsScreenRefusesByTheResumesRule: r on the Runs screen refuses a
// run as having nothing left to run exactly where its resume would be
// refused so (sessions.NothingLeftToRun: its newest checkpoint after the
// last step its config.toml plans), not by the steps its listing counts.
// A finished run whose final checkpoint is gone was refused here, where
// rlt run --resume does its last step again from the checkpoint before;
// and a run stopped after its last step's checkpoint (killed before its
// engine said it was done) was left to the launcher, which refuses it.
func TestRunsScreenRefusesByTheResumesRule(t *testing.T) {
	for _, c := range []struct {
		name     string
		finished bool
		ck       int  // the step of its newest checkpoint, of 12 planned (0 to 11)
		refused  bool // said here as nothing left to run, the launcher not asked
	}{
		{"finished", true, 11, true},
		{"finished, its final checkpoint gone", true, 10, false},
		{"stopped after its last step's checkpoint", false, 11, true},
		{"stopped with a step left", false, 10, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			dir := filepath.Join("runs", "run")
			writeRun(t, dir, t0, 12, c.finished)
			withCheckpoint(t, dir, c.ck)
			var asked []string
			l := &resumeRefuser{testLauncher{runs: "runs"}, func(dir string) error {
				asked = append(asked, dir)
				return sessions.Refusedf("resume", dir, "refused by the test's launcher")
			}}
			m := newModel(Options{Launcher: l, RunsDir: "runs"})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			hit(t, m, "4")
			listNow(t, m)
			m.runs.sel = slices.IndexFunc(m.runs.rows, func(r runRow) bool { return r.Name == "run" })
			m.runs.syncSel()
			_, cmd := m.Update(keyMsg("r"))
			pump(t, m, cmd, func() bool { return m.switching == "" && m.runs.checking == "" && m.runs.msg != "" })
			nothing := strings.HasPrefix(m.runs.msg, "run has nothing left to run (12/12 steps done): not resumed; ")
			if c.refused && (!nothing || len(asked) != 0) {
				t.Errorf("r: message %q, launcher asked %v; want it refused here as nothing left to run", m.runs.msg, asked)
			}
			if !c.refused && (nothing || len(asked) != 1) {
				t.Errorf("r: message %q, launcher asked %v; want its resume asked for", m.runs.msg, asked)
			}
		})
	}
}
