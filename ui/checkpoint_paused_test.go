package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
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
				saveTestCheckpoint(t, r, 11)
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

// TestCheckpointKeyJustAfterResume: p on a paused run resumes the engine
// at once, its next phase read a moment later; c and S in that moment go
// to an engine that steps. c asks it for a checkpoint of the step in
// progress, and S says the stop comes after that step, with its
// checkpoint's line to come, though the step before the pause is on disk:
// both took the engine for paused, c asking nothing of it (the checkpoint
// asked for lost) and S saying it stopped now with nothing to write.
func TestCheckpointKeyJustAfterResume(t *testing.T) {
	for _, c := range []struct {
		keys []string
		msg  string
	}{
		{[]string{"c"}, "checkpoint requested: written after the step in progress (a line here says when)"},
		{[]string{"S", "y"}, "after its current step, then writing its final checkpoint (a line here says when)"},
	} {
		t.Run(c.keys[0], func(t *testing.T) {
			r := newTestRun(t, 12, 1, 1, 4)
			ctl := &pausingControl{}
			m := newModel(Options{Session: &sessions.Session{Run: r, Steps: 20, Control: ctl}})
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
			send(m, press("p"))
			saveTestCheckpoint(t, r, 11)
			r.Emit(event.Phase{Time: t0, Name: "paused", Step: 12})
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			m.pull()
			send(m, press("p")) // resumed: the engine steps, its phase not read yet
			for _, k := range c.keys {
				send(m, press(k))
			}
			if ctl.ckpt != 1 {
				t.Errorf("engine asked for %d checkpoints, want 1", ctl.ckpt)
			}
			if !strings.Contains(m.msg, c.msg) {
				t.Errorf("status line %q, want %q", m.msg, c.msg)
			}
		})
	}
}

// TestCheckpointKeyAfterAResumeFromAnOlderCheckpoint: a run resumed from
// an older checkpoint than the newest an earlier session wrote (that one
// unusable or removed) redoes the steps past it; paused where its last
// step is one whose checkpoint event is the earlier session's, c asks the
// engine, as that step's checkpoint is not the one resumed from. It said
// "the checkpoint of its last step, 11, is on disk already" and asked
// nothing, the superseded event taken for the step just done.
func TestCheckpointKeyAfterAResumeFromAnOlderCheckpoint(t *testing.T) {
	r := newTestRun(t, 12, 1, 1, 4)
	ctl := &fakeControl{}
	m := sized(t, r, 120, 30, ctl)
	for _, step := range []int{10, 11} {
		saveTestCheckpoint(t, r, step)
	}
	if err := r.Resume(10); err != nil {
		t.Fatal(err)
	}
	r.Emit(event.Phase{Time: t0, Name: "paused", Step: 12}) // step 11 done again
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	m.pull()
	send(m, press("c"))
	if ctl.ckpt != 1 {
		t.Errorf("engine asked for %d checkpoints, want 1", ctl.ckpt)
	}
	if want := "checkpoint requested: the run is paused, so it is written after the next step"; !strings.Contains(m.msg, want) {
		t.Errorf("status line %q, want %q", m.msg, want)
	}
}

// saveTestCheckpoint writes r's checkpoint of step (its weights one byte),
// as the engine's save does, recorded at t0.
func saveTestCheckpoint(t *testing.T, r *sessions.Run, step int) {
	t.Helper()
	if _, err := r.SaveCheckpoint(step, func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "weights"), []byte("w"), 0o644)
	}, sessions.CheckpointState{Step: step, Time: t0}); err != nil {
		t.Fatal(err)
	}
}
