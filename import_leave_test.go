package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rlt-workbench/rlt/engine/durable"
)

// TestLeaveImportSaysWhatItLeaves: what rlt import does and says as a
// second signal leaves at once (leaveImport): a staging folder it had
// begun is removed, no run folder made, said so; one whose folder was put
// in place as the signal came (the rename done, the watch not yet ended)
// keeps the folder, whole, and says so. The notice was one text made
// before the import began: "no run folder was made" of a folder in place.
func TestLeaveImportSaysWhatItLeaves(t *testing.T) {
	files := func(dir string) []string {
		var names []string
		filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
			if path != dir {
				rel, _ := filepath.Rel(dir, path)
				names = append(names, rel)
			}
			return err
		})
		slices.Sort(names)
		return names
	}
	t.Run("staging begun", func(t *testing.T) {
		runs := t.TempDir()
		dst := filepath.Join(runs, "mine")
		stage, err := durable.NewStaging(dst)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(stage, "config.toml"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		want := "rlt import: stopped at once by a second signal: no run folder was made (" + dst + "); run the same command again to import"
		if got := leaveImport(dst); got != want {
			t.Errorf("said %q\nwant %q", got, want)
		}
		if left := files(runs); len(left) != 0 {
			t.Errorf("%s holds %q: want nothing, its staging folder removed", runs, left)
		}
	})
	t.Run("the folder in place", func(t *testing.T) {
		dir := t.TempDir()
		src := filepath.Join(dir, "traces.jsonl")
		if err := os.WriteFile(src, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one make two"}`+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "runs", "mine")
		if code, _, errs := runCLI(t, "", "import", src, "--out", dst); code != 0 {
			t.Fatalf("import: exit %d: %s", code, errs)
		}
		before := files(filepath.Dir(dst))
		want := "rlt import: stopped by a second signal as the run folder was put in place: " + dst + " was written whole before it stopped"
		if got := leaveImport(dst); got != want {
			t.Errorf("said %q\nwant %q", got, want)
		}
		if after := files(filepath.Dir(dst)); !slices.Equal(after, before) || !slices.Contains(after, filepath.Join("mine", "config.toml")) {
			t.Errorf("the run folder after: %q\nwant it as it was: %q", after, before)
		}
	})
}
