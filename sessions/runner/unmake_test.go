package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestUnmakeLeavesAFolderThatWasThere: a launch stopped as Create made its
// run (Launcher.Start) removes what Create made, and only that: a folder
// that was there as Create made the run in it (another process's, the
// user's, that took the name between NewRunDir's look and Create's) is
// left as found, as a create that fails leaves it. unmake removed it
// whole, with whatever it held.
func TestUnmakeLeavesAFolderThatWasThere(t *testing.T) {
	for _, there := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "run")
		mine := filepath.Join(dir, "notes.txt")
		if there {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(mine, []byte("mine\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rec, err := sessions.CreateWith(dir, smallConfig(t, 1), sessions.Options{Process: sessions.ProcessWorkbench})
		if err != nil {
			t.Fatal(err)
		}
		err = unmake(rec, context.Canceled)
		if launch := (*sessions.LaunchStoppedError)(nil); !errors.As(err, &launch) || !launch.Removed {
			t.Errorf("there %v: %v; want a *sessions.LaunchStoppedError, the run removed", there, err)
		}
		entries, err := os.ReadDir(dir)
		switch {
		case !there && !errors.Is(err, os.ErrNotExist):
			t.Errorf("the folder made is still there: %v %v", entries, err)
		case there && (err != nil || len(entries) != 1 || entries[0].Name() != filepath.Base(mine)):
			t.Errorf("the folder that was there holds %v (%v); want only %s, as it was", entries, err, filepath.Base(mine))
		}
	}
}
