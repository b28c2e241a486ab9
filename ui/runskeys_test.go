package ui

import (
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestRunsKeyBarSaysWhatEnterDoes: the Runs screen's key bar says what
// enter does on the selected row (act does it: enterDoes), where it said
// "open read-only" of every row: the run open here to review is read
// again, one viewed read-only that no process holds any more opens to
// review, one trained here is shown on its Dashboard, and any other run
// opens read-only.
func TestRunsKeyBarSaysWhatEnterDoes(t *testing.T) {
	// keyBar is the Runs screen's key bar with the first row selected
	// that is the run open here (current), or not.
	keyBar := func(t *testing.T, m *Model, current bool) string {
		t.Helper()
		m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
		hit(t, m, "4")
		listNow(t, m)
		hit(t, m, "g")
		for range m.runs.rows {
			if row := m.runs.selected(); row != nil && m.runs.isCurrent(*row) == current {
				return ansi.Strip(m.keysLine(m.screen(m.active)))
			}
			hit(t, m, "j")
		}
		t.Fatalf("no row listed is the run open here: %v (%d rows)", current, len(m.runs.rows))
		return ""
	}
	for _, c := range []struct {
		name    string
		open    func(t *testing.T) *Model
		current bool // the row selected is the run open here
		want    string
	}{
		{"the run open here to review", func(t *testing.T) *Model {
			t.Chdir(t.TempDir())
			r := newTestRun(t, 2, 1, 2, 8)
			return newModel(Options{Session: &sessions.Session{Run: r, Steps: 20, Close: r.Close}, Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
		}, true, "enter read again"},
		{"another run", func(t *testing.T) *Model {
			t.Chdir(t.TempDir())
			writeRun(t, filepath.Join("runs", "20260102-030405"), t0, 2, true)
			r := newTestRun(t, 2, 1, 2, 8)
			return newModel(Options{Session: &sessions.Session{Run: r, Steps: 20, Close: r.Close}, Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
		}, false, "enter open read-only"},
		{"the run open here, trained here", func(t *testing.T) *Model {
			t.Chdir(t.TempDir())
			r := newTestRun(t, 2, 1, 2, 8)
			return newModel(Options{Session: &sessions.Session{Run: r, Control: &fakeControl{}, Steps: 20, Close: r.Close}, Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
		}, true, "enter show on dashboard"},
		{"the run open here read-only, no longer held", func(t *testing.T) *Model {
			l, s := finishedRun(t)
			dir := s.Run.Dir()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			ro, err := l.OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			return newModel(Options{Session: &sessions.Session{Run: ro.Run, ReadOnly: true, Close: ro.Close}, Launcher: l, RunsDir: l.runs})
		}, true, "enter open to review"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.open(t)
			t.Cleanup(func() { closeModel(t, m) })
			if bar := keyBar(t, m, c.current); !strings.Contains(bar, c.want) {
				t.Errorf("key bar %q, want it to say %q", bar, c.want)
			}
		})
	}
}

// TestKeyBarLeavesOutTheScreenOnNow: the global keys in the key bar leave
// out the one that goes to the screen on now (goesHere): the Runs screen's
// bar listed "4 runs: start/resume/open", a key that does nothing there;
// the other screens still list it.
func TestKeyBarLeavesOutTheScreenOnNow(t *testing.T) {
	t.Chdir(t.TempDir())
	r := newTestRun(t, 2, 1, 2, 8)
	m := newModel(Options{Session: &sessions.Session{Run: r, Steps: 20, Close: r.Close}, Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 300, Height: 30})
	const runsKey = "4 runs: start/resume/open"
	for _, c := range []struct {
		key    string // pressed to go to the screen
		screen screenID
		listed bool // the bar lists the Runs key
	}{
		{"1", scrDashboard, true},
		{"2", scrTraces, true},
		{"3", scrDetail, true},
		{"4", scrRuns, false},
	} {
		hit(t, m, c.key)
		if m.active != c.screen {
			t.Fatalf("pressed %s: on %s, want %s", c.key, screenNames[m.active], screenNames[c.screen])
		}
		bar := ansi.Strip(m.keysLine(m.screen(m.active)))
		if strings.Contains(bar, runsKey) != c.listed {
			t.Errorf("%s key bar %q: lists %q %v, want %v", screenNames[c.screen], bar, runsKey, !c.listed, c.listed)
		}
		if !strings.Contains(bar, "? help") || !strings.Contains(bar, "q quit") {
			t.Errorf("%s key bar %q: want the other global keys (? help, q quit)", screenNames[c.screen], bar)
		}
	}
}
