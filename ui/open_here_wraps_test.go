package ui

import (
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// TestOpenHereLineWraps: the Runs screen's last line, what is open here,
// is read whole at every width, wrapped at its spaces as the screen's
// messages are: a run of a dated name training here read "open here:
// 20261206-104849 (engine running in this workbe…" at 60 columns.
func TestOpenHereLineWraps(t *testing.T) {
	t.Chdir(t.TempDir())
	const name = "20261206-104849"
	s := trainingHere(t, filepath.Join("runs", name), 1, &fakeControl{})
	s.Run.Flush()
	m := onRuns(t, s, &testLauncher{runs: "runs"}, 120)
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
