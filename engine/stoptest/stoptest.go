// Package stoptest stops a context at a chosen point of the work that
// watches it, for tests of stops (a signal during a model's load, a
// resume's restore): the work looks at the context's Err before each
// tensor (and each part of a large one), so counting the looks puts the
// stop exactly where a test wants it, with no clock involved. A read can
// be held so too (unix): a model folder's config.json as a FIFO
// (GatedModel), served once the test has done what it does as its reader
// waits (ServeFIFO), the reader found by the goroutines' stacks (Stacks).
// It imports no package of the module, so any package's tests may use
// it; only tests import it (go list -deps . names it not), so none of it
// is in rlt.
package stoptest

import (
	"context"
	"runtime"
)

// OnLook is Context, but its N-th look at Err calls Cancel first (Cancel
// ends Context, or a context above it), so that look and every later one
// sees the stop.
type OnLook struct {
	context.Context
	N      int
	Cancel context.CancelFunc
}

// Err counts the look and cancels on the N-th.
func (c *OnLook) Err() error {
	if c.N--; c.N == 0 {
		c.Cancel()
	}
	return c.Context.Err()
}

// Stacks is the stacks of all goroutines, as a panic prints them: a blank
// line between two. A test finds where the work it stops is by them (a
// FIFO's reader: ServeFIFO); they hold every goroutine of the process, so
// such a test runs alone (no t.Parallel).
func Stacks() []byte {
	buf := make([]byte, 64<<10)
	for {
		if n := runtime.Stack(buf, true); n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}
