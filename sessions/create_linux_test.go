//go:build linux

package sessions

import (
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
)

// A run folder that cannot be made whole (its config.toml not written: a
// full disk, here a file-size limit of 0) is removed again, not left to be
// listed as a broken run dated year 1.
func TestCreateThatFailsLeavesNoFolder(t *testing.T) {
	signal.Ignore(syscall.SIGXFSZ) // the write fails with EFBIG instead
	defer signal.Reset(syscall.SIGXFSZ)
	var was syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &was); err != nil {
		t.Skip(err)
	}
	runs := t.TempDir()
	dir := filepath.Join(runs, "run")
	lim := was
	lim.Cur = 0
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	_, err := Create(dir, testCfg())
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &was); rerr != nil {
		t.Fatal(rerr)
	}
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("Create under a file-size limit of 0: %v, want EFBIG", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the half-made run folder is still there (stat: %v)", err)
	}
	// A folder that was there before is left (it may be the user's).
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	_, err = Create(dir, testCfg())
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &was)
	if err == nil {
		t.Fatal("Create under a file-size limit of 0 succeeded")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("a folder that was there before was removed: %v", err)
	}
}
