package durable

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRemoveOwn: RemoveOwn removes this process's temporary file and
// staging folder for a path, and leaves another process's, another
// path's, the path itself, and those under this process's tag that it
// did not make: a killed process whose pid this one got left them (a
// container's pids start over), and RemoveOwn removed them by their name.
func TestRemoveOwn(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	tmp, err := CreateTemp(out, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	stage, err := NewStaging(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stage, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	kept := []string{
		".out.tmp-1@elsewhere-5",           // another machine's
		".out.partial-1@elsewhere-5",       // another machine's staging
		".other.tmp-" + writerTag() + "-5", // another path's
		"out",
	}
	for _, k := range kept {
		if err := os.WriteFile(filepath.Join(dir, k), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A killed process of this pid's: its temporary file, and its staging
	// folder with a run's file in it.
	before := []string{".out.tmp-" + writerTag() + "-12345", ".out.partial-" + writerTag() + "-12345"}
	if err := os.WriteFile(filepath.Join(dir, before[0]), []byte("rows"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, before[1]), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, before[1], "config.toml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, before...)
	RemoveOwn(out)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	slices.Sort(left)
	slices.Sort(kept)
	if !slices.Equal(left, kept) {
		t.Errorf("left %q, want %q (the temporary file %s and staging folder %s removed)", left, kept, filepath.Base(tmp.Name()), filepath.Base(stage))
	}
}

// TestPlacedStagingIsNoLongerOwn: a staging folder put in place by
// CommitDir is no longer one RemoveOwn removes: made forgets it at the
// rename, which it makes under made's lock, so that a second stop signal's
// RemoveOwn, in another goroutine, either removes the staging folder
// before the rename (nothing put in place) or leaves the placed folder
// alone, and rlt import can say which by looking at the folder. Before,
// made kept the path after the rename, and a RemoveOwn racing the rename
// could read the folder by its handle and empty the one put in place.
func TestPlacedStagingIsNoLongerOwn(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	stage, err := NewStaging(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stage, "config.toml"), []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(stage)
	if err != nil {
		t.Fatal(err)
	}
	made.Lock()
	noted := made.paths[abs]
	made.Unlock()
	if !noted {
		t.Fatalf("NewStaging did not note %s as made", stage)
	}
	if err := CommitDir(stage, out); err != nil {
		t.Fatal(err)
	}
	made.Lock()
	still := made.paths[abs]
	made.Unlock()
	if still {
		t.Errorf("%s, renamed to %s, is still noted as this process's to remove", stage, out)
	}
	RemoveOwn(out)
	if data, err := os.ReadFile(filepath.Join(out, "config.toml")); err != nil || string(data) != "x = 1\n" {
		t.Errorf("the folder put in place after RemoveOwn: %q, %v", data, err)
	}
}
