package runner

import (
	"context"
	"testing"

	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestAResumeStoppedBeforeAStepWritesNoCheckpoint: a resume whose engine
// is stopped before a step of its own (a stop signal as its models
// loaded) closes without writing a checkpoint: the one it resumed from
// is on disk, as the engine knows (run.Engine's checkpointAtEnd). Its
// close's final checkpoint wrote that step whole again, a second
// checkpoint event of it, minutes of a large model's weights after the
// signal.
func TestAResumeStoppedBeforeAStepWritesNoCheckpoint(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	rec, checked, err := Create(t.TempDir(), mustCheck(t, smallConfig(t, 1)), sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	dir := rec.Dir()
	h, err := Start(context.Background(), context.Background(), rec, checked, rec, Fresh)
	if err != nil {
		t.Fatal(err)
	}
	h.Wait()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenForResume(dir, Overrides{Steps: 3}, sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	stopped := func(ctx context.Context, e *run.Engine) error {
		if err := r.Restore(ctx, e); err != nil {
			return err
		}
		e.Stop() // before its first step
		return nil
	}
	h, err = Start(context.Background(), context.Background(), r.Rec, r.Checked, r.Rec, stopped)
	if err != nil {
		t.Fatal(err)
	}
	h.Wait()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	var saved []int
	for _, e := range eventRecords(t, dir) {
		if e.Kind == sessions.KindCheckpoint {
			saved = append(saved, e.Step)
		}
	}
	if len(saved) != 1 || saved[0] != 0 {
		t.Errorf("checkpoint events of steps %v, want [0]: the resume wrote the one it resumed from again", saved)
	}
}
