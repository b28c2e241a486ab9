package parallel

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute/allocstest"
)

// countJob records how often each index was visited and the pieces it saw.
type countJob struct {
	hits   []atomic.Int32
	pieces atomic.Int32
	minLen atomic.Int32
}

func newCountJob(n int) *countJob {
	j := &countJob{hits: make([]atomic.Int32, n)}
	j.minLen.Store(1 << 30)
	return j
}

func (j *countJob) Run(lo, hi int) {
	j.pieces.Add(1)
	for {
		old := j.minLen.Load()
		if int32(hi-lo) >= old || j.minLen.CompareAndSwap(old, int32(hi-lo)) {
			break
		}
	}
	for i := lo; i < hi; i++ {
		j.hits[i].Add(1)
	}
}

func withWorkers(t testing.TB, n int) {
	old := Workers()
	SetWorkers(n)
	t.Cleanup(func() { SetWorkers(old) })
}

func TestForCoversRangeOnce(t *testing.T) {
	cases := []struct{ workers, n, grain int }{
		{1, 10, 1}, {2, 10, 1}, {2, 1, 1}, {2, 2, 1}, {2, 3, 2}, {2, 100, 60},
		{2, 100, 50}, {3, 7, 2}, {4, 1000, 1}, {8, 5, 1}, {4, 17, 5}, {2, 0, 1},
		{2, 10, 0}, {2, 10, 10}, {2, 11, 10},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("w%d_n%d_g%d", c.workers, c.n, c.grain), func(t *testing.T) {
			withWorkers(t, c.workers)
			j := newCountJob(c.n)
			For(c.n, c.grain, j)
			for i := range j.hits {
				if h := j.hits[i].Load(); h != 1 {
					t.Fatalf("index %d visited %d times", i, h)
				}
			}
			g := max(c.grain, 1)
			maxPieces := min(c.workers, max(c.n/g, 1))
			if c.n > 0 && int(j.pieces.Load()) > maxPieces {
				t.Fatalf("%d pieces, want at most %d", j.pieces.Load(), maxPieces)
			}
			if j.pieces.Load() > 1 && int(j.minLen.Load()) < g {
				t.Fatalf("a piece of %d is shorter than grain %d", j.minLen.Load(), g)
			}
		})
	}
}

func TestSetWorkers(t *testing.T) {
	withWorkers(t, 3)
	if Workers() != 3 {
		t.Fatal(Workers())
	}
	SetWorkers(0)
	if Workers() != 1 {
		t.Fatalf("SetWorkers(0): Workers()=%d, want 1", Workers())
	}
	SetWorkers(-5)
	if Workers() != 1 {
		t.Fatalf("SetWorkers(-5): Workers()=%d, want 1", Workers())
	}
}

// nestedJob calls For from inside each piece.
type nestedJob struct {
	inner []*countJob
}

func (j *nestedJob) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		For(len(j.inner[i].hits), 1, j.inner[i])
	}
}

func TestNestedFor(t *testing.T) {
	withWorkers(t, 4)
	const outer, innerN = 8, 50
	j := &nestedJob{}
	for i := 0; i < outer; i++ {
		j.inner = append(j.inner, newCountJob(innerN))
	}
	For(outer, 1, j)
	for o, in := range j.inner {
		for i := range in.hits {
			if h := in.hits[i].Load(); h != 1 {
				t.Fatalf("inner %d index %d visited %d times", o, i, h)
			}
		}
	}
}

func TestConcurrentCallers(t *testing.T) {
	withWorkers(t, 4)
	const callers, rounds, n = 6, 200, 97
	var wg sync.WaitGroup
	errs := make(chan string, callers)
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				j := newCountJob(n)
				For(n, 3, j)
				for i := range j.hits {
					if h := j.hits[i].Load(); h != 1 {
						errs <- fmt.Sprintf("index %d visited %d times", i, h)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

type panicJob struct{ at int }

func (j *panicJob) Run(lo, hi int) {
	if lo <= j.at && j.at < hi {
		panic("boom")
	}
}

func TestPanicPropagates(t *testing.T) {
	withWorkers(t, 2)
	for _, at := range []int{0, 99} { // caller's piece, worker's piece
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Fatalf("at=%d: recovered %v, want boom", at, r)
				}
			}()
			For(100, 1, &panicJob{at: at})
		}()
		// The pool must be usable again.
		j := newCountJob(10)
		For(10, 1, j)
		if j.pieces.Load() != 2 {
			t.Fatalf("pool not released after panic: %d pieces", j.pieces.Load())
		}
	}
}

type sumJob struct {
	data []float32
	part [64]float32
}

func (j *sumJob) Run(lo, hi int) {
	var s float32
	for _, v := range j.data[lo:hi] {
		s += v
	}
	j.part[lo*len(j.part)/len(j.data)] += s
}

func TestZeroAllocs(t *testing.T) {
	withWorkers(t, 2)
	j := &sumJob{data: make([]float32, 4096)}
	For(len(j.data), 16, j) // start the workers
	// The fewest: a park's sudog, after a GC emptied the runtime's cache,
	// or a new thread adds to a count now and then (see allocstest).
	allocs := allocstest.Fewest(200, func() { For(len(j.data), 16, j) })
	if allocs != 0 {
		t.Fatalf("For allocates %v per call, want 0", allocs)
	}
}

type nopJob struct{}

func (nopJob) Run(lo, hi int) {}

// BenchmarkForDispatch measures the fork-join overhead of an empty job split
// across the pool (back-to-back calls, so workers are spinning).
func BenchmarkForDispatch(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			withWorkers(b, w)
			j := &nopJob{}
			b.ReportAllocs()
			for b.Loop() {
				For(1024, 1, j)
			}
		})
	}
}

// BenchmarkForDispatchCold measures dispatch after the workers have parked.
func BenchmarkForDispatchCold(b *testing.B) {
	withWorkers(b, 2)
	j := &nopJob{}
	For(2, 1, j)
	for b.Loop() {
		b.StopTimer()
		spinSleep()
		b.StartTimer()
		For(1024, 1, j)
	}
}

// BenchmarkForSum is a small real job (16 KiB of floats) serial vs pooled.
func BenchmarkForSum(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			withWorkers(b, w)
			j := &sumJob{data: make([]float32, 1<<14)}
			for b.Loop() {
				For(len(j.data), 1024, j)
			}
		})
	}
}

// spinSleep waits long enough for idle workers to park.
func spinSleep() { time.Sleep(2 * time.Millisecond) }
