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
