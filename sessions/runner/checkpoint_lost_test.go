package runner

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestACheckpointLostWithTheDeviceIsNotTriedAgain: end to end on a Vulkan
// device (lavapipe in CI), the device lost (RLT_VULKAN_LOSE_AFTER, where a
// driver reports VK_ERROR_DEVICE_LOST) as the checkpoint S asked for reads
// the weights back. The run stops on that one error, the device named and
// --device cpu the way on; neither the stop nor the close tries the
// checkpoint again (a lost device holds no weights to read: a try said
// "failed again … mend what stopped the save"), nothing of it is on disk,
// and the run is listed as failed, continued on the CPU. The case 'the
// device failed' of TestStopTriesAFailedCheckpointAgain acts the loss out
// with a backend whose Err says it; here the device's own loss does.
//
// The loss is placed at the checkpoint's first batch: a run without it
// counts the batches done as step 0's metrics are said, the first one
// after them being the read-back's.
func TestACheckpointLostWithTheDeviceIsNotTriedAgain(t *testing.T) {
	_, err := device.MemoryOf(device.GPU)
	backendtest.NeedDevice(t, err)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("RLT_VULKAN_LOSE_AFTER", "")
	dir, closeErr, submits := runAndStopAtStep0(t)
	if closeErr != nil {
		t.Fatalf("the run without a loss: Close: %v", closeErr)
	}
	if _, err := os.Stat(sessions.CheckpointDir(dir, 0)); err != nil {
		t.Fatalf("the run without a loss wrote no checkpoint of step 0: %v", err)
	}

	t.Setenv("RLT_VULKAN_LOSE_AFTER", strconv.Itoa(submits+1))
	dir, closeErr, _ = runAndStopAtStep0(t)
	const failed = "checkpoint of step 0 failed, so the run stops"
	if closeErr == nil || !strings.Contains(closeErr.Error(), failed) || !strings.Contains(closeErr.Error(), "VK_ERROR_DEVICE_LOST") ||
		!strings.HasSuffix(closeErr.Error(), event.ResumeOnCPU) || strings.Contains(closeErr.Error(), "saved after all") {
		t.Fatalf("lost at batch %d: Close: %v; want %q, the device's loss and %q", submits+1, closeErr, failed, event.ResumeOnCPU)
	}
	if _, err := os.Stat(sessions.CheckpointDir(dir, 0)); !os.IsNotExist(err) {
		t.Errorf("a checkpoint of step 0 from the lost device: %v", err)
	}
	rec, err := sessions.OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	evs, _ := rec.Store().EventsSince(0)
	var said []string
	for _, e := range evs {
		if e.Kind == sessions.KindError {
			said = append(said, e.Error)
			if !e.Fatal || !strings.HasPrefix(e.Error, failed) {
				t.Errorf("error event %q (fatal %v): want only the checkpoint's failure, as the fatal error", e.Error, e.Fatal)
			}
		}
	}
	if len(said) != 1 {
		t.Errorf("%d error events, want the one fatal error: %q", len(said), said)
	}
	list, err := sessions.List(filepath.Dir(dir))
	if err != nil || len(list) != 1 || list[0].State != sessions.StateFailed {
		t.Errorf("listed: %+v, %v; want the run failed", list, err)
	}
	if got, want := sessions.ResumeCommand(dir), "rlt run --resume "+sessions.ShellQuote(dir)+" --device cpu"; got != want {
		t.Errorf("ResumeCommand = %q, want %q", got, want)
	}
}

// runAndStopAtStep0 runs the small configuration on the GPU until step 0's
// metrics, where it asks for a checkpoint and the stop (S), and closes
// the run: its folder, Close's result and the device's batches submitted
// as the metrics were said.
func runAndStopAtStep0(t *testing.T) (dir string, closeErr error, submits int) {
	t.Helper()
	cfg := smallConfig(t, 0) // until stopped; checkpoint_every = 1
	cfg.Device = "gpu"
	dir = filepath.Join(t.TempDir(), "run")
	rec, err := sessions.Create(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &stopAtStep0{Run: rec, engine: make(chan *run.Engine, 1), submits: -1}
	prepare := func(_ context.Context, e *run.Engine) error {
		vb, ok := e.Backend.(*vulkan.Backend)
		if !ok {
			t.Fatalf("the run computes on %s, not on the Vulkan device", e.Backend.Name())
		}
		s.device = vb.Device()
		return nil
	}
	h, err := Start(context.Background(), context.Background(), rec, mustCheck(t, cfg), s, prepare)
	if err != nil {
		t.Fatal(err)
	}
	s.engine <- h.Engine()
	waited := make(chan struct{})
	go func() { h.Wait(); close(waited) }()
	// Waited for until near the test's own deadline (none: for good), not
	// for a time of ours: on lavapipe under load the load and step 0 of
	// the run without a loss took over the 120 s this waited.
	var late <-chan time.Time
	if dl, ok := t.Deadline(); ok {
		late = time.After(time.Until(dl) * 9 / 10)
	}
	select {
	case <-waited:
	case <-late:
		h.Engine().Stop()
		t.Fatal("the run did not stop")
	}
	closeErr = h.Close()
	if s.submits < 0 {
		t.Fatal("the run said no metrics of step 0")
	}
	return dir, closeErr, s.submits
}

// stopAtStep0 is the run's sink that, at step 0's metrics, counts the
// device's batches and asks the engine to stop as S does (a checkpoint,
// then the stop).
type stopAtStep0 struct {
	*sessions.Run
	device  *vulkan.Device
	engine  chan *run.Engine
	submits int
}

func (s *stopAtStep0) Emit(ev event.Event) {
	if m, ok := ev.(event.Metrics); ok && m.Step == 0 {
		e := <-s.engine
		s.submits = s.device.Submits()
		e.CheckpointNow()
		e.Stop()
	}
	s.Run.Emit(ev)
}
