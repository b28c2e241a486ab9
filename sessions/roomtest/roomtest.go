// Package roomtest gives tests a small disk of their own, on which the
// room checks and full-disk messages of sessions (room.go) and of the
// commands that write outputs are exercised for real, without filling the
// machine's disk.
package roomtest

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// SmallDisk mounts a tmpfs with the mount options opts ("size=64k",
// "size=8m,nr_inodes=4") on a new folder for the rest of the test and
// returns the folder. It skips the test where it cannot: not Linux, not
// root, or a mount the system refuses.
func SmallDisk(t testing.TB, opts string) string {
	t.Helper()
	return smallDisk(t, opts)
}

// Fill writes a file, filler, on disk (a SmallDisk) until no block is
// left, failing the test on any other error: what follows meets a full
// disk.
func Fill(t testing.TB, disk string) {
	t.Helper()
	f, err := os.Create(filepath.Join(disk, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for block := make([]byte, 4096); ; {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}
