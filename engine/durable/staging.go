package durable

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A folder written by several files (a model folder, an imported run) is
// staged: made whole in a hidden folder beside its final path, named
// ".NAME.partial-PID@HOST-N" (the process writing it and its machine,
// writerTag), every file synced, then renamed to the final path in one
// step (CommitDir). A process killed midway leaves only the hidden staging
// folder, which no reader takes for a model or a run (IsStaging), and which
// the next staging for the same path on the same machine removes once its
// process is gone (NewStaging).

// partialMark is in every staging folder's name.
const partialMark = ".partial-"

// IsStaging reports whether a folder's base name is a staging folder's
// (".NAME.partial-…"): listings of runs or models leave it out.
func IsStaging(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, partialMark)
}

// stagingPrefix is the name of dir's staging folders up to the pid.
func stagingPrefix(dir string) string {
	return "." + filepath.Base(filepath.Clean(dir)) + partialMark
}

// NewStaging makes an empty staging folder (0755 less the umask) for the
// folder dir beside it, making dir's parents, and returns its path. Staging
// folders for dir left by processes that are gone (killed midway) are
// removed first; those of a live process are left to it. Where dir is a
// link to a folder, the staging folder is made beside the folder it points
// to (throughLink), on that folder's disk, where CommitDir renames it.
func NewStaging(dir string) (string, error) {
	dir = throughLink(dir)
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	prefix := stagingPrefix(dir)
	removeDead(parent, prefix, true)
	stage, err := MkdirTemp(parent, prefix+writerTag()+"-")
	if err == nil {
		noteMade(stage) // RemoveOwn's to remove, should this process leave at once
	}
	return stage, err
}

// CommitDir puts the staged folder stage in place at dir: every file and
// folder under stage is synced, stage is renamed to dir, and dir's parent
// is synced. dir must be absent or an empty folder (which the staged one
// replaces); when it holds anything, or a file or a link to one stands at
// dir, the error says so and wraps fs.ErrExist, and stage is left for the
// caller to remove (a link to nothing is said, but is not fs.ErrExist).
// A link to a folder is written through, and kept: the folder it points to
// is the one replaced (throughLink), as a user who points the output at a
// folder on a bigger disk expects; the link was replaced by the folder.
// A mount point at dir, which no rename replaces, is said as one.
func CommitDir(stage, dir string) error {
	dir = throughLink(dir)
	err := filepath.WalkDir(stage, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil // synced after their files, below
		}
		f, err := OpenForSync(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err == nil {
		err = filepath.WalkDir(stage, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			return SyncDir(p)
		})
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", stage, err)
	}
	if err := placeStaged(stage, dir); err != nil {
		// Windows does not rename over an empty folder; elsewhere the
		// error is a folder that holds something.
		entries, rerr := os.ReadDir(dir)
		switch {
		case rerr == nil && len(entries) > 0:
			return fmt.Errorf("%s holds %d entries: %w", dir, len(entries), fs.ErrExist)
		case rerr == nil && !isLink(dir) && os.Remove(dir) == nil: // never the link a folder is written through
			if err := placeStaged(stage, dir); err != nil {
				return err
			}
		case rerr == nil:
			// Not fs.ErrExist: nothing was made there meanwhile.
			if mount, _ := IsMountPoint(dir); mount {
				return fmt.Errorf("%s is a mount point, onto which no folder can be renamed: give a folder inside it", dir)
			}
			return err
		default:
			if fi, lerr := os.Lstat(dir); lerr == nil && !fi.IsDir() {
				return inTheWay(dir, fi)
			}
			return err
		}
	}
	return SyncDir(filepath.Dir(filepath.Clean(dir)))
}

// placeStaged renames the staging folder stage to dir under made's lock,
// and forgets stage once it is in place: RemoveOwn, which a second stop
// signal calls from another goroutine, then either removes stage before
// the rename (which fails: nothing is put in place) or finds it gone from
// made after it, never removing the entries of a folder renamed into
// place under it (its RemoveAll reads a folder by its handle, which
// follows the rename), and its caller can tell which happened by looking
// at dir.
func placeStaged(stage, dir string) error {
	made.Lock()
	defer made.Unlock()
	if err := Rename(stage, dir); err != nil {
		return err
	}
	if abs, err := filepath.Abs(stage); err == nil {
		delete(made.paths, abs)
	}
	return nil
}

// throughLink is where a folder for dir is put: dir, or where dir points
// when it is a link to a folder (a chain of links followed to its end).
// Renaming a folder onto the link replaced the link, and the folder it
// pointed to stayed empty. A link to nothing or to a file is dir, said by
// CommitDir as what is in the way.
func throughLink(dir string) string {
	if !isLink(dir) {
		return dir
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return dir
	}
	target, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return dir
	}
	return target
}

// isLink reports whether a symbolic link stands at path.
func isLink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// inTheWay says what stands at dir, where a folder was to be renamed: a
// file (fi, its Lstat), or a link (to nothing, or to a file), and what to
// do. A file, or a link to one, is fs.ErrExist to callers' errors.Is, as
// it was when the error said "file already exists", which named neither
// the file nor the folder; a link to nothing is not (it was the rename's
// "not a directory"), lest a caller take it for a folder made meanwhile.
func inTheWay(dir string, fi fs.FileInfo) error {
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(dir)
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("a link to %s, which does not exist, is at %s where the folder goes: remove the link, or choose another path", target, dir)
		}
		return existError(fmt.Sprintf("a link to %s is at %s where the folder goes: remove the link, or choose another path", target, dir))
	}
	return existError(fmt.Sprintf("a file is at %s where the folder goes: move it away or remove it, or choose another path", dir))
}

// existError is an error that says its own text and is fs.ErrExist to
// errors.Is.
type existError string

func (e existError) Error() string { return string(e) }
func (e existError) Unwrap() error { return fs.ErrExist }

// StageDir writes the folder dir whole or not at all: fill writes it into
// a fresh staging folder beside dir (NewStaging), which CommitDir then
// syncs and renames to dir (absent, or an empty folder; a link to a folder
// is written through, and kept: throughLink). A process killed
// midway leaves only the hidden staging folder, never a dir holding some
// of the files; on an error the staging folder is removed, dir is left as
// it was, and the error names dir where it named the staging folder,
// followed by left, what that leaves ("no run folder was made").
func StageDir(dir, left string, fill func(stage string) error) error {
	stage, err := NewStaging(dir)
	if err != nil {
		return fmt.Errorf("write %s: %w; %s", dir, err, left)
	}
	if err := fill(stage); err != nil {
		os.RemoveAll(stage)
		return stagedError{err, stage, dir, left}
	}
	if err := CommitDir(stage, dir); err != nil {
		os.RemoveAll(stage)
		return stagedError{fmt.Errorf("write %s: %w", stage, err), stage, dir, left}
	}
	return nil
}

// stagedError is an error of a staged folder's writing, its text naming
// the final folder where it named the staging one; errors.Is and As see
// the error itself.
type stagedError struct {
	err              error
	stage, dir, left string
}

func (e stagedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.stage, e.dir) + "; " + e.left
}

func (e stagedError) Unwrap() error { return e.err }
