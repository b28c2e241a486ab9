package vulkan

import (
	"errors"
	"runtime"
	"strings"
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

// finalizerHangGuard bounds a wait for the finalizers of collected
// tensors, which the runtime runs on its own goroutine when it is
// scheduled: a bound on a hang only, past which the test fails saying
// which never ran. At 30 s a loaded machine (CI's two cores running test
// binaries side by side) could reach it where nothing hung.
const finalizerHangGuard = 2 * time.Minute

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
		for deadline := time.Now().Add(finalizerHangGuard); buried(b) < n; runtime.Gosched() {
			if time.Now().After(deadline) {
				t.Fatalf("try %d: the finalizers of %d of %d dropped tensors never put their buffers on the dead list (%v after a collection)", try, n-buried(b), n, finalizerHangGuard)
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
	// The limit counts all the device holds; the device is shared, so
	// it is lifted when the test ends. With no batch open, Free frees at
	// once: the device's memory comes back with the Backend's bytes, and
	// New takes no way round through a collection that would reap the
	// freed tensor's buffer before it is counted below.
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	devHeld, _ := d.MemoryUse()
	b.SetMemoryLimit(devHeld)
	t.Cleanup(func() { b.SetMemoryLimit(0) })

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
	for deadline := time.Now().Add(finalizerHangGuard); buried(b) < 2; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("the finalizers of %d of 2 freed tensors never put their buffers on the dead list (%v after a collection)", 2-buried(b), finalizerHangGuard)
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

// TestMemoryLimitCountsEverything: under SetMemoryLimit the device never
// holds more device memory than the limit without failing as a device that
// small fails, out of memory, naming the device and the CPU as the way on.
// The limit counted the Backend's tensors alone, so the fused head's chunk
// of logits (the Backend's scratch), the Device's scratch slots and the
// device copies NewRoPETable made its tables from passed it unrefused, and
// a model whose weights fitted the limit ran past it. Each op runs twice,
// on a device of its own each time: unlimited, for the device memory it
// adds at its peak (peak) and in the Backend's tensors it leaves (kept),
// then under a limit halfway between the two beyond what is held before it.
func TestMemoryLimitCountsEverything(t *testing.T) {
	openOrSkip(t)
	const rows, dm, vocab = 64, 16, 512
	cases := []struct {
		name string
		// prepare makes the op's inputs, before the limit; the op it
		// returns runs under it.
		prepare func(b *Backend) func()
	}{
		{"RoPE tables", func(b *Backend) func() {
			return func() { b.NewRoPETable(256, 64, 10000) }
		}},
		{"the fused head's logits", func(b *Backend) func() {
			h, w := b.New("h", rows, dm), b.New("w", vocab, dm)
			lp, lse := b.New("lp", rows, 1), b.New("lse", rows, 1)
			targets := make([]int32, rows)
			return func() { b.HeadLogProbs(lp, lse, nil, h, w, vocab, targets, 1) }
		}},
		{"a scratch slot (Argmax's ids)", func(b *Backend) func() {
			x := b.New("x", 8192, 2)
			out := make([]int32, 8192)
			return func() { b.Argmax(out, x) }
		}},
	}
	open := func(t *testing.T) (*Backend, *Device) {
		t.Helper()
		d, err := Open()
		if err != nil {
			t.Fatal(err)
		}
		b := NewBackend(d)
		t.Cleanup(b.Close)
		return b, d
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, d := open(t)
			op := c.prepare(b)
			if err := d.Flush(); err != nil {
				t.Fatal(err)
			}
			before, _ := d.MemoryUse()
			tensors := b.HeldBytes()
			op()
			if err := d.Flush(); err != nil {
				t.Fatal(err)
			}
			_, top := d.MemoryUse()
			peak, kept := top-before, b.HeldBytes()-tensors
			t.Logf("unlimited: %d bytes held before, %d more at the peak, %d kept in the Backend's tensors", before, peak, kept)

			b, d = open(t)
			op = c.prepare(b)
			if err := d.Flush(); err != nil {
				t.Fatal(err)
			}
			held, _ := d.MemoryUse()
			limit := held + kept + (peak-kept)/2
			b.SetMemoryLimit(limit)
			op()
			err := d.Flush()
			_, top = d.MemoryUse()
			var ve *Error
			switch {
			case err == nil && top > limit:
				t.Errorf("under a limit of %d bytes the device held %d, unrefused", limit, top)
			case err == nil && peak != kept:
				t.Errorf("under a limit of %d bytes, %d below what the op held at its peak, it ran", limit, peak-(limit-held))
			case err != nil && (!errors.As(err, &ve) || ve.Kind != ErrOutOfMemory || !strings.Contains(err.Error(), d.Info().Name) || !strings.Contains(err.Error(), ComputeOnCPU)):
				t.Errorf("under the limit: %v; want out of memory naming the device and the CPU as the way on", err)
			case err != nil && peak == kept:
				t.Errorf("under a limit its tensors fit: %v", err)
			default:
				t.Logf("under a limit of %d bytes: %v", limit, err)
			}
		})
	}
}
