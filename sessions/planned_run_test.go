package sessions

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

// createPlanned makes a run at dir whose config.toml plans steps steps, its
// reward at the defaults: the fixture of the tests that weigh a run's plan
// against its checkpoints (the listing's finished, the resume's nothing to
// run, a checkpoint moved aside).
func createPlanned(t *testing.T, dir string, steps int) *Run {
	t.Helper()
	cfg := struct {
		Name   string              `toml:"name"`
		Steps  int                 `toml:"steps"`
		Reward record.RewardConfig `toml:"reward"`
	}{"t", steps, record.DefaultRewardConfig()}
	r, err := Create(dir, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// saveNote is a checkpoint's save that writes one small file, where a test
// needs a checkpoint on disk and not what is in it.
func saveNote(dir string) error {
	return os.WriteFile(filepath.Join(dir, "note.txt"), []byte("a step\n"), 0o644)
}

// wantListedAndOpened checks that root's one run is listed as state with
// note, and reads so opened read-only, interrupted as said; it returns the
// listing's row.
func wantListedAndOpened(t *testing.T, root, dir string, state RunState, note string, interrupted bool) RunSummary {
	t.Helper()
	list, err := List(root)
	if err != nil || len(list) != 1 {
		t.Fatalf("List: %+v, %v", list, err)
	}
	if list[0].State != state || list[0].Note != note {
		t.Errorf("listed %s (%q), want %s (%q)", list[0].State, list[0].Note, state, note)
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if st, n, intr := ro.State(); st != state || n != note || intr != interrupted {
		t.Errorf("open read-only: %s (%q), interrupted %v; want %s (%q), interrupted %v", st, n, intr, state, note, interrupted)
	}
	return list[0]
}
