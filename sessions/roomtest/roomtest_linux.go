package roomtest

import (
	"os"
	"syscall"
	"testing"
)

func smallDisk(t testing.TB, opts string) string {
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
