package sessions

import (
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestFailedWriteSaidWrittenOnceRetried: a write that failed on a full
// disk is an issue saying the records wait and are retried; once room is
// back and a retry writes them, the issue says they were written and
// nothing was lost (a note), where it went on saying "N records waiting,
// retrying every second" as an error, the workbench counting it.
func TestFailedWriteSaidWrittenOnceRetried(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	var budget atomic.Int64
	budget.Store(1 << 40)
	r := mustCreate(t, dir, Options{wrapFile: func(f logFile) logFile { return &fullDisk{f, &budget} }})
	t.Cleanup(func() { r.Close() })
	emitSteps(r, 0, 2, 1, 2)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	budget.Store(100) // the disk fills
	emitSteps(r, 2, 4, 1, 2)
	if err := r.Flush(); err == nil {
		t.Fatal("flush on a full disk: no error")
	}
	kinds := func() (failed, recovered []Issue) {
		for _, is := range r.Store().Issues() {
			switch is.Kind {
			case IssueWriteFailed:
				failed = append(failed, is)
			case IssueWriteRecovered:
				recovered = append(recovered, is)
			}
		}
		return failed, recovered
	}
	if failed, recovered := kinds(); len(failed) != 1 || len(recovered) != 0 || !strings.Contains(failed[0].Msg, "retrying every second") {
		t.Fatalf("on the full disk: failed writes %v, recovered %v; want one failed write", failed, recovered)
	}
	budget.Store(1 << 40) // room is back
	if err := r.Flush(); err != nil {
		t.Fatalf("flush with room back: %v", err)
	}
	failed, recovered := kinds()
	if len(failed) != 0 || len(recovered) != 1 {
		t.Fatalf("with room back: failed writes %v, recovered %v; want the failed write said written", failed, recovered)
	}
	msg := recovered[0].Msg
	for _, want := range []string{"write failed (", "no space left on device", "then written at ", "once a retry succeeded", "that waited in memory are in the run folder, nothing lost"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the issue says %q, want %q in it", msg, want)
		}
	}
	if strings.Contains(msg, "retrying every second") {
		t.Errorf("the issue says %q: still retrying", msg)
	}
	// The records that waited are in the files: a reader sees every step.
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ms, _ := ro.Store().MetricsSince(0)
	if len(ms) == 0 || ms[len(ms)-1].Step != 3 {
		t.Errorf("metrics read back end at %v, want step 3's", ms)
	}
}
