package runner

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// leaveLaunchesForTest acts out LeaveLaunches (a process left at once)
// until the test ends, when the process is as before: no other test of
// this binary is left.
func leaveLaunchesForTest(t *testing.T) {
	t.Cleanup(func() {
		launches.mu.Lock()
		defer launches.mu.Unlock()
		launches.left = false
	})
}

// TestLeaveLaunches: LeaveLaunches waits for a run folder being changed
// (changing: a folder made, a resume opened or begun) until the change
// ends, and past its bound says the folder may be left as a kill leaves
// it; from then on a launch whose load context has ended changes none
// (the launches a second stop signal leaves), while one whose context is
// live still does: a leave wedges no launch it is not about. The wait is
// told by LeaveLaunches' own state (launches.idle made), not by a clock.
func TestLeaveLaunches(t *testing.T) {
	leaveLaunchesForTest(t)
	live := context.Background()
	stopped, stop := context.WithCancelCause(context.Background())
	stop(sessions.StopSignal)

	// A change under way as the process leaves: waited for.
	in, release := make(chan struct{}), make(chan struct{})
	changed := make(chan bool, 1)
	var ended bool
	go func() {
		changed <- changing(stopped, func() { // the first signal came after the change began
			close(in)
			<-release
			ended = true
		})
	}()
	<-in
	left := leaveWaitingForAChange(t, "a run folder was being changed")
	close(release)
	if err := <-left; err != nil || !ended {
		t.Errorf("LeaveLaunches: %v, the change ended %v; want nil once it ended", err, ended)
	}
	if !<-changed {
		t.Error("the change under way reported not run")
	}

	// Past its bound (none here), said.
	in, release = make(chan struct{}), make(chan struct{})
	go func() { changed <- changing(live, func() { close(in); <-release }) }()
	<-in
	if err := LeaveLaunches(0); err == nil || !strings.Contains(err.Error(), "may be left as a kill leaves it") {
		t.Errorf("LeaveLaunches past its bound: %v; want it to say the folder may be left as a kill leaves it", err)
	}
	close(release)
	<-changed

	// From then on: none of a launch stopped, one of a live launch.
	for _, c := range []struct {
		name string
		ctx  context.Context
		want bool
	}{{"stopped", stopped, false}, {"live", live, true}} {
		ran := false
		if got := changing(c.ctx, func() { ran = true }); got != c.want || ran != c.want {
			t.Errorf("a %s launch after the leave: changing %v, ran %v; want %v", c.name, got, ran, c.want)
		}
	}
}

// leaveWithinForTest bounds LeaveLaunches' wait in a test: past any time
// a loaded machine takes (the wait is told by the change's end).
const leaveWithinForTest = 1 << 62

// leaveWaitingForAChange calls LeaveLaunches and returns its result's
// channel once LeaveLaunches waits for a change of a run folder under way
// (told by its own state, launches.idle, not by a clock), failing the test
// if it returns before: while what (the change) goes on.
func leaveWaitingForAChange(t *testing.T, what string) <-chan error {
	t.Helper()
	left := make(chan error, 1)
	go func() { left <- LeaveLaunches(leaveWithinForTest) }()
	for waiting := false; !waiting; {
		launches.mu.Lock()
		waiting = launches.idle != nil
		launches.mu.Unlock()
		select {
		case err := <-left:
			t.Fatalf("LeaveLaunches returned (%v) while %s", err, what)
		default:
			runtime.Gosched()
		}
	}
	return left
}
