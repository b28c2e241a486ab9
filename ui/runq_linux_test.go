package ui

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestRunqSinceCountsThreadByThread: the benchmarks' run-queue wait is
// taken thread by thread. A thread that exits between the samples took
// its whole wait before the start off the sum (the sums' difference):
// 100+5 waited, a thread of 1000 gone, read 135-1030 = -895.
func TestRunqSinceCountsThreadByThread(t *testing.T) {
	for _, c := range []struct {
		name       string
		start, end map[string]int64
		wait       int64
		gone       int
	}{
		{"same threads", map[string]int64{"1": 10, "2": 20}, map[string]int64{"1": 110, "2": 25}, 105, 0},
		{"a thread gone", map[string]int64{"1": 10, "2": 20, "3": 1000}, map[string]int64{"1": 110, "2": 25}, 105, 1},
		{"a thread new", map[string]int64{"1": 10}, map[string]int64{"1": 110, "4": 7}, 107, 0},
		{"none", map[string]int64{}, map[string]int64{}, 0, 0},
		// An exited thread's id taken by a new thread: runqWaits keys
		// them apart by start time; under one key (the same tick) the
		// wait going down says so. Read 110+5-10-1000 = -895 before.
		{"an id reused", map[string]int64{"1@5": 10, "3@5": 1000}, map[string]int64{"1@5": 110, "3@5": 5}, 105, 1},
		{"an id reused, keyed apart", map[string]int64{"1@5": 10, "3@5": 1000}, map[string]int64{"1@5": 110, "3@9": 5}, 105, 1},
	} {
		wait, gone := runqSince(c.start, c.end)
		if wait != c.wait || gone != c.gone {
			t.Errorf("%s: wait %d, %d gone; want %d, %d gone", c.name, wait, gone, c.wait, c.gone)
		}
	}
}

// TestRunqWaitsSeesAThreadExit: a real thread's exit between two samples
// of runqWaits is seen as a thread gone, and the wait taken is not below
// zero.
func TestRunqWaitsSeesAThreadExit(t *testing.T) {
	if runqWaits() == nil {
		t.Skip("no /proc/self/task/*/schedstat here")
	}
	// Four goroutines locked to four threads at once: at most one is the
	// main thread, which the runtime keeps when its goroutine ends
	// (wedged); another, ended locked, exits.
	tidc, exit := make(chan int), make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			tidc <- syscall.Gettid()
			<-exit
		}()
	}
	tid := ""
	for range 4 {
		if n := <-tidc; n != syscall.Getpid() {
			tid = strconv.Itoa(n)
		}
	}
	start := runqWaits()
	for k := range start { // keys are TID@START
		if id, _, _ := strings.Cut(k, "@"); id == tid {
			tid = k
		}
	}
	if _, ok := start[tid]; !ok {
		t.Fatalf("thread %s not in the sample %v", tid, start)
	}
	close(exit)
	wg.Wait()
	var end map[string]int64
	for range 5000 { // the thread's exit follows the goroutine's end
		if end = runqWaits(); !has(end, tid) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if has(end, tid) {
		t.Skip("the locked thread did not exit") // a runtime that keeps it: nothing to test
	}
	wait, gone := runqSince(start, end)
	if gone < 1 || wait < 0 {
		t.Errorf("wait %d, %d gone; want at least 1 gone and a wait of 0 or more", wait, gone)
	}
}

func has(m map[string]int64, k string) bool { _, ok := m[k]; return ok }
