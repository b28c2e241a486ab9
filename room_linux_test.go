package main

import (
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
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	disk := t.TempDir()
	if err := syscall.Mount("tmpfs", disk, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount a 1 MiB tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(disk, 0); err != nil {
			t.Errorf("unmount %s: %v", disk, err)
		}
	})
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
