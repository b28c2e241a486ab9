package sessions

import "fmt"

// LaunchStoppedError is a new run or a resume stopped before its load
// began (a stop signal, the workbench's quit): nothing of it is kept, no
// run folder for a new run, the resumed run as it was, its session not
// begun. It reads the same wherever the stop came: during the launcher's
// checks, while the run folder was made or the run opened to resume
// (sessions/runner.Launcher), or as the workbench quit before the launch
// began (ui). A stop once the load has begun is another thing: the folder
// is kept, recorded stopped before its first step (run.LoadStopped).
type LaunchStoppedError struct {
	Resume bool // a resume's, else a new run's
	// Removed: the new run's folder had been made as the stop came, and
	// was removed again.
	Removed bool
	Err     error // the stop: the load context's error, the quit's
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
