package ui

import (
	"errors"
	"sync"

	"github.com/rlt-workbench/rlt/sessions"
)

// Launcher starts and opens runs for the Runs screen. The rlt command
// implements it with the engine (sessions/runner); the workbench itself
// never builds an engine, so it stays a view of sessions plus a few
// controls. Every method may take a while (loading models, waiting for the
// disk): the workbench calls them off its event loop.
type Launcher interface {
	// NewConfig is the resolved configuration a new run starts from, as
	// TOML: what the configuration editor opens with.
	NewConfig() ([]byte, error)
	// Check decodes and validates a configuration without starting
	// anything. Problems the user can fix in the text are
	// *sessions.ConfigError values naming their line (several are joined
	// with errors.Join); anything else is a plain error.
	Check(cfgTOML []byte) error
	// Start saves the configuration as the config.toml of a new run folder
	// and starts the engine on it. Its errors are as Check's.
	Start(cfgTOML []byte) (*sessions.Session, error)
	// Resume reopens the run folder dir for writing and continues it from
	// its latest checkpoint.
	Resume(dir string) (*sessions.Session, error)
	// OpenReadOnly opens dir for viewing only, writing nothing: one of our
	// run folders (perhaps being written by another process, which is
	// then followed live) or an official RLT trainer's run folder.
	OpenReadOnly(dir string) (*sessions.Session, error)
	// OpenForReview opens one of our run folders without training it:
	// with its lock when no other process holds it, so that reviews and
	// exports are written, else read-only, saying who holds it.
	OpenForReview(dir string) (*sessions.Session, error)
}

// opened is a Session the workbench holds, closed at most once.
type opened struct {
	*sessions.Session
	once sync.Once
	err  error
}

// close stops the engine and runs the session's Close, once.
func (o *opened) close() error {
	if o == nil || o.Session == nil {
		return nil
	}
	o.once.Do(func() {
		if o.Control != nil {
			o.Control.Stop() // after the step in progress
		}
		if o.Close != nil {
			o.err = o.Close()
		}
	})
	return o.err
}

// owned reports whether closing the session is the workbench's job.
func (o *opened) owned() bool { return o != nil && o.Session != nil && o.Close != nil }

// background tracks work done off the event loop (ending runs, switching
// runs), so that Run can wait for it and end what arrived after the
// program quit.
type background struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	pending map[*launchResult]bool // finished switches not yet taken by the model
}

func (b *background) put(r *launchResult) {
	b.mu.Lock()
	if b.pending == nil {
		b.pending = map[*launchResult]bool{}
	}
	b.pending[r] = true
	b.mu.Unlock()
}

// take reports whether r was still pending (and is now the caller's).
func (b *background) take(r *launchResult) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	ok := b.pending[r]
	delete(b.pending, r)
	return ok
}

// finish waits for the work in flight, then ends the runs switched to but
// never shown (and the previous run a failed switch opened again), and
// returns the errors nobody saw: ending the previous run's, the launch's
// own (a load stopped as the workbench quit on a signal, a refusal), which
// the Runs screen would have said and the exit dropped, leaving only the
// run folder's line, and ending the runs'.
func (b *background) finish() error {
	b.wg.Wait()
	b.mu.Lock()
	left := b.pending
	b.pending = nil
	b.mu.Unlock()
	var errs []error
	for r := range left {
		errs = append(errs, r.closeErr, launchError(r.req, r.err), r.o.close(), r.reopened.close())
	}
	return errors.Join(errs...)
}
