package durable

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestIsMountPointMounted: a tmpfs mounted on a folder, and a bind mount of
// a folder of the same filesystem (one device number: statx alone sees
// it), are mount points; a folder inside them and the folder bound are
// not. The device numbers (byDevice, the other systems' way) see the
// tmpfs. It mounts, so it needs root.
func TestIsMountPointMounted(t *testing.T) {
	tmpfs, bound, src := t.TempDir(), t.TempDir(), t.TempDir()
	mount(t, "tmpfs", tmpfs, "tmpfs", 0)
	mount(t, src, bound, "", syscall.MS_BIND)
	inside := filepath.Join(tmpfs, "model")
	os.Mkdir(inside, 0o755)
	for _, c := range []struct {
		path  string
		mount bool
	}{{tmpfs, true}, {bound, true}, {inside, false}, {src, false}} {
		if mount, err := IsMountPoint(c.path); mount != c.mount || err != nil {
			t.Errorf("IsMountPoint(%s) = %v, %v; want %v", c.path, mount, err, c.mount)
		}
	}
	for _, c := range []struct {
		path  string
		mount bool
	}{{tmpfs, true}, {inside, false}, {src, false}} {
		fi, err := os.Lstat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if mount, err := byDevice(c.path, fi); mount != c.mount || err != nil {
			t.Errorf("byDevice(%s) = %v, %v; want %v", c.path, mount, err, c.mount)
		}
	}
}

// TestCommitDirOntoAMountPoint: a folder staged for a mount point says that
// it is one and what to do; it said "rename STAGE DIR: file exists", which
// is fs.ErrExist, taken by rlt import for a folder made meanwhile. The
// mount point is left empty, and no staging folder beside it.
func TestCommitDirOntoAMountPoint(t *testing.T) {
	dir := t.TempDir()
	mount(t, "tmpfs", dir, "tmpfs", 0)
	err := StageDir(dir, "nothing was written there", func(stage string) error {
		return WriteFile(filepath.Join(stage, "config.json"), []byte("{}"), 0o644)
	})
	want := "write " + dir + ": " + dir + " is a mount point, onto which no folder can be renamed: give a folder inside it; nothing was written there"
	if err == nil || err.Error() != want || errors.Is(err, fs.ErrExist) {
		t.Errorf("err %v (fs.ErrExist: %v), want %q, not fs.ErrExist", err, errors.Is(err, fs.ErrExist), want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("%s holds %s", dir, entries[0].Name())
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("%s holds %d entries, want the mount point alone", filepath.Dir(dir), len(entries))
	}
}

// mount mounts source on target for the rest of the test, or skips it
// where it cannot (not root, or a mount the system refuses).
func mount(t *testing.T, source, target, fstype string, flags uintptr) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	if err := syscall.Mount(source, target, fstype, flags, ""); err != nil {
		t.Skipf("mount %s on %s: %v", source, target, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(target, 0); err != nil {
			t.Errorf("unmount %s: %v", target, err)
		}
	})
}
