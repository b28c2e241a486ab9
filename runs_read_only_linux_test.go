package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions/roomtest"
)

// TestRunOnAReadOnlyRuns: rlt run whose --runs is on a read-only disk is
// refused at once, naming the flag, the folder it cannot write in and the
// way on, and makes nothing. It said "mkdir DISK/runs: read-only file
// system", with neither flag nor way on. A tmpfs mounted read-only, where
// the test runs as root (Linux: this file's name).
func TestRunOnAReadOnlyRuns(t *testing.T) {
	disk := roomtest.SmallDisk(t, "size=64m,ro") // room enough: the run's room check passes, the write is refused
	t.Setenv("XDG_CACHE_HOME", t.TempDir())      // the embedded models are unpacked on a writable disk
	for _, runs := range []string{disk, filepath.Join(disk, "runs")} {
		code, out, errs := runCLI(t, "", "run", "--headless", "--runs", runs, "--steps", "1", "--device", "cpu")
		want := "rlt run: --runs " + runs + ": cannot write in " + disk + " (read-only file system): choose another path"
		if code != 1 || out != "" || strings.TrimSpace(errs) != want {
			t.Errorf("exit %d, stdout %q, stderr\n%s\nwant exit 1 and\n%s", code, out, errs, want)
		}
		if entries, _ := os.ReadDir(disk); len(entries) > 0 {
			t.Errorf("the refused run left %d entries in %s", len(entries), disk)
		}
	}
}
