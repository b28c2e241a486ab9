package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestStopTriesAFailedCheckpointAgain: S during a step whose checkpoint
// then fails (checkpoints/ read-only), or a scheduled checkpoint that
// fails so (the failure stops the run), has the stop try it again, so that
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
	// Root in a container is often refused mounts (no CAP_SYS_ADMIN, as
	// Docker's default): tried first, so that the test skips there with
	// the reason rather than fail for the machine.
	probe := t.TempDir()
	if err := bindReadOnly(probe); err != nil {
		t.Skipf("a read-only bind mount of checkpoints/ cannot be made here: %v", err)
	}
	werr := os.WriteFile(filepath.Join(probe, "x"), nil, 0o644)
	if err := syscall.Unmount(probe, 0); err != nil {
		t.Fatalf("unmount %s: %v", probe, err)
	}
	if !errors.Is(werr, syscall.EROFS) {
		t.Skipf("a read-only bind mount here does not refuse writes (%v): the test needs one that does", werr)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, c := range []struct {
		name   string
		mended bool // checkpoints/ writable again once the failure is said
		// lost: the device fails as the checkpoint's save does (its
		// Err, as a loss while the weights are read back): the stop
		// tries nothing again (the device holds no weights to read, and
		// the close tries none either), and says nothing more. The stop
		// tried it and said "mend what stopped the save … its close
		// tries the checkpoint once more".
		lost bool
		// scheduled: no S; the step's checkpoint is checkpoint_every's,
		// and its failure stops the run. The stop tried nothing: the
		// step was written only when the run was closed.
		scheduled bool
	}{
		{"writable again", true, false, false},
		{"still read-only", false, false, false},
		{"the device failed", false, true, false},
		{"scheduled then writable again", true, false, true},
		{"scheduled and still read-only", false, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := smallConfig(t, 0) // until stopped; checkpoint_every = 1
			dir := filepath.Join(t.TempDir(), "run")
			rec, err := sessions.Create(dir, cfg)
			if err != nil {
				t.Fatal(err)
			}
			ck := filepath.Join(dir, sessions.CheckpointsDir)
			s := &readOnlyAtStep{Run: rec, t: t, ck: ck, step: 1, mend: c.mended, ask: !c.scheduled, engine: make(chan *run.Engine, 1)}
			t.Cleanup(s.writable)
			prepare := Fresh
			if c.lost {
				prepare = func(_ context.Context, e *run.Engine) error {
					s.lossy = &lossAfterNext{Backend: e.Backend}
					e.Backend = s.lossy
					return nil
				}
			}
			h, err := Start(context.Background(), context.Background(), rec, mustCheck(t, cfg), s, prepare)
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
			// Saved after all, by the stop's try or the close's (the
			// disk writable again before it): the result says so, lest
			// the step be taken for lost. A failed device saves none.
			after := "; tried again, it was saved after all (" + sessions.CheckpointDir(dir, 1) + "): no step is lost"
			if got := err != nil && strings.Contains(err.Error(), after); got == c.lost {
				t.Errorf("Close: %v; want %q in it: %v", err, after, !c.lost)
			}
			var fatal, again, saved, other int
			evs, _ := rec.Store().EventsSince(0)
			for _, e := range evs {
				switch {
				case e.Kind != sessions.KindError:
				case e.Severity == event.SeverityWarning && e.Error == "checkpoint of step 1 saved as the run stopped, on a second try: no step is lost (the run stopped for its first failure)":
					saved++
				case e.Fatal && strings.Contains(e.Error, "checkpoint of step 1 failed, so the run stops") && strings.Contains(e.Error, "save checkpoint "+sessions.CheckpointDir(dir, 1)):
					fatal++
				case !e.Fatal && strings.Contains(e.Error, "checkpoint of step 1 failed again as the run stopped: save checkpoint "+sessions.CheckpointDir(dir, 1)):
					again++
					for _, w := range []string{"read-only file system", "a failed save leaves no part of itself in the run folder",
						"its checkpoint of step 0 stands as it was, and a resume goes on from it (rlt run --resume " + dir + ")",
						"its close tries the checkpoint once more: in the workbench, mend what stopped the save, then close the run (q); rlt run --headless closes it at once"} {
						if !strings.Contains(e.Error, w) {
							t.Errorf("the second failure says %q, want %q in it", e.Error, w)
						}
					}
				default:
					other++
					t.Errorf("error event %q", e.Error)
				}
			}
			wantAgain, wantSaved := 1, 0
			if c.mended || c.lost {
				wantAgain = 0
			}
			if c.mended {
				wantSaved = 1
			}
			if fatal != 1 || again != wantAgain || saved != wantSaved || other != 0 {
				t.Errorf("%d fatal checkpoint errors, %d second failures, %d saved on the second try, %d others; want 1, %d, %d, 0", fatal, again, saved, other, wantAgain, wantSaved)
			}
		})
	}
}

// readOnlyAtStep is the run's sink that, at step's metrics, makes
// checkpoints/ read-only (a bind mount of itself) and, with ask, asks the
// engine to stop as S does (a checkpoint, then the stop), so that the
// step's checkpoint fails; with mend, the first fatal error makes it
// writable again.
type readOnlyAtStep struct {
	*sessions.Run
	t      *testing.T
	ck     string
	step   int
	mend   bool
	ask    bool
	engine chan *run.Engine

	lossy *lossAfterNext // the engine's Backend, where the case fails it

	mu      sync.Mutex
	mounted bool
}

func (s *readOnlyAtStep) Emit(ev event.Event) {
	switch ev := ev.(type) {
	case event.Metrics:
		if ev.Step == s.step {
			e := <-s.engine
			s.mu.Lock()
			if err := bindReadOnly(s.ck); err != nil {
				s.t.Error(err)
			} else {
				s.mounted = true
			}
			s.mu.Unlock()
			if s.lossy != nil {
				s.lossy.arm()
			}
			if s.ask {
				e.CheckpointNow()
				e.Stop()
			}
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

// bindReadOnly makes dir read-only by a bind mount of itself; where the
// read-only remount is refused, the bind mount is undone.
func bindReadOnly(dir string) error {
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount %s: %w", dir, err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		syscall.Unmount(dir, 0)
		return fmt.Errorf("remount %s read-only: %w", dir, err)
	}
	return nil
}

// lossAfterNext is a backend whose device fails once armed, after the
// next Err has said it sound: the engine's look after the step (the step
// done on a sound device), then the loss as the step's checkpoint is
// saved.
type lossAfterNext struct {
	compute.Backend
	mu          sync.Mutex
	armed, lost bool
}

func (b *lossAfterNext) arm() { b.mu.Lock(); b.armed = true; b.mu.Unlock() }

func (b *lossAfterNext) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lost {
		return errors.New("device lost (a test's)")
	}
	if b.armed {
		b.armed, b.lost = false, true
	}
	return b.Backend.Err()
}
