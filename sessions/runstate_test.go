package sessions

import "strings"

// The tests ask a Run for State's note and for Gone's words apart from
// StateGone, which is all the workbench asks: the note is the listing's
// (runState), and Gone answers also while a live session holds the run,
// of the session gone before it.

// State is StateGone's state and interrupted, and the note the Runs
// screen lists the run with (runState's notes, joined as List joins them).
func (r *Run) State() (state RunState, note string, interrupted bool) {
	v := r.state()
	return v.state, strings.Join(v.notes, "; "), v.interrupted
}

// Gone is what StateGone says of the session gone without closing the
// run, read apart from runState: from the events' last training session
// as it would be gone were run.lock free (uncleanExit(false)), so that it
// answers also while a session that holds the run checks whether it can
// resume it (State: resuming), and from run.lock read by runState's rule
// (lockLeftBehind). "": no session that trained the run is open or gone
// unclosed.
func (r *Run) Gone() string { return r.gone(r.lockView()) }

// gone is Gone of run.lock as lockView says it.
func (r *Run) gone(held bool, holder LockInfo, probeErr error) string {
	r.evMu.Lock()
	defer r.evMu.Unlock()
	s, unclean, _ := r.ev.uncleanExit(false)
	if !unclean {
		return ""
	}
	lockLeft := lockLeftBehind(held, holder, probeErr)
	pid := s.pid
	if pid == 0 && lockLeft {
		pid = holder.PID // as runState reads it: events written before they named their process
	}
	return goneNote(s, r.recordedLocked(s.seg), 0, goneUnproven(lockLeft, holder, pid))
}
