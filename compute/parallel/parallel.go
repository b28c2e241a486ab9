// Package parallel is the process-wide persistent worker pool for data-parallel
// loops over an index range.
//
// There is one pool for the whole process. For splits [0,n) into at most
// Workers() contiguous pieces; the calling goroutine runs the first piece
// itself and Workers()-1 long-lived goroutines run the others. Workers spin
// briefly (up to 20 µs, yielding to other goroutines now and then) after
// finishing a piece, so back-to-back calls are dispatched without a scheduler
// wake-up, and then park on a channel: an idle pool burns no CPU. The caller
// waits for the workers the same way. Measured on the 2-core machine kind
// (BenchmarkForDispatch, BenchmarkForDispatchCold): 0.2–1 µs per For when
// the workers are spinning, 10–30 µs when they had parked.
//
// Re-entrancy and concurrency: the pool serves one For at a time. A For that
// finds the pool busy — a nested call made from inside a Job, or a call from
// another goroutine while one is in flight — does not wait: it runs the whole
// range serially on its own goroutine. This can never deadlock, and the
// caller that owns the pool is not slowed down by the second caller.
//
// For allocates nothing in steady state: pass a pointer to a preallocated
// struct implementing Job (a pointer in an interface does not allocate).
//
// A panic inside a Job running on a worker is recovered there and re-raised
// on the goroutine that called For, after all pieces have finished.
package parallel

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Job is a unit of data-parallel work over an index range.
type Job interface{ Run(lo, hi int) }

// spinTime bounds the busy-wait before a worker (waiting for work) or the
// caller (waiting for the workers) parks on a channel. Gaps between the
// parallel loops of one training step are mostly shorter than this, so they
// are handed over without a scheduler wake-up (about 1 µs instead of ~10 µs);
// an idle pool stops spinning after this long.
const spinTime = 20 * time.Microsecond

// spinCheck is how many polls pass between reading the clock.
const spinCheck = 128

// spinner tracks one busy-wait.
type spinner struct {
	i     int
	start time.Time
}

// more reports whether to keep spinning; it yields the processor now and
// then so that other goroutines on a busy machine are not starved.
func (s *spinner) more() bool {
	s.i++
	if s.i%spinCheck != 0 {
		return true
	}
	if s.i == spinCheck {
		s.start = time.Now()
		return true
	}
	if s.i%(spinCheck*32) == 0 {
		runtime.Gosched()
	}
	return time.Since(s.start) < spinTime
}

const (
	stateRunning = 0 // awake: spinning or working
	stateParked  = 1 // asleep (or about to be) on its wake channel
)

type worker struct {
	// seq is bumped by the dispatcher to hand this worker a new piece.
	seq   atomic.Uint64
	state atomic.Int32
	wake  chan struct{}
	job   Job
	lo    int
	hi    int
	gen   uint32 // the For call the piece belongs to
	timer *time.Timer
	seen  atomic.Uint64 // the last seq the worker took (for stall reports)
	_     [64]byte      // keep workers on separate cache lines
}

type pool struct {
	busy    atomic.Int32 // 1 while a For owns the pool
	workers []*worker    // grown only while busy is held

	// pending is gen<<32 | pieces handed out and not yet finished. Carrying
	// the call's generation makes a finish that does not belong to the call
	// in flight (late, or a repeat) unable to count against it: a training
	// run once stalled with this count at −1.
	pending atomic.Uint64
	// callerState is gen<<1 | parked bit of the For caller. Carrying the
	// call's generation matters: a worker can be preempted between its last
	// pending decrement and its look at callerState, long enough for the
	// caller to return and park in the next call; comparing generations
	// keeps such a late worker from waking the next call with a stale token.
	callerState atomic.Uint64
	gen         uint32
	callerWake  chan struct{}
	callerTimer *time.Timer

	panicMu  sync.Mutex
	panicked any
	hasPanic bool
}

var (
	nworkers atomic.Int32
	thePool  = &pool{callerWake: make(chan struct{}, 1)}
)

func init() { nworkers.Store(int32(runtime.GOMAXPROCS(0))) }

// Workers returns the number of goroutines (the caller included) a For may use.
// The default is runtime.GOMAXPROCS(0) at program start.
func Workers() int { return int(nworkers.Load()) }

// SetWorkers sets the number of goroutines (the caller included) a For may use;
// n<1 means 1. It takes effect for calls of For that start afterwards.
func SetWorkers(n int) {
	if n < 1 {
		n = 1
	}
	nworkers.Store(int32(n))
}

// For runs job over [0,n) split into at most Workers() contiguous pieces, each
// at least grain long; it runs on the calling goroutine alone when n <= grain
// or only one worker is set; it returns when all pieces are done. If the pool
// is busy (a nested call from inside a Job, or a concurrent call from another
// goroutine) the range runs serially on the calling goroutine.
func For(n, grain int, job Job) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	w := Workers()
	if n <= grain || w <= 1 {
		job.Run(0, n)
		return
	}
	pieces := n / grain
	if pieces > w {
		pieces = w
	}
	if pieces <= 1 {
		job.Run(0, n)
		return
	}
	p := thePool
	if !p.busy.CompareAndSwap(0, 1) {
		job.Run(0, n) // nested or concurrent: run serially, never wait
		return
	}
	p.run(n, pieces, job)
}

func (p *pool) run(n, pieces int, job Job) {
	for len(p.workers) < pieces-1 {
		wk := &worker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, wk)
		go wk.loop(p)
	}
	p.gen++
	p.callerState.Store(uint64(p.gen) << 1)
	p.pending.Store(uint64(p.gen)<<32 | uint64(pieces-1))
	// Piece i is [i*n/pieces, (i+1)*n/pieces); every piece is >= grain long
	// because pieces <= n/grain.
	for i := 1; i < pieces; i++ {
		wk := p.workers[i-1]
		wk.job = job
		wk.gen = p.gen
		wk.lo = i * n / pieces
		wk.hi = (i + 1) * n / pieces
		wk.seq.Add(1) // publishes job/lo/hi
		if f := lateDispatch.Load(); f != nil {
			(*f)()
		}
		if wk.state.Load() == stateParked && wk.state.CompareAndSwap(stateParked, stateRunning) {
			wk.wake <- struct{}{}
		}
	}
	callerDone := false
	defer func() {
		if !callerDone {
			p.waitPending() // our own piece panicked: let the workers finish first
		}
		for i := 1; i < pieces; i++ {
			p.workers[i-1].job = nil // do not keep the job alive
		}
		p.busy.Store(0)
	}()
	job.Run(0, n/pieces)
	callerDone = true
	p.waitPending()
	if p.hasPanic {
		v := p.panicked
		p.panicked, p.hasPanic = nil, false
		panic(v)
	}
}

// done reports whether every piece of the call in flight has finished.
func (p *pool) done() bool { return p.pending.Load() == uint64(p.gen)<<32 }

// waitPending spins, then parks, until all worker pieces are done.
func (p *pool) waitPending() {
	for sp := (spinner{}); sp.more(); {
		if p.done() {
			return
		}
	}
	running, parked := uint64(p.gen)<<1, uint64(p.gen)<<1|1
	p.callerState.Store(parked)
	for waits := 0; ; waits++ {
		if waits == stallReport {
			p.reportStall()
		}
		if p.done() {
			if p.callerState.CompareAndSwap(parked, running) {
				return
			}
			<-p.callerWake // the last worker saw us parked and is sending a wake-up: take it
			return
		}
		if p.sleep(&p.callerTimer, p.callerWake, parkTimeout) {
			return
		}
		if p.done() && p.callerState.CompareAndSwap(parked, running) {
			overtakenWakeups.Add(1) // done, and the wake-up is still on its way: see OvertakenWakeups
			return
		}
	}
}

// stallReport is how many parkTimeouts a wait lasts before the pool's
// state is written to stderr: a piece of work taking seconds is possible,
// but if the state shows nothing in flight, it is the hang to diagnose.
const stallReport = 5000

// reportStall writes the pool's handshake state to stderr.
func (p *pool) reportStall() {
	v := p.pending.Load()
	fmt.Fprintf(os.Stderr, "parallel: caller waiting 5s: gen %d pending gen %d count %d callerState %#x busy %d stray finishes %d\n",
		p.gen, v>>32, uint32(v), p.callerState.Load(), p.busy.Load(), strayFinishes.Load())
	for i, wk := range p.workers {
		fmt.Fprintf(os.Stderr, "parallel: worker %d: seq %d seen %d state %d gen %d lo %d hi %d job %T\n",
			i, wk.seq.Load(), wk.seen.Load(), wk.state.Load(), wk.gen, wk.lo, wk.hi, wk.job)
	}
}

// parkTimeout bounds every park: a parked goroutine looks again at what it
// waits for at least this often. No wake-up can go missing (see
// OvertakenWakeups), but a training run that hangs at 0 % CPU is the worst
// failure this package could have, so it is also ruled out structurally.
const parkTimeout = time.Millisecond

// idleRecheck is the longest an idle worker sleeps between checks.
const idleRecheck = 100 * time.Millisecond

// overtakenWakeups counts parks that ended by timeout with the awaited
// progress already made.
var overtakenWakeups atomic.Int64

// OvertakenWakeups reports how many parks ended by their timeout after the
// awaited progress was made but before its wake-up arrived, since the
// process started. These are not lost wake-ups: the waker was descheduled
// between publishing the progress and waking the sleeper (on a busy machine
// the OS can preempt it there for milliseconds), and the sleeper's timer
// fired first; the sleeper then takes the progress itself and the waker,
// whose state CAS fails, sends nothing. A wake-up cannot be lost: the
// sleeper stores "parked" and then reads the progress, the waker publishes
// the progress and then reads the state, and Go's atomics are sequentially
// consistent, so either the sleeper sees the progress before sleeping or
// the waker sees "parked" and wakes it (TestOvertakenWakeups provokes both
// sides).
func OvertakenWakeups() int64 { return overtakenWakeups.Load() }

// sleep waits for a token on ch or for d; it reports whether the
// token came. t is the caller's reusable timer (nil until first use).
func (p *pool) sleep(t **time.Timer, ch chan struct{}, d time.Duration) bool {
	if f := parking.Load(); f != nil {
		(*f)(ch)
	}
	if *t == nil {
		*t = time.NewTimer(d)
	} else {
		(*t).Reset(d)
	}
	select {
	case <-ch:
		(*t).Stop()
		return true
	case <-(*t).C:
		return false
	}
}

// lateDispatch, when set by a test, runs between handing a worker its piece
// and looking at whether it is parked: it stands in for a preemption there.
var lateDispatch atomic.Pointer[func()]

// parking, when set by a test, runs as a goroutine parks, after its last
// look at what it waits for and before it sleeps; wake is the channel its
// wake-up comes on (the caller's, or a worker's). Held there, the sleeper
// is sure to sleep before the progress it waits for is made, which the
// test then makes, so that the waker (held by lateDispatch or lateWorker)
// is overtaken by the sleeper's timer every time, not by the chance of a
// preemption.
var parking atomic.Pointer[func(wake chan struct{})]

// lateWorker, when set by a test, runs between a worker's last decrement
// and its look at the caller's state: it stands in for a preemption there.
var lateWorker atomic.Pointer[func()]

// strayFinishes counts finishes that did not belong to the call in flight.
var strayFinishes atomic.Int64

// StrayFinishes reports how many piece completions arrived for a call that
// was no longer in flight or twice (expected: 0); they are ignored.
func StrayFinishes() int64 { return strayFinishes.Load() }

// spuriousWakeups counts wake-ups that found no new piece.
var spuriousWakeups atomic.Int64

// SpuriousWakeups reports how many wake-ups found a worker with no new piece
// to run. They are harmless and expected now and then: a dispatcher
// descheduled between handing out a piece and waking its worker may be
// overtaken (see OvertakenWakeups) and, by the time it looks, find the worker
// already done and parked again, and wake it for nothing.
func SpuriousWakeups() int64 { return spuriousWakeups.Load() }

func (p *pool) finishOne(gen uint32) {
	for {
		v := p.pending.Load()
		if uint32(v>>32) != gen || uint32(v) == 0 {
			strayFinishes.Add(1) // not this call's, or already counted: ignore
			return
		}
		if !p.pending.CompareAndSwap(v, v-1) {
			continue
		}
		if uint32(v) != 1 {
			return
		}
		if f := lateWorker.Load(); f != nil {
			(*f)()
		}
		parked := uint64(gen)<<1 | 1
		if p.callerState.CompareAndSwap(parked, uint64(gen)<<1) {
			p.callerWake <- struct{}{}
		}
		return
	}
}

func (wk *worker) loop(p *pool) {
	var seen uint64
	for {
		// Wait for a new piece: spin, then park.
		got := false
		for sp := (spinner{}); sp.more(); {
			if wk.seq.Load() != seen {
				got = true
				break
			}
		}
		if !got {
			wk.park(p, seen)
		}
		cur := wk.seq.Load()
		if cur == seen {
			// Woken with nothing new to do: never run a piece twice.
			spuriousWakeups.Add(1)
			continue
		}
		seen = cur
		wk.seen.Store(seen)
		wk.runPiece(p)
	}
}

// park sleeps until the dispatcher hands this worker a piece newer than seen.
func (wk *worker) park(p *pool, seen uint64) {
	wk.state.Store(stateParked)
	// An idle worker re-checks ever less often, up to idleRecheck, so an
	// idle pool costs next to nothing.
	for d := parkTimeout; ; d = min(2*d, idleRecheck) {
		if wk.seq.Load() != seen {
			if wk.state.CompareAndSwap(stateParked, stateRunning) {
				return // work arrived between the last poll and parking
			}
			<-wk.wake // the dispatcher flipped us back to running and is sending
			return
		}
		if p.sleep(&wk.timer, wk.wake, d) {
			return
		}
		if wk.seq.Load() != seen && wk.state.CompareAndSwap(stateParked, stateRunning) {
			overtakenWakeups.Add(1)
			return
		}
	}
}

func (wk *worker) runPiece(p *pool) {
	gen := wk.gen
	defer func() {
		if r := recover(); r != nil {
			p.panicMu.Lock()
			if !p.hasPanic {
				p.panicked, p.hasPanic = r, true
			}
			p.panicMu.Unlock()
		}
		p.finishOne(gen)
	}()
	wk.job.Run(wk.lo, wk.hi)
}
