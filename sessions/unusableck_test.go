package sessions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/hf"
)

// TestUnusableCheckpointFolderProvesNoStep: where events.jsonl lost the
// record of a checkpoint, its folder proves its step only if it could be
// resumed from (its state.json and manifest whole, of that step): one
// that cannot (a copy cut short, a file deleted since) is said, not
// counted, in the listing, the header and a resume's checks alike, and
// the steps are counted from the checkpoint a resume would take. The
// folder's name was trusted: the listing said 5 steps done of a run that
// resumes from step 1. A folder the events record is theirs to count.
func TestUnusableCheckpointFolderProvesNoStep(t *testing.T) {
	const unusable = "checkpoints/step-000004: cannot be resumed from ("
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		done   int
		said   string // in the listing's note and the header's Problem ("": no unusable folder said)
	}{
		{"events lost, the newest folder whole", func(t *testing.T, dir string) { loseEvents(t, dir) }, 5, ""},
		{"events lost, the newest folder's state.json deleted", func(t *testing.T, dir string) {
			loseEvents(t, dir)
			os.Remove(filepath.Join(CheckpointDir(dir, 4), CheckpointStateFile))
		}, 2, unusable},
		{"events lost, the newest folder's weights cut short", func(t *testing.T, dir string) {
			loseEvents(t, dir)
			if err := os.Truncate(filepath.Join(CheckpointDir(dir, 4), TeacherDir, hf.WeightsFile), 10); err != nil {
				t.Fatal(err)
			}
		}, 2, unusable},
		{"events lost, every folder unusable", func(t *testing.T, dir string) {
			loseEvents(t, dir)
			os.Remove(filepath.Join(CheckpointDir(dir, 4), CheckpointStateFile))
			os.Remove(filepath.Join(CheckpointDir(dir, 1), CheckpointStateFile))
		}, 0, unusable},
		{"events kept, the newest folder's state.json deleted", func(t *testing.T, dir string) {
			keepMetricLines(t, dir, -1)
			os.Remove(filepath.Join(CheckpointDir(dir, 4), CheckpointStateFile))
		}, 5, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs, dir := fiveStepsTwoCheckpoints(t)
			c.damage(t, dir)
			says := func(how, note string, done int) {
				t.Helper()
				if done != c.done {
					t.Errorf("%s: %d steps done, want %d (%q)", how, done, c.done, note)
				}
				if got := strings.Contains(note, unusable); got != (c.said != "") {
					t.Errorf("%s: %q; want it to say %q: %v", how, note, unusable, c.said != "")
				}
			}
			var l Lister
			for _, how := range []string{"List", "relist"} {
				s, err := l.List(runs)
				if err != nil || len(s) != 1 {
					t.Fatalf("%s: %v, %v", how, s, err)
				}
				says(how, s[0].Note, s[0].StepsDone())
			}
			r, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			says("header", r.Steps().Problem(), r.Steps().Done)
			r.Close()
			res, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			res.LatestCheckpoint()
			says("a resume's checks", res.Steps().Problem(), res.Steps().Done)
		})
	}
}

// loseEvents deletes the run's events.jsonl and metrics.jsonl: its steps
// are proved by its checkpoint folders alone.
func loseEvents(t *testing.T, dir string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, EventsFile)); err != nil {
		t.Fatal(err)
	}
	keepMetricLines(t, dir, -1)
}
