package runner

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestLeaveWaitsForAStoppedRunsRemoval: a new run stopped after it was
// made and before its load's first look is removed again
// (stoppedSinceMade) as a launch's change of its folder: a process that
// leaves at once on a second signal meanwhile (LeaveLaunches) waits for
// the removal, and the folder is gone once it returns; the process ended
// partway through it, a folder half removed said as one to continue. A
// run so stopped after the leave is not removed (Start): it is the
// leave's to record (sessions.LeaveAll), the launch's error a second
// signal's. The removal is held at its start (removeStopped) and the wait
// told by LeaveLaunches' own state (launches.idle), not by a clock.
func TestLeaveWaitsForAStoppedRunsRemoval(t *testing.T) {
	leaveLaunchesForTest(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 1)
	cfg.Device = "cpu"
	runs := t.TempDir()
	made := func() (*sessions.Run, context.Context) {
		t.Helper()
		ctx, stop := context.WithCancelCause(context.Background())
		rec, _, err := CreateUnlessStopped(ctx, runs, mustCheck(t, cfg), sessions.ProcessHeadless)
		if err != nil {
			t.Fatal(err)
		}
		stop(sessions.StopSignal) // after the launch's last look
		return rec, ctx
	}
	t.Cleanup(func() { removeStopped = unmake })

	rec, ctx := made()
	in, release := make(chan struct{}), make(chan struct{})
	removeStopped = func(rec *sessions.Run, stop error) error {
		close(in)
		<-release
		return unmake(rec, stop)
	}
	ended := make(chan error, 1)
	go func() { ended <- Headless(ctx, rec, mustCheck(t, cfg), Fresh, io.Discard) }()
	<-in
	left := leaveWaitingForAChange(t, "the stopped run's folder was being removed")
	close(release)
	if err := <-left; err != nil {
		t.Errorf("LeaveLaunches: %v; want nil once the removal ended", err)
	}
	if entries, err := os.ReadDir(runs); err != nil || len(entries) != 0 {
		t.Errorf("once LeaveLaunches returned, the runs folder holds %v (%v); want the run removed", entries, err)
	}
	var launch *sessions.LaunchStoppedError
	if err := <-ended; !errors.As(err, &launch) || !launch.Removed || !errors.Is(err, sessions.StopSignal) {
		t.Errorf("Headless: %v; want the run stopped as it was made, removed again", err)
	}

	// After the leave: kept for the leave to record.
	rec, ctx = made()
	defer rec.Close()
	removeStopped = func(rec *sessions.Run, stop error) error {
		t.Error("a stopped run was removed after the process left")
		return unmake(rec, stop)
	}
	h, err := Start(ctx, context.Background(), rec, mustCheck(t, cfg), rec, Fresh)
	if h != nil {
		h.Close()
	}
	if !errors.As(err, &launch) || launch.Removed || !errors.Is(err, sessions.SecondSignal) {
		t.Errorf("Start after the leave: %v; want the launch left by a second signal, its folder kept", err)
	}
	if _, err := os.Stat(filepath.Join(rec.Dir(), sessions.ConfigFile)); err != nil {
		t.Errorf("after the leave, the stopped run's folder is not kept: %v", err)
	}
}
