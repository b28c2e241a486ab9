package ui

import (
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestOpenHereLineWraps: the Runs screen's last line, what is open here,
// is read whole at every width, wrapped at its spaces as the screen's
// messages are: a run of a dated name training here read "open here:
// 20261206-104849 (engine running in this workbe…" at 60 columns.
func TestOpenHereLineWraps(t *testing.T) {
	t.Chdir(t.TempDir())
	const name = "20261206-104849"
	rec, err := sessions.Create(filepath.Join("runs", name), testCfg{Task: "addition", Steps: 4})
	if err != nil {
		t.Fatal(err)
	}
	rec.Emit(event.Phase{Time: t0, Name: "sampling", Step: 1})
	rec.Flush()
	m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs",
		Session: &sessions.Session{Run: rec, Control: &fakeControl{}, Steps: 4, Close: rec.Close}})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	hit(t, m, "4")
	listNow(t, m)
	const want = "open here: " + name + " (engine running in this workbench)"
	for _, w := range []int{120, 60} {
		m.Update(tea.WindowSizeMsg{Width: w, Height: 30})
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		said := ""
		for i, l := range lines {
			if strings.HasPrefix(l, "open here: ") {
				for _, l := range lines[i:] {
					said = strings.TrimSpace(said + " " + strings.TrimSpace(l))
					if strings.HasSuffix(l, ")") {
						break
					}
				}
				break
			}
		}
		if said != want {
			t.Errorf("at %d columns the open-here line reads %q, want %q whole:\n%s", w, said, want, strings.Join(lines, "\n"))
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > w {
				t.Errorf("at %d columns a line is %d wide: %q", w, ansi.StringWidth(l), l)
			}
		}
	}
}
