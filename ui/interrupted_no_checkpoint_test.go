package ui

import (
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestInterruptedWithoutACheckpointSaysStartAgain: opening a run whose
// writer was killed before its first checkpoint says that r cannot resume
// it and how to start it again (rlt run --config …), in the words r's
// refusal says; it said "r on the Runs screen (4) resumes it from its
// latest checkpoint", which r then refused. A run killed after a
// checkpoint is still said to resume with r.
func TestInterruptedWithoutACheckpointSaysStartAgain(t *testing.T) {
	for _, c := range []struct {
		name       string
		checkpoint bool
		want, not  string
	}{
		{"no checkpoint", false, "; r cannot resume it: it has no checkpoint to continue from; start it again: rlt run --config ", "resumes it from its latest checkpoint"},
		{"a checkpoint", true, "; r on the Runs screen (4) resumes it from its latest checkpoint", "start it again"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			dir := filepath.Join("runs", "killed")
			w, err := sessions.Create(dir, flowCfg{Task: "addition", Steps: 3})
			if err != nil {
				t.Fatal(err)
			}
			w.Emit(event.Phase{Time: t0, Name: "sampling", Step: 0})
			w.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": -1}})
			if c.checkpoint {
				saveTestCheckpoint(t, w, 0)
			}
			killWriter(t, w)
			l := &testLauncher{runs: "runs"}
			s, err := l.OpenForReview(dir)
			if err != nil {
				t.Fatal(err)
			}
			m := newModel(Options{Session: s, Launcher: l, RunsDir: "runs"})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			if !m.interrupted() {
				t.Fatalf("the killed run is not interrupted:\n%s", m.View())
			}
			if note := m.interruptedNote(); !strings.Contains(note, c.want) || strings.Contains(note, c.not) {
				t.Errorf("note %q, want %q in it and not %q", note, c.want, c.not)
			}
			if !strings.Contains(m.msg, c.want) {
				t.Errorf("opening says %q, want %q in it", m.msg, c.want)
			}
		})
	}
}
