package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rlt-workbench/rlt/sessions/roomtest"
)

// TestWriteOnAFullDisk: a report that does not fit its disk says the disk
// is full, which folder, the room it needs and has, and what to do, and
// leaves nothing behind: not the folders it made for --out, nor its
// temporary file, whose name it does not say. It said '…/.report.html.tmp-…:
// no space left on device (is the folder writable?)' and left an empty
// --out folder.
func TestWriteOnAFullDisk(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	makeRun(t, run, 3, 1, 1)
	runs, err := Load([]string{run})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, opts string
		want       []string
	}{
		// One 4 KiB block, less than the page: refused before anything is
		// made.
		{"too small", "size=4k", []string{"not enough room for report.html in ", "/rep/sub: the disk holding it has ",
			" free, and report.html needs about ", "; free at least ", " there and run the command again, or give --out a folder on a disk with room (nothing was written)"}},
		// Room for the page, no file left to hold it (the folders take the
		// last two): found by the write.
		{"no file left", "size=1m,nr_inodes=3", []string{"the disk holding ", "/rep/sub is full: report.html needs about ",
			", and the write found no room left although the disk says ", " free (it may have no file left to make: df -i); free more room there and run the command again, or give --out a folder on a disk with room (nothing was written)"}},
		// No folder can be made for --out: found by the mkdir.
		{"no folder left", "size=1m,nr_inodes=2", []string{"the disk holding ", "/rep/sub is full: report.html needs about ",
			"free more room there and run the command again, or give --out a folder on a disk with room (nothing was written)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			disk := roomtest.SmallDisk(t, tc.opts)
			out := filepath.Join(disk, "rep", "sub")
			_, err := Write(out, runs, DefaultSelection)
			if err == nil {
				t.Fatal("written")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%s\nwant it to say %q", msg, w)
				}
			}
			if strings.Contains(msg, ".tmp-") || strings.Contains(msg, "writable") {
				t.Errorf("%s: names the temporary file, or asks whether the folder is writable", msg)
			}
			if entries, err := os.ReadDir(disk); err != nil || len(entries) != 0 {
				t.Errorf("left %v on the disk (%v)", entries, err)
			}
			if tc.name != "too small" && !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("%v: the write's ENOSPC is not in its chain", err)
			}
		})
	}
}
