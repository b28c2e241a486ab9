package run

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestDoneComesAfterTheLastStepsCheckpoint: an engine that has run every
// planned step writes the checkpoint of its last step before it records
// "done", whether or not checkpoint_every divides the steps: "done" says
// the run is finished (the listing's finished, the resume's nothing to
// run), so the last step's weights must be on disk first. Where
// checkpoint_every did not divide them, the final checkpoint was left to
// the run's close (runner.Handle.Close), after "done": a process killed
// between the two left a run listed finished whose last steps' weights
// were never saved. A step saved already is not written again; one whose
// scheduled save failed is tried once more before "done", but not from a
// device lost as it saved (Backend.Err), which holds no weights to read.
// Where the last step is not on disk so (its save failed again, or the
// device was lost), the engine records "stopped", not "done": the run is
// not finished, and a resume goes on from its last good checkpoint. It
// recorded "done" after the failed save (a run of the runner's then
// carried its fatal error and a "done" its last step never had on disk).
func TestDoneComesAfterTheLastStepsCheckpoint(t *testing.T) {
	dir := tinyModels(t)
	for _, tc := range []struct {
		name  string
		every int // checkpoint_every; the run plans 3 steps
		// fail: how many saves fail first; lost: the device with the
		// first.
		fail  int
		lost  bool
		want  []int  // the steps saved or tried, in order
		phase string // the last phase recorded
	}{
		{"every step", 1, 0, false, []int{0, 1, 2}, "done"},
		{"every second step", 2, 0, false, []int{1, 2}, "done"},
		{"every third step", 3, 0, false, []int{2}, "done"},
		{"every fourth step", 4, 0, false, []int{2}, "done"},
		{"none scheduled", 0, 0, false, []int{2}, "done"},
		{"every third step, its save failed", 3, 1, false, []int{2, 2}, "done"},
		{"every third step, its save failed twice", 3, 2, false, []int{2, 2}, "stopped"},
		{"none scheduled, its save failed", 0, 1, false, []int{2}, "stopped"},
		{"every third step, the device lost as it saved", 3, 1, true, []int{2}, "stopped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallConfig(dir)
			c.Steps, c.EvalEvery, c.CheckpointEvery = 3, 0, tc.every
			sink := &event.Buffer{}
			e, err := checkAndNew(c, sink)
			if err != nil {
				t.Fatal(err)
			}
			lossy := &lostWith{Backend: e.Backend}
			e.Backend = lossy
			var saved []int
			fail := tc.fail
			e.OnCheckpoint = func(step int) error {
				for _, ev := range sink.Events() {
					if p, ok := ev.(event.Phase); ok && (p.Name == "done" || p.Name == "stopped") {
						t.Errorf("checkpoint of step %d after the %s phase", step, p.Name)
					}
				}
				saved = append(saved, step)
				if fail > 0 {
					fail--
					if tc.lost {
						lossy.lose()
					}
					return fmt.Errorf("save checkpoint of step %d: no space left on device", step)
				}
				return nil
			}
			if err := e.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(saved, tc.want) {
				t.Errorf("checkpoints of steps %v, want %v", saved, tc.want)
			}
			var last string
			for _, ev := range sink.Events() {
				if p, ok := ev.(event.Phase); ok {
					last = p.Name
				}
			}
			if last != tc.phase {
				t.Errorf("last phase %q, want %s", last, tc.phase)
			}
		})
	}
}
