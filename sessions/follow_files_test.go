package sessions

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// openFilesUnder counts this process's open file descriptors on files
// under dir (Linux: /proc/self/fd).
func openFilesUnder(t *testing.T, dir string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir+string(filepath.Separator)) {
			n++
		}
	}
	return n
}

// A run followed read-only keeps no trace file open but the newest: a long
// run writes a file per step, and holding each open ran a workbench
// following a 20,000-step run out of file descriptors ("too many open
// files"), after which no new trace arrived. A trace appended to an older
// step's file (a resume redoing steps) still arrives.
func TestFollowHoldsFewTraceFilesOpen(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	const steps = 60
	dir, w := runOfSteps(t, steps)
	files, err := traceFiles(dir)
	if err != nil || len(files) != steps {
		t.Fatalf("%d trace files (%v), want %d", len(files), err, steps)
	}
	ro, err := OpenReadOnlyWith(dir, Options{PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	st := ro.Store()
	emitSteps(w, steps, steps+3, 1, 2)
	w.Emit(fakeTrace(5, 7, 0)) // into traces/000005.jsonl
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, st, func() bool { _, n, _ := st.Counts(); return n == 2*(steps+3)+1 })
	if _, err := st.Trace("5-7-0"); err != nil {
		t.Fatal("the trace appended to an older step's file did not arrive")
	}
	time.Sleep(50 * time.Millisecond) // polls after the last lines
	w.Close()
	if n := openFilesUnder(t, filepath.Join(dir, TracesDir)); n > 2 {
		t.Errorf("%d trace files held open while following %d, want at most 2", n, steps+3)
	}
}

// Following a run polls its newest trace file at each poll and its past
// steps' files only every traceSweepEvery polls: polling every file of a
// 20,000-step run at each poll (five a second) took a core.
func TestFollowPollsPastTraceFilesRarely(t *testing.T) {
	const steps = 60
	dir, w := runOfSteps(t, steps)
	// Polled by hand here, without the follow loop.
	r := newRun(dir, Options{})
	r.readOnly = true
	r.followers = map[string]*followed{}
	if _, err := r.load(false); err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, fl := range r.followers {
			fl.f.Close()
		}
	}()
	r.pollOnce() // the first poll looks at every file
	if r.tracePolls != steps {
		t.Fatalf("first poll polled %d trace files, want %d", r.tracePolls, steps)
	}
	const quiet = 10
	r.tracePolls = 0
	for range quiet {
		r.pollOnce()
	}
	if r.tracePolls > quiet {
		t.Errorf("%d quiet polls polled %d trace files, want at most %d (the newest each time)", quiet, r.tracePolls, quiet)
	}
	// A new step's file is polled at the next poll; a trace appended to an
	// older step's file (a resume redoing it) arrives by the next sweep.
	emitSteps(w, steps, steps+1, 1, 2)
	w.Emit(fakeTrace(5, 7, 0))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r.pollOnce()
	if _, n, _ := r.store.Counts(); n < 2*(steps+1) {
		t.Errorf("%d traces after the new step's poll, want %d", n, 2*(steps+1))
	}
	for range traceSweepEvery {
		r.pollOnce()
	}
	if _, err := r.store.Trace("5-7-0"); err != nil {
		t.Error("the trace appended to an older step's file did not arrive within a sweep")
	}
}

// runOfSteps is a run being written, of steps steps of two traces each
// (a trace file per step), flushed; it is closed at the test's end.
func runOfSteps(t *testing.T, steps int) (dir string, w *Run) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "run")
	w = mustCreate(t, dir, Options{})
	t.Cleanup(func() { w.Close() })
	emitSteps(w, 0, steps, 1, 2)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return dir, w
}
