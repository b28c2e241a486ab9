package sessions

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestCheckpointMovedAsideCountsAsTheLoaderDoes: a save of a step that
// has a checkpoint moves the old one aside (.old-step-N-*) before it
// renames the new one into place; killed between, step-N is not there,
// and the next open puts the old one back and resumes from it
// (restoreReplacedCheckpoints). ResumeCommand, ContinueLine and the Runs
// screen (HasCheckpoint, NothingLeftToRun) count it as the loader does:
// they passed over it, saying of a run whose only checkpoint it was that
// it had none ("start it again"), and of one whose last planned step it
// holds the plain resume, which the loader then refuses as having nothing
// to run.
func TestCheckpointMovedAsideCountsAsTheLoaderDoes(t *testing.T) {
	for _, steps := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d steps, the last one's moved aside", steps), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r := createPlanned(t, dir, steps)
			for s := 0; s < steps; s++ {
				emitSteps(r, s, s+1, 1, 1)
				if err := r.Flush(); err != nil {
					t.Fatal(err)
				}
				if _, err := r.SaveCheckpoint(s, saveNote, CheckpointState{}); err != nil {
					t.Fatal(err)
				}
			}
			r.Emit(event.Phase{Time: time.Now(), Name: "done", Step: steps})
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			// Killed between the two renames of a second save of the
			// last step.
			root := filepath.Join(dir, CheckpointsDir)
			last := steps - 1
			aside := filepath.Join(root, ".old-"+checkpointName(last)+"-1234")
			if err := os.Rename(CheckpointDir(dir, last), aside); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(root, ".tmp-"+checkpointName(last)+"-5678", TeacherDir), 0o755); err != nil {
				t.Fatal(err)
			}

			if !HasCheckpoint(dir) {
				t.Error("HasCheckpoint: false; want true, the one moved aside, which the next open puts back")
			}
			if !NothingLeftToRun(dir, steps) {
				t.Errorf("NothingLeftToRun: false; want true, its checkpoint of step %d the last it plans", last)
			}
			quoted := ShellQuote(dir)
			want := fmt.Sprintf("rlt run --resume %s --steps N with N more than %d, the steps it has done", quoted, steps)
			if got := ResumeCommand(dir); got != want {
				t.Errorf("ResumeCommand:\n %s\nwant\n %s", got, want)
			}
			if got := ContinueLine(dir); got != "continue it: "+want {
				t.Errorf("ContinueLine: %s; want continue it: %s", got, want)
			}

			// The loader: the open puts it back and resumes from it, a
			// step that leaves nothing to run, as said above.
			w, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			ck, _, err := w.LatestCheckpoint()
			if err != nil || ck.Step != last || ck.Dir != CheckpointDir(dir, last) {
				t.Fatalf("the loader's checkpoint: %+v, %v; want step %d put back in %s", ck, err, last, CheckpointDir(dir, last))
			}
			if !NothingToRun(steps, ck.Step) {
				t.Errorf("the loader's resume from step %d has steps to run; the listing said none", ck.Step)
			}
			if _, err := os.Stat(aside); err == nil || !strings.Contains(strings.Join(w.Repairs(), "\n"), "put back") {
				t.Errorf("%s still there, repairs %v; want it put back", aside, w.Repairs())
			}
		})
	}
}

// TestNewestCheckpointMovedAsideIsPutBack: of several checkpoints of a
// step moved aside (.old-step-N-T, T the time of the move in nanoseconds)
// where step-N is not there, the newest was step-N when its save was
// killed; an older one is a leftover whose replacement took its place
// and whose removal did not finish (a RemoveAll killed midway: part of a
// checkpoint). The listing and the loader take the newest, T compared as
// a number: they took the first by name, the oldest, so the run was said
// to have no checkpoint, and the open put the leftover back and removed
// the newest, the step's only whole copy, as a leftover.
func TestNewestCheckpointMovedAsideIsPutBack(t *testing.T) {
	for _, c := range []struct{ older, newer string }{
		{"1765000000000000000", "1765000003600000000"}, // time.Now().UnixNano()'s 19 digits
		{"999", "1000"}, // fewer digits: older, though after it by name
	} {
		t.Run(c.older+" then "+c.newer, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r := createPlanned(t, dir, 1)
			emitSteps(r, 0, 1, 1, 1)
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			if _, err := r.SaveCheckpoint(0, saveNote, CheckpointState{}); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			root := filepath.Join(dir, CheckpointsDir)
			name := checkpointName(0)
			leftover := filepath.Join(root, ".old-"+name+"-"+c.older)
			if err := os.MkdirAll(filepath.Join(leftover, TeacherDir), 0o755); err != nil {
				t.Fatal(err)
			}
			newest := filepath.Join(root, ".old-"+name+"-"+c.newer)
			if err := os.Rename(CheckpointDir(dir, 0), newest); err != nil {
				t.Fatal(err)
			}

			cks, err := Checkpoints(dir)
			if err != nil || len(cks) != 1 || cks[0].Dir != newest || cks[0].Err != nil {
				t.Errorf("Checkpoints: %+v, %v; want step 0 in %s, usable", cks, err, newest)
			}
			if !HasCheckpoint(dir) {
				t.Error("HasCheckpoint: false; want true, the newest moved aside")
			}
			w, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			ck, _, err := w.LatestCheckpoint()
			if err != nil || ck.Step != 0 || ck.Dir != CheckpointDir(dir, 0) {
				t.Fatalf("the loader's checkpoint: %+v, %v; want step 0 put back from %s", ck, err, newest)
			}
			for _, gone := range []string{leftover, newest} {
				if _, err := os.Lstat(gone); err == nil {
					t.Errorf("%s still there after the open; repairs %v", gone, w.Repairs())
				}
			}
		})
	}
}
