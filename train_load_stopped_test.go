package main

import (
	"context"
	"errors"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
)

// TestTrainClosesTheDeviceOfALoadEndedBySignal: rlt train whose signal
// came as its models' load ended, after its last tensor (runpkg.New
// returned its engine, no error, and the context was cancelled), stops
// as a load the signal stopped does (trainLoadStopped: loadStopped's
// line), and closes the engine's device, as New closes it on a load the
// signal stopped: it was left open, on a GPU the models' memory held
// until the process exited. A load no signal stopped, or one that failed
// on its own, is not said as stopped, and its device is left to the
// train (New closed a failed load's).
func TestTrainClosesTheDeviceOfALoadEndedBySignal(t *testing.T) {
	closed := &backendtest.Closes{Backend: compute.NewCPU()}
	e := &runpkg.Engine{Backend: closed}
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	want := "stopped by a signal before its first step, while the models loaded: nothing was written; to train, run the same command again"
	if err := trainLoadStopped(stopped, e, nil); err == nil || err.Error() != want {
		t.Errorf("a signal as the load ended: %v; want %q", err, want)
	}
	if n := closed.Count(); n != 1 {
		t.Errorf("the engine's device was closed %d times; want once", n)
	}
	if err := trainLoadStopped(context.Background(), e, nil); err != nil {
		t.Errorf("a load with no signal: %v; want none", err)
	}
	if err := trainLoadStopped(stopped, nil, errors.New("corrupt")); err != nil {
		t.Errorf("a load that failed on its own under a signal: %v; want none (its own error is said)", err)
	}
	if n := closed.Count(); n != 1 {
		t.Errorf("the device was closed %d times in all; want once, by the load the signal ended", n)
	}
}
