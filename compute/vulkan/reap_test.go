package vulkan

import (
	"runtime"
	"testing"
	"time"
)

// buried counts the buffers on b's dead list.
func buried(b *Backend) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for buf := b.dead; buf != nil; buf = buf.nextDead {
		n++
	}
	return n
}

// TestFinalizersAllocateNothing drops device tensors, collects them and
// counts the process's allocations until their finalizers have put every
// buffer on the dead list: none, so a GC in the middle of another test's
// allocation count adds nothing to it. Then the buffers are still freed:
// the Backend's and the device's memory return to where they were.
func TestFinalizersAllocateNothing(t *testing.T) {
	d := openOrSkip(t)
	b := NewBackend(d)
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	const n = 64
	fewest := uint64(1 << 62)
	for try := range 5 {
		runtime.GC()
		runtime.GC()
		live := b.HeldBytes() // reaps what earlier tries left
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		held, _ := d.MemoryUse()
		// Held until all are made: a collection meanwhile would bury some,
		// and the next New reap them.
		keep := make([]any, n)
		for i := range keep {
			keep[i] = b.New("dropped", 16, 1+i%3)
		}
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		clear(keep)
		if b.live == live {
			t.Fatalf("try %d: %d tensors made and the Backend holds no more memory", try, n)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		runtime.GC()
		for deadline := time.Now().Add(30 * time.Second); buried(b) < n; runtime.Gosched() {
			if time.Now().After(deadline) {
				t.Fatalf("try %d: %d of %d dropped tensors' buffers on the dead list after 30 s", try, buried(b), n)
			}
		}
		runtime.ReadMemStats(&after)
		fewest = min(fewest, after.Mallocs-before.Mallocs)

		if got := b.HeldBytes(); got != live {
			t.Fatalf("try %d: the Backend holds %d bytes after reaping, want %d as before", try, got, live)
		}
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.MemoryUse(); got != held {
			t.Fatalf("try %d: the device holds %d bytes after reaping, want %d as before", try, got, held)
		}
		if k := buried(b); k != 0 {
			t.Fatalf("try %d: %d buffers left on the dead list after reaping", try, k)
		}
	}
	// The fewest of several tries: the runtime may allocate now and then
	// for itself (a park's sudog, a GC worker), and that only adds.
	if fewest != 0 {
		t.Errorf("collecting %d dropped tensors allocated %d times at the fewest; want 0", n, fewest)
	}
}
