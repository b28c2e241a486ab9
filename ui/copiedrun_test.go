package ui

import (
	"fmt"
	"os"
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

// TestCopiedTrainingRunSaysNotGone: a copy of a run folder that a live
// process trains (this test's), its run.lock copied and not its lock,
// reads stopped, interrupted (nothing trains the copy), and neither the
// message nor the Runs screen says that process is gone, which lives: the
// folder proves only that it holds no lock on the copy. Both said "the
// process that trained it … is gone without stopping it".
func TestCopiedTrainingRunSaysNotGone(t *testing.T) {
	t.Chdir(t.TempDir())
	w, err := sessions.Create(filepath.Join("live", "run"), flowCfg{Task: "addition", Steps: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() }) // training still
	for s := 0; s < 2; s++ {
		w.Emit(event.Phase{Time: t0, Name: "sampling", Step: s})
		w.Emit(event.Metrics{Time: t0, Step: s, Values: map[string]float64{"reward": 0.1 * float64(s)}})
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("runs", "copy")
	copyTree(t, filepath.Join("live", "run"), dir)

	const words = "the process that trained it holds no lock on this folder and did not stop its training (a process with its pid runs on this host: this folder may be a copy of a run it holds)"
	m, _ := viewWith(t, (*testLauncher).OpenReadOnly, dir)
	if h := ansi.Strip(m.statusLine()); !strings.Contains(h, "· stopped, interrupted (read-only) ·") {
		t.Errorf("header %q, want stopped, interrupted (read-only)", h)
	}
	if !strings.Contains(m.msg, "copy was interrupted: "+words) || strings.Contains(m.msg, "is gone") {
		t.Errorf("message %q, want %q", m.msg, words)
	}
	hit(t, m, "4")
	listNow(t, m)
	row := m.runs.selected()
	listed := strings.Replace(words, "trained it", fmt.Sprintf("trained it (pid %d)", os.Getpid()), 1)
	if row == nil || row.State != "stopped" || row.Note != listed {
		t.Errorf("Runs screen row %+v, want stopped, noted %q", row, listed)
	}
}
