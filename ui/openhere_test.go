package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestRunsScreenSaysTheRunOpenHere: the Runs screen's note on the run this
// workbench trains says it is open here, in words, where it named the
// workbench's own pid ("pid 4242") as it names another process that
// holds a run. rlt sessions, another process, still reads the pid
// (sessions' TestListSaysTheRunOpenHere, which also lists a run kept open
// here with no engine).
func TestRunsScreenSaysTheRunOpenHere(t *testing.T) {
	t.Chdir(t.TempDir())
	m, _ := liveOnRuns(t, -1.5)
	self := fmt.Sprintf("pid %d", os.Getpid())
	row := m.runs.selected()
	if row == nil || filepath.Base(row.Dir) != "live" || !m.runs.isCurrent(*row) {
		t.Fatalf("selected %+v, want the run open here", row)
	}
	if row.State != "running" || row.Note != "open here, training it" || strings.Contains(row.Note, self) {
		t.Errorf("the run trained here listed %s, %q; want running, %q", row.State, row.Note, "open here, training it")
	}
}

// TestOpenHereSaidOnce: the lines under the Runs list say of the run open
// here that it is open here once: the note of the run this workbench
// holds says it ("open here, training it"), and the folder line above it
// then does not; of the run open here that it does not hold (viewed
// read-only), which its note does not say, the folder line says it. Both
// said it of the run it holds: "▸ runs/live (open here)" over "open
// here, training it".
func TestOpenHereSaidOnce(t *testing.T) {
	const elsewhere = "elsewhere/held"
	for _, c := range []struct {
		name   string
		open   func(t *testing.T) *Model
		folder string // the folder line, whole
		note   string // what the note line under it says
	}{
		{"trained here", func(t *testing.T) *Model {
			m, _ := liveOnRuns(t, -1.5)
			return m
		}, "▸ " + filepath.Join("runs", "live"), "open here, training it"},
		{"open to review from elsewhere", func(t *testing.T) *Model {
			return openOnRuns(t, elsewhere, (*testLauncher).OpenForReview)
		}, "▸ " + elsewhere + " (listed while it is open: not in runs/, not followed)", "open here for review, no engine running"},
		{"viewed read-only", func(t *testing.T) *Model {
			return openOnRuns(t, elsewhere, (*testLauncher).OpenReadOnly)
		}, "▸ " + elsewhere + " (open here; listed while it is open: not in runs/, not followed)", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			m := c.open(t)
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			view := ansi.Strip(m.View())
			lines := strings.Split(view, "\n")
			folder := -1
			for i, l := range lines {
				if strings.HasPrefix(l, "▸ ") && !strings.Contains(l, "STATE") {
					folder = i
				}
			}
			if folder < 0 || folder+1 >= len(lines) {
				t.Fatalf("no folder line under the list:\n%s", view)
			}
			if got := strings.TrimRight(lines[folder], " "); got != c.folder {
				t.Errorf("folder line %q, want %q", got, c.folder)
			}
			// The note goes on over the lines down to the action line,
			// which says what is open here whatever is selected.
			var note []string
			for _, l := range lines[folder+1:] {
				if strings.HasPrefix(l, "open here: ") {
					break
				}
				note = append(note, strings.TrimSpace(l))
			}
			said := strings.Join(note, " ")
			if c.note != "" && !strings.Contains(said, c.note) {
				t.Errorf("note %q, want it to say %q", said, c.note)
			}
			if n := strings.Count(lines[folder]+"\n"+said, "open here"); n != 1 {
				t.Errorf("the folder line and the note say %d times that the run is open here, want once:\n%s\n%s", n, lines[folder], said)
			}
		})
	}
}

// openOnRuns is the Runs screen of a workbench that has a finished run
// of the folder dir, outside its runs folder, open as open opens it (to
// review, read-only).
func openOnRuns(t *testing.T, dir string, open func(*testLauncher, string) (*sessions.Session, error)) *Model {
	t.Helper()
	writeRun(t, dir, t0, 2, true)
	m, _ := viewWith(t, open, dir)
	hit(t, m, "4")
	listNow(t, m)
	return m
}
