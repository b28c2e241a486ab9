package ui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestCopiedOpenRunSaysOneState: a run folder copied while a workbench
// kept its run open, its engine ended (finished, or stopped), its
// run.lock naming a process that lives and holds the original, reads one
// state in the Runs screen's listing, its note and the header of it
// opened read-only, as sessions says it: finished or stopped, never
// closed, not "gone without stopping it" (the note said so beside
// "finished") nor "stopped, interrupted" (the header, of a run whose
// engine stopped).
func TestCopiedOpenRunSaysOneState(t *testing.T) {
	for _, c := range []struct{ ended, state, words string }{
		{"done", "finished", "did not close it after its training finished"},
		{"stopped", "stopped", "did not close it after its training stopped"},
	} {
		t.Run(c.state, func(t *testing.T) {
			t.Chdir(t.TempDir())
			w, err := sessions.Create(filepath.Join("live", "run"), flowCfg{Task: "addition", Steps: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() }) // open, as the workbench that trained it keeps it
			for s := 0; s < 2; s++ {
				w.Emit(event.Phase{Time: t0, Name: "sampling", Step: s})
				w.Emit(event.Metrics{Time: t0, Step: s, Values: map[string]float64{"reward": 0.1 * float64(s)}})
			}
			w.Emit(event.Phase{Time: t0, Name: c.ended, Step: 2})
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("runs", "copy")
			copyTree(t, filepath.Join("live", "run"), dir)

			m, _ := viewWith(t, (*testLauncher).OpenReadOnly, dir)
			if h := ansi.Strip(m.statusLine()); !strings.Contains(h, "· "+c.state+" (read-only) ·") || strings.Contains(h, "interrupted") {
				t.Errorf("header %q, want %s (read-only), not interrupted", h, c.state)
			}
			if strings.Contains(m.msg, "interrupted") {
				t.Errorf("message %q: the run was not interrupted", m.msg)
			}
			hit(t, m, "4")
			listNow(t, m)
			row := m.runs.selected()
			if row == nil || row.State != c.state || !strings.Contains(row.Note, c.words) || strings.Contains(row.Note, "gone without stopping it") {
				t.Errorf("Runs screen row %+v, want %s, noted %q", row, c.state, c.words)
			}
		})
	}
}
