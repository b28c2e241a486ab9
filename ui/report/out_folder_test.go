package report

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/rlt-workbench/rlt/sessions/roomtest"
)

// TestOutFolderOnAReadOnlyDisk: an --out folder that cannot be made on a
// read-only disk is said with the flag, the mkdir's words and the way on
// (outFolderError's read-only branch; a5dfa79 tested the file in the way
// only). It said "output folder: mkdir DISK/rep: read-only file system".
func TestOutFolderOnAReadOnlyDisk(t *testing.T) {
	disk := roomtest.SmallDisk(t, "size=64k,ro")
	run := filepath.Join(t.TempDir(), "run")
	makeRun(t, run, 2, 1, 1)
	runs, err := Load([]string{run})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(disk, "rep")
	_, err = Write(out, runs, DefaultSelection)
	want := "--out " + out + ": cannot make the output folder (mkdir " + out + ": read-only file system): its disk is mounted read-only: give --out a folder this process can write in (nothing was written)"
	if err == nil || err.Error() != want {
		t.Fatalf("%v\nwant %q", err, want)
	}
	if !errors.Is(err, syscall.EROFS) {
		t.Errorf("%v: EROFS is not in its chain", err)
	}
}
