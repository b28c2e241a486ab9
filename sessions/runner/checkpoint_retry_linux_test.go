package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestStopTriesAFailedCheckpointAgain: S during a step whose checkpoint
// then fails (checkpoints/ read-only) has the stop try it again, so that
// the last step is written as the run stops where the disk takes it
// again, and says a second failure as such, with the path, the
// checkpoint that stands and what to do. The engine recorded the step as
// checkpointed before the save, so the stop took it for on disk and tried
// nothing: the step was written only when the run was closed, and a
// process killed after S lost it. The earlier checkpoint stays whole
// (a failed save leaves no part of itself). It needs a read-only bind
// mount: Linux, as root.
func TestStopTriesAFailedCheckpointAgain(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a read-only bind mount of checkpoints/ needs root")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, c := range []struct {
		name   string
		mended bool // checkpoints/ writable again once the failure is said
	}{
		{"writable again", true},
		{"still read-only", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := smallConfig(t, 0) // until stopped; checkpoint_every = 1
			dir := filepath.Join(t.TempDir(), "run")
			rec, err := sessions.Create(dir, cfg)
			if err != nil {
				t.Fatal(err)
			}
			ck := filepath.Join(dir, sessions.CheckpointsDir)
			s := &readOnlyAtStep{Run: rec, t: t, ck: ck, step: 1, mend: c.mended, engine: make(chan *run.Engine, 1)}
			t.Cleanup(s.writable)
			h, err := Start(context.Background(), context.Background(), rec, mustCheck(t, cfg), s, Fresh)
			if err != nil {
				t.Fatal(err)
			}
			s.engine <- h.Engine()
			waited := make(chan struct{})
			go func() { h.Wait(); close(waited) }()
			select {
			case <-waited:
			case <-time.After(120 * time.Second):
				h.Engine().Stop()
				t.Fatal("the run did not stop")
			}
			// As the engine stopped, before the run's close.
			_, err = os.Stat(sessions.CheckpointDir(dir, 1))
			if c.mended && err != nil {
				t.Errorf("the checkpoint of step 1 is not on disk as the run stops: %v", err)
			}
			if !c.mended && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a checkpoint of step 1 on a read-only checkpoints/: %v", err)
			}
			cks, err := sessions.Checkpoints(dir)
			if err != nil || len(cks) == 0 || cks[0].Step != 0 || cks[0].Err != nil {
				t.Errorf("the checkpoint of step 0 is not whole: %+v, %v", cks, err)
			}
			s.writable()
			err = h.Close()
			if err == nil || !strings.Contains(err.Error(), "checkpoint of step 1 failed, so the run stops") {
				t.Errorf("Close: %v; want the failed checkpoint as the run's result", err)
			}
			var fatal, again, other int
			evs, _ := rec.Store().EventsSince(0)
			for _, e := range evs {
				switch {
				case e.Kind != sessions.KindError:
				case e.Fatal && strings.Contains(e.Error, "checkpoint of step 1 failed, so the run stops: save checkpoint "+sessions.CheckpointDir(dir, 1)):
					fatal++
				case !e.Fatal && strings.Contains(e.Error, "checkpoint of step 1 failed again as the run stopped: save checkpoint "+sessions.CheckpointDir(dir, 1)):
					again++
					for _, w := range []string{"read-only file system", "a failed save leaves no part of itself in the run folder",
						"its checkpoint of step 0 stands as it was, and a resume goes on from it (rlt run --resume " + dir + ")",
						"Mend what stopped the save and close the run (q in the workbench): its close tries the checkpoint once more"} {
						if !strings.Contains(e.Error, w) {
							t.Errorf("the second failure says %q, want %q in it", e.Error, w)
						}
					}
				default:
					other++
					t.Errorf("error event %q", e.Error)
				}
			}
			wantAgain := 1
			if c.mended {
				wantAgain = 0
			}
			if fatal != 1 || again != wantAgain || other != 0 {
				t.Errorf("%d fatal checkpoint errors, %d second failures, %d others; want 1, %d, 0", fatal, again, other, wantAgain)
			}
		})
	}
}

// readOnlyAtStep is the run's sink that, at step's metrics, makes
// checkpoints/ read-only (a bind mount of itself) and asks the engine to
// stop as S does (a checkpoint, then the stop), so that the step's
// checkpoint fails; with mend, the first fatal error makes it writable
// again.
type readOnlyAtStep struct {
	*sessions.Run
	t      *testing.T
	ck     string
	step   int
	mend   bool
	engine chan *run.Engine

	mu      sync.Mutex
	mounted bool
}

func (s *readOnlyAtStep) Emit(ev event.Event) {
	switch ev := ev.(type) {
	case event.Metrics:
		if ev.Step == s.step {
			e := <-s.engine
			s.mu.Lock()
			if err := syscall.Mount(s.ck, s.ck, "", syscall.MS_BIND, ""); err != nil {
				s.t.Errorf("bind mount %s: %v", s.ck, err)
			} else {
				s.mounted = true
				if err := syscall.Mount("", s.ck, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
					s.t.Errorf("remount %s read-only: %v", s.ck, err)
				}
			}
			s.mu.Unlock()
			e.CheckpointNow()
			e.Stop()
		}
	case event.Error:
		if ev.Fatal && s.mend {
			s.writable()
		}
	}
	s.Run.Emit(ev)
}

// writable undoes the read-only mount, once.
func (s *readOnlyAtStep) writable() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mounted {
		if err := syscall.Unmount(s.ck, 0); err != nil {
			s.t.Errorf("unmount %s: %v", s.ck, err)
		}
		s.mounted = false
	}
}
