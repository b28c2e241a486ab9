package durable

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestIsMountPoint: a folder, a file, a link and the root as IsMountPoint
// takes them, on every system; mount_linux_test.go mounts real ones. A
// link to the root is the root's mount point, as a folder is renamed
// through the link onto the root.
func TestIsMountPoint(t *testing.T) {
	if runtime.GOOS == "windows" {
		if _, err := IsMountPoint(t.TempDir()); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("IsMountPoint on Windows: %v, want errors.ErrUnsupported (it cannot tell)", err)
		}
		return
	}
	root := t.TempDir()
	file := filepath.Join(root, "notes.txt")
	os.WriteFile(file, nil, 0o644)
	link := filepath.Join(root, "link")
	if err := os.Symlink("/", link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path  string
		mount bool
		err   error
	}{
		{root, false, nil},
		{file, false, nil},
		{link, true, nil}, // to the root: a folder is written through a link (CommitDir)
		{filepath.Join(root, "absent"), false, fs.ErrNotExist},
		{"/", true, nil},
	} {
		mount, err := IsMountPoint(c.path)
		if mount != c.mount || (c.err == nil) != (err == nil) || !errors.Is(err, c.err) {
			t.Errorf("IsMountPoint(%s) = %v, %v; want %v, %v", c.path, mount, err, c.mount, c.err)
		}
	}
}
