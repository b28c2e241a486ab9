//go:build windows

package sessions

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// lockedByte is where the lock sits: one byte far past run.lock's few
// bytes of JSON. Windows' byte-range locks are mandatory, so a lock over
// the content would stop other processes from reading who holds it;
// locking past the end of a file is allowed and reads never touch it.
const lockedByte = 1 << 62

// tryLockFile takes a LockFileEx byte-range lock on f without waiting:
// exclusive for a run's writer, shared for a probe (which conflicts only
// with the writer's). As with flock, the lock belongs to the open handle
// and Windows drops it when the process ends, however it ends.
// errLockHeld when another handle holds a conflicting one.
func tryLockFile(f *os.File, exclusive bool) error {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	ol := windows.Overlapped{Offset: uint32(lockedByte & 0xffffffff), OffsetHigh: uint32(lockedByte >> 32)}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return fmt.Errorf("%w: %w", errLockHeld, err)
	}
	return err
}

// openNoWait opens path to read: a file's open does not wait on Windows,
// where no named pipe is made in a folder (they live under \\.\pipe\).
func openNoWait(path string) (*os.File, error) { return os.Open(path) }

// openNoFollow opens run.lock at path to lock it (openFound): a file's
// open does not wait on Windows, where no named pipe is made in a folder.
// A symbolic link put in its place after openFound's check is followed
// (os.OpenFile has no O_NOFOLLOW here): making one takes a privilege
// or developer mode on Windows.
func openNoFollow(path string, flag int) (*os.File, error) {
	return os.OpenFile(path, flag, 0o644)
}

// makeLocked makes no run.lock on Windows (errNoLink): openLock makes it
// with O_EXCL, and a lock not granted removes it (unmake), as before
// Unix's link. Made locked under a temporary name and linked into place,
// the file would keep its temporary name: Go opens files without
// FILE_SHARE_DELETE, so a name of a file open here cannot be removed, and
// the folder would hold a second name of run.lock for as long as the
// run. Nor is there the gap the link closes on Unix: DeleteFile refuses a
// file that another handle holds open (a sharing violation), so unmake
// cannot remove a run.lock that another opener opened in the meantime:
// the removal fails, and the refusal carries its error.
func makeLocked(string) (*os.File, error) { return nil, errNoLink }

// removeOldLockTemps has nothing to remove on Windows: makeLocked never
// made run.lock under a temporary name there.
func removeOldLockTemps(string, *os.File) {}

// unlockFile releases the lock tryLockFile took.
func unlockFile(f *os.File) error {
	ol := windows.Overlapped{Offset: uint32(lockedByte & 0xffffffff), OffsetHigh: uint32(lockedByte >> 32)}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}

// replaceLock puts data in run.lock in place (writeLockInPlace): Windows
// refuses to rename a file over one that is open, as run.lock is by its
// holder.
func (l *RunLock) replaceLock(data []byte) error { return writeLockInPlace(l.f, data) }
