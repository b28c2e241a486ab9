package ui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/sessionstest"
)

// TestKilledAfterItsLastCheckpointReadsFinished: a run whose training
// process was killed after the checkpoint of its last planned step, before
// its engine said "done", reads finished in the header, opened after the
// kill or watched as it came, as the Runs screen lists it (the listing's
// rule, sessions.Run.StateGone), with no word of an interruption: every
// step it plans is done and on disk. It read "stopped, interrupted", and
// the message said r resumes it, which was refused as having nothing to
// run.
func TestKilledAfterItsLastCheckpointReadsFinished(t *testing.T) {
	for _, watched := range []bool{false, true} {
		t.Run(fmt.Sprintf("watched %v", watched), func(t *testing.T) {
			t.Chdir(t.TempDir())
			dir := filepath.Join("runs", "killed")
			w := recordedSteps(t, dir, 3, 3, "optimiser")
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			for s := 0; s < 3; s++ {
				withCheckpoint(t, dir, s)
			}
			if !watched {
				killWriter(t, w)
			}
			m, _ := viewWith(t, (*testLauncher).OpenReadOnly, dir)
			if watched {
				if h := m.statusLine(); !strings.Contains(h, "· running") {
					t.Fatalf("header %q while its process trains it, want running", h)
				}
				killWriter(t, w)
				for deadline := time.Now().Add(hangGuard); ; time.Sleep(10 * time.Millisecond) {
					if st, _, _ := m.sh.run.StateGone(); st == sessions.StateFinished {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("the run open here never read the kill")
					}
				}
				m.Update(tickMsg(time.Now()))
			}
			if h := m.statusLine(); !strings.Contains(h, "· finished") || strings.Contains(h, "interrupted") {
				t.Errorf("header %q, want finished, not interrupted", h)
			}
			if strings.Contains(m.msg, "interrupted") {
				t.Errorf("message %q says it was interrupted", m.msg)
			}
			hit(t, m, "4")
			listNow(t, m)
			row := m.runs.selected()
			note := fmt.Sprintf("the process that trained it (pid %d) is gone after saving the checkpoint of its last planned step", sessionstest.DeadPID(t))
			if row == nil || row.State != string(sessions.StateFinished) || !strings.Contains(row.Note, note) {
				t.Errorf("Runs screen row %+v, want finished, noted %q", row, note)
			}
		})
	}
}
