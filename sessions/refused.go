package sessions

import "fmt"

// RequestError is a request about one run folder refused (resume it, open
// it, start it): its text names the request and the folder first
// ("resume runs/X: …"), so that a caller saying the request itself can
// show the error alone (LeadingRequest) rather than name them twice.
type RequestError struct {
	Op  string // "resume", "open", "start"
	Dir string // the folder as the request gave it
	Err error
}

// Refused is the RequestError of op on dir failing with err.
func Refused(op, dir string, err error) error {
	return &RequestError{Op: op, Dir: dir, Err: err}
}

// Refusedf is Refused with the error made by fmt.Errorf.
func Refusedf(op, dir, format string, args ...any) error {
	return Refused(op, dir, fmt.Errorf(format, args...))
}

func (e *RequestError) Error() string { return e.Op + " " + e.Dir + ": " + e.Err.Error() }

func (e *RequestError) Unwrap() error { return e.Err }

// LeadingRequest is the RequestError whose text begins err's text: err
// itself, or the first of errors.Join's errors (a refusal joined with
// what opening noted), else nil.
func LeadingRequest(err error) *RequestError {
	for err != nil {
		switch e := err.(type) {
		case *RequestError:
			return e
		case interface{ Unwrap() []error }:
			errs := e.Unwrap()
			if len(errs) == 0 {
				return nil
			}
			err = errs[0]
		default:
			return nil
		}
	}
	return nil
}

// NothingToRunError is a resume refused because the run has done the
// steps its configuration (with --steps over it) plans; the run is left as
// it was.
type NothingToRunError struct {
	Done, LastStep, Planned int // steps done, the latest checkpoint's step, steps planned
}

// NothingToRun reports whether a run whose configuration plans planned
// steps (0: open-ended) has nothing to run from its checkpoint of step
// ckStep (steps numbered from 0): the one rule by which a resume is
// refused (NothingToRunError) and by which the command said to continue a
// run asks for more steps (ResumeCommand) and the Runs screen refuses its
// r (NothingLeftToRun).
func NothingToRun(planned, ckStep int) bool {
	return planned > 0 && planned <= ckStep+1
}

func (e *NothingToRunError) Error() string {
	planned := fmt.Sprintf("%d are", e.Planned)
	if e.Planned == 1 {
		planned = "1 is"
	}
	return fmt.Sprintf("it has done %s (its latest checkpoint is after step %d), and %s planned: nothing to run",
		countOf(e.Done, "step"), e.LastStep, planned)
}
