package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestCheckpointKeySaysWhenWhilePaused: c says when its checkpoint comes
// as the engine is: after the step in progress while it steps, after the
// next step (or the stop) while it is paused between steps, where no step
// is in progress, and nothing to write, the engine not asked, where the
// paused engine's last step is on disk already. Paused, it said "written
// after the step in progress" and then nothing came.
func TestCheckpointKeySaysWhenWhilePaused(t *testing.T) {
	for _, c := range []struct {
		name           string
		paused, onDisk bool
		ckpt           int
		msg            string
	}{
		{"stepping", false, false, 1, "checkpoint requested: written after the step in progress (a line here says when)"},
		{"paused", true, false, 1, "checkpoint requested: the run is paused, so it is written after the next step, once p goes on, or as the run stops"},
		{"paused, its last step on disk", true, true, 0, "the run is paused and the checkpoint of its last step, 11, is on disk already: nothing newer to write (p goes on)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRun(t, 12, 1, 1, 4)
			ctl := &fakeControl{}
			m := sized(t, r, 120, 30, ctl)
			if c.onDisk {
				if _, err := r.SaveCheckpoint(11, func(dir string) error {
					return os.WriteFile(filepath.Join(dir, "weights"), []byte("w"), 0o644)
				}, sessions.CheckpointState{Step: 11, Time: t0}); err != nil {
					t.Fatal(err)
				}
			}
			if c.paused {
				r.Emit(event.Phase{Time: t0, Name: "paused", Step: 12})
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			m.pull()
			send(m, press("c"))
			if ctl.ckpt != c.ckpt {
				t.Errorf("engine asked for %d checkpoints, want %d", ctl.ckpt, c.ckpt)
			}
			if !strings.Contains(m.msg, c.msg) {
				t.Errorf("status line %q, want %q", m.msg, c.msg)
			}
		})
	}
}
