package sessions

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions/sessionstest"
)

// TestOneKilledTraceLine: of a killed run whose trace files all end in a
// partial line, only the highest step's is the line its writer was killed
// writing (TornTrace.Killed); the others lost a trace written whole. rlt
// score --run counts on it: a run with no trace but killed lines has one
// (its "its one trace", with no words for more).
func TestOneKilledTraceLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{SyncInterval: -1})
	for step := range 3 {
		r.Emit(event.Phase{Time: time.Now(), Name: "sampling", Step: step})
		r.Emit(event.Trace{Time: time.Now(), Step: step, Sample: 0, Question: "2+3=?", Solution: "5", Completion: "add them" + record.EndExplanation})
	}
	killWriter(t, r, sessionstest.DeadPID(t))
	// Every step's file cut to 20 bytes by hand (halfWrittenTrace cuts one
	// line, of step 2): which of several torn files is the killed one.
	var files []string
	for step := range 3 {
		path := traceFileName(dir, step)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data[:20], 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	torn := ro.TornTraces()
	if len(torn) != 3 {
		t.Fatalf("torn %+v, want the three trace files", torn)
	}
	for i, tt := range torn {
		if tt.File != files[i] || tt.Killed != (i == 2) {
			t.Errorf("torn %d: %+v, want %s, killed %v", i, tt, files[i], i == 2)
		}
	}
}
