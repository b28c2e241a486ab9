// Package durable writes files so that a crash or a reader sees either the
// old content or the new, never a mixture: a temporary file beside the
// target, synced, renamed over it, and the folder synced. It is the one
// owner of that sequence for run folders (sessions) and model folders
// (engine/hf), and of the per-system details under it: Windows has no
// folder fsync, flushes a file only through a handle open for writing, and
// refuses to replace a file another process briefly holds open.
package durable

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// WriteFile replaces the file at path with data (Write).
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write replaces the file at path with what fill writes, atomically: fill
// is handed a temporary file in path's folder, which is given perm, synced
// and renamed over path, and the folder is then synced. When fill or any
// step fails, path is left as it was, the temporary file is removed, and
// the error names path ("write PATH: …", fill's error wrapped).
func Write(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	if err := write(path, perm, fill); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func write(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	tmp, err := filledTemp(path, perm, fill)
	if err != nil {
		return err
	}
	if err := Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	// The new content is in place; a failed folder sync only weakens the
	// rename's durability, so it is reported, the temporary file being
	// gone already.
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sync folder: %w", err)
	}
	return nil
}

// filledTemp is a hidden temporary file beside path holding what fill
// writes, given perm, synced and closed; on any failure it is removed. It
// is named ".NAME.tmp-PID@HOST-N" (this process: writerTag), and path's temporary
// files left by processes that are gone (killed midway) are removed first.
func filledTemp(path string, perm os.FileMode, fill func(w io.Writer) error) (name string, err error) {
	tmp, err := syncedTemp(path, perm, func(f *os.File) error { return fill(f) })
	if err != nil {
		return "", err
	}
	if err = tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("close: %w", err)
	}
	return tmp.Name(), nil
}

// syncedTemp is filledTemp's file left open: fill is handed the file
// itself, and it is returned synced; on any failure it is closed and
// removed.
func syncedTemp(path string, perm os.FileMode, fill func(f *os.File) error) (_ *os.File, err error) {
	tmp, err := CreateTemp(path, perm)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			tmp.Close() // its error says nothing once another did
			os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return nil, err
	}
	if err = tmp.Sync(); err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	return tmp, nil
}

// CreateTemp makes a new empty file beside path, hidden and named as the
// temporary files of Write, WriteNew and ReplaceOpen are
// (".NAME.tmp-PID@HOST-N"), given perm (not less the umask), and returns
// it open; the caller renames or links it into place, or removes it.
// path's temporary files left by processes that are gone (killed midway)
// are removed first, so that one this process leaves if it is killed
// before it removes it is removed by the next writer of path, as theirs
// are. On any failure no file is left.
func CreateTemp(path string, perm os.FileMode) (*os.File, error) {
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+".tmp-"
	removeDead(dir, prefix, false)
	tmp, err := os.CreateTemp(dir, prefix+writerTag()+"-*")
	if err != nil {
		return nil, err
	}
	noteMade(tmp.Name()) // RemoveOwn's to remove, should this process leave at once
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return tmp, nil
}

// ReplaceOpen is Write for a file whose open file matters, not only its
// content: a lock file, whose flock(2) belongs to the open file, not to
// the name. fill is handed the temporary file itself, which is synced,
// renamed over path and returned open, so that what fill took on it (a
// lock) is held on path's file from the moment the file has that name: a
// process that opens path finds it taken. The file replaced is left to
// the caller's handles on it (a lock on it is not released); the file
// returned keeps its temporary name as its Name. When fill
// or any step up to the rename fails, path is left as it was, the
// temporary file removed and no file returned; a folder sync that fails
// after the rename returns the file in place with its error. Not on
// Windows, which refuses to rename a file that is open.
func ReplaceOpen(path string, perm os.FileMode, fill func(f *os.File) error) (*os.File, error) {
	if runtime.GOOS == "windows" {
		return nil, fmt.Errorf("write %s: replacing a file that stays open is not possible on Windows", path)
	}
	tmp, err := syncedTemp(path, perm, fill)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := Rename(tmp.Name(), path); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return tmp, fmt.Errorf("write %s: sync folder: %w", path, err)
	}
	return tmp, nil
}

// removeDead removes the entries of dir named prefix followed by a
// writer's tag and "-" (files, or with dirs folders and what they hold),
// where that writer is a process of this machine that is gone: what a
// killed writer left. A live process's (another writer's) are left to it,
// and a name without a tag, which is not one of ours. Another machine's,
// on a shared filesystem, have pids that mean nothing here: they are
// removed only once untouched for foreignStale (a container's machine
// name changes with each container, so its leftovers would stay forever).
func removeDead(dir, prefix string, dirs bool) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || e.IsDir() != dirs || (!dirs && !e.Type().IsRegular()) {
			continue
		}
		end := strings.LastIndexByte(rest, '-')
		if end < 0 {
			continue
		}
		pidText, host, tagged := strings.Cut(rest[:end], "@")
		pid, err := strconv.Atoi(pidText)
		switch {
		case err != nil || pid <= 0: // not a writer's tag (writerTag)
			continue
		case tagged && host != hostTag:
			if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < foreignStale {
				continue
			}
		case pid == os.Getpid() || ProcessAlive(pid):
			continue
		}
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// foreignStale is how long another machine's temporary file or staging
// folder goes untouched before it is taken for a killed writer's: far
// longer than any write of a model folder or an import takes.
const foreignStale = 24 * time.Hour

// writerTag names this process in a temporary file's or staging folder's
// name: its pid and, after "@", its machine (hostTag), so that removeDead
// judges only this machine's leftovers. Names written before the machine
// was added (pid alone) are taken as this machine's.
func writerTag() string {
	if hostTag == "" {
		return strconv.Itoa(os.Getpid())
	}
	return strconv.Itoa(os.Getpid()) + "@" + hostTag
}

// hostTag names this machine in a file name, in at most 16 bytes: its
// name where that is short and made of letters, digits, "." and "_" (a
// "-" ends the tag), else the first 12 hex digits of its SHA-256, so that
// a long name (a pod's, a fully qualified one) cannot push a file name
// past the 255 bytes a folder entry holds.
var hostTag = func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return ""
	}
	plain := len(h) <= 16 && strings.IndexFunc(h, func(r rune) bool {
		return !(r == '.' || r == '_' || r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)))
	}) < 0
	if plain {
		return h
	}
	sum := sha256.Sum256([]byte(h))
	return hex.EncodeToString(sum[:6])
}()

// SyncDir fsyncs a folder so that a rename or create inside it is durable.
// Windows has no folder fsync (FlushFileBuffers refuses a folder's
// handle); NTFS journals the rename itself, so there is nothing to do.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteNew writes a new file at path with what fill writes, whole or not
// at all, and never replaces anything: fill is handed a temporary file in
// path's folder, which is given perm and synced, then linked to path (a
// link, unlike a rename, fails when path exists) and the folder synced.
// A process killed midway leaves at most a hidden ".NAME.tmp-*" file
// beside path, never a partial path. When path exists the error wraps
// os.ErrExist; on any failure path is left as it was and the temporary
// file removed. On a filesystem without hard links the file is renamed
// into place after checking that path is free.
func WriteNew(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	if err := writeNew(path, perm, fill); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeNew(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	tmp, err := filledTemp(path, perm, fill)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // linked to path, or not wanted
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return os.ErrExist
		}
		// No hard links here (FAT, some network shares): rename, which
		// would replace a file made since this check.
		if _, serr := os.Lstat(path); serr == nil {
			return os.ErrExist
		}
		if err := Rename(tmp, path); err != nil {
			return err
		}
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sync folder: %w", err)
	}
	return nil
}

// MkdirTemp makes a new folder in dir named prefix followed by random
// digits and returns its path, as os.MkdirTemp does, but with mode 0755
// (less the umask) like every other folder the workbench makes:
// os.MkdirTemp's 0700 survives the rename into place and hides a
// checkpoint or model folder from the other users of a shared machine.
func MkdirTemp(dir, prefix string) (string, error) {
	for try := 0; ; try++ {
		path := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64()%1e10, 10))
		err := os.Mkdir(path, 0o755)
		if err == nil || !errors.Is(err, os.ErrExist) || try == 1000 {
			return path, err
		}
	}
}
