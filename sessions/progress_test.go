package sessions

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestProgressReachesAFollower: where the engine is within a long step is
// written to ProgressFile (at most once per ProgressEvery), so that the
// run followed from another process shows it and its files do not read
// quiet; a session that closes removes it, and a follower then has none.
func TestProgressReachesAFollower(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{SyncInterval: 5 * time.Millisecond, progressEvery: time.Hour})
	defer w.Close()
	emitSteps(w, 0, 1, 1, 1)
	t0 := time.Now().Add(-10 * time.Second)
	first := event.Progress{Time: t0.Add(5 * time.Second), Started: t0, Step: 1, Phase: "sampling", Done: 34, Total: 96, Unit: "tokens"}
	w.Emit(first)
	path := filepath.Join(dir, ProgressFile)
	waitFor(t, w.Store(), func() bool { _, err := os.Stat(path); return err == nil })
	// Within ProgressEvery of the first write, later progress waits.
	w.Emit(event.Progress{Time: t0.Add(6 * time.Second), Started: t0, Step: 1, Phase: "sampling", Done: 40, Total: 96, Unit: "tokens"})
	time.Sleep(50 * time.Millisecond)
	var rec ProgressRecord
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &rec) != nil {
		t.Fatalf("%s: %q, %v", path, data, err)
	}
	if rec.PID != os.Getpid() || rec.Seg != 0 || rec.Done != 34 {
		t.Errorf("%s holds %+v, want the first progress of pid %d, segment 0", path, rec, os.Getpid())
	}

	ro := openReadOnly(t, dir)
	p, ok := ro.Progress()
	if !ok || p.Step != 1 || p.Phase != "sampling" || p.Done != 34 || p.Total != 96 || p.Unit != "tokens" || !p.Time.Equal(first.Time) || !p.Started.Equal(first.Started) {
		t.Errorf("the follower's progress %+v (%v), want %+v", p, ok, first)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if last := ro.LastWritten(); last.Before(fi.ModTime()) {
		t.Errorf("LastWritten %v is before progress.json's write %v", last, fi.ModTime())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s is left after Close", path)
	}
	// Within the follow loop's polls the follower has none.
	waitFor(t, ro.Store(), func() bool { _, ok := ro.Progress(); return !ok })
}

// TestProgressOfAGoneWriterIsNotShown: a ProgressFile left by a writer
// that was killed says nothing of the run: a follower does not show it,
// not while nobody holds the run nor once another writer does, and that
// writer's session removes it as it begins.
func TestProgressOfAGoneWriterIsNotShown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 1, 1, 1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ProgressFile)
	data, _ := json.Marshal(ProgressRecord{PID: deadPID, Time: time.Now(), Started: time.Now(), Step: 1, Phase: "sampling", Done: 3, Total: 9, Unit: "tokens"})
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ro := openReadOnly(t, dir)
	if p, ok := ro.Progress(); ok {
		t.Errorf("nobody holds the run, yet the follower has progress %+v", p)
	}
	w, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// A follower opened now reads the file and probes the lock afresh.
	if p, ok := openReadOnly(t, dir).Progress(); ok {
		t.Errorf("another writer holds the run, yet the follower has the gone one's progress %+v", p)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("a deferred open removed %s before Begin: %v", path, err)
	}
	if err := w.Begin(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("Begin left the gone writer's %s", path)
	}
}

// TestListSaysWhereARunningStepIs: the listing carries a running run's
// progress within the step it has not recorded yet (rlt sessions prints
// it), not a step already recorded, nor one of a run that is not running.
func TestListSaysWhereARunningStepIs(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run")
	w := mustCreate(t, dir, Options{SyncInterval: 5 * time.Millisecond, progressEvery: time.Millisecond})
	defer w.Close()
	emitSteps(w, 0, 2, 1, 1) // steps 0 and 1 recorded
	now := time.Now()
	listed := func(step int) *event.Progress {
		t.Helper()
		w.Emit(event.Progress{Time: now, Started: now, Step: step, Phase: "sampling", Done: 5, Total: 9, Unit: "tokens"})
		path := filepath.Join(dir, ProgressFile)
		waitFor(t, w.Store(), func() bool {
			var rec ProgressRecord
			data, _ := os.ReadFile(path)
			return json.Unmarshal(data, &rec) == nil && rec.Step == step
		})
		runs, err := List(root)
		if err != nil || len(runs) != 1 {
			t.Fatalf("%d runs, %v", len(runs), err)
		}
		return runs[0].Progress
	}
	if p := listed(2); p == nil || p.Step != 2 || p.Counts() != "sampling 5/9 tokens" {
		t.Errorf("listed progress %+v, want step 2's", p)
	}
	if p := listed(1); p != nil {
		t.Errorf("listed progress %+v of a step already recorded", p)
	}
	listed(2)
	// Quiet (a writer stopped by a signal), its progress is old news.
	then := time.Now().Add(-20 * time.Minute)
	for _, f := range []string{EventsFile, MetricsFile, ProgressFile} {
		if err := os.Chtimes(filepath.Join(dir, f), then, then); err != nil {
			t.Fatal(err)
		}
	}
	if runs, _ := List(root); len(runs) != 1 || runs[0].Progress != nil || !strings.Contains(runs[0].Note, "nothing written for 20m") {
		t.Errorf("a quiet run listed with progress %+v, note %q", runs[0].Progress, runs[0].Note)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if runs, _ := List(root); len(runs) != 1 || runs[0].Progress != nil {
		t.Errorf("a closed run listed with progress %+v", runs)
	}
}

// TestFollowerReadsProgressAgain: the same follower (its follow loop,
// not a new one) shows a progress.json its writer replaced, and drops a
// record left unchanged once its writer no longer holds the run (a writer
// hung or killed without its Close: the lock probed again within about a
// second, the file unchanged).
func TestFollowerReadsProgressAgain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{SyncInterval: 5 * time.Millisecond, progressEvery: time.Millisecond})
	defer w.Close()
	emitSteps(w, 0, 1, 1, 1)
	t0 := time.Now()
	w.Emit(event.Progress{Time: t0, Started: t0, Step: 1, Phase: "sampling", Done: 34, Total: 96, Unit: "tokens"})
	path := filepath.Join(dir, ProgressFile)
	waitFor(t, w.Store(), func() bool { _, err := os.Stat(path); return err == nil })
	ro := openReadOnly(t, dir)
	waitFor(t, ro.Store(), func() bool { p, ok := ro.Progress(); return ok && p.Done == 34 })
	w.Emit(event.Progress{Time: t0.Add(time.Second), Started: t0, Step: 1, Phase: "sampling", Done: 40, Total: 96, Unit: "tokens"})
	waitFor(t, ro.Store(), func() bool { p, ok := ro.Progress(); return ok && p.Done == 40 })
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The lock let go as a killed writer's is, progress.json left as it is.
	if err := w.lock.Unlock(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ro.Store(), func() bool { _, ok := ro.Progress(); return !ok })
	if now, err := os.Stat(path); err != nil || !now.ModTime().Equal(fi.ModTime()) || now.Size() != fi.Size() {
		t.Fatalf("progress.json changed under the test (%v): the lock's probe was not what dropped it", err)
	}
}
