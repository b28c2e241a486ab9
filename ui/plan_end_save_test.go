package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestAFailedPlanEndSaveReadsAsListed: a run whose checkpoint of its last
// planned step failed as its engine ended (the save's fatal error, then
// "stopped") reads failed in the header, as the Runs screen lists it; one
// whose close then saved that checkpoint reads finished in both, every
// planned step on disk. Its header said failed, where the listing said
// finished. One whose engine recorded "done" after the failed save (as
// engines did before 3b8e453) read failed too: the header never took
// that "done" over the fatal error.
func TestAFailedPlanEndSaveReadsAsListed(t *testing.T) {
	for _, c := range []struct {
		name       string
		phase      string // the engine's last phase
		closeSaved bool   // the close saved step 2 after the engine ended
		want       sessions.RunState
	}{
		{"the close saved it", "stopped", true, sessions.StateFinished},
		{"the close failed too", "stopped", false, sessions.StateFailed},
		{"done recorded after the failed save", "done", false, sessions.StateFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			dir := filepath.Join("runs", "saved")
			w := recordedSteps(t, dir, 3, 3)
			withCheckpoint(t, dir, 1)
			w.Emit(event.Error{Time: t0, Step: 2, Fatal: true, Err: errors.New("checkpoint of step 2 failed, so the run stops: no room")})
			w.Emit(event.Phase{Time: t0, Name: c.phase, Step: 3})
			if c.closeSaved {
				if _, err := w.SaveCheckpoint(2, func(d string) error {
					return os.WriteFile(filepath.Join(d, "weights"), []byte("w"), 0o644)
				}, sessions.CheckpointState{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			m, _ := viewWith(t, (*testLauncher).OpenReadOnly, dir)
			if h := m.statusLine(); !strings.Contains(h, "· "+string(c.want)) {
				t.Errorf("header %q, want %s", h, c.want)
			}
			hit(t, m, "4")
			listNow(t, m)
			if row := m.runs.selected(); row == nil || row.State != string(c.want) {
				t.Errorf("Runs screen row %+v, want %s", row, c.want)
			}
		})
	}
}
