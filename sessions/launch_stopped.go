package sessions

import (
	"context"
	"fmt"
)

// LaunchStoppedError is a new run or a resume stopped before its load
// began (a stop signal, the workbench's quit): nothing of it is kept, no
// run folder for a new run, the resumed run as it was, its session not
// begun. It reads the same wherever the stop came: during the launcher's
// checks, while the run folder was made or the run opened to resume
// (sessions/runner.Launcher, and rlt run's own first run, which makes or
// opens its run by the same runner.CreateUnlessStopped and
// OpenForResumeUnlessStopped), or as the workbench quit before the launch
// began (ui). A stop once the load has begun is another thing: the folder
// is kept, recorded stopped before its first step (run.LoadStopped).
type LaunchStoppedError struct {
	Resume bool // a resume's, else a new run's
	// Removed: the new run's folder had been made as the stop came, and
	// was removed again.
	Removed bool
	Err     error // the stop: the load context's cause (StopCause), the quit's
}

func (e *LaunchStoppedError) Error() string {
	switch {
	case e.Resume:
		return fmt.Sprintf("stopped before the run was opened to resume, so it is as it was: %v", e.Err)
	case e.Removed:
		return fmt.Sprintf("stopped as its run folder was made, so it was removed again: %v", e.Err)
	}
	return fmt.Sprintf("stopped before its run folder was made, so none was: %v", e.Err)
}

func (e *LaunchStoppedError) Unwrap() error { return e.Err }

// StopCause is why a load context was ended (context.Cause; the
// commands' stop signal, the workbench's quit), said where a launch it
// stopped is said, where context.Canceled said "context canceled" of
// either. It is context.Canceled (errors.Is), by which a stop is known.
type StopCause string

// The causes of a load context's end.
const (
	StopSignal    StopCause = "a stop signal came"
	WorkbenchQuit StopCause = "the workbench quit"
	// SecondSignal: a second stop signal came while the launch's checks
	// ran (sessions/runner.LeaveLaunches), and the process left at once,
	// not waiting for them, as a second signal leaves a run that trains.
	SecondSignal StopCause = "a second stop signal came before its checks ended"
)

func (c StopCause) Error() string { return string(c) }

// Is makes a StopCause context.Canceled.
func (c StopCause) Is(target error) bool { return target == context.Canceled }

// Stopped is why ctx has ended (its cause: a StopCause where one was
// given), nil while it has not.
func Stopped(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return context.Cause(ctx)
}

// MadeHere reports whether this process's CreateWith made the run (Unmake
// removes what it made): a new run, not one opened.
func (r *Run) MadeHere() bool { return r.made != nil }
