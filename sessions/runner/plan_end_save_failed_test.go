package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// planEndSaveFails creates a run of 3 steps checkpointed at step 1 and at
// its plan end (step 2), and the hook that, as step 2 begins (on the
// engine's goroutine, signalIn's hook, here no signal), moves its
// checkpoints/ folder ck aside (to aside) and puts a file in its place,
// so that no checkpoint of step 2 can be made in it.
func planEndSaveFails(t *testing.T) (rec *sessions.Run, checked run.Checked, ck, aside string, block Prepare) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 3)
	cfg.CheckpointEvery = 2 // step 1's; step 2's is the plan end's
	rec, checked, err := Create(t.TempDir(), mustCheck(t, cfg), sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	ck = filepath.Join(rec.Dir(), sessions.CheckpointsDir)
	aside = filepath.Join(rec.Dir(), "checkpoints.aside")
	block = signalIn(2, "sampling", func() {
		if err := os.Rename(ck, aside); err != nil {
			t.Error(err)
		}
		if err := os.WriteFile(ck, nil, 0o644); err != nil {
			t.Error(err)
		}
	})
	return rec, checked, ck, aside, block
}

// TestAFailedPlanEndSaveIsNotDone: a run whose checkpoint of its last
// planned step cannot be saved (here its checkpoints/ folder is a file as
// that step runs, so the engine's save before "done" fails, and the
// close's try again too) records no "done": its last phase is "stopped",
// it is listed failed with the save's error, and its resume goes on from
// its last good checkpoint (step 1's), runs the last step again and
// finishes. The engine recorded "done" after the fatal error of the
// failed save: the records said the run finished while its last step was
// on disk nowhere.
func TestAFailedPlanEndSaveIsNotDone(t *testing.T) {
	rec, checked, ck, aside, block := planEndSaveFails(t)
	dir := rec.Dir()
	w := new(lockedWriter)
	err := Headless(context.Background(), rec, checked, block, w)
	if err == nil || !strings.Contains(err.Error(), "checkpoint of step 2 failed") {
		t.Fatalf("Headless: %v; want the failed checkpoint of step 2:\n%s", err, w)
	}
	if err := os.Remove(ck); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(aside, ck); err != nil {
		t.Fatal(err)
	}
	last := ""
	for _, e := range eventRecords(t, dir) {
		if e.Kind == sessions.KindPhase && (e.Name == "stopped" || e.Name == "done") {
			last = e.Name
		}
	}
	if last != "stopped" {
		t.Errorf("the last phase recorded is %q, want stopped: step 2 is not on disk", last)
	}
	list, err := sessions.List(filepath.Dir(dir))
	if err != nil || len(list) != 1 {
		t.Fatalf("List: %+v, %v", list, err)
	}
	if r := list[0]; r.State != sessions.StateFailed || !strings.Contains(r.Note, "checkpoint of step 2 failed") {
		t.Errorf("listed %s (%q), want failed, with the failed checkpoint of step 2", r.State, r.Note)
	}
	if sessions.NothingLeftToRun(dir, 3) {
		t.Errorf("nothing left to run, want the resume to run step 2 again")
	}
	r, err := OpenForResume(dir, Overrides{}, sessions.ProcessHeadless)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if r.Ck.Step != 1 {
		t.Errorf("resumed from the checkpoint of step %d, want 1", r.Ck.Step)
	}
	w = new(lockedWriter)
	if err := Headless(context.Background(), r.Rec, r.Checked, r.Restore, w); err != nil {
		t.Fatalf("the resume: %v\n%s", err, w)
	}
	list, err = sessions.List(filepath.Dir(dir))
	if err != nil || len(list) != 1 || list[0].State != sessions.StateFinished || list[0].LastStep != 2 {
		t.Errorf("after the resume listed %+v, %v; want finished at step 2", list, err)
	}
}

// TestAPlanEndSaveTheCloseMadeIsFinished: a run whose checkpoint of its
// last planned step failed as its engine ended (its scheduled save and
// the engine's try again: "stopped", the save's fatal error) and that its
// close (Handle.Close's final checkpoint, the disk mended meanwhile) then
// saved is listed finished, noting that no step is lost and what had
// failed: every planned step is on disk, and its resume has nothing to
// run. It was listed failed for good, its resume refused as having
// nothing to run: no way on.
func TestAPlanEndSaveTheCloseMadeIsFinished(t *testing.T) {
	rec, checked, ck, aside, block := planEndSaveFails(t)
	dir := rec.Dir()
	// As the engine records its end, the folder is put back: the close's
	// final checkpoint finds room.
	mend := &phaseHook{Sink: rec, name: "stopped", do: func() {
		if err := os.Remove(ck); err != nil {
			t.Error(err)
		}
		if err := os.Rename(aside, ck); err != nil {
			t.Error(err)
		}
	}}
	h, err := Start(context.Background(), context.Background(), rec, checked, mend, block)
	if err != nil {
		t.Fatal(err)
	}
	h.Wait() // the engine's end, before the close stops it
	err = h.Close()
	if err == nil || !strings.Contains(err.Error(), "checkpoint of step 2 failed") || !strings.Contains(err.Error(), "saved after all") {
		t.Fatalf("Close: %v; want the failed checkpoint of step 2, saved after all", err)
	}
	if !mend.seen {
		t.Fatal("the engine recorded no \"stopped\"")
	}
	list, err := sessions.List(filepath.Dir(dir))
	if err != nil || len(list) != 1 {
		t.Fatalf("List: %+v, %v", list, err)
	}
	const note = "its close saved the checkpoint of its last planned step after all: no step is lost (its engine had ended without it: checkpoint of step 2 failed"
	if r := list[0]; r.State != sessions.StateFinished || r.LastStep != 2 || !strings.Contains(r.Note, note) || strings.Contains(r.Note, "fatal:") || r.Fault != "" {
		t.Errorf("listed %s at step %d (%q, fault %q), want finished at step 2, noted %q", r.State, r.LastStep, r.Note, r.Fault, note)
	}
	if !sessions.NothingLeftToRun(dir, 3) {
		t.Errorf("something left to run, want nothing: step 2 is on disk")
	}
}

// phaseHook is a sink that calls do as the engine records the phase name,
// before passing it on.
type phaseHook struct {
	event.Sink
	name string
	do   func()
	seen bool
}

func (s *phaseHook) Emit(e event.Event) {
	if p, ok := e.(event.Phase); ok && p.Name == s.name && !s.seen {
		s.seen = true
		s.do()
	}
	s.Sink.Emit(e)
}
