package runner

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestCloseClosesTheEnginesDevice: Handle.Close closes the engine's
// device once, after the engine has returned and the final checkpoint is
// on disk (not when the engine returns: the workbench still shows the
// run). Close left it open, the models' weights and moments held on a GPU
// until the process ended, while the workbench's Runs screen opened,
// resumed and started other runs in the same process. checkpoint_every
// is 0, so the one checkpoint is Close's final one: the device is closed
// only once it is written.
func TestCloseClosesTheEnginesDevice(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 2)
	cfg.Device, cfg.CheckpointEvery = "cpu", 0
	rec, checked, err := Create(t.TempDir(), mustCheck(t, cfg), sessions.ProcessWorkbench)
	if err != nil {
		t.Fatal(err)
	}
	final := sessions.CheckpointDir(rec.Dir(), 1)
	closed, checkpointed := &backendtest.Closes{}, false
	watch := func(_ context.Context, e *run.Engine) error {
		closed.Backend, closed.OnClose = e.Backend, func() {
			_, err := os.Stat(final)
			checkpointed = err == nil
		}
		e.Backend = closed
		return nil
	}
	h, err := Start(context.Background(), context.Background(), rec, checked, rec, watch)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	if closed.Count() != 0 {
		t.Error("the device was closed as the engine returned, before Close")
	}
	if err := errors.Join(h.Close(), h.Close()); err != nil {
		t.Fatal(err)
	}
	if n := closed.Count(); n != 1 || !checkpointed {
		t.Errorf("Close closed the engine's device %d times (want once), the final checkpoint %s on disk then: %v", n, final, checkpointed)
	}
}
