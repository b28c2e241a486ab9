//go:build linux

package runner

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestRunsScreenLaunchLeftAtOnce: a Runs screen launch (Launcher.Start, a
// new run; Launcher.Resume) whose checks are under way when the process
// leaves at once (a first stop signal, or the workbench's quit, ended its
// load context; a second left: LeaveLaunches, as recordLeave does it)
// makes no run folder, and a resume begins no session, the run's files as
// they were, when its checks end: a *sessions.LaunchStoppedError of the
// second signal, nothing among Written. The leave comes as the launch's
// memory check reads the teacher's config.json, a FIFO served only once
// the load context has ended and LeaveLaunches has returned.
func TestRunsScreenLaunchLeftAtOnce(t *testing.T) {
	leaveLaunchesForTest(t)
	var leave atomic.Bool // leave at once too, once stop has ended the load
	left := make(chan error, 1)
	models, teacher, stop := gateMemoryCheck(t, func() {
		if leave.Load() {
			left <- LeaveLaunches(leaveWithinForTest)
		}
	})

	cfg := smallConfig(t, 1)
	cfg.Device, cfg.Teacher = "cpu", teacher
	runs, resumed := runToEnd(t, cfg)
	planOneStepMore(t, resumed)
	before := runFiles(resumed)
	data, err := sessions.EncodeTOML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	leave.Store(true)
	for _, resume := range []bool{false, true} {
		l := NewLauncher(context.Background(), runs, models)
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		l.Load = ctx
		stop.Store(&cancel)
		var s *sessions.Session
		if resume {
			s, err = l.Resume(resumed)
		} else {
			s, err = l.Start(data)
		}
		if s != nil {
			s.Close()
		}
		if stop.Load() != nil {
			t.Fatalf("resume %v: the launch checked no run's memory: %v", resume, err)
		}
		if lerr := <-left; lerr != nil {
			t.Errorf("resume %v: LeaveLaunches: %v", resume, lerr)
		}
		var launch *sessions.LaunchStoppedError
		if s != nil || !errors.As(err, &launch) || launch.Resume != resume || !errors.Is(err, sessions.SecondSignal) {
			t.Errorf("resume %v: %v; want no run and a *sessions.LaunchStoppedError of the second signal", resume, err)
		}
		if entries, err := os.ReadDir(runs); err != nil || len(entries) != 1 || entries[0].Name() != filepath.Base(resumed) {
			t.Errorf("resume %v: runs folder holds %v (%v); want only the run resumed", resume, entries, err)
		}
		if after := runFiles(resumed); !maps.Equal(after, before) {
			t.Errorf("resume %v: the run resumed has its files changed", resume)
		}
		if written := l.Written(); len(written) != 0 {
			t.Errorf("resume %v: written %q; want none", resume, written)
		}
	}
}
