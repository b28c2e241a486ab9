package durable

import (
	"os"
	"path/filepath"
	"strings"
)

// RemoveOwn removes what this process has begun for path and not yet put
// in place: its temporary files (CreateTemp, WriteNew: ".NAME.tmp-TAG-…")
// and its staging folders (NewStaging: ".NAME.partial-TAG-…") beside
// path, TAG this process's (writerTag). A command that leaves at once
// (a second stop signal) calls it before it exits, so that it leaves no
// hidden file that only the next write to path would remove. Others'
// are left: a live process's are its own, a dead one's the next write's.
func RemoveOwn(path string) {
	for _, at := range []struct{ dir, prefix string }{
		{filepath.Dir(filepath.Clean(path)), "." + filepath.Base(filepath.Clean(path)) + ".tmp-" + writerTag() + "-"},
		{filepath.Dir(filepath.Clean(throughLink(path))), stagingPrefix(throughLink(path)) + writerTag() + "-"},
	} {
		entries, _ := os.ReadDir(at.dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), at.prefix) {
				os.RemoveAll(filepath.Join(at.dir, e.Name()))
			}
		}
	}
}
