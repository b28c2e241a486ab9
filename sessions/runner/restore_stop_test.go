package runner

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestHeadlessStopDuringTheRestore: a stop (the signal's context ends)
// while a resume's Restore loads the checkpoint's models ends that load
// before its next tensor: Start returns a *run.LoadStopped whose error
// names the tensor of the checkpoint it stopped before, Headless returns
// it (rlt run says it: runLoadStopped, the folder as it was), and the run
// folder is left as it was but for the resume's
// session (its open and close in events.jsonl, as a resume stopped while
// New loads leaves it): no config.toml rewritten, no record, listed as
// before, so that a resume after it runs its step. The stop comes as the
// teacher loads, and as the optimiser's moments are read after both
// models (optimizer.safetensors, twice the teacher's size): that read
// stops so too, naming its tensor. The restore took no context: it read
// every tensor, and the run went on to its step before it heeded the
// stop; then the moments were read whole, with no look at the context,
// and the run went on to its step.
func TestHeadlessStopDuringTheRestore(t *testing.T) {
	_, dir := oneStepRun(t)
	before := runFiles(dir)
	list, err := sessions.List(filepath.Dir(dir))
	if err != nil || len(list) != 1 {
		t.Fatalf("listed %+v, %v", list, err)
	}
	listed := list[0]
	for _, at := range []struct {
		look  func(tensors int) int // the look that stops, given the teacher's tensors
		where string                // the error's words, a pattern
	}{
		// The third look, before the third tensor of the checkpoint's
		// teacher.
		{func(int) int { return 3 }, `^resume: teacher: .+/checkpoints/step-\d+/teacher/model.safetensors: tensor "[^"]+": stopped before it, 2 of \d+ tensors read: context canceled$`},
		// Both models read (a look before each of their tensors), the
		// third look of the optimiser's read: before its third tensor.
		{func(n int) int { return 2*n + 3 }, `^resume: optimizer: .+/checkpoints/step-\d+/optimizer.safetensors: tensor "[^"]+\.exp_avg": stopped before it, 2 of \d+ tensors read: context canceled$`},
	} {
		for _, headless := range []bool{false, true} {
			r, err := OpenForResume(dir, Overrides{Steps: 2}, sessions.ProcessHeadless)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			restore := func(ctx context.Context, e *run.Engine) error {
				return r.Restore(&stoptest.OnLook{Context: ctx, N: at.look(len(e.Trainer.Teacher.Params())), Cancel: cancel}, e)
			}
			if headless {
				var stopped *run.LoadStopped
				if err := Headless(ctx, r.Rec, r.Checked, restore, new(bytes.Buffer)); !errors.As(err, &stopped) || !regexp.MustCompile(at.where).MatchString(err.Error()) {
					t.Errorf("Headless: %v; want Start's *run.LoadStopped naming the checkpoint's tensor (%s)", err, at.where)
				}
			} else {
				h, err := Start(ctx, context.Background(), r.Rec, r.Checked, r.Rec, restore) // the workbench's: no signal ends its run context
				var stopped *run.LoadStopped
				var where *model.StoppedError
				if h != nil || !errors.As(err, &stopped) || !errors.As(err, &where) || !errors.Is(err, context.Canceled) ||
					!regexp.MustCompile(at.where).MatchString(err.Error()) {
					t.Errorf("Start: %v; want no engine and a *run.LoadStopped naming the checkpoint's tensor (%s)", err, at.where)
					if h != nil {
						cancel()
						h.Wait()
						h.Close()
					}
				}
			}
			cancel()
			// The resume's session is recorded (its open and close, as any
			// resume's that stops before its first step), and nothing else.
			after := runFiles(dir)
			events := filepath.Join(dir, sessions.EventsFile)
			delete(after, events)
			if !maps.Equal(after, without(before, events)) {
				t.Errorf("headless %v: the stopped restore changed the run's files", headless)
			}
			if b, _ := os.ReadFile(events); !strings.HasSuffix(string(b), "\"kind\":\"close\",\"step\":0}\n") {
				t.Errorf("headless %v: events.jsonl ends %q; want the resume's session closed, nothing recorded in it", headless, b[max(0, len(b)-300):])
			}
			if list, err := sessions.List(filepath.Dir(dir)); err != nil || len(list) != 1 || list[0].State != listed.State || list[0].Note != "" || list[0].LastStep != listed.LastStep {
				t.Errorf("headless %v: listed %+v (%v); want %s as before, at step %d", headless, list, err, listed.State, listed.LastStep)
			}
		}
	}
	r, err := OpenForResume(dir, Overrides{Steps: 2}, sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Start(context.Background(), context.Background(), r.Rec, r.Checked, r.Rec, r.Restore)
	if err != nil {
		t.Fatalf("the resume after the stopped ones: %v", err)
	}
	if err := errors.Join(h.Wait(), h.Close()); err != nil {
		t.Fatal(err)
	}
	if n := h.Engine().Trainer.StepIndex(); n != 2 {
		t.Errorf("the resume after the stopped ones did %d steps, want 2", n)
	}
}

// without is files without the one at path.
func without(files map[string]string, path string) map[string]string {
	out := maps.Clone(files)
	delete(out, path)
	return out
}
