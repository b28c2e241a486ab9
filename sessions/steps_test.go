package sessions

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestStepsDone: a run of ours numbers its steps from 0, so its last
// record's step plus one are done; a run imported from another trainer
// keeps the trainer's numbers, which count the steps done.
func TestStepsDone(t *testing.T) {
	for _, c := range []struct {
		name      string
		numbering StepNumbering
		lastStep  int
		want      int
	}{
		{"ours, six steps", StepsFromZero, 5, 6},
		{"ours, one step", StepsFromZero, 0, 1},
		{"ours, none", StepsFromZero, -1, 0},
		{"imported, three steps", StepsFromOne, 3, 3},
		{"imported, validation before the first step", StepsFromOne, 0, 0},
		{"imported, none", StepsFromOne, -1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.numbering.StepsDone(c.lastStep); got != c.want {
				t.Errorf("StepsDone(%d) = %d, want %d", c.lastStep, got, c.want)
			}
		})
	}
}

// TestImportedRunsCountTheTrainersSteps: a run imported from each
// trainer's fixture — with rlt import (Import) or followed live
// (OpenTrainerRun) — keeps the trainer's step numbers in its metrics, and
// rlt sessions' summary and the open run count the steps the trainer did:
// its last step number (the official trainer's 3 steps are 3 done, not 4).
// A run of ours and a traces file's import count from 0.
func TestImportedRunsCountTheTrainersSteps(t *testing.T) {
	traces := filepath.Join(t.TempDir(), "mine.jsonl")
	if err := os.WriteFile(traces, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		src       string // "": a run of ours with `ours` steps
		ours      int
		steps     []int // the metric records' steps, as recorded
		done      int
		numbering StepNumbering
	}{
		{name: "official", src: fixtureRun, steps: []int{1, 2, 3}, done: 3, numbering: StepsFromOne},
		{name: "trl", src: trlFixture, steps: []int{2, 4}, done: 4, numbering: StepsFromOne},
		{name: "verl", src: verlFixture, steps: []int{1, 2}, done: 2, numbering: StepsFromOne},
		{name: "nemo-rl", src: nemoFixture, steps: []int{1, 2}, done: 2, numbering: StepsFromOne},
		{name: "traces file", src: traces, steps: nil, done: 0, numbering: StepsFromZero},
		{name: "ours", ours: 3, steps: []int{0, 1, 2}, done: 3, numbering: StepsFromZero},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, c.name)
			if c.src == "" {
				r := mustCreate(t, dir, Options{})
				emitSteps(r, 0, c.ours, 1, 1)
				r.Emit(event.Phase{Time: time.Now(), Name: "done", Step: c.ours})
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
			} else if _, err := Import(dir, c.src); err != nil {
				t.Fatal(err)
			}
			list, err := List(root)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			wantLast := -1
			if n := len(c.steps); n > 0 {
				wantLast = c.steps[n-1]
			}
			if s := list[0]; s.LastStep != wantLast || s.Numbering != c.numbering || s.StepsDone() != c.done {
				t.Errorf("summary: last step %d, numbering %d, %d steps done; want %d, %d, %d",
					s.LastStep, s.Numbering, s.StepsDone(), wantLast, c.numbering, c.done)
			}

			rec, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer rec.Close()
			checkOpenCount(t, "opened", rec, c.steps, c.numbering, c.done)
			if c.src == "" || c.src == traces {
				return
			}
			live, err := OpenTrainerRun(t.Context(), c.src, "")
			if err != nil {
				t.Fatal(err)
			}
			defer live.Close()
			checkOpenCount(t, "followed", live.Run, c.steps, c.numbering, c.done)
		})
	}
}

// checkOpenCount checks that an open run's metrics have the steps as
// recorded and that it counts done steps done after the last.
func checkOpenCount(t *testing.T, how string, r *Run, steps []int, numbering StepNumbering, done int) {
	t.Helper()
	ms, _ := r.Store().MetricsSince(0)
	var got []int
	for _, m := range ms {
		got = append(got, m.Step)
	}
	if !slices.Equal(got, steps) {
		t.Errorf("%s: metric steps %v, want the trainer's %v", how, got, steps)
	}
	last := -1
	if len(got) > 0 {
		last = got[len(got)-1]
	}
	if n := r.StepNumbering(); n != numbering || n.StepsDone(last) != done {
		t.Errorf("%s: numbering %d counts %d steps done after step %d, want %d counting %d", how, n, n.StepsDone(last), last, numbering, done)
	}
}
