package runner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rlt-workbench/rlt/sessions"
)

// launches is what this process's launches (CreateUnlessStopped,
// OpenForResumeUnlessStopped) do to their run folders, for a process that
// leaves at once (LeaveLaunches).
var launches struct {
	mu     sync.Mutex
	left   bool          // LeaveLaunches was called: no run folder is changed from now on
	active int           // launches changing a run folder now (changing)
	idle   chan struct{} // closed once active is 0 again, where LeaveLaunches waits for it
}

// changing runs change, the step of a launch that changes its run folder
// (a new run's folder made, and removed again where its stop came
// meanwhile; a resumed run's lock taken and its files repaired as it is
// opened; its session begun), unless this process leaves at once
// (LeaveLaunches) and the launch's load context (stop) has ended: then it
// runs nothing and reports false. A step that began first is waited for
// by LeaveLaunches, so that the process never ends halfway through one.
// The leave comes on a second stop signal, after the first ended every
// launch's load context; one not ended is none the leave is about (a
// test's, in a process that acted a leave out before).
func changing(stop context.Context, change func()) bool {
	launches.mu.Lock()
	if launches.left && sessions.Stopped(stop) != nil {
		launches.mu.Unlock()
		return false
	}
	launches.active++
	launches.mu.Unlock()
	defer func() {
		launches.mu.Lock()
		defer launches.mu.Unlock()
		if launches.active--; launches.active == 0 && launches.idle != nil {
			close(launches.idle)
			launches.idle = nil
		}
	}()
	change()
	return true
}

// LeaveLaunches is for a process that leaves at once on a second stop
// signal while runs are launched (rlt run's first run made or opened to
// resume, the Runs screen's launches): no launch changes a run folder from
// then on, and one that is changing it is waited for, at most within.
// Their checks are not waited for (a hung disk, a large data file, a
// device that does not answer): the second signal is how the user leaves
// one that takes too long, where it waited for them with its signals no
// longer caught, and only a third ended the process. So a new run's
// folder is made no more, or, being made, is removed again as the first
// signal's stop has it (CreateUnlessStopped); a resumed run is opened no
// more, or, opened, its session is not begun: it is left as it was found
// by its session's leave (sessions.LeaveAll, after this), which puts back
// its run.lock. Past within, the error says the run folder may be left as
// a kill leaves it.
func LeaveLaunches(within time.Duration) error {
	launches.mu.Lock()
	launches.left = true
	if launches.active == 0 {
		launches.mu.Unlock()
		return nil
	}
	if launches.idle == nil {
		launches.idle = make(chan struct{})
	}
	idle := launches.idle
	launches.mu.Unlock()
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case <-idle:
		return nil
	case <-timer.C:
		return fmt.Errorf("a run folder being made or opened to resume was still being written %v after the second stop signal (a hung disk?): it may be left as a kill leaves it; "+sessions.Program()+" sessions lists it", within)
	}
}
