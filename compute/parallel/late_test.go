package parallel

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lateJob counts the indices it ran. In odd calls the caller's own piece is
// the slow one (the caller then returns without parking, as the late worker
// sleeps); in even calls the worker's piece is slow, so a stale wake-up would
// let the caller return before it is done.
type lateJob struct {
	call int
	n    atomic.Int64
}

func (j *lateJob) Run(lo, hi int) {
	switch {
	case j.call%2 == 1 && lo == 0:
		time.Sleep(100 * time.Microsecond)
	case j.call%2 == 0 && lo > 0:
		time.Sleep(3 * time.Millisecond)
	}
	j.n.Add(int64(hi - lo))
}

// A worker delayed between finishing its piece and looking at the caller's
// state must not wake a later call early: every call must see all of its
// pieces done when it returns.
func TestLateWorkerCannotWakeTheNextCall(t *testing.T) {
	old := Workers()
	SetWorkers(2)
	defer SetWorkers(old)
	late := func() {
		time.Sleep(2 * time.Millisecond) // long enough for the caller to return and park in the next call
	}
	var j lateJob
	for i := 1; i <= 40; i++ {
		j.call = i
		j.n.Store(0)
		if i%2 == 1 {
			lateWorker.Store(&late)
		} else {
			lateWorker.Store(nil)
		}
		For(1000, 1, &j)
		if got := j.n.Load(); got != 1000 {
			t.Fatalf("call %d returned with %d of 1000 indices done", i, got)
		}
	}
	lateWorker.Store(nil)
}

// tallyJob counts the indices it ran.
type tallyJob struct{ n atomic.Int64 }

func (j *tallyJob) Run(lo, hi int) { j.n.Add(int64(hi - lo)) }

// gatedJob counts the indices it ran; where gate is set, the worker's
// piece waits for it to close before it runs.
type gatedJob struct {
	t    *testing.T
	gate chan struct{}
	n    atomic.Int64
}

func (j *gatedJob) Run(lo, hi int) {
	if lo > 0 && j.gate != nil {
		awaitClosed(j.t, "the caller's park", j.gate)
	}
	j.n.Add(int64(hi - lo))
}

// hangGuard bounds a wait of TestOvertakenWakeups for what another
// goroutine does: a bound on a hang only, past which the test fails
// saying what never came.
const hangGuard = time.Minute

// await waits until cond holds; past hangGuard it fails the test saying
// what never came, and returns.
func await(t *testing.T, what string, cond func() bool) {
	for deadline := time.Now().Add(hangGuard); !cond(); time.Sleep(20 * time.Microsecond) {
		if time.Now().After(deadline) {
			t.Errorf("%s never came within %v", what, hangGuard)
			return
		}
	}
}

// awaitClosed waits until ch is closed, as await.
func awaitClosed(t *testing.T, what string, ch chan struct{}) {
	select {
	case <-ch:
	case <-time.After(hangGuard):
		t.Errorf("%s never came within %v", what, hangGuard)
	}
}

// A waker descheduled between publishing progress and waking the sleeper
// is overtaken by the sleeper's timer: the sleeper takes the progress
// itself, the late wake-up is not sent, nothing runs twice or is missed,
// and the park is counted as overtaken. Both sides: the dispatcher handing
// a parked worker its piece, and the last worker finishing while the caller
// is parked. Every call is made so, by gates, not by a clock: the sleeper
// is held as it parks (parking) until the progress it waits for is made,
// and the waker (lateDispatch, lateWorker) until the sleeper has taken it
// itself. (Slept 2 ms for the sleeper to park and paused the waker 10 ms,
// the test failed where a loaded machine ran neither in time in all of
// its 10 calls: 'no park was overtaken'.)
func TestOvertakenWakeups(t *testing.T) {
	old := Workers()
	SetWorkers(2)
	defer SetWorkers(old)
	j := &gatedJob{t: t}
	For(1000, 1, j) // the pool's worker is made
	p := thePool
	worker := p.workers[0]
	for _, side := range []struct {
		name string
		late *atomic.Pointer[func()] // the waker's hook
		// hooks makes one call's hooks: hold, run as the sleeper parks,
		// holds it until the progress it waits for is made; late holds
		// the waker until the sleeper has taken that itself. parked is
		// closed once the sleeper is held.
		hooks func(t *testing.T, parked chan struct{}) (hold func(wake chan struct{}), late func())
		gated bool // the worker's piece waits for the caller's park
	}{
		{"dispatcher", &lateDispatch, func(t *testing.T, parked chan struct{}) (func(chan struct{}), func()) {
			var once sync.Once
			hold := func(wake chan struct{}) {
				if wake == worker.wake {
					once.Do(func() {
						close(parked)
						await(t, "the worker's piece", func() bool { return worker.seq.Load() != worker.seen.Load() })
					})
				}
			}
			// Taken, the piece is the worker's last seen (its state
			// alone would not do: back to parked at once, its piece
			// done).
			late := func() {
				await(t, "the worker taking its piece itself", func() bool { return worker.seen.Load() == worker.seq.Load() })
			}
			return hold, late
		}, false},
		{"worker", &lateWorker, func(t *testing.T, parked chan struct{}) (func(chan struct{}), func()) {
			var once sync.Once
			var parkedAt uint64 // the caller's state as it parks: this call's
			hold := func(wake chan struct{}) {
				if wake == p.callerWake {
					once.Do(func() {
						parkedAt = p.callerState.Load()
						close(parked)
						await(t, "the worker's finish", p.done)
					})
				}
			}
			// Taken, the caller's state is no longer this call's parked
			// one (the caller may have returned and parked in a next).
			late := func() {
				await(t, "the caller taking the finish itself", func() bool { return p.callerState.Load() != parkedAt })
			}
			return hold, late
		}, true},
	} {
		t.Run(side.name, func(t *testing.T) {
			j.t = t
			strays := StrayFinishes()
			for i := 0; i < 10; i++ {
				parked := make(chan struct{})
				hold, late := side.hooks(t, parked)
				parking.Store(&hold)
				j.gate = nil
				if side.gated {
					j.gate = parked // the caller parks before the worker's piece runs
				} else {
					awaitClosed(t, "the worker's park", parked) // the worker parks before the call
				}
				side.late.Store(&late)
				before := OvertakenWakeups()
				j.n.Store(0)
				For(1000, 1, j)
				side.late.Store(nil)
				parking.Store(nil)
				if got := j.n.Load(); got != 1000 {
					t.Fatalf("call %d: %d of 1000 indices done", i, got)
				}
				if OvertakenWakeups() == before {
					t.Errorf("call %d: its park was not counted overtaken", i)
				}
			}
			if StrayFinishes() != strays {
				t.Errorf("%d stray finishes", StrayFinishes()-strays)
			}
		})
	}
}
