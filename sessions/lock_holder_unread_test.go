package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLockedSaysWhyItsHolderIsNotNamed: an open refused by a holder whose
// pid run.lock does not say tells which of two things it is. A record not
// written yet (an empty run.lock, locked: a holder starting) or not whole (rewritten in place, as on Windows) is said as
// such, to try again; one that cannot be read (far too big here, as any
// failed read) is said with the read's error, the file, and what to do.
// Before, the read's error was dropped, and both said "pid not yet
// written". The lock is held by another open file of this process, as
// flock and LockFileEx hold it for any other.
func TestLockedSaysWhyItsHolderIsNotNamed(t *testing.T) {
	const notYet = "which has not written its pid in it yet: one starting to write the run; try again"
	for _, c := range []struct {
		name   string
		held   []byte
		says   []string
		unread bool
	}{
		{"empty: its holder starting", nil, []string{notYet}, false},
		{"a record not whole: rewritten in place", []byte(`{"pid":4242,"host":"gp`), []string{notYet}, false},
		{"far too big to be read", make([]byte, maxLockBytes+1),
			[]string{"whose pid cannot be read from it (it holds 65537 bytes", "find the process that has it open (lsof ", "then see what the file is (ls -l "}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			lock := filepath.Join(dir, LockFileName)
			if err := os.WriteFile(lock, c.held, 0o644); err != nil {
				t.Fatal(err)
			}
			holder, err := os.OpenFile(lock, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Close()
			if err := tryLockFile(holder, true); err != nil {
				t.Fatal(err)
			}
			defer unlockFile(holder)
			_, err = LockRun(dir)
			var le *LockedError
			if !errors.As(err, &le) || le.Holder.PID != 0 {
				t.Fatalf("refused with %v; want a LockedError naming no pid", err)
			}
			said := err.Error()
			for _, w := range append(c.says, lock) {
				if !strings.Contains(said, w) {
					t.Errorf("it says %q; want %q in it", said, w)
				}
			}
			if c.unread && strings.Contains(said, "yet") || !c.unread && strings.Contains(said, "cannot be read") {
				t.Errorf("it says %q; a record not read is not one not written yet, nor the reverse", said)
			}
		})
	}
}

// TestStaleLockSaysToReopenTheFolder: run.lock on a filesystem gone stale
// (ESTALE: an NFS handle the server no longer knows) is refused with what
// that is and what to do, remount or reopen the folder, and that nothing
// in the run was changed, wherever the errno comes: the open, the read
// (lockRun's, under the lock; the listing's probe) or the read of a
// holder's pid. Before, a read's was a file not read: "see what it is,
// move it out of the run folder or remove it", which nothing wrong with
// the file called for. No test can mount a stale filesystem: the errors
// are those lockRun and probeLockRead make of the errno (readLock's
// lockReadError holds it).
func TestStaleLockSaysToReopenTheFolder(t *testing.T) {
	lock := filepath.Join(t.TempDir(), LockFileName)
	read := &lockReadError{Err: syscall.ESTALE}
	const (
		stale   = "the run folder's filesystem went stale (on NFS: the folder was replaced or removed on the server, or the share remounted, since it was opened here)"
		reopen  = "reopen the folder (cd out of it and back in) or remount the share, then "
		nothing = "nothing in the run was changed: "
	)
	for _, c := range []struct {
		name string
		said string
		want []string
	}{
		{"read, open", (&LockUnknownError{Path: lock, Op: "open", Err: read}).Error(),
			[]string{lock + " cannot be read (" + syscall.ESTALE.Error() + "): " + stale, "so it is not written here", nothing + reopen + "open it again"}},
		{"opened, open", (&LockUnknownError{Path: lock, Op: "open", Err: syscall.ESTALE}).Error(),
			[]string{lock + " cannot be opened (" + syscall.ESTALE.Error() + "): " + stale, nothing + reopen + "open it again"}},
		{"locked, open", (&LockUnknownError{Path: lock, Op: "lock", Err: syscall.ESTALE}).Error(),
			[]string{lock + " cannot be locked (" + syscall.ESTALE.Error() + "): " + stale, nothing + reopen + "open it again"}},
		{"read, start", (&LockUnknownError{Path: lock, Op: "open", Err: read, Start: true}).Error(),
			[]string{lock + " cannot be read (" + syscall.ESTALE.Error() + "): " + stale, "a run is not started without its lock", "so none was made; " + reopen + "start the run again"}},
		{"read, listed", refusedLockNote(lock, read),
			[]string{lock + " cannot be read (" + syscall.ESTALE.Error() + "): " + stale, "the run cannot be resumed or written to until it is read", nothing + reopen + "open it again"}},
		{"holder's pid read", (&LockedError{Path: lock, Unread: read}).Error(),
			[]string{lock + ": run folder is locked by another process, whose pid cannot be read from it (" + syscall.ESTALE.Error() + "): " + stale, nothing + reopen + "try again"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, w := range c.want {
				if !strings.Contains(c.said, w) {
					t.Errorf("it says %q; want %q in it", c.said, w)
				}
			}
			for _, not := range []string{"move it out", "remove it", "see what", "ls -l", "lsof", "rlt open shows it read-only"} {
				if strings.Contains(c.said, not) {
					t.Errorf("it says %q; want no %q: nothing is known to be wrong with the file", c.said, not)
				}
			}
		})
	}
}
