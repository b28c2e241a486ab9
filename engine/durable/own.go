package durable

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// made holds the temporary files (CreateTemp) and staging folders
// (NewStaging) this process made, by absolute path, for RemoveOwn: a name
// that carries this process's tag (writerTag) is no proof that this
// process made it. A process killed midway, whose pid this one got (a
// container's pids start over at each start), left its own under the
// same tag, and a folder or file a user named so is theirs.
var made struct {
	sync.Mutex
	paths map[string]bool
}

// madeKept bounds made: past it, the paths no longer there (renamed into
// place, removed) are forgotten, so that a long-lived process (the
// workbench, a training run writing checkpoints for days) does not grow it.
const madeKept = 64

// noteMade records that this process made path.
func noteMade(path string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return // never removed by RemoveOwn: the safe side
	}
	made.Lock()
	defer made.Unlock()
	if made.paths == nil {
		made.paths = map[string]bool{}
	}
	if len(made.paths) >= madeKept {
		for p := range made.paths {
			if _, err := os.Lstat(p); err != nil {
				delete(made.paths, p)
			}
		}
	}
	made.paths[abs] = true
}

// RemoveOwn removes what this process has begun for path and not yet put
// in place: the temporary files (CreateTemp, WriteNew: ".NAME.tmp-TAG-…")
// and staging folders (NewStaging: ".NAME.partial-TAG-…") beside path
// that it made itself (made), never another's, even one under this
// process's tag. A command that leaves at once (a second stop signal)
// calls it before it exits, so that it leaves no hidden file that only
// the next write to path would remove. Others' are left: a live process's
// are its own, a dead one's the next write's.
func RemoveOwn(path string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	staged, err := filepath.Abs(throughLink(path))
	if err != nil {
		staged = abs
	}
	at := []struct{ dir, prefix string }{
		{filepath.Dir(abs), "." + filepath.Base(abs) + ".tmp-" + writerTag() + "-"},
		{filepath.Dir(staged), stagingPrefix(staged) + writerTag() + "-"},
	}
	made.Lock()
	defer made.Unlock()
	for p := range made.paths {
		for _, a := range at {
			if filepath.Dir(p) == a.dir && strings.HasPrefix(filepath.Base(p), a.prefix) {
				os.RemoveAll(p)
				delete(made.paths, p)
				break
			}
		}
	}
}
