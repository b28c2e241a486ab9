package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestStartClosesTheDeviceOfAFailedRestore: a resume whose Restore fails
// (the checkpoint's teacher cut short on disk after OpenForResume chose
// it), or is stopped as it loads (loadCtx's end), starts no engine, and
// Start closes the device the engine opened, the models loaded on it, as
// New closes it on a load that fails or stops: Start left it open on a
// failure that was not a stop, its memory held (on a GPU, the models'
// weights) until the process ended, while the workbench's Runs screen
// went on and started other runs. The failed resume is recorded as the
// run failing, with the restore's error; the stopped one as it was.
func TestStartClosesTheDeviceOfAFailedRestore(t *testing.T) {
	_, dir := oneStepRun(t)
	for _, stop := range []bool{true, false} { // the stop first: the failure cuts the checkpoint
		r, err := OpenForResume(dir, Overrides{Steps: 2}, sessions.ProcessHeadless)
		if err != nil {
			t.Fatal(err)
		}
		closed := &backendtest.Closes{}
		ctx, cancel := context.WithCancel(context.Background())
		restore := func(ctx context.Context, e *run.Engine) error {
			closed.Backend = e.Backend
			e.Backend = closed
			if stop {
				ctx = &stoptest.OnLook{Context: ctx, N: 3, Cancel: cancel}
			}
			return r.Restore(ctx, e)
		}
		var teacher string
		if !stop {
			teacher = filepath.Join(r.Ck.Dir, "teacher", "model.safetensors")
			st, err := os.Stat(teacher)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(teacher, st.Size()/2); err != nil {
				t.Fatal(err)
			}
		}
		h, err := Start(ctx, context.Background(), r.Rec, r.Checked, r.Rec, restore)
		cancel()
		if h != nil {
			h.Close()
			t.Fatalf("stop %v: Start started the engine of a failed restore", stop)
		}
		var stopped *run.LoadStopped
		if err == nil || errors.As(err, &stopped) != stop {
			t.Errorf("stop %v: Start: %v; want an error, a *run.LoadStopped where stopped", stop, err)
		}
		if n := closed.Count(); n != 1 {
			t.Errorf("stop %v: the engine's device was closed %d times; want once", stop, n)
		}
		if stop {
			continue
		}
		list, lerr := sessions.List(filepath.Dir(dir))
		if lerr != nil || len(list) != 1 || list[0].State != sessions.StateFailed || err == nil || !strings.Contains(list[0].Note, err.Error()) {
			t.Errorf("listed %+v (%v); want the run failed, noting %v", list, lerr, err)
		}
	}
}

// TestStartRunsOnItsRunContext: the engine Start started runs on runCtx,
// not on loadCtx: the end of loadCtx once the models are loaded (the
// workbench's first stop signal, which then quits it as q does, the
// engine ending its step) does not stop the engine, which does its steps.
func TestStartRunsOnItsRunContext(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 2)
	cfg.Device = "cpu"
	rec, checked, err := Create(t.TempDir(), mustCheck(t, cfg), sessions.ProcessWorkbench)
	if err != nil {
		t.Fatal(err)
	}
	load, cancel := context.WithCancel(context.Background())
	h, err := Start(load, context.Background(), rec, checked, rec, Fresh)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(h.Wait(), h.Close()); err != nil {
		t.Fatal(err)
	}
	if n := h.Engine().Trainer.StepIndex(); n != 2 {
		t.Errorf("the engine did %d steps after its load context ended; want its 2", n)
	}
}
