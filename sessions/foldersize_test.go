package sessions

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFolderSizeSeesChangesInTheSameTick: a folder changed again right
// after it was read, in the same tick of the clock that stamps folders so
// that its stamp does not move, is still summed exactly as FolderSize sums
// it: a folder changed within racyWindow of its read is read again. Here
// the stamps are cut to whole seconds, as on a filesystem whose times are
// (ext3's small inodes, HFS+; FAT's are two seconds), and a file is added
// right after each sum of the folder.
func TestFolderSizeSeesChangesInTheSameTick(t *testing.T) {
	defer func(f func(fs.FileInfo) (dirStamp, bool)) { stampOf = f }(stampOf)
	stampOf = func(fi fs.FileInfo) (dirStamp, bool) {
		s, ok := osStamp(fi)
		return s.truncate(time.Second), ok
	}
	dir := t.TempDir()
	if !stamped(t, dir) {
		t.Skip("no folder stamps on this system: every folder is read each time")
	}
	sub := filepath.Join(dir, "traces")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	var tree *folderTree
	var reads int
	for i := range 50 {
		for _, name := range []string{fmt.Sprintf("%06d-a", i), fmt.Sprintf("%06d-b", i)} {
			if err := os.WriteFile(filepath.Join(sub, name), []byte("0123456789"), 0o644); err != nil {
				t.Fatal(err)
			}
			var got int64
			got, tree = tree.size(dir, nil, &reads)
			if want := FolderSize(dir); got != want {
				t.Fatalf("after %s: size %d, FolderSize %d", name, got, want)
			}
		}
	}
}
