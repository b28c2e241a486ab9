package report

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/rlt-workbench/rlt/sessions/roomtest"
)

// TestWriteFailureNamesThePage: a write of the page that fails for a
// reason other than a full disk names report.html in the --out folder and
// what to do, not the hidden temporary file it was written to, which it
// leaves nowhere. It said 'write …/report.html: open
// …/.report.html.tmp-123@host-456: read-only file system (is the folder
// writable?)', and for a folder in report.html's place, 'rename
// …/.report.html.tmp-… …/report.html: …'.
func TestWriteFailureNamesThePage(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	makeRun(t, run, 2, 1, 1)
	runs, err := Load([]string{run})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		out   func(t *testing.T) string // the --out folder, made to fail
		want  string                    // after "cannot write OUT/report.html: "
		cause error
	}{
		{"a read-only disk", func(t *testing.T) string {
			return roomtest.SmallDisk(t, "size=64k,ro")
		}, "read-only file system; its disk is mounted read-only: give --out a folder this process can write in (nothing was written)", syscall.EROFS},
		// Made after rlt report's check of --out, before the rename.
		{"a folder in its place", func(t *testing.T) string {
			if runtime.GOOS == "windows" {
				t.Skip("Windows renames over a folder otherwise")
			}
			out := t.TempDir()
			if err := os.MkdirAll(filepath.Join(out, FileName, "notes"), 0o755); err != nil {
				t.Fatal(err)
			}
			return out
		}, "a folder is in its place; move it away, or choose another --out folder (nothing was written)", fs.ErrExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.out(t)
			_, err := Write(out, runs, DefaultSelection)
			page := filepath.Join(out, FileName)
			if want := "cannot write " + page + ": " + tc.want; err == nil || err.Error() != want {
				t.Fatalf("%v\nwant %q", err, want)
			}
			if !errors.Is(err, tc.cause) {
				t.Errorf("%v: %v is not in its chain", err, tc.cause)
			}
			left, _ := filepath.Glob(filepath.Join(out, ".*"))
			if len(left) > 0 {
				t.Errorf("left %v", left)
			}
			if st, err := os.Stat(page); tc.cause == fs.ErrExist && (err != nil || !st.IsDir()) || tc.cause != fs.ErrExist && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s is now %v (%v)", page, st, err)
			}
		})
	}
}
