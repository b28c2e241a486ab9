package sessions

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// The writer holds the records of a file it cannot write (full, or a
// step's trace file that cannot be made), in order, while it writes the
// other files' records; once the file can be written again the held
// records follow, and the run reads back whole.
func TestDrainHoldsTheRecordsOfAFileThatFails(t *testing.T) {
	// failing[name] makes the file name (or every trace file: TracesDir)
	// fail its writes with ENOSPC.
	failing := map[string]*atomic.Bool{TracesDir: {}, MetricsFile: {}, EventsFile: {}}
	wrap := func(f logFile) logFile {
		name := filepath.Base(f.(*os.File).Name())
		if filepath.Base(filepath.Dir(f.(*os.File).Name())) == TracesDir {
			name = TracesDir
		}
		return &fullWhen{f, failing[name]}
	}
	full := func(name string) func(*Run) func() {
		return func(*Run) func() {
			failing[name].Store(true)
			return func() { failing[name].Store(false) }
		}
	}
	for _, c := range []struct {
		name string
		// brk breaks a file after step 0 is written; fix mends it.
		brk  func(r *Run) (fix func())
		kept []string // files that take records while the other fails
	}{
		{"the trace files are full", full(TracesDir), []string{MetricsFile, EventsFile}},
		{"the next step's trace file cannot be made", func(r *Run) func() {
			blocked := traceFileName(r.dir, 1)
			if err := os.Mkdir(blocked, 0o755); err != nil { // a folder where the file goes
				t.Fatal(err)
			}
			return func() { os.Remove(blocked) }
		}, []string{MetricsFile, EventsFile}},
		{"the metrics file is full", full(MetricsFile), []string{EventsFile}},
		{"the events file is full", full(EventsFile), []string{MetricsFile}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r := mustCreate(t, dir, Options{SyncInterval: time.Hour, wrapFile: wrap})
			emitSteps(r, 0, 1, 1, 2)
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			fix := c.brk(r)
			emitSteps(r, 1, 3, 1, 2) // traces of two steps: two trace files
			r.Emit(event.Error{Time: time.Now(), Step: 2, Err: errors.New("marker")})
			if err := r.Flush(); err == nil {
				t.Fatal("flush with a file that fails: no error")
			}
			for _, f := range c.kept {
				want := `"step":2`
				if f == EventsFile {
					want = "marker"
				}
				if b, _ := os.ReadFile(filepath.Join(dir, f)); !bytes.Contains(b, []byte(want)) {
					t.Errorf("%s lacks %s while another file fails:\n%s", f, want, b)
				}
			}
			fix()
			if err := r.Close(); err != nil {
				t.Fatalf("close once the file is mended: %v", err)
			}
			ro := openReadOnly(t, dir)
			ms, _ := ro.Store().MetricsSince(0)
			ts, _ := ro.Store().TracesSince(0)
			if len(ms) != 3 || len(ts) != 6 || ro.Store().Broken() != 0 {
				t.Fatalf("read back %d metrics, %d traces, %d broken; want 3, 6, 0", len(ms), len(ts), ro.Store().Broken())
			}
			for i, tr := range ts {
				if tr.Step != i/2 || tr.Sample != i%2 {
					t.Errorf("trace %d is step %d sample %d: out of order", i, tr.Step, tr.Sample)
				}
			}
			for i, m := range ms {
				if m.Step != i {
					t.Errorf("metric record %d is step %d: out of order", i, m.Step)
				}
			}
		})
	}
}

// fullWhen is a file whose writes fail with ENOSPC, writing nothing,
// while full is set.
type fullWhen struct {
	logFile
	full *atomic.Bool
}

func (f *fullWhen) WriteAt(p []byte, off int64) (int, error) {
	if f.full.Load() {
		return 0, &os.PathError{Op: "write", Path: "disk", Err: syscall.ENOSPC}
	}
	return f.logFile.WriteAt(p, off)
}
