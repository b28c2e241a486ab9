//go:build unix

package sessions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/rlt-workbench/rlt/engine/durable"
)

// tryLockFile takes an flock(2) on f without waiting: exclusive for a
// run's writer, shared for a probe (which conflicts only with the
// writer's). errLockHeld when another open file holds a conflicting one.
func tryLockFile(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	err := flockRetry(f, how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return fmt.Errorf("%w: %w", errLockHeld, err)
	}
	return err
}

// openNoWait opens path to read without waiting: a named pipe put in
// run.lock's place is opened at once (O_NONBLOCK), not when a writer
// opens it, so that a probe of the lock (probeLockRead) sees what it
// opened and refuses it, where a plain open waited, and the listing hung.
// O_NONBLOCK changes nothing of a plain file's reads.
func openNoWait(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// openNoFollow opens run.lock at path to lock it (openFound): a symbolic
// link put in its place is not followed (O_NOFOLLOW: ELOOP), and a named
// pipe's open does not wait for a reader or a writer (O_NONBLOCK), so
// that lockRun sees what was opened and refuses it. O_NONBLOCK changes
// nothing of a plain file's reads, writes or locks.
func openNoFollow(path string, flag int) (*os.File, error) {
	return os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
}

// makeLocked makes run.lock at path locked from the moment it has that
// name: a file made under a temporary name in its folder, locked
// (lockFile), then linked to path, which link(2) refuses where path exists
// (fs.ErrExist: another opener made it meanwhile), and its temporary name
// removed. A lock not granted (lockRefused) leaves no run.lock: none was
// ever made, so none is removed that another opener may have opened in
// the meantime (unmake's gap). errNoLink where the filesystem makes no
// links (FAT; some network shares). The file returned keeps its temporary
// name as its Name; RunLock uses path.
//
// The temporary name is replaceLock's (durable.CreateTemp:
// ".run.lock.tmp-PID@HOST-N"), so that one left by a process killed
// before it removed it is removed by the next process that makes or
// rewrites run.lock here, as replaceLock's own are: it was named
// ".run.lock.new-*", which nothing removed.
func makeLocked(path string) (*os.File, error) {
	// 0644: CreateTemp's 0600 would hide the holder from other users'
	// listings.
	tmp, err := durable.CreateTemp(path, 0o644)
	if err != nil {
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			err = &fs.PathError{Op: "open", Path: path, Err: pe.Err} // run.lock could not be made
		}
		return nil, err
	}
	// The temporary name goes whatever happens: linked, the file has
	// run.lock's; not, it is nobody's.
	defer os.Remove(tmp.Name())
	if err := lockFile(tmp, true); err != nil {
		tmp.Close()
		return nil, &lockRefused{err}
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		unlockFile(tmp)
		tmp.Close()
		if errors.Is(err, fs.ErrExist) {
			return nil, fs.ErrExist
		}
		return nil, fmt.Errorf("%w: %w", errNoLink, err)
	}
	return tmp, nil
}

// oldLockTempPrefix begins the temporary names of run.lock that makeLocked
// gave before they were durable.CreateTemp's (".run.lock.new-" and
// os.CreateTemp's random digits): they name no process, so removeDead
// does not remove them, and one left by a process killed between its
// create and its removal stayed in the run folder for good.
const oldLockTempPrefix = "." + LockFileName + ".new-"

// removeOldLockTemps removes from the run folder dir the old temporary
// names of run.lock (oldLockTempPrefix) that no live process uses, once
// this process holds the run's lock (lock: run.lock, locked): a name
// that is run.lock's file too (its maker was killed after its link), or
// a file whose lock is granted here, so that no process holds it (its
// maker was killed before its link, and the kernel dropped its lock).
// One whose lock is refused is a live process's, an old build's making
// run.lock, and is left to it; a folder or a link of that name is not
// one of those files.
func removeOldLockTemps(dir string, lock *os.File) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), oldLockTempPrefix) || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if named(lock, path) {
			os.Remove(path) // a second name of the lock held here
			continue
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if tryLockFile(f, true) == nil {
			// Removed while locked: a maker of an old build that had
			// it open and locks it now finds its link refused.
			os.Remove(path)
			unlockFile(f)
		}
		f.Close()
	}
}

// unlockFile releases the lock tryLockFile took.
func unlockFile(f *os.File) error { return flockRetry(f, syscall.LOCK_UN) }

func flockRetry(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

// replaceLock puts data in run.lock whole: a new file, locked, written and
// synced, renamed over it, and the folder synced (durable.ReplaceOpen).
// A reader finds the old record or the new, never an empty file or a
// part, and a holder killed midway leaves one of them. The file replaced
// stays open and locked until Unlock (RunLock.replaced), so that an
// opener that had opened it just before finds it taken; one that locks
// it after Unlock finds it no longer named run.lock and opens again
// (lockRun). Where no new file can be made (a full disk: the run must
// still open, to be reviewed or to free room), the record is written in
// place as on Windows (writeLockInPlace): never empty, if not whole to a
// reader at every moment. The new file keeps the mode of the one it
// replaces, and its group and owner where this process may give them
// (sameOwner): a run.lock left group-writable in a folder a group shares
// was 0644 and this user's after a rewrite, so that the group's other
// users could open the run no more (cannot be opened for writing).
func (l *RunLock) replaceLock(data []byte) error {
	perm, owner := os.FileMode(0o644), func(*os.File) {}
	if fi, err := l.f.Stat(); err == nil {
		perm, owner = fi.Mode().Perm(), sameOwner(fi)
	}
	f, err := durable.ReplaceOpen(l.path, perm, func(f *os.File) error {
		if err := tryLockFile(f, true); err != nil {
			return err
		}
		owner(f)
		_, err := f.Write(data)
		return err
	})
	if f == nil {
		if werr := writeLockInPlace(l.f, data); werr != nil {
			return errors.Join(err, werr)
		}
		return nil
	}
	l.replaced = append(l.replaced, l.f)
	l.f = f
	return err
}

// sameOwner gives a file the owner and group of fi's where this process
// may (it is root, or owns fi), else its group alone where it is one of
// that group: a user may not give a file away. Where neither may be, the
// new file is this process's user's and group's, its mode still the old
// one's.
func sameOwner(fi fs.FileInfo) func(*os.File) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return func(*os.File) {}
	}
	uid, gid := int(st.Uid), int(st.Gid)
	return func(f *os.File) {
		if f.Chown(uid, gid) != nil {
			f.Chown(-1, gid)
		}
	}
}
