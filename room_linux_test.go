package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRunRefusedOnAFullDisk: rlt run on a disk with less room than its
// checkpoints take is refused before its first step, saying what to free,
// and makes no run folder. It needs a small disk: a 1 MiB tmpfs, mounted
// where the test runs as root (Linux: this file's name); elsewhere the check is tested
// with a free-space function of the test's (sessions/room_test.go).
func TestRunRefusedOnAFullDisk(t *testing.T) {
	disk := smallDisk(t, "size=1m")
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the embedded models are unpacked on the big disk
	runs := filepath.Join(disk, "runs")
	code, _, errs := runCLI(t, "", "run", "--headless", "--runs", runs, "--steps", "20", "--device", "cpu")
	if code != 1 || !strings.Contains(errs, "not enough room for a new run in "+runs) ||
		!strings.Contains(errs, "with rotation keeping 3 and the best, plus the one being written; free at least") ||
		!strings.Contains(errs, "(no run folder was created)") || strings.Contains(errs, "step 0") {
		t.Errorf("exit %d, want a refusal before the first step saying what to free:\n%s", code, errs)
	}
	if _, err := os.Stat(runs); err == nil {
		entries, _ := os.ReadDir(runs)
		if len(entries) > 0 {
			t.Errorf("a refused run left %d folders in %s", len(entries), runs)
		}
	}
}

// smallDisk mounts a tmpfs with options opts on a new folder for the rest
// of the test: a small disk, where the test runs as root.
func smallDisk(t *testing.T, opts string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	disk := t.TempDir()
	if err := syscall.Mount("tmpfs", disk, "tmpfs", 0, opts); err != nil {
		t.Skipf("mount a tmpfs (%s): %v", opts, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(disk, 0); err != nil {
			t.Errorf("unmount %s: %v", disk, err)
		}
	})
	return disk
}

// fill writes a file on disk until the disk has no room left.
func fill(t *testing.T, disk string) {
	t.Helper()
	f, err := os.Create(filepath.Join(disk, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

// TestExportOnAFullDisk: rlt export --out on a full disk says the disk is
// full, which folder, and what to do (free room, or --out on another
// disk), once, and leaves nothing there. It said 'write X: export: write
// .X.tmp-…: no space left on device: …; give --out a file in a folder this
// process can write': the path twice, the temporary file, a folder's
// permissions for a full disk.
func TestExportOnAFullDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir)
	disk := smallDisk(t, "size=64k")
	fill(t, disk)
	out := filepath.Join(disk, "accepted.jsonl")
	code, _, errs := runCLI(t, "", "export", "--run", dir, "--out", out)
	want := "rlt export: the disk holding " + disk + " is full (0 B free): free some room there and run the command again, or give --out a file on a disk with room (nothing was written)\n"
	if code != 1 || errs != want {
		t.Errorf("exit %d, stderr %q\nwant exit 1 and %q", code, errs, want)
	}
	if entries, _ := os.ReadDir(disk); len(entries) != 1 {
		t.Errorf("left on the disk: %v", entries)
	}
}
