package sessions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions/sessionstest"
)

// TestKilledAfterItsLastCheckpointIsFinished: a run whose training
// process was killed after the checkpoint of the last step its
// config.toml plans, before its engine said "done" (the phase that
// follows that checkpoint at once), has done every step it plans, on disk:
// it is listed finished, not interrupted, and its read-only State agrees,
// the note saying that its process is gone before recording so, and that
// no step is lost; its resume has nothing to run (NothingLeftToRun), as
// before. Also where the kill came before the checkpoint's event was
// written. It was listed stopped, "the process that trained it (pid N) is
// gone without stopping it", and stayed so: its resume, refused as having
// nothing to run, left the run as it was (TestKilledRunResumes saw it so
// after its last resume). A run killed with a step left, or whose plan was
// raised since, or whose last checkpoint cannot be resumed from, is
// stopped and interrupted as before; one with a fatal error, failed.
func TestKilledAfterItsLastCheckpointIsFinished(t *testing.T) {
	gone := fmt.Sprintf("the process that trained it (pid %d) is gone without stopping it", deadPID)
	doneUnsaid := fmt.Sprintf("the process that trained it (pid %d) is gone after saving the checkpoint of its last planned step, before recording that its training finished: the kill lost no step", deadPID)
	for _, c := range []struct {
		name        string
		planned     int  // steps = in config.toml as created
		steps       int  // steps done, a checkpoint after each
		extraStep   bool // one more step's records, no checkpoint of it
		dropCkEvent bool // the last checkpoint's event not written
		replanned   int  // config.toml's steps after the kill (0: as created)
		cutLastCk   bool // the last checkpoint's state.json gone
		asideLastCk bool // the last checkpoint moved aside for a save of its step that never took its place
		fatal       bool // a fatal error after the last step
		left        bool // left at once on a second stop signal (Leave), not killed
		// closeSaved: the engine's save of the last step failed (its
		// fatal error, "stopped"), and the close saved it after.
		closeSaved  bool
		want        RunState
		note        string
		interrupted bool
	}{
		{name: "killed after its last step's checkpoint", planned: 3, steps: 3, want: StateFinished, note: doneUnsaid},
		{name: "killed before that checkpoint's event", planned: 3, steps: 3, dropCkEvent: true, want: StateFinished, note: doneUnsaid},
		{name: "killed as its last checkpoint was saved again, moved aside", planned: 3, steps: 3, asideLastCk: true, want: StateFinished, note: doneUnsaid},
		{name: "killed with a step left", planned: 3, steps: 2, want: StateStopped, note: gone, interrupted: true},
		{name: "killed in its last step", planned: 3, steps: 2, extraStep: true, want: StateStopped, note: gone, interrupted: true},
		{name: "killed after its last checkpoint, plan raised since", planned: 3, steps: 3, replanned: 5, want: StateStopped, note: gone, interrupted: true},
		{name: "killed after its last checkpoint, which cannot be resumed from", planned: 3, steps: 3, cutLastCk: true, want: StateStopped, note: gone, interrupted: true},
		{name: "open-ended, killed", planned: 0, steps: 3, want: StateStopped, note: gone, interrupted: true},
		// Left at once on a second stop signal after the checkpoint of
		// its last planned step, before "done": its close is clean, and
		// it was listed stopped, its note saying it continues from that
		// checkpoint, where its resume has nothing to run.
		{name: "left after its last step's checkpoint", planned: 3, steps: 3, left: true, want: StateFinished, note: leftDoneNote},
		{name: "left with a step left", planned: 3, steps: 2, left: true, want: StateStopped, note: "left at once on a second stop signal after step 1; it continues from its checkpoint of step 1"},
		{name: "left after its last checkpoint, plan raised since", planned: 3, steps: 3, replanned: 5, left: true, want: StateStopped, note: "left at once on a second stop signal after step 2; it continues from its checkpoint of step 2"},
		{name: "killed after a fatal error", planned: 3, steps: 3, fatal: true, want: StateFailed, note: "fatal: boom; " + gone, interrupted: true},
		// Killed after its close saved the checkpoint of its last
		// planned step, which its engine's save had failed to, before
		// its close event: every planned step is on disk.
		{name: "killed after its close saved its last checkpoint", planned: 3, steps: 3, closeSaved: true, want: StateFinished,
			note: closeSavedNote("checkpoint of step 2 failed, so the run stops: no room") + "; " + unclosedNote(deadPID, "done")},
		{name: "killed after its close saved a checkpoint with a step left", planned: 4, steps: 3, closeSaved: true, want: StateFailed,
			note: "fatal: checkpoint of step 2 failed, so the run stops: no room; " + gone, interrupted: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "run")
			r := createPlanned(t, dir, c.planned)
			for s := 0; s < c.steps; s++ {
				emitSteps(r, s, s+1, 1, 1)
				if c.closeSaved && s == c.steps-1 {
					r.Emit(event.Error{Time: time.Now(), Step: s, Err: fmt.Errorf("checkpoint of step %d failed, so the run stops: no room", s), Fatal: true})
					r.Emit(event.Phase{Time: time.Now(), Name: "stopped", Step: s + 1})
				}
				if _, err := r.SaveCheckpoint(s, saveNote, CheckpointState{}); err != nil {
					t.Fatal(err)
				}
			}
			if c.extraStep {
				emitSteps(r, c.steps, c.steps+1, 1, 1)
			}
			if c.fatal {
				r.Emit(event.Error{Time: time.Now(), Step: c.steps, Err: errors.New("boom"), Fatal: true})
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			if c.left {
				if err := r.Leave("on a second stop signal", time.Minute); err != nil {
					t.Fatal(err)
				}
				// What the process says on leaving is the listing's
				// note as it left (the plan raised after).
				said := c.note
				if c.replanned != 0 {
					said = leftDoneNote
				}
				if got := r.LeftNote(); got != said {
					t.Errorf("LeftNote %q, want %q", got, said)
				}
			} else {
				killWriter(t, r, deadPID)
			}
			if c.dropCkEvent {
				dropEventLines(t, dir, fmt.Sprintf(`"kind":"checkpoint","step":%d,`, c.steps-1))
			}
			if c.replanned != 0 {
				path := filepath.Join(dir, ConfigFile)
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				was := fmt.Sprintf("steps = %d", c.planned)
				if !strings.Contains(string(data), was) {
					t.Fatalf("config.toml lacks %q:\n%s", was, data)
				}
				if err := os.WriteFile(path, []byte(strings.Replace(string(data), was, fmt.Sprintf("steps = %d", c.replanned), 1)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if c.asideLastCk {
				// As SaveCheckpoint leaves it, killed between its two
				// renames: the folder moved aside, its replacement not
				// in place (checkpointFolderList counts it, as the
				// loader puts it back).
				last := CheckpointDir(dir, c.steps-1)
				if err := os.Rename(last, filepath.Join(dir, CheckpointsDir, ".old-"+filepath.Base(last)+"-1")); err != nil {
					t.Fatal(err)
				}
			}
			if c.cutLastCk {
				if err := os.Remove(filepath.Join(CheckpointDir(dir, c.steps-1), CheckpointStateFile)); err != nil {
					t.Fatal(err)
				}
			}
			row := wantListedAndOpened(t, root, dir, c.want, c.note, c.interrupted)
			// The resume's own rule is unchanged: a run listed finished
			// here has nothing left to run.
			if c.want == StateFinished && !NothingLeftToRun(dir, row.PlannedSteps) {
				t.Errorf("listed finished, but its resume has steps left to run (%d planned)", row.PlannedSteps)
			}
		})
	}
}

// dropEventLines removes the lines of dir's events.jsonl that hold s, as
// a kill before they were written leaves the file.
func dropEventLines(t *testing.T, dir, s string) {
	t.Helper()
	path := filepath.Join(dir, EventsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	dropped := 0
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.Contains(line, s) {
			dropped++
			continue
		}
		kept = append(kept, line)
	}
	if dropped == 0 {
		t.Fatalf("no event holds %s:\n%s", s, data)
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestKilledAfterItsLastCheckpointNotProbed: where run.lock cannot be
// probed, a run whose training session its events leave open after the
// checkpoint of its last planned step is unknown, and its note says what
// it is either way: running if a process holds it, finished if none does
// (it said stopped, which its resume, refused as having nothing to run,
// would not have changed).
func TestKilledAfterItsLastCheckpointNotProbed(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run")
	cfg := struct {
		Name  string `toml:"name"`
		Steps int    `toml:"steps"`
	}{"t", 2}
	r, err := Create(dir, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 2; s++ {
		emitSteps(r, s, s+1, 1, 1)
		if _, err := r.SaveCheckpoint(s, saveNote, CheckpointState{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	killWriter(t, r, deadPID)
	sessionstest.LockLinkedToItself(t, dir)
	list, err := List(root)
	if err != nil || len(list) != 1 {
		t.Fatalf("List: %+v, %v", list, err)
	}
	const either = "running if a process holds it, finished if none does"
	if list[0].State != StateUnknown || !strings.Contains(list[0].Note, either) {
		t.Errorf("listed %s (%q), want unknown, noting %q", list[0].State, list[0].Note, either)
	}
}
