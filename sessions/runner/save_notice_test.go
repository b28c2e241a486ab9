package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/sessions"
)

// noticeWriter is progress output that cancels the run's context (a stop
// signal, as signal.NotifyContext ends it) once step 0's line is written,
// and records, for each line that says a held save, the checkpoint it
// names and whether it was on disk when it was said.
type noticeWriter struct {
	mu       sync.Mutex
	out      strings.Builder
	cancel   context.CancelFunc
	ckptDirs []string // the checkpoint each notice names
	onDisk   []bool   // one per notice: its checkpoint already there
	notices  int
	signaled bool
}

func (w *noticeWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Write(b)
	if strings.HasPrefix(string(b), "step 0  reward") && !w.signaled {
		w.signaled = true
		w.cancel()
	}
	if line := string(b); strings.Contains(line, "stopping once it is written") {
		dir, _, _ := strings.Cut(strings.TrimPrefix(line, "saving "), "; ")
		_, err := os.Stat(dir)
		w.ckptDirs, w.onDisk = append(w.ckptDirs, dir), append(w.onDisk, err == nil)
	}
	return len(b), nil
}

// TestHeadlessSaysASignalHeldByTheFinalCheckpoint: a run stopped by a
// signal writes its last step's checkpoint before it stops, and says so as
// that save begins, in the words of the commands' model saves ("saving
// DIR; stopping once it is written …"), once, not after: rlt run
// --headless said nothing until the checkpoint was written, minutes for a
// large model, and seemed to ignore the signal. The signal comes after
// step 0's line: the run stops after step 0, or, where its engine had
// begun step 1 as the signal came, after step 1 (its run context is not
// the signal's: the step in progress ends).
func TestHeadlessSaysASignalHeldByTheFinalCheckpoint(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 3)
	cfg.Device = "cpu"
	runs := t.TempDir()
	rec, checked, err := Create(runs, mustCheck(t, cfg), sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &noticeWriter{cancel: cancel}
	err = Headless(ctx, rec, checked, Fresh, w)
	done := 1
	if err != nil && strings.Contains(err.Error(), "stopped by a signal after 2 of 3 steps") {
		done = 2
	}
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("stopped by a signal after %d of 3 steps", done)) {
		t.Fatalf("Headless: %v; want stopped by a signal after 1 (or 2) of 3 steps", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.out.String()
	ckptDir := sessions.CheckpointDir(rec.Dir(), done-1)
	notice := CheckpointSaveNotice(ckptDir)
	if n := strings.Count(out, "stopping once it is written"); n != 1 || len(w.onDisk) != 1 || w.ckptDirs[0] != ckptDir {
		t.Fatalf("the progress output says a held save %d times (%d such lines, naming %q); want once, %q:\n%s", n, len(w.onDisk), w.ckptDirs, notice, out)
	}
	if w.onDisk[0] {
		t.Errorf("said once %s was written, not as its save began:\n%s", ckptDir, out)
	}
	if _, err := os.Stat(filepath.Join(ckptDir, sessions.CheckpointStateFile)); err != nil {
		t.Errorf("the checkpoint of step %d was not written whole: %v", done-1, err)
	}
	if !strings.Contains(out, StoppingAfterTheStep+"\n") {
		t.Errorf("the signal is not said as it comes (%q):\n%s", StoppingAfterTheStep, out)
	}
}

// TestSaveWatchSaysASignalOnceAsItComes: a signal that comes during a
// checkpoint's save is said as it comes, before the save ends, and once
// for the run: not again by a later save, nor after the save has ended,
// nor where no signal came or nothing is told to say it.
func TestSaveWatchSaysASignalOnceAsItComes(t *testing.T) {
	const dir = "/runs/r/checkpoints/step-000004"
	for _, c := range []struct {
		name    string
		writer  bool
		signal  bool // during the first save
		notices int  // over both saves
	}{
		{"a signal during the save", true, true, 1},
		{"no signal", true, false, 0},
		{"no writer", false, true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			var out strings.Builder
			h := &Handle{}
			if c.writer {
				h.SayHeldSaves(writerFunc(func(b []byte) (int, error) {
					mu.Lock()
					defer mu.Unlock()
					return out.Write(b)
				}), ctx)
			}
			said := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
			end := h.watchSave(dir)
			if c.signal {
				cancel()
				// Said before the save ends: the watch says it as the
				// signal comes.
				for deadline := time.Now().Add(hangGuard); c.writer && !strings.Contains(said(), "saving "); time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("the signal was not said during the save")
					}
				}
			}
			end()
			h.watchSave(dir + "-later")() // a later save, the signal come before it
			if n := strings.Count(said(), "stopping once it is written"); n != c.notices {
				t.Errorf("said %d times, want %d: %q", n, c.notices, said())
			}
			if c.notices > 0 && said() != CheckpointSaveNotice(dir)+"\n" {
				t.Errorf("said %q, want %q", said(), CheckpointSaveNotice(dir)+"\n")
			}
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
