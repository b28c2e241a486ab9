package sessions

import "strings"

// The tests ask a Run for State's note apart from StateGone, which is all
// the workbench asks: the note is the listing's (runState). What the
// session gone without closing the run had done is StateGone's gone, the
// one derivation: asked of a run this process holds to resume it (which
// reads resuming), as the run reads once run.lock is free, it is
// stateGone's of a free lock.

// State is StateGone's state and interrupted, and the note the Runs
// screen lists the run with (runState's notes, joined as List joins them).
func (r *Run) State() (state RunState, note string, interrupted bool) {
	v := r.state()
	return v.state, strings.Join(v.notes, "; "), v.interrupted
}
