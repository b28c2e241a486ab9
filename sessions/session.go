package sessions

import (
	"errors"
	"path/filepath"
)

// Controller steers the engine that drives a run from another goroutine:
// the workbench's run controls. engine/run's Engine implements it; sessions
// and the UI only hold it, so neither needs the engine.
type Controller interface {
	Pause()
	Resume()
	Stop()
	CheckpointNow()
}

// Session is a run opened for the workbench: its record and, when an
// engine drives it from this process, the engine's controls. The rlt
// command's launcher (sessions/runner) makes them; the UI shows them.
type Session struct {
	Run     *Run
	Control Controller // nil: no engine drives the run from here
	// Steps is how many steps the run is to take, 0 = open-ended or not
	// known (the header's N/M and ETA); an imported run's are what its
	// trainer's files state (ImportSource.PlannedSteps).
	Steps int
	// ReadOnly refuses reviews and exports even if Run is writable (an
	// imported copy of another trainer's folder); a Run opened with
	// OpenReadOnly is read-only anyway.
	ReadOnly bool
	// FollowsTrainer: Run is a copy of another trainer's folder that a
	// follower appends to as the trainer writes (OpenTrainerRun). Its
	// done phase comes only from a trainer whose files state the planned
	// steps, once they are done; until then the run is being followed, and
	// nothing says whether the trainer still runs.
	FollowsTrainer bool
	// Close ends the session: it stops the engine after the step in
	// progress, waits for it, writes the final checkpoint and closes the
	// run. The workbench calls it once, when it switches to another run
	// or quits. nil: the workbench only asks Control to stop and leaves the
	// rest to its caller.
	Close func() error
	// Notes are what opening repaired or noticed; the workbench shows them.
	Notes []string
	// Problems are what is wrong with the run that opening found but
	// could show anyway: a config.toml that does not decode strictly (a
	// *ConfigError naming its line; Settings are then not Known), … The
	// problems view lists them with the store's issues; the run stays
	// browsable.
	Problems []error
}

// IsReadOnly reports whether the session refuses writes (reviews, exports).
func (s *Session) IsReadOnly() bool {
	return s != nil && (s.ReadOnly || (s.Run != nil && s.Run.ReadOnly()))
}

// Settings are the settings of the run opened (Run.Settings: read
// leniently), but not Known where opening found its config.toml not to
// decode strictly: a *ConfigError on config.toml, or on no file, among
// Problems (wrapped or joined), other than an unknown key, which leaves
// them Known and UnknownKeys set (UnknownKeys: passed over, as rlt score
// --run passes over it). Such a run is shown without
// its settings and resuming it is refused; the values read leniently are
// not claimed as the run's, as an edited file's coefficients may not be
// the ones it trained with. The fields stay as read (the task, the
// models): Known says whether to claim them. With no Run, they are the
// defaults, not Known.
func (s *Session) Settings() Settings {
	if s == nil || s.Run == nil {
		return ParseSettings(nil)
	}
	st := s.Run.Settings()
	for _, err := range s.Problems {
		for _, ce := range configErrors(err) {
			switch {
			case ce.File != "" && filepath.Base(ce.File) != ConfigFile:
			case ce.UnknownKey():
				// Passed over, the rest read, as rlt score --run reads
				// the run (UnknownKeys, the one rule): its coefficients
				// are claimed where the CLI scores with them. Only the
				// resume refuses it.
				st.UnknownKeys = true
			default:
				st.Known = false
			}
		}
	}
	return st
}

// configErrors are the *ConfigErrors err holds, wrapped ("open run X:
// %w") or joined (DecodeStrict's), each one.
func configErrors(err error) []*ConfigError {
	var out []*ConfigError
	for _, p := range problemLeaves(err) {
		if ce, ok := p.(*ConfigError); ok {
			out = append(out, ce)
		}
	}
	return out
}

// problemLeaves are the problems err holds, unwrapped ("open run X: %w")
// and each of a join apart, down to a *ConfigError or an error that
// wraps nothing.
func problemLeaves(err error) []error {
	switch e := err.(type) {
	case nil:
		return nil
	case *ConfigError:
		return []error{e}
	case interface{ Unwrap() []error }:
		var out []error
		for _, u := range e.Unwrap() {
			out = append(out, problemLeaves(u)...)
		}
		return out
	}
	if u := errors.Unwrap(err); u != nil {
		return problemLeaves(u)
	}
	return []error{err}
}
