package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// lostAtStop is the trainer's sink that, as step 1's sampling begins,
// counts the device's batches and ends the run context (the stop a
// signal makes): the loss set at the next batch then lands in that
// sampling, with the stop pending.
type lostAtStop struct {
	event.Sink
	device  *vulkan.Device
	cancel  context.CancelFunc
	submits int
}

func (s *lostAtStop) Emit(ev event.Event) {
	if p, ok := ev.(event.Phase); ok && p.Step == 1 && p.Name == "sampling" {
		s.submits = s.device.Submits()
		s.cancel()
	}
	s.Sink.Emit(ev)
}

// TestADeviceLostDuringAStopIsTheDevicesFailure: end to end on a Vulkan
// device (lavapipe in CI), a stop (the run context ended, as rlt's signal
// handler ends it) as step 1's sampling begins, and the device lost
// (RLT_VULKAN_LOSE_AFTER) at that sampling's first batch: the run ends on
// the device's failure, not as a clean stop. Wait and Close say the step,
// the device's loss and the way on (--device cpu), the fatal error is
// recorded as the device's (event.FaultDevice), the run is listed failed
// and its resume command names its folder and --device cpu; the folder is
// left resumable: step 0's checkpoint stands whole, nothing of step 1 is
// on disk, and a resume on the CPU from it runs step 1 and finishes.
// c783e5b made this the device's failure (before, any error under an
// ended run context was taken for the stop's and dropped); the same run
// without the loss is a clean stop.
func TestADeviceLostDuringAStopIsTheDevicesFailure(t *testing.T) {
	_, err := device.MemoryOf(device.GPU)
	backendtest.NeedDevice(t, err)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	run1 := func(t *testing.T) (dir string, waitErr, closeErr error, submits int) {
		cfg := smallConfig(t, 3)
		cfg.Device = "gpu"
		dir, rec := createRun(t, cfg)
		runCtx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := &lostAtStop{cancel: cancel, submits: -1}
		prepare := func(_ context.Context, e *run.Engine) error {
			vb, ok := e.Backend.(*vulkan.Backend)
			if !ok {
				t.Fatalf("the run computes on %s, not on the Vulkan device", e.Backend.Name())
			}
			s.device, s.Sink = vb.Device(), e.Trainer.Sink
			e.Trainer.Sink = s
			return nil
		}
		h, err := Start(context.Background(), runCtx, rec, mustCheck(t, cfg), rec, prepare)
		if err != nil {
			t.Fatal(err)
		}
		waitErr = h.Wait()
		closeErr = h.Close()
		if s.submits < 0 {
			t.Fatal("the run never began step 1's sampling")
		}
		return dir, waitErr, closeErr, s.submits
	}

	t.Setenv("RLT_VULKAN_LOSE_AFTER", "")
	_, waitErr, closeErr, submits := run1(t)
	if waitErr != nil || closeErr != nil {
		t.Fatalf("the stop without a loss: Wait %v, Close %v; want a clean stop", waitErr, closeErr)
	}

	t.Setenv("RLT_VULKAN_LOSE_AFTER", strconv.Itoa(submits+1))
	dir, waitErr, closeErr, _ := run1(t)
	for what, err := range map[string]error{"Wait": waitErr, "Close": closeErr} {
		if err == nil || !errors.Is(err, vulkan.ErrDeviceLost) || !strings.HasPrefix(err.Error(), "step 1") ||
			!strings.HasSuffix(err.Error(), "; "+device.ResumeOnCPU) || strings.Count(err.Error(), "--device cpu") != 1 {
			t.Errorf("%s: %v;\nwant step 1's loss of the device, ending %q", what, err, device.ResumeOnCPU)
		}
	}
	fatal := 0
	for _, e := range eventRecords(t, dir) {
		if e.Kind == sessions.KindError && e.Fatal {
			fatal++
			if e.Fault != event.FaultDevice || !strings.HasPrefix(e.Error, "step 1") {
				t.Errorf("fatal error %q recorded with fault %q, want step 1's, the device's", e.Error, e.Fault)
			}
		}
	}
	if fatal != 1 {
		t.Errorf("%d fatal errors recorded, want the device's one", fatal)
	}
	list, err := sessions.List(filepath.Dir(dir))
	if err != nil || len(list) != 1 || list[0].State != sessions.StateFailed {
		t.Errorf("listed: %+v, %v; want the run failed", list, err)
	}
	if got, want := sessions.ResumeCommand(dir), "rlt run --resume "+sessions.ShellQuote(dir)+" --device cpu"; got != want {
		t.Errorf("ResumeCommand = %q, want %q", got, want)
	}
	cks, err := sessions.Checkpoints(dir)
	if err != nil || len(cks) != 1 || cks[0].Step != 0 || cks[0].Err != nil {
		t.Fatalf("checkpoints %+v (%v), want step 0's alone, whole", cks, err)
	}
	if _, err := os.Stat(sessions.CheckpointDir(dir, 1)); !os.IsNotExist(err) {
		t.Errorf("a checkpoint of step 1 from the lost device: %v", err)
	}

	// The way on said: resume on the CPU, from step 0's checkpoint.
	t.Setenv("RLT_VULKAN_LOSE_AFTER", "")
	r, err := OpenForResume(dir, Overrides{Steps: 2, Device: "cpu"}, sessions.ProcessHeadless)
	if err != nil {
		t.Fatalf("rlt run --resume --device cpu: %v", err)
	}
	h, err := Start(context.Background(), context.Background(), r.Rec, r.Checked, r.Rec, r.Restore)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Wait(); err != nil {
		t.Errorf("the resume on the CPU: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("the resume on the CPU: Close: %v", err)
	}
	list, err = sessions.List(filepath.Dir(dir))
	if err != nil || len(list) != 1 || list[0].State != sessions.StateFinished {
		t.Errorf("after the resume on the CPU: %+v, %v; want the run finished", list, err)
	}
}
