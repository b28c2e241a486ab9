package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/engine/model"
)

// cancelOnLook is ctx, but its n-th look at Err cancels it first: a
// model's load looks once before each tensor (of a small model, read
// whole), so the stop lands within the restore, before tensor n-1 of the
// models it reads in turn, with no clock involved.
type cancelOnLook struct {
	context.Context
	n      int
	cancel context.CancelFunc
}

func (c *cancelOnLook) Err() error {
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return c.Context.Err()
}

// TestRestoreStopsWhenCancelled: a resume's restore whose context ends
// while the checkpoint's models load (the teacher's, then the
// reference's) stops before the next tensor, with an error wrapping
// context.Canceled and the *model.StoppedError that names the tensor and
// its file, said as the model's; the checkpoint is left byte for byte as
// it was, and a restore from it afterwards resumes at its step. Restore
// took no context: it read every tensor of both models.
func TestRestoreStopsWhenCancelled(t *testing.T) {
	c := smallConfig(tinyModels(t))
	c.EvalEvery = 0
	first, err := checkAndNew(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := first.Trainer.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := first.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	ck := saveSnapshot(t, snap)
	files := func() map[string]string {
		all := map[string]string{}
		for _, dir := range []string{ck.TeacherDir, ck.ReferenceDir} {
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				all[filepath.Join(dir, e.Name())] = string(b)
			}
		}
		return all
	}
	before := files()
	n := len(first.Trainer.Teacher.Params())
	for _, s := range []struct {
		look   int    // the look at Err that cancels
		who    string // the model it stops in
		dir    string
		tensor int // the tensor it stops before
	}{
		{1, "teacher", ck.TeacherDir, 0},
		{4, "teacher", ck.TeacherDir, 3},
		{n + 2, "reference", ck.ReferenceDir, 1},
	} {
		e, err := checkAndNew(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		err = e.Restore(&cancelOnLook{Context: ctx, n: s.look, cancel: cancel}, ck)
		cancel()
		var stopped *model.StoppedError
		name := e.Trainer.Teacher.Params()[s.tensor].Name
		want := fmt.Sprintf("resume: %s: %s: tensor %q: stopped before it, %d of %d tensors read: context canceled",
			s.who, filepath.Join(s.dir, "model.safetensors"), name, s.tensor, n)
		if !errors.Is(err, context.Canceled) || !errors.As(err, &stopped) || err.Error() != want {
			t.Errorf("stopped at look %d: %v;\nwant %q", s.look, err, want)
		}
	}
	after := files()
	for path, b := range before {
		if after[path] != b {
			t.Errorf("%s changed under the stopped restores", path)
		}
	}
	if len(after) != len(before) {
		t.Errorf("the checkpoint holds %d files after the stopped restores, %d before", len(after), len(before))
	}
	e, err := checkAndNew(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(context.Background(), ck); err != nil {
		t.Fatalf("a restore after the stopped ones: %v", err)
	}
	if r, err := e.Trainer.Step(context.Background()); err != nil || r.Step != 2 {
		t.Fatalf("the step after it: %d, %v; want step 2", r.Step, err)
	}
}
