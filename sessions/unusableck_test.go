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

// TestRelistSeesCheckpointFilesChangedInPlace: a Lister's relist says a
// checkpoint folder past the events' records cut in place (its weights, a
// folder below it, or its state.json: neither folder changes) as it says
// one cut before the first listing, and one put back whole in place as
// usable again, the run's size walked again with it. Its check was kept until the checkpoint's folder changed,
// at the earliest a fresh listing.
func TestRelistSeesCheckpointFilesChangedInPlace(t *testing.T) {
	const unusable = "checkpoints/step-000004: cannot be resumed from ("
	for _, file := range []string{filepath.Join(TeacherDir, hf.WeightsFile), CheckpointStateFile} {
		t.Run(file, func(t *testing.T) {
			runs, dir := fiveStepsTwoCheckpoints(t)
			loseEvents(t, dir)
			path := filepath.Join(CheckpointDir(dir, 4), file)
			whole, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var l Lister
			for _, c := range []struct {
				name string
				do   func() error
				done int
				said bool
			}{
				{"listed whole", func() error { return nil }, 5, false},
				{"cut in place", func() error { return os.Truncate(path, int64(len(whole)/2)) }, 2, true},
				{"put back in place", func() error { return os.WriteFile(path, whole, 0o644) }, 5, false},
			} {
				if err := c.do(); err != nil {
					t.Fatal(err)
				}
				s, err := l.List(runs)
				if err != nil || len(s) != 1 {
					t.Fatalf("%s: %v, %v", c.name, s, err)
				}
				if s[0].StepsDone() != c.done || strings.Contains(s[0].Note, unusable) != c.said {
					t.Errorf("%s: relist says %d steps done, %q; want %d, unusable said: %v", c.name, s[0].StepsDone(), s[0].Note, c.done, c.said)
				}
				if s[0].Size != FolderSize(dir) {
					t.Errorf("%s: relist's size %d, the folder's %d", c.name, s[0].Size, FolderSize(dir))
				}
			}
		})
	}
}

// TestOpenRunSeesCheckpointFilesChangedInPlace: a run kept open (the
// workbench's header, a resume's checks: Run.Steps) says a checkpoint
// folder past the events' records cut in place (its weights, a folder
// below it, or its state.json) as unusable, and one put back whole in
// place as usable again, as a Lister's relist does. Its check was kept for
// the life of the Run: the header said 5 steps done of a run that resumes
// from step 1.
func TestOpenRunSeesCheckpointFilesChangedInPlace(t *testing.T) {
	const unusable = "checkpoints/step-000004: cannot be resumed from ("
	for _, file := range []string{filepath.Join(TeacherDir, hf.WeightsFile), CheckpointStateFile} {
		t.Run(file, func(t *testing.T) {
			_, dir := fiveStepsTwoCheckpoints(t)
			loseEvents(t, dir)
			path := filepath.Join(CheckpointDir(dir, 4), file)
			whole, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for _, c := range []struct {
				name string
				do   func() error
				done int
				said bool
			}{
				{"opened whole", func() error { return nil }, 5, false},
				{"cut in place", func() error { return os.Truncate(path, int64(len(whole)/2)) }, 2, true},
				{"asked again", func() error { return nil }, 2, true},
				{"put back in place", func() error { return os.WriteFile(path, whole, 0o644) }, 5, false},
			} {
				if err := c.do(); err != nil {
					t.Fatal(err)
				}
				st := r.Steps()
				if st.Done != c.done || strings.Contains(st.Problem(), unusable) != c.said {
					t.Errorf("%s: Steps says %d steps done, %q; want %d, unusable said: %v", c.name, st.Done, st.Problem(), c.done, c.said)
				}
			}
		})
	}
}

// BenchmarkRelistEventsLost relists, with a Lister finding nothing changed,
// 40 runs whose events.jsonl is lost, each with checkpoints of steps 1 and
// 4, whose newest folder its check (checkpointUsable) is asked about at
// every listing: what a relist costs in the files of that folder, statted
// again (checkedFolder's unchanged).
//
//	go test -run '^$' -bench BenchmarkRelistEventsLost -benchtime 100x ./sessions/
func BenchmarkRelistEventsLost(b *testing.B) {
	const runs = 40
	root, l := damagedRuns(b, runs, func(t testing.TB, dir string) {
		if err := os.Remove(filepath.Join(dir, EventsFile)); err != nil {
			t.Fatal(err)
		}
	})
	if got, err := l.List(root); err != nil || len(got) != runs || got[0].StepsDone() != 5 {
		b.Fatal(got, err)
	}
	for b.Loop() {
		if got, err := l.List(root); err != nil || len(got) != runs {
			b.Fatal(len(got), err)
		}
	}
}
