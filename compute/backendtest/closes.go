package backendtest

import (
	"sync/atomic"

	"github.com/rlt-workbench/rlt/compute"
)

// Closes is a Backend whose Close is counted, then passed on to the
// wrapped backend where it has one (a GPU's, as engine/device.Close calls
// it; the CPU's has none: it holds nothing to release), so that a test on
// the CPU sees whether, and how often, an engine closed its device.
// OnClose, where set, is called at each close before it is passed on (a
// test looks there at what holds at that moment). Use it by pointer.
type Closes struct {
	compute.Backend
	OnClose func()
	n       atomic.Int32
}

// Close counts the close, calls OnClose, and closes the wrapped backend.
func (c *Closes) Close() {
	c.n.Add(1)
	if c.OnClose != nil {
		c.OnClose()
	}
	if d, ok := c.Backend.(interface{ Close() }); ok {
		d.Close()
	}
}

// Count is how many times Close was called.
func (c *Closes) Count() int { return int(c.n.Load()) }
