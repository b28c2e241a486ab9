package durable

import (
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
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	tmpfs, bound, src := t.TempDir(), t.TempDir(), t.TempDir()
	mount := func(source, target, fstype string, flags uintptr) {
		if err := syscall.Mount(source, target, fstype, flags, ""); err != nil {
			t.Skipf("mount %s on %s: %v", source, target, err)
		}
		t.Cleanup(func() {
			if err := syscall.Unmount(target, 0); err != nil {
				t.Errorf("unmount %s: %v", target, err)
			}
		})
	}
	mount("tmpfs", tmpfs, "tmpfs", 0)
	mount(src, bound, "", syscall.MS_BIND)
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
