package sessions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// LockFileName is the file in a run folder that carries the writer lock.
const LockFileName = "run.lock"

// LockInfo is what a lock holder writes into run.lock.
type LockInfo struct {
	PID  int    `json:"pid"`
	Host string `json:"host,omitempty"`
	// OS is the holder's system (runtime.GOOS: "linux", "darwin",
	// "windows"), which says how a training it holds is stopped
	// (Holder.StopAdvice): by a signal, or by Ctrl-C in its console on
	// Windows, where no kill sends one. "" in a run.lock written before
	// it said.
	OS      string    `json:"os,omitempty"`
	Started time.Time `json:"started"`
	// Checking is the intent of an open (Options.Intent) whose open
	// event is not on disk yet: it is loading the run, or its open event
	// waits for its checks or its first write (Options.DeferOpen: a
	// resume being checked, a review before its first label), so that
	// meanwhile the run is not listed by the previous session's events.
	// It is cleared once the open event is on disk (Run.openOnDisk).
	Checking string `json:"checking,omitempty"`
	// Process is what kind of process holds the run to train it
	// (Options.Process): ProcessWorkbench, whose user can review the run
	// in it, or ProcessHeadless, which has no workbench; "" where the
	// holder does not train the run, or wrote run.lock before it said.
	Process string `json:"process,omitempty"`
}

// What kind of process trains a run (LockInfo.Process, Options.Process).
const (
	// ProcessWorkbench: the workbench (rlt run on a terminal, or a run
	// started or resumed from its Runs screen); the run can be reviewed
	// there.
	ProcessWorkbench = "workbench"
	// ProcessHeadless: rlt run --headless, or rlt run with no terminal:
	// progress lines, no workbench to review the run in.
	ProcessHeadless = "headless"
)

// RunLock is an exclusive writer lock on a run folder: an flock(2) on
// <dir>/run.lock (on Windows a LockFileEx byte-range lock), which holds the
// owner's pid and start time. The kernel drops the lock when the owning
// process dies (even by SIGKILL), so a lock left behind by a dead process is
// simply taken over. The lock is per open file; it is reliable on local file
// systems, not necessarily on NFS.
type RunLock struct {
	f    *os.File // the file named run.lock now
	path string
	// replaced are the files run.lock was before a rewrite (replaceLock),
	// kept open and locked until Unlock: an opener that opened one just
	// before it was replaced finds it taken.
	replaced []*os.File
	// Previous is the content left in run.lock by an owner that did not
	// unlock cleanly (it crashed or was killed), or nil.
	Previous *LockInfo
	info     LockInfo // what this owner wrote
	// found: run.lock was there before this open (a missing one is
	// made): an empty one says the last holder closed the run cleanly,
	// a missing one nothing (cutAfterClose).
	found bool
	// keepPrevious: Unlock puts back what run.lock held when it was
	// found (prev), or removes the one it made (a deferred open closed
	// before it began, a create that failed: nothing was done under the
	// lock).
	keepPrevious bool
	// prev is run.lock's content when it was found, all of it: what
	// keepPrevious puts back, byte for byte, whether or not it reads as
	// a record (its first 4096 bytes were kept: a longer file, not ours,
	// was put back cut).
	prev []byte
}

// LockedError reports that another process holds a run folder's lock.
type LockedError struct {
	Path   string
	Holder LockInfo // zero PID if the holder has not written its pid yet, or it was not read (Unread)
	// Unread is why run.lock could not be read (a *lockReadError, a
	// *lockTooBigError): who holds it is not known, which "pid not yet
	// written" said of an I/O error too. nil where it was read.
	Unread error
	// Reading: no writer holds the lock, only processes that read
	// run.lock under a shared one (listings: probeLock) for longer than
	// lockWriter waits. Holder is then not read: run.lock names its last
	// writer, not a process that holds the run.
	Reading bool
}

// Error names the holder as every message about a holder does
// (Holder.who): "pid 4242", of one on another host "pid 4242 on host gpu7".
func (e *LockedError) Error() string { return e.error(thisHost()) }

func (e *LockedError) error(here hostView) string {
	if e.Unread != nil {
		why, fix := e.Unread, fmt.Sprintf("find the process that has it open (lsof %s) and let it end, then see what the file is (ls -l %[1]s)", ShellQuote(e.Path))
		if unread := (*lockReadError)(nil); errors.As(e.Unread, &unread) {
			why = unread.Err
		}
		if staleFS(e.Unread) {
			why, fix = syscall.ESTALE, staleSaid+"; nothing in the run was changed: "+staleFix+"try again"
		}
		return fmt.Sprintf("%s: run folder is locked by another process, whose pid cannot be read from it (%v): %s", e.Path, why, fix)
	}
	if e.Reading {
		return fmt.Sprintf("%s: run folder is held by processes that read it without writing it (a listing: "+Program()+" sessions, a Runs screen), for longer than a look at it takes: no process writes the run; try again, and if it goes on, find them (lsof %s)", e.Path, ShellQuote(e.Path))
	}
	if e.Holder.PID == 0 {
		// A holder writes its record just after it takes the lock; a
		// listing's shared lock is waited out (lockWriter).
		return fmt.Sprintf("%s: run folder is locked by another process, which has not written its pid in it yet: one starting to write the run; try again", e.Path)
	}
	who := Holder{PID: e.Holder.PID, Host: e.Holder.Host}.who(here)
	return fmt.Sprintf("%s: run folder is locked by %s (started %s)", e.Path, who,
		e.Holder.Started.Local().Format(time.DateTime))
}

// ErrUnwritable says a run folder cannot be written by this process (a
// read-only mount, another user's folder): it can only be read.
var ErrUnwritable = errors.New("the run folder cannot be written here")

// errLockHeld: another open file holds a conflicting lock (tryLockFile).
var errLockHeld = errors.New("lock held elsewhere")

// ErrLocked is matched by errors.Is for a *LockedError.
var ErrLocked = errors.New("run folder locked")

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// LockUnknownError reports that a run folder's run.lock could be neither
// locked nor found locked by another process: it could not be opened
// (Op "open": a symbolic link, lockLinkError; a link to itself, a folder
// of that name; a file far past a lock's size, lockTooBigError; one
// whose read failed, lockReadError: a named pipe of that name), or the
// lock was not granted for a reason other than a holder (Op "lock": a
// filesystem that does not lock files, ENOLCK; NFS whose lock manager is
// not reached). Whether another process writes the run is then not known
// (the listing says unknown: StateUnknown), but for a file too big or
// not read, which is refused once locked (no other process held it);
// either way the run is not written here: an open to look at it opens
// it read-only (runner's OpenForReview), which writes nothing, and the
// refused lock leaves
// run.lock as it found it (a missing one it made is removed: unmake).
// A new run's lock refused (Start) makes no run: there is none to look at
// or copy, and the words say to start it where files lock, or, where
// run.lock could not be opened, to see what it is, remove it, or start
// the run in another folder.
type LockUnknownError struct {
	Path  string // run.lock
	Op    string // "open" or "lock": what failed
	Err   error
	Start bool // the lock was a new run's (CreateWith): no run was made
}

// noLocksThere says why a lock is refused otherwise than held (Op "lock").
const noLocksThere = "the filesystem does not lock files there (on NFS, its lock manager may not be reached)"

// Why says what failed and what it leaves not known.
func (e *LockUnknownError) Why() string {
	what := "locked"
	if e.Op == "open" {
		what = "opened"
	}
	if unread := (*lockReadError)(nil); errors.As(e.Err, &unread) {
		what = "read"
	}
	if staleFS(e.Err) {
		// Nothing is known of the file: its words (see what it is, move
		// it out) are not what to do.
		why := fmt.Sprintf("%s cannot be %s (%v): %s", e.Path, what, syscall.ESTALE, staleSaid)
		if e.Start {
			why += ": a run is not started without its lock, which keeps other processes from writing it"
		}
		return why
	}
	if unread := (*lockReadError)(nil); errors.As(e.Err, &unread) && e.Start {
		return fmt.Sprintf("%s cannot be read (%v): a run is not started without its lock, which keeps other processes from writing it", e.Path, unread.Err)
	}
	if e.Start {
		return fmt.Sprintf("%s cannot be %s (%v): a run is not started without its lock, which keeps other processes from writing it", e.Path, what, e.Err)
	}
	if big := (*lockTooBigError)(nil); errors.As(e.Err, &big) {
		// Refused once locked (lockRun reads it under the lock): no
		// other process held it, which "not known" contradicted.
		return fmt.Sprintf("%s cannot be opened (%v): no other process held its lock, but this program writes its record over no file it did not write", e.Path, e.Err)
	}
	if notFile := (*notAFileError)(nil); errors.As(e.Err, &notFile) {
		// Refused before its lock was asked for (lockRun): whether a
		// process holds one on it is not said.
		return fmt.Sprintf("%s cannot be read (%v): a run's lock is a plain file, and this program writes its record over no file it could not read, to put back as it was", e.Path, notFile)
	}
	if unread := (*lockReadError)(nil); errors.As(e.Err, &unread) {
		// Refused once locked, as a file too big: what it held would be
		// lost under the record, and a keepPrevious put back less.
		return fmt.Sprintf("%s cannot be read (%v): no other process held its lock, but this program writes its record over no file it could not read, to put back as it was", e.Path, unread.Err)
	}
	return fmt.Sprintf("%s cannot be %s (%v): whether another process holds the run is not known", e.Path, what, e.Err)
}

// Fix says how the run can be written again, or, for a start, started.
func (e *LockUnknownError) Fix() string {
	var link *lockLinkError
	var big *lockTooBigError
	var unread *lockReadError
	notRead := errors.As(e.Err, &big) || errors.As(e.Err, &unread)
	switch {
	case staleFS(e.Err) && e.Start:
		return staleFix + "start the run again, or start it in another folder (--runs DIR)"
	case staleFS(e.Err):
		return "nothing in the run was changed: " + staleFix + "open it again"
	case notRead && e.Start:
		return fmt.Sprintf("see what it is (ls -l %s): move it out of the run folder if it is wanted, else remove it, or start the run in another folder (--runs DIR)", ShellQuote(e.Path))
	case notRead:
		return fmt.Sprintf("see what it is (ls -l %s): once no process writes the run ("+Program()+" sessions), move it out of the run folder if it is wanted, else remove it: the next open makes the run's lock anew", ShellQuote(e.Path))
	case errors.As(e.Err, &link) && e.Start:
		return fmt.Sprintf("remove the link (rm %s), or start the run in another folder (--runs DIR)", ShellQuote(e.Path))
	case errors.As(e.Err, &link):
		return fmt.Sprintf("once no process writes the run ("+Program()+" sessions), remove the link (rm %s): the next open makes the run's lock anew", ShellQuote(e.Path))
	case e.Op == "open" && e.Start:
		return fmt.Sprintf("see what it is (ls -l %s): a run's lock is a file of that name that the start opens and locks; remove it, or start the run in another folder (--runs DIR)", ShellQuote(e.Path))
	case e.Op == "open":
		return fmt.Sprintf("see what %s is (ls -l %s): the lock is taken on a file of that name", LockFileName, ShellQuote(e.Path))
	case e.Start:
		return noLocksThere + ": start the run in a runs folder on a disk that locks files (a local one: --runs DIR)"
	}
	return noLocksThere + ": to resume the run, make sure no process trains it, then copy it to a local disk and resume the copy"
}

func (e *LockUnknownError) Error() string {
	if e.Start {
		return e.Why() + ", so none was made; " + e.Fix()
	}
	if staleFS(e.Err) { // nor is it read there until the folder is reopened
		return e.Why() + ", so it is not written here; " + e.Fix()
	}
	return e.Why() + ", so it is not written here; " + Program() + " open shows it read-only; " + e.Fix()
}

// staleFS: the run folder's filesystem went stale (ESTALE, a stale NFS
// file handle): the file cannot be reached through what was opened of the
// folder, whatever it holds. The words of a file not read (see what it
// is, move it out of the folder or remove it) do not fit: nothing is
// wrong with it that is known.
func staleFS(err error) bool { return errors.Is(err, syscall.ESTALE) }

// staleSaid says what a stale filesystem is; staleFix what to do, before
// what to try again.
const (
	staleSaid = "the run folder's filesystem went stale (on NFS: the folder was replaced or removed on the server, or the share remounted, since it was opened here)"
	staleFix  = "reopen the folder (cd out of it and back in) or remount the share, then "
)

func (e *LockUnknownError) Unwrap() error { return e.Err }

// unwritableError reports that run.lock could be neither opened for
// writing nor made (Err: EACCES, EPERM, EROFS): the run folder can only be
// read here (ErrUnwritable). Of a new run's lock (Start) there is no run
// to read: the words say what is wrong with run.lock, or with its folder
// where there was none (Found false), and what to do.
type unwritableError struct {
	Dir, Path string
	Err       error // the open's, a *fs.PathError naming run.lock
	Found     bool  // run.lock was there (it could not be opened), else it could not be made
	Start     bool  // the lock was a new run's (CreateWith): no run was made
}

func (e *unwritableError) Error() string {
	if !e.Start {
		return fmt.Sprintf("lock run: %v: %v: it cannot be resumed or written to; "+Program()+" open %s shows it read-only, or copy it where you can write", ErrUnwritable, e.Err, ShellQuote(e.Dir))
	}
	why := errors.Unwrap(e.Err) // the path is said first
	if why == nil {
		why = e.Err
	}
	const noLock = "a run is not started without its lock, which keeps other processes from writing it, so none was made"
	if e.Found {
		return fmt.Sprintf("%s cannot be opened for writing (%v): %s; see whose it is (ls -l %s): let this user write it, or remove it, or start the run in another folder (--runs DIR)",
			e.Path, why, noLock, ShellQuote(e.Path))
	}
	return fmt.Sprintf("%s cannot be made (%v): %s cannot be written here, and %s; start the run in a folder you can write (--runs DIR)", e.Path, why, e.Dir, noLock)
}

func (e *unwritableError) Is(target error) bool { return target == ErrUnwritable }

func (e *unwritableError) Unwrap() error { return e.Err }

// LockRun takes the writer lock on the run folder dir without waiting. If
// another live process holds it, the error is a *LockedError naming its pid.
func LockRun(dir string) (*RunLock, error) { return lockRun(dir, "", "") }

// lockRun is LockRun, recording in run.lock the intent of the open
// whose open event is not on disk yet (checking; "": none,
// LockInfo.Checking) and what kind of process it is (LockInfo.Process;
// "": not said).
func lockRun(dir, checking, process string) (*RunLock, error) {
	path := filepath.Join(dir, LockFileName)
	_, statErr := os.Stat(path)
	var f *os.File
	for try := 0; f == nil; try++ {
		var (
			err error
			how opened
		)
		f, how, err = openLock(path)
		if refused := (*lockRefused)(nil); errors.As(err, &refused) { // run.lock was missing, and is still
			return nil, &LockUnknownError{Path: path, Op: "lock", Err: refused.err}
		}
		if errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission) {
			return nil, &unwritableError{Dir: dir, Path: path, Err: err, Found: statErr == nil}
		}
		if errors.Is(err, syscall.ENOSPC) { // no file can be made: run.lock was missing
			return nil, lockDiskFull(dir, path, err)
		}
		if err != nil {
			if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
				err = pe.Err // the path is the error's own
			}
			return nil, &LockUnknownError{Path: path, Op: "open", Err: err}
		}
		// One that is not a plain file (a named pipe of that name) is
		// refused before its lock is asked for: macOS refuses an flock
		// on a named pipe (ENOTSUP), which said "the filesystem does not
		// lock files" of one; nor does a lock on it say anything of a run.
		if fi, serr := f.Stat(); serr == nil && !fi.Mode().IsRegular() {
			f.Close() // found so (openLock makes plain files only): nothing to unmake
			return nil, &LockUnknownError{Path: path, Op: "open", Err: &lockReadError{Err: notAFile(fi.Mode())}}
		}
		if how != openedLocked {
			if reading, err := lockWriter(f); err != nil {
				if errors.Is(err, errLockHeld) {
					defer f.Close()
					if reading {
						return nil, &LockedError{Path: path, Reading: true}
					}
					return nil, lockedBy(path, f)
				}
				unknown := &LockUnknownError{Path: path, Op: "lock", Err: err}
				if rerr := unmake(f, how == openedMade); rerr != nil {
					return nil, fmt.Errorf("%w; %w", unknown, rerr)
				}
				return nil, unknown
			}
		}
		// A holder rewrites run.lock by renaming a new file over it
		// (replaceLock): the file opened may have been replaced before
		// it was locked, its holder gone since. The lock is the one on
		// the file that has the name.
		if named(f, path) {
			break
		}
		unlockFile(f)
		f.Close()
		f = nil
		if try == 100 {
			return nil, fmt.Errorf("lock run %s: the file was replaced at each of 100 tries: another process keeps rewriting it", path)
		}
	}
	l := &RunLock{f: f, path: path, found: statErr == nil}
	prev, err := readLock(f)
	if err != nil {
		// Too big (not ours), or not read (an I/O error, a named pipe
		// of that name): nothing is written, and it is left as found.
		// Its content was dropped, and the file renamed over, where a
		// read failed for another reason than its size: what a killed
		// holder left was lost, and an open that left run.lock as found
		// (keepPrevious) put back what part of it was read, if any.
		unlockFile(f)
		f.Close()
		return nil, &LockUnknownError{Path: path, Op: "open", Err: err}
	}
	l.prev = prev
	// Before the record replaces run.lock: an old temporary name of the
	// file found is then still a name of the file locked here.
	removeOldLockTemps(dir, f)
	if prev, err := decodeLockInfo(l.prev); err == nil && prev.PID != 0 {
		l.Previous = &prev
	}
	host, _ := os.Hostname()
	l.info = LockInfo{PID: os.Getpid(), Host: host, OS: runtime.GOOS, Started: time.Now().UTC().Truncate(time.Second), Checking: checking, Process: process}
	if err := l.write(); err != nil {
		// Nothing was done under the lock: run.lock is left as it was
		// (a killed writer's record, not emptied as by a clean close).
		l.keepPrevious = true
		l.Unlock()
		if errors.Is(err, syscall.ENOSPC) {
			return nil, lockDiskFull(dir, path, err)
		}
		return nil, fmt.Errorf("lock run %s: write owner: %w", path, err)
	}
	return l, nil
}

// listingWaits is how many times lockWriter asks again for a lock that
// only readers' shared locks refuse, a millisecond apart: a listing holds
// one for the instant of a lock and an unlock.
const listingWaits = 100

// lockWriter takes the writer's lock on f (lockFile, exclusive), waiting
// out a listing's look at the run: a probe (probeLock) holds a shared
// lock for that instant, and an open or a resume then was refused as
// "locked by" the pid run.lock names, its last writer's, dead where it
// was killed. A shared lock granted where the exclusive one was refused
// says that no writer holds it (a writer's lock is exclusive), and the
// lock is asked again; a shared one refused, that a writer holds it.
// reading: only readers held it at the last try (errLockHeld then).
func lockWriter(f *os.File) (reading bool, err error) {
	for try := 0; ; try++ {
		err = lockFile(f, true)
		if !errors.Is(err, errLockHeld) {
			return false, err
		}
		if lockFile(f, false) != nil {
			return false, err // a writer's
		}
		unlockFile(f)
		if try == listingWaits {
			return true, err
		}
		time.Sleep(time.Millisecond)
	}
}

// lockedBy is the LockedError of run.lock at path (f), held by another
// process: its record says who, where it was read. Not read (an I/O
// error, a file far too big), it is said with the read's error
// (LockedError.Unread); read and not a record, it is one being written
// in place (Windows: writeLockInPlace), said as one not written yet.
func lockedBy(path string, f *os.File) *LockedError {
	data, err := readLock(f)
	if err != nil {
		return &LockedError{Path: path, Unread: err}
	}
	info, err := decodeLockInfo(data)
	if err != nil {
		info = LockInfo{} // what part of it decoded is not whole
	}
	return &LockedError{Path: path, Holder: info}
}

// lockFile is tryLockFile, which a test replaces to act out a filesystem
// that does not lock files (ENOLCK; NFS whose lock manager is not
// reached): no test can mount one.
var lockFile = tryLockFile

// linkLock is makeLocked, which a test replaces to act out a filesystem
// without hard links (errNoLink: FAT, some network shares), where
// openLock makes run.lock with O_EXCL: no test can mount one.
var linkLock = makeLocked

// opened says how openLock came by run.lock.
type opened int

const (
	openedFound  opened = iota // it was there (or another opener made it meanwhile): not locked yet
	openedMade                 // made by this open (O_EXCL), not locked yet: a lock not granted removes it (unmake)
	openedLocked               // made by this open and locked before it had the name (makeLocked)
)

// lockRefused is makeLocked's lock not granted, for a reason other than
// a holder, on the file it made under a temporary name: run.lock was
// never made.
type lockRefused struct{ err error }

func (e *lockRefused) Error() string { return e.err.Error() }
func (e *lockRefused) Unwrap() error { return e.err }

// errNoLink: makeLocked cannot make run.lock by a link here (Windows; a
// filesystem without hard links); openLock makes it with O_EXCL.
var errNoLink = errors.New("run.lock cannot be linked into place here")

// openLock opens run.lock at path to lock it, making it where there is
// none. Made, it is made locked under a temporary name and linked into
// place (makeLocked: openedLocked), so that run.lock is never a file of
// this open's that is not locked: a lock not granted leaves none, and
// there is nothing to remove, which another opener could have opened in
// between. Where that cannot be (errNoLink), it is made with O_EXCL
// (openedMade), and a lock not granted removes it (unmake). Where the
// link or O_EXCL finds a file of that name after the open found none,
// another opener made it meanwhile, and it is opened as found. A
// symbolic link named run.lock is refused (lockLinkError), whether it
// leads to a file or nowhere: the lock's records replace run.lock whole
// (replaceLock), so the first would put a plain file in the link's place,
// and a link that led nowhere was followed and its target made, left
// behind empty once the link was replaced. What is found there is opened
// only where it is a plain file (openFound).
func openLock(path string) (*os.File, opened, error) {
	f, err := openFound(path, os.O_RDWR)
	if !errors.Is(err, fs.ErrNotExist) {
		return f, openedFound, err
	}
	f, err = linkLock(path)
	switch {
	case err == nil:
		return f, openedLocked, nil
	case errors.Is(err, errNoLink):
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, openedMade, err
		}
	case !errors.Is(err, fs.ErrExist):
		return nil, openedFound, err
	}
	f, err = openFound(path, os.O_RDWR|os.O_CREATE) // a link that leads nowhere: its target is not made
	return f, openedFound, err
}

// openFound opens run.lock at path to lock it (flag: os.O_RDWR, with
// os.O_CREATE where another opener made it meanwhile) where it is a plain
// file, neither following a symbolic link (lockLinkError) nor opening what
// is not a plain file (a *lockReadError holding a *notAFileError, as
// lockRun refuses one once opened): they were opened read-write before
// they were checked, and a device's open does what its driver does (a
// tape rewinds, a terminal may become this process's), a socket's failed
// as "no such device or address" where the listing said "a socket, not a
// file". A link that cannot be followed (a loop) is said as its open said
// it. The open (openNoFollow) follows no link and waits for no writer, so
// what is put in place after the check is refused too: a link by the
// open, anything else by lockRun's check of what was opened.
func openFound(path string, flag int) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			if _, serr := os.Stat(path); serr != nil && !errors.Is(serr, fs.ErrNotExist) {
				if pe := (*fs.PathError)(nil); errors.As(serr, &pe) {
					serr = pe.Err
				}
				return nil, &fs.PathError{Op: "open", Path: path, Err: serr}
			}
			if lerr := notALink(path); lerr != nil {
				return nil, lerr
			}
		case !fi.Mode().IsRegular():
			return nil, &fs.PathError{Op: "open", Path: path, Err: &lockReadError{Err: notAFile(fi.Mode())}}
		}
	}
	f, err := openNoFollow(path, flag)
	if err != nil {
		if lerr := notALink(path); lerr != nil { // put in place after the check
			return nil, lerr
		}
	}
	return f, err
}

// lockLinkError: run.lock is a symbolic link (to Target), which openLock
// refuses (a *LockUnknownError, Op "open", once lockRun has it).
type lockLinkError struct{ Target string }

func (e *lockLinkError) Error() string {
	return fmt.Sprintf("it is a symbolic link to %s, and a run's lock is a plain file, replaced whole at each record its holder writes", e.Target)
}

// notALink is a *fs.PathError holding a *lockLinkError where path is a
// symbolic link, else nil.
func notALink(path string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return nil
	}
	target, err := os.Readlink(path)
	if err != nil {
		target = "where it cannot be read (" + err.Error() + ")"
	}
	return &fs.PathError{Op: "open", Path: path, Err: &lockLinkError{Target: target}}
}

// unmake closes f, the run.lock that lockRun opened and could not lock
// (made: it made it, with O_EXCL where it cannot be linked into place:
// openLock), removing it where it made it: an empty run.lock says
// that the run's last session closed it cleanly (cutAfterClose), which an
// open that could not take the lock, a look at the run, must not say of
// one whose run.lock was missing. One that another process made its own
// since (it locked it and rewrote it: named no more) is left. Not locked,
// the file may be taken by another opener between the check and the
// removal, where locks are granted to it and refused here (NFS whose lock
// manager answers one and not the other): its lock is then on a file no
// longer named run.lock until its record, written by a rename
// (replaceLock), makes the name again, and a third opener in that gap
// locks a file of its own; a record renamed in before the removal is
// removed. The gap is a stat and an unlink wide, and only where run.lock
// is not made by a link (makeLocked closes it elsewhere).
func unmake(f *os.File, made bool) error {
	path := f.Name()
	mine := made && named(f, path)
	f.Close() // nothing was written; closed before the removal, as Windows removes no open file
	if !mine {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s, made to lock the run: %w: left empty, it says that the run's last session closed it; remove it", path, err)
	}
	return nil
}

// lockDiskFull is the error of a lock on the run folder dir whose record
// found no room on its disk (err: ENOSPC): run.lock emptied by the last
// clean close has no block to write into, and where the disk has none
// left, nor a file to make, the run cannot be written. It is
// ErrUnwritable, so that an open to look at the run opens it read-only
// (runner's OpenForReview), which writes nothing, and it says the disk is
// full and what to do (FullDiskError).
func lockDiskFull(dir, path string, err error) error {
	full := FullDiskError{What: LockFileName, Dir: dir, Left: "the run is as it was",
		Again: "open the run again to review or resume it", Meanwhile: Program() + " open shows it read-only meanwhile: reading it writes nothing"}.IfFull(err)
	return &lockFullError{path: path, full: full}
}

// lockFullError is lockDiskFull's error, said when it is read, so that a
// start (CreateWith) can give its FullDiskError a start's words: there is
// no run to open again.
type lockFullError struct {
	path string
	full error // a *FullDiskError
}

func (e *lockFullError) Error() string {
	return fmt.Sprintf("lock run %s: %v: %v", e.path, ErrUnwritable, e.full)
}

func (e *lockFullError) Unwrap() []error { return []error{ErrUnwritable, e.full} }

// write puts l.info in run.lock, whole: a reader finds the record before
// or the record after, and a holder killed midway leaves one of them
// (replaceLock).
func (l *RunLock) write() error {
	data, _ := json.Marshal(l.info)
	return l.replaceLock(append(data, '\n'))
}

// writeLockInPlace writes the record data over run.lock's (f) from its
// start, then cuts the file to its length and flushes it, where it cannot
// be replaced whole (Windows; a full disk): a reader finds the old record,
// the new one, or the new one followed for a moment by the end of a
// longer old one, which readLockInfo leaves unread; a holder killed midway
// leaves one of those; never an empty file, which reads as a run closed
// cleanly.
func writeLockInPlace(f *os.File, data []byte) error {
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		return err
	}
	return f.Sync()
}

// named reports whether f is the file named path now (not one renamed
// over, or removed, since f was opened).
func named(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, pi)
}

// checked says in run.lock that the open event is on disk
// (LockInfo.Checking cleared): the owner's own events say what it does
// from now on.
func (l *RunLock) checked() error {
	if l.info.Checking == "" {
		return nil
	}
	l.info.Checking = ""
	return l.write()
}

func readLockInfo(f *os.File) (LockInfo, error) {
	data, err := readLock(f)
	if err != nil {
		return LockInfo{}, err
	}
	return decodeLockInfo(data)
}

// maxLockBytes bounds what readLock reads of a run.lock. A record is one
// line of JSON of a few hundred bytes (a pid, a host name of at most 255,
// a time, an intent and a kind of process of a few words each); a
// Windows rewrite in place may leave for a moment the tail of a longer
// one after it. 64 KiB is a hundred times that, and still nothing to hold
// in memory at each open: a file past it is not a run.lock this program
// wrote (a stray file of that name, some GiB of data copied over it), and
// was read whole, to be put back as found, at each open of the run.
const maxLockBytes = 64 << 10

// lockTooBigError: run.lock holds more than maxLockBytes (Size bytes),
// which lockRun refuses unread (a *LockUnknownError, Op "open").
type lockTooBigError struct{ Size int64 }

func (e *lockTooBigError) Error() string {
	return fmt.Sprintf("it holds %d bytes, and a run's lock holds one record of a few hundred (at most %d here): it is not a run.lock this program wrote", e.Size, maxLockBytes)
}

// lockReadError: run.lock could not be read (Err: an I/O error; ESPIPE
// of a named pipe of that name; EISDIR of a folder), which lockRun
// refuses as a file too big (a *LockUnknownError, Op "open"), and a
// listing says (probeLockRead).
type lockReadError struct{ Err error }

func (e *lockReadError) Error() string { return "it cannot be read: " + e.Err.Error() }
func (e *lockReadError) Unwrap() error { return e.Err }

// notAFileError: run.lock is not a plain file (what: "a named pipe, not
// a file"), which lockRun refuses before it asks for its lock (a
// *lockReadError holds it): no process's lock on it is known then.
type notAFileError struct{ what string }

func (e *notAFileError) Error() string { return "it is " + e.what }

// notAFile says what a run.lock of mode is, that is not a plain file.
func notAFile(mode fs.FileMode) error {
	what := "not a plain file (" + mode.String() + ")"
	switch {
	case mode.IsDir():
		what = "a folder, not a file"
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe, not a file"
	case mode&fs.ModeSocket != 0:
		what = "a socket, not a file"
	case mode&fs.ModeDevice != 0:
		what = "a device, not a file"
	}
	return &notAFileError{what: what}
}

// refusedLockNote is what a listing says of a run whose run.lock an
// open to write the run refuses (lockRun) where its probe can still say
// who holds it (refused: a *lockTooBigError or a *lockReadError, not
// read; a *lockLinkError): the listing said nothing, and read the run as
// if run.lock were empty where it did not read it.
func refusedLockNote(path string, refused error) string {
	said := fmt.Sprintf("%s is not read (%v)", path, refused)
	var unread *lockReadError
	var link *lockLinkError
	switch {
	case errors.As(refused, &unread):
		said = fmt.Sprintf("%s cannot be read (%v)", path, unread.Err)
	case errors.As(refused, &link):
		said = fmt.Sprintf("%s is refused (%v)", path, link)
	}
	fix := (&LockUnknownError{Path: path, Op: "open", Err: refused}).Fix()
	if staleFS(refused) {
		return said + ": " + staleSaid + "; the run cannot be resumed or written to until it is read; " + fix
	}
	return said + ": the run cannot be resumed or written to while it is there (" + Program() + " open shows it read-only); " + fix
}

// readLock reads run.lock (f) whole, from its start: its record, and
// what else a file of that name holds, which an open that leaves run.lock
// as it found it (keepPrevious) puts back whole. One past maxLockBytes is
// not read: a *lockTooBigError; a read that fails is a *lockReadError.
func readLock(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		return nil, &lockReadError{Err: notAFile(fi.Mode())}
	}
	if err == nil && fi.Size() > maxLockBytes {
		return nil, &lockTooBigError{Size: fi.Size()}
	}
	// Bounded again as read: the file may grow past the bound after the
	// stat (or be a file whose size stat does not say).
	data, err := io.ReadAll(io.NewSectionReader(f, 0, maxLockBytes+1))
	if len(data) > maxLockBytes {
		size := int64(len(data))
		if fi, serr := f.Stat(); serr == nil && fi.Size() > size {
			size = fi.Size()
		}
		return nil, &lockTooBigError{Size: size}
	}
	if err != nil {
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err // the path is the caller's to say
		}
		return nil, &lockReadError{Err: err}
	}
	return data, nil
}

// decodeLockInfo reads the record data, run.lock's: none (zero) in an
// empty file.
func decodeLockInfo(data []byte) (LockInfo, error) {
	var info LockInfo
	if len(strings.TrimSpace(string(data))) == 0 {
		return info, nil
	}
	// The first value: where run.lock is rewritten in place (Windows),
	// a shorter record may be followed for a moment by the end of a
	// longer one.
	err := json.NewDecoder(bytes.NewReader(data)).Decode(&info)
	return info, err
}

// Path is the lock file's path.
func (l *RunLock) Path() string { return l.path }

// Unlock empties run.lock (marking a clean exit) and releases the lock. The
// file itself stays: removing it would let two processes lock different
// files of the same name.
func (l *RunLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	var terr error
	removeClosed := false
	if l.keepPrevious && !l.found {
		// There was none: an empty one made here would say that the
		// run's last session closed it (cutAfterClose). Removed while
		// still locked: an opener that opened it meanwhile finds it no
		// longer named so (lockRun) and tries again. Windows removes no
		// file open here: it is removed once closed, where DeleteFile
		// refuses it if another opener opened it meanwhile.
		terr = os.Remove(l.path)
		removeClosed = terr != nil && runtime.GOOS == "windows"
	} else if l.keepPrevious && len(l.prev) > 0 {
		// Nothing was done under this lock: what the previous owner left
		// (it did not unlock cleanly) is left for the next to say, as it
		// was, byte for byte.
		terr = l.replaceLock(l.prev)
	} else {
		// Emptied in place: a reader finds the record or nothing, and
		// nothing says the last holder closed cleanly.
		terr = l.f.Truncate(0)
	}
	var uerr, cerr error
	for _, f := range append(l.replaced, l.f) {
		uerr = errors.Join(uerr, unlockFile(f))
		cerr = errors.Join(cerr, f.Close())
	}
	l.f, l.replaced = nil, nil
	if removeClosed {
		if terr = os.Remove(l.path); errors.Is(terr, fs.ErrNotExist) {
			terr = nil
		}
	}
	if err := errors.Join(terr, uerr, cerr); err != nil {
		return fmt.Errorf("unlock %s: %w", l.path, err)
	}
	return nil
}
