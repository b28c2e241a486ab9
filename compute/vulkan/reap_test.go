package vulkan

import (
	"runtime"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
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
		if b.d.backendBytes == live {
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

// TestFreeGivesBackBackendBytes: a Backend's tensor freed by Device.Free
// leaves its HeldBytes (and room under its memory limit) at once, and its
// finalizer, coming later, takes nothing off a second time. Free left
// the bytes counted for good: a tensor as large again was refused under a
// limit that the freed one had fitted.
func TestFreeGivesBackBackendBytes(t *testing.T) {
	d := openOrSkip(t)
	b := NewBackend(d)
	runtime.GC()
	runtime.GC()
	before := b.HeldBytes()
	kept := b.New("kept", 16)
	freed := b.New("freed", 64, 64)
	size := bytesOf(compute.F32, 64*64)
	held := b.HeldBytes()
	if held != before+bytesOf(compute.F32, 16)+size {
		t.Fatalf("the Backend holds %d bytes with two tensors made, want %d", held, before+bytesOf(compute.F32, 16)+size)
	}
	b.SetMemoryLimit(held)

	d.Free(freed.Storage().(*Tensor))
	if got := b.HeldBytes(); got != held-size {
		t.Fatalf("the Backend holds %d bytes after Free of %d, want %d", got, size, held-size)
	}
	again := b.New("again", 64, 64) // fits where the freed one was
	if err := b.Err(); err != nil {
		t.Fatalf("a tensor as large as the freed one, under the limit it fitted: %v", err)
	}
	d.Free(again.Storage().(*Tensor))

	// The freed tensors' finalizers bury their buffers; reaping them takes
	// nothing more off.
	freed, again = nil, nil
	runtime.GC()
	for deadline := time.Now().Add(30 * time.Second); buried(b) < 2; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 freed tensors' buffers on the dead list after 30 s", buried(b))
		}
	}
	if got := b.HeldBytes(); got != held-size {
		t.Fatalf("the Backend holds %d bytes once the freed tensors are collected, want %d", got, held-size)
	}
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(kept)
}
