package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestUnmakeRemovesWhatTheCreateMade: Unmake of a run just created removes
// what the create made and nothing else, as a create that fails does: the
// folder where it made it; in a folder that was there (the user's, or
// another process's that took the name), only the files and folders it
// made, leaving the folder's own files, a file another put in one of the
// run's folders since (and so that folder), and run.lock as it was found.
func TestUnmakeRemovesWhatTheCreateMade(t *testing.T) {
	put := func(t *testing.T, path, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		found func(t *testing.T, dir string) // what was there before the create (nil: no folder)
		since func(t *testing.T, dir string) // what another puts there after it
	}{
		{"folder made", nil, nil},
		{"empty folder there", func(t *testing.T, dir string) { os.Mkdir(dir, 0o755) }, nil},
		{"folder there with its files and a run.lock", func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, "notes.txt"), "mine\n")
			put(t, filepath.Join(dir, LockFileName), "a killed writer's\n")
		}, func(t *testing.T, dir string) {
			put(t, filepath.Join(dir, TracesDir, "theirs.jsonl"), "theirs\n")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, want := filepath.Join(t.TempDir(), "run"), filepath.Join(t.TempDir(), "want")
			if c.found != nil {
				c.found(t, dir)
				c.found(t, want)
			}
			r, err := CreateWith(dir, testCfg(), Options{Process: ProcessWorkbench})
			if err != nil {
				t.Fatal(err)
			}
			if c.since != nil {
				c.since(t, dir)
				c.since(t, want)
			}
			if err := r.Unmake(); err != nil {
				t.Fatalf("Unmake: %v", err)
			}
			if c.found == nil {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the folder the create made is still there (stat: %v)", err)
				}
				return
			}
			if now, was := folderAsIs(t, dir), folderAsIs(t, want); now != was {
				t.Errorf("the folder that was there holds after Unmake:\n%s\nwant:\n%s", now, was)
			}
		})
	}
}

// TestUnmakeOnlyARunCreatedHere: a run opened, not created by this
// process, is not removed by Unmake.
func TestUnmakeOnlyARunCreatedHere(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	mustCreate(t, dir, Options{}).Close()
	r, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Unmake(); err == nil {
		t.Error("Unmake of a run opened: nil error")
	}
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err != nil {
		t.Errorf("the run opened is gone: %v", err)
	}
}
