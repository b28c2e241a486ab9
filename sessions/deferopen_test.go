package sessions

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// A run opened with DeferOpen writes its open event only at Begin (or at
// Resume, which begins it): closed before, as a refused resume closes it,
// it leaves its events as they were, and is listed as it was.
func TestDeferOpenWritesTheOpenEventAtBegin(t *testing.T) {
	for _, c := range []struct {
		name string
		use  func(t *testing.T, r *Run)
		want []string // the kinds of the events the session adds
	}{
		{"closed before Begin", func(*testing.T, *Run) {}, nil},
		{"Begin", func(t *testing.T, r *Run) {
			if err := r.Begin(); err != nil {
				t.Fatal(err)
			}
			if err := r.Begin(); err != nil { // once only
				t.Fatal(err)
			}
		}, []string{KindOpen, KindClose}},
		{"Resume without Begin", func(t *testing.T, r *Run) {
			if err := r.Resume(0); err != nil {
				t.Fatal(err)
			}
		}, []string{KindOpen, KindResume, KindClose}},
		{"a record before Begin begins it", func(t *testing.T, r *Run) {
			r.Emit(event.Phase{Time: time.Now(), Name: "sampling", Step: 2})
		}, []string{KindOpen, KindPhase, KindClose}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 2, 1, 2)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			events := filepath.Join(dir, EventsFile)
			before, err := os.ReadFile(events)
			if err != nil {
				t.Fatal(err)
			}
			beforeList, err := List(filepath.Dir(dir))
			if err != nil {
				t.Fatal(err)
			}
			r, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
			if err != nil {
				t.Fatal(err)
			}
			if after, _ := os.ReadFile(events); string(after) != string(before) {
				t.Errorf("OpenWith with DeferOpen wrote events:\n%s", after[len(before):])
			}
			c.use(t, r)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			ro := openReadOnly(t, dir)
			evs, _ := ro.Store().EventsSince(0)
			var added []string
			for _, e := range evs {
				if e.Seg > 0 {
					added = append(added, e.Kind)
				}
			}
			if !slices.Equal(added, c.want) {
				t.Errorf("the session added events %v, want %v", added, c.want)
			}
			if c.want != nil {
				return
			}
			if after, _ := os.ReadFile(events); string(after) != string(before) {
				t.Errorf("a run closed before Begin changed %s", EventsFile)
			}
			afterList, err := List(filepath.Dir(dir))
			if err != nil || len(afterList) != 1 || afterList[0].State != beforeList[0].State || afterList[0].Note != beforeList[0].Note {
				t.Errorf("listed as %+v (%v) after, %+v before", afterList, err, beforeList)
			}
		})
	}
}

// TestDeferOpenMakesNothingBeforeBegin: a deferred open (a resume being
// checked) makes no folder or file and repairs nothing until Begin, so a
// refused resume leaves a run that lost metrics.jsonl and traces/ as it
// was, and the next open still says so.
func TestDeferOpenMakesNothingBeforeBegin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 2, 1, 2)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{MetricsFile, TracesDir} {
		if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	lost := func(r *Run) int {
		n := 0
		for _, is := range r.Store().Issues() {
			if strings.Contains(is.Msg, "missing") {
				n++
			}
		}
		return n
	}
	r, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := lost(r); n != 2 {
		t.Errorf("the deferred open says %d losses, want 2", n)
	}
	if err := r.Close(); err != nil { // refused
		t.Fatal(err)
	}
	for _, f := range []string{MetricsFile, TracesDir} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("a refused resume made %s again", f)
		}
	}
	if n := lost(openReadOnly(t, dir)); n != 2 {
		t.Errorf("after a refused resume the next open says %d losses, want 2", n)
	}
}

// TestDeferOpenRepairsNothingBeforeBegin: a deferred open leaves a torn
// trace line and an unfinished checkpoint folder for Begin (a refused
// resume changes nothing), and puts back a replaced checkpoint whose
// replacement never finished at once (the resume's checks list it).
func TestDeferOpenRepairsNothingBeforeBegin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 2, 1, 2)
	if _, err := w.SaveCheckpoint(1, saveFake(1), CheckpointState{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, CheckpointsDir)
	if err := os.Rename(filepath.Join(root, checkpointName(1)), filepath.Join(root, ".old-step-000001-1234")); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(root, ".tmp-step-000002-5678")
	if err := os.MkdirAll(filepath.Join(tmp, TeacherDir), 0o755); err != nil {
		t.Fatal(err)
	}
	// The torn line by hand, not halfWrittenTrace (a new step-2 trace of a
	// live writer): the closed run's step-1 file, the checkpoint's, which
	// the resume keeps and Begin must cut.
	traces := traceFileName(dir, 1)
	f, err := os.OpenFile(traces, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"step":1,"gro`)
	f.Close()
	torn, err := os.ReadFile(traces)
	if err != nil {
		t.Fatal(err)
	}
	intact := func(when string) {
		t.Helper()
		if _, err := os.Stat(tmp); err != nil {
			t.Errorf("%s: the unfinished checkpoint folder is gone: %v", when, err)
		}
		if got, _ := os.ReadFile(traces); string(got) != string(torn) {
			t.Errorf("%s: the torn trace file was changed (%d bytes, was %d)", when, len(got), len(torn))
		}
	}

	r, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if ck, _, err := r.LatestCheckpoint(); err != nil || ck.Step != 1 {
		t.Errorf("a deferred open lists checkpoint %+v (%v), want step 1 put back", ck, err)
	}
	intact("deferred open")
	if err := r.Close(); err != nil { // refused
		t.Fatal(err)
	}
	intact("refused resume")

	r, err = OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Begin(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("Begin left the unfinished checkpoint folder")
	}
	if got, _ := os.ReadFile(traces); len(got) >= len(torn) || got[len(got)-1] != '\n' {
		t.Errorf("Begin left the torn trace line: %q", got[max(0, len(got)-40):])
	}
	rep := strings.Join(r.Repairs(), "\n")
	for _, want := range []string{"removed an unfinished checkpoint folder", traces + ":", "partial last line"} {
		if !strings.Contains(rep, want) {
			t.Errorf("repairs say %q, want %q in them", rep, want)
		}
	}
}

// TestListSaysAResumeBeingChecked: while a resume is checked (its open
// event waits), the run is listed resuming, held by the process checking
// it, not by the previous session's events: a killed writer's run read
// "running, training it" and a second opener was told to stop it.
func TestListSaysAResumeBeingChecked(t *testing.T) {
	for _, c := range []struct {
		name string
		end  func(t *testing.T, w *Run)
	}{
		{"after a killed writer", func(t *testing.T, w *Run) { killWriter(t, w, deadPID) }},
		{"after this process's own session", func(t *testing.T, w *Run) { w.Close() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 2, 1, 1)
			c.end(t, w)
			r, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			runs, err := List(filepath.Dir(dir))
			if err != nil || len(runs) != 1 {
				t.Fatalf("%d runs, %v", len(runs), err)
			}
			if got := runs[0]; got.State != StateResuming || got.Holder.Doing != HolderResuming {
				t.Errorf("listed %s (%s, held %q) while a resume is checked, want resuming", got.State, got.Note, got.Holder.Doing)
			}
			if st, _, _ := r.State(); st != StateResuming {
				t.Errorf("the run itself says %s while its resume is checked", st)
			}
			if _, err := OpenWith(dir, nil, Options{}); err == nil || strings.Contains(err.Error(), "training it") {
				t.Errorf("a second opener is told: %v", err)
			}
			if err := r.Begin(); err != nil {
				t.Fatal(err)
			}
			if err := r.Resume(2); err != nil {
				t.Fatal(err)
			}
			if runs, _ := List(filepath.Dir(dir)); len(runs) != 1 || runs[0].State != StateRunning {
				t.Errorf("resumed, listed %+v, want running", runs)
			}
		})
	}
}

// TestDeferOpenBeginRacesClose: a deferred run's first record (which
// begins it) on one goroutine and its Close on another: no race, and the
// run is whole after, its events one open and one close or neither.
func TestDeferOpenBeginRacesClose(t *testing.T) {
	begun := 0
	for i := range 20 {
		dir := filepath.Join(t.TempDir(), "run")
		w := mustCreate(t, dir, Options{})
		emitSteps(w, 0, 1, 1, 1)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
		if err != nil {
			t.Fatal(err)
		}
		seg := r.seg
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.Emit(event.Phase{Time: time.Now(), Name: "sampling", Step: 1})
		}()
		time.Sleep(time.Duration(i*i*10) * time.Microsecond) // from before the Emit begins to after
		r.Close()
		<-done
		ro := openReadOnly(t, dir)
		evs, _ := ro.Store().EventsSince(0)
		opens, closes := 0, 0
		for _, e := range evs {
			if e.Seg == seg {
				switch e.Kind {
				case KindOpen:
					opens++
				case KindClose:
					closes++
				}
			}
		}
		begun += opens
		if opens != closes || opens > 1 {
			t.Fatalf("try %d: %d opens, %d closes", i, opens, closes)
		}
		r2, err := OpenWith(dir, nil, Options{}) // the lock is free, the files whole
		if err != nil {
			t.Fatalf("try %d: %v", i, err)
		}
		r2.Close()
	}
	t.Logf("%d of 20 sessions begun before their close", begun)
}

// TestDeferOpenLeavesTheLockAsItWas: a deferred open closed before it
// began (a refused resume) puts back what a killed writer left in
// run.lock, so the next open still says it did not close cleanly; it
// repaired nothing, so it says no repair of run.lock (a refused resume
// said 'repaired: RUN/run.lock: the previous writer ... did not close the
// run cleanly' above its refusal), and one that begins says it then.
func TestDeferOpenLeavesTheLockAsItWas(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 1, 1, 1)
	killWriter(t, w, deadPID)
	unclean := func(r *Run) bool {
		return slices.ContainsFunc(r.Repairs(), func(s string) bool { return strings.Contains(s, "did not close the run cleanly") })
	}
	for i := range 2 {
		r, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
		if err != nil {
			t.Fatal(err)
		}
		if unclean(r) {
			t.Errorf("open %d, not begun: a repair of run.lock is said: %q", i+1, r.Repairs())
		}
		if err := r.Close(); err != nil { // refused
			t.Fatal(err)
		}
	}
	r, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Begin(); err != nil {
		t.Fatal(err)
	}
	if !unclean(r) {
		t.Errorf("a deferred open that began: the killed writer is not said: %q", r.Repairs())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = OpenWith(dir, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if unclean(r) {
		t.Error("after a session that began and closed cleanly, the killed writer is said again")
	}
}
