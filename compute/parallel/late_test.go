package parallel

import (
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

// A waker descheduled between publishing progress and waking the sleeper
// is overtaken by the sleeper's timer: the sleeper takes the progress
// itself, the late wake-up is not sent, nothing runs twice or is missed,
// and the park is counted as overtaken. Both sides: the dispatcher handing
// a parked worker its piece, and the last worker finishing while the caller
// is parked.
func TestOvertakenWakeups(t *testing.T) {
	old := Workers()
	SetWorkers(2)
	defer SetWorkers(old)
	// Longer than any park a worker idle for 2 ms can be in (1+2+4 ms of
	// doubling timers), so the sleeper's timer always fires first.
	pause := func() { time.Sleep(10 * time.Millisecond) }
	for _, side := range []struct {
		name string
		hook *atomic.Pointer[func()]
	}{{"dispatcher", &lateDispatch}, {"worker", &lateWorker}} {
		t.Run(side.name, func(t *testing.T) {
			before := OvertakenWakeups()
			strays := StrayFinishes()
			var j tallyJob
			for i := 0; i < 10; i++ {
				// Let the worker park: its spin lasts 20 µs.
				time.Sleep(2 * time.Millisecond)
				side.hook.Store(&pause)
				j.n.Store(0)
				For(1000, 1, &j)
				side.hook.Store(nil)
				if got := j.n.Load(); got != 1000 {
					t.Fatalf("call %d: %d of 1000 indices done", i, got)
				}
			}
			if OvertakenWakeups() == before {
				t.Errorf("no park was overtaken: the hook did not provoke the race it stands for")
			}
			if StrayFinishes() != strays {
				t.Errorf("%d stray finishes", StrayFinishes()-strays)
			}
		})
	}
}
