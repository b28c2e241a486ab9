package sessions

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestUnclosedAfterItsEngineEndedIsNotInterrupted: a run whose training
// session ended its engine (finished, or stopped) and never closed the
// run — a folder copied while a workbench kept the run open, its
// run.lock naming a process that holds the original, or a process killed
// since — is listed in the state its engine ended in, with a note that
// says only what the folder proves. It was listed finished with the note
// "the process that trained it (pid N) is gone without stopping it",
// which a finished training contradicts and a copy's live process
// belies. Its read-only State agrees, not interrupted. A training cut
// short (no end of its engine) is an interruption as before.
func TestUnclosedAfterItsEngineEndedIsNotInterrupted(t *testing.T) {
	self := os.Getpid()
	unclosed := func(pid int, ended string) string {
		return fmt.Sprintf("the process that trained it (pid %d) did not close it after its training %s (it was killed since, or this folder was copied while the run was open)", pid, ended)
	}
	for _, c := range []struct {
		name        string
		ended       string // the engine's last phase ("": it has not ended)
		kill        bool   // its process killed (run.lock left, naming deadPID), not copied live
		want        RunState
		note        string
		interrupted bool
	}{
		{"copied live, finished", "done", false, StateFinished, unclosed(self, "finished"), false},
		{"copied live, stopped", "stopped", false, StateStopped, unclosed(self, "stopped"), false},
		{"killed after it finished", "done", true, StateFinished, unclosed(deadPID, "finished"), false},
		// Its process lives: the copy is stopped, and the note does not
		// say that process is gone (TestGoneSaysOnlyWhatTheFolderProves).
		{"copied live, training", "", false, StateStopped, fmt.Sprintf("the process that trained it (pid %d) holds no lock on this folder and did not stop its training (a process with its pid runs on this host: this folder may be a copy of a run it holds)", self), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			src := filepath.Join(root, "live")
			r := mustCreate(t, src, Options{})
			emitSteps(r, 0, 2, 1, 1)
			if c.ended != "" {
				r.Emit(event.Phase{Time: time.Now(), Name: c.ended, Step: 2})
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(root, "runs", "run")
			if c.kill {
				killWriter(t, r, deadPID)
				dir = src
				root = filepath.Dir(src)
			} else {
				defer r.Close()
				copyDir(t, src, dir)
				root = filepath.Dir(dir)
			}
			wantListedAndOpened(t, root, dir, c.want, c.note, c.interrupted)
		})
	}
}
