package ui

import (
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// TestRunsTitleGivesWayByParts: the Runs screen's title line, narrower
// than all it says, leaves out whole parts, as chart titles and the
// Detail's lines do: the comparison's key first, then where the open run
// is from, the comparison, the followed; the runs folder is cut last,
// from its start. It was cut at the width wherever it ended, mid-word or
// mid-number ("◆ 1 compared with the op…", "· 1 fol…").
func TestRunsTitleGivesWayByParts(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	writeRun(t, filepath.Join("runs", "20260102-030405"), t0, 3, true)
	writeRun(t, filepath.Join("runs", "20260103-101500"), t0.Add(31*1e9), 2, true)
	writeRun(t, filepath.Join("ext", "b"), t0, 2, true)
	openDir := filepath.Join("elsewhere", "a")
	writeRun(t, openDir, t0, 2, true)
	m, l := viewWith(t, (*testLauncher).OpenForReview, openDir)
	hit(t, m, "4")
	listNow(t, m)
	hit(t, m, "a", "text:"+filepath.Join(root, "ext", "b"), "enter")
	listNow(t, m)
	mark(t, m, "20260102-030405")
	const (
		head     = "Runs · 2 in runs/"
		followed = " · 1 followed"
		open     = " · ● the open run"
		from     = ", from elsewhere/"
		compared = " · ◆ 1 compared with the open run"
		key      = " (1: dashboard)"
	)
	for _, c := range []struct {
		width int
		want  string
	}{
		{200, head + followed + open + from + compared + key},
		{100, head + followed + open + from + compared},
		{80, head + followed + open + compared},
		{79, head + followed + open},
		{60, head + followed + open},
	} {
		m.Update(tea.WindowSizeMsg{Width: c.width, Height: 30})
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		if len(lines) < 2 {
			t.Fatalf("at %d columns: no title line:\n%s", c.width, m.View())
		}
		if got := strings.TrimRight(lines[1], " "); got != c.want {
			t.Errorf("at %d columns: title %q, want %q", c.width, got, c.want)
		}
	}

	// A runs folder too long for the line: cut from its start, its name
	// and that it is not there kept.
	long := filepath.Join("a-folder-of-many-names", "and-more-of-them", "to-be-cut", "nowhere")
	m = newModel(Options{Launcher: l, RunsDir: long})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 30})
	listNow(t, m)
	want := "Runs · 0 in …ore-of-them/to-be-cut/nowhere/ (no such folder)"
	if got := strings.TrimRight(strings.Split(ansi.Strip(m.View()), "\n")[1], " "); got != want {
		t.Errorf("a long runs folder at 60 columns: title %q, want %q", got, want)
	}
}

// TestSelectedRunLineGivesWayByParts: the line under the list that names
// the selected run's folder says why the run open here from elsewhere is
// listed where it fits, and otherwise leaves that out whole, then cuts
// the folder from its start, keeping "(open here)": at 80 columns it read
// "▸ elsewhere/a (open here; listed while it is open: not in /tmp/a-long-…".
// The run is viewed read-only, held by no process: the line under it
// does not say it is open here (TestOpenHereSaidOnce).
func TestSelectedRunLineGivesWayByParts(t *testing.T) {
	t.Chdir(t.TempDir())
	runs := filepath.Join("a-folder-of-many-names", "and-more-of-them", "runs")
	openDir := filepath.Join("elsewhere", "a-run-folder-with-a-long-name-of-many-words-and-numbers-20261206-104849")
	writeRun(t, openDir, t0, 2, true)
	l := &testLauncher{runs: runs}
	s, err := l.OpenReadOnly(openDir)
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(Options{Session: s, Launcher: l, RunsDir: runs})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
	hit(t, m, "4")
	listNow(t, m)
	for _, c := range []struct {
		width int
		want  string
	}{
		{200, "▸ " + openDir + " (open here; listed while it is open: not in " + runs + "/, not followed)"},
		{120, "▸ " + openDir + " (open here)"},
		{60, "▸ …ame-of-many-words-and-numbers-20261206-104849 (open here)"},
	} {
		m.Update(tea.WindowSizeMsg{Width: c.width, Height: 30})
		var got string
		for _, l := range strings.Split(ansi.Strip(m.View()), "\n") {
			if strings.HasPrefix(l, "▸ ") && !strings.Contains(l, "STATE") {
				got = strings.TrimRight(l, " ")
			}
		}
		if got != c.want {
			t.Errorf("at %d columns: %q, want %q", c.width, got, c.want)
		}
	}
}
