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

// TestRunsKeyBarOffersNoResumeOfTheRunTrainingHere: on the Runs screen
// the key bar leaves out "r resume from checkpoint" on the row of the run
// this workbench trains, where r only says that it trains already (or,
// paused, that p goes on), and offers it on another run's row; it offered
// it on both. The help page lists r whatever row is selected.
func TestRunsKeyBarOffersNoResumeOfTheRunTrainingHere(t *testing.T) {
	t.Chdir(t.TempDir())
	writeRun(t, filepath.Join("runs", "20261201-000000"), t0, 3, false) // an older run, stopped
	withCheckpoint(t, filepath.Join("runs", "20261201-000000"), 1)      // with a checkpoint to resume from
	rec, err := sessions.Create(filepath.Join("runs", "live"), testCfg{Task: "addition", Steps: 4})
	if err != nil {
		t.Fatal(err)
	}
	rec.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": -1}})
	rec.Flush()
	m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs",
		Session: &sessions.Session{Run: rec, Control: &pausingControl{}, Steps: 4, Close: rec.Close}})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
	hit(t, m, "4")
	listNow(t, m)
	const resume = "r resume from checkpoint"
	bar := func() string {
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		return lines[len(lines)-1]
	}
	seen := map[bool]bool{}
	for range m.runs.rows {
		row := m.runs.selected()
		live := m.runs.isCurrent(*row)
		seen[live] = true
		if got := strings.Contains(bar(), resume); got == live {
			t.Errorf("on %s (the run training here: %v): key bar %q, want %q offered %v", row.Dir, live, bar(), resume, !live)
		}
		hit(t, m, "k") // the live run, the newest, is selected first, at the bottom
	}
	if !seen[true] || !seen[false] {
		t.Fatalf("rows seen, the live one and another: %v (%d rows)\n%s", seen, len(m.runs.rows), m.View())
	}
	hit(t, m, "?")
	if !strings.Contains(ansi.Strip(m.View()), "resume from checkpoint") {
		t.Errorf("the help page lacks r:\n%s", m.View())
	}
}
