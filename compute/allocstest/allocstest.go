// Package allocstest counts a function's heap allocations in a test so
// that the count is the function's own. testing.AllocsPerRun counts the
// mallocs of the whole process, and now and then a measurement also counts
// some that are not f's: the runtime's sudogs for the parallel pool's
// parks, whose central cache every GC empties; a thread the scheduler
// starts on a loaded machine; finalizers run after a GC (device tensors'
// allocate nothing since compute/vulkan's dead list became intrusive, but
// any other's may). Such allocations only ever add to a count, so Fewest
// takes the fewest of several measurements with the collector off
// meanwhile, so that none queues finalizers or empties the caches. An
// allocation that f makes
// on every call is in every measurement, the fewest included. It imports
// no package of the module, so any package's tests may use it.
package allocstest

import (
	"runtime/debug"
	"testing"
)

// Tries is how many measurements Fewest takes.
const Tries = 8

// Fewest returns the fewest allocations per call of f among Tries
// measurements of testing.AllocsPerRun(runs, f) (each calls f once more to
// warm up), with the garbage collector off throughout.
func Fewest(runs int, f func()) float64 {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	fewest := testing.AllocsPerRun(runs, f)
	for range Tries - 1 {
		fewest = min(fewest, testing.AllocsPerRun(runs, f))
	}
	return fewest
}
