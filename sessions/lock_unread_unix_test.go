//go:build unix

package sessions

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLockRefusesARunLockItCannotRead: a run.lock not read once it is
// locked (a named pipe or a socket of that name, as root too; a read that fails) is
// refused as one too big is, unwritten and left as found: before, the
// read's error was dropped and the record renamed over the file, so what
// it held was lost and the run taken over. A file this user may
// not read (0200) is refused at its open (O_RDWR): the folder is
// unwritable here, and the file is left as found with its content; root
// reads it whatever its mode, so that case is skipped as root. A named
// pipe is refused before its lock is asked for, in the same words where
// flock refuses one as macOS does (ENOTSUP): there, it was said as a
// filesystem that does not lock files, whether another process held the
// run not known.
func TestLockRefusesARunLockItCannotRead(t *testing.T) {
	for _, c := range []struct {
		name  string
		make  func(t *testing.T, lock string)
		start bool
		says  []string
		is    func(error) bool
	}{
		{"named pipe, open", mkfifo, false, pipeOpenSays,
			func(err error) bool { var r *lockReadError; return errors.As(err, &r) }},
		{"named pipe, start", mkfifo, true, pipeStartSays,
			func(err error) bool { var r *lockReadError; return errors.As(err, &r) }},
		{"named pipe flock refuses as on macOS, open", macOSPipe, false, pipeOpenSays,
			func(err error) bool { var r *lockReadError; return errors.As(err, &r) }},
		{"named pipe flock refuses as on macOS, start", macOSPipe, true, pipeStartSays,
			func(err error) bool { var r *lockReadError; return errors.As(err, &r) }},
		{"socket, open", socket, false, []string{"cannot be read (it is a socket, not a file)", "a run's lock is a plain file", "see what it is (ls -l "},
			func(err error) bool { var r *lockReadError; return errors.As(err, &r) }},
		{"socket, start", socket, true, []string{"cannot be read (it is a socket, not a file)", "a run is not started without its lock", "see what it is (ls -l "},
			func(err error) bool { var r *lockReadError; return errors.As(err, &r) }},
		{"not readable by this user", writeOnly, false,
			[]string{"permission denied", "it cannot be resumed or written to"},
			func(err error) bool { return errors.Is(err, ErrUnwritable) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			lock := filepath.Join(dir, LockFileName)
			c.make(t, lock)
			was, err := os.Lstat(lock)
			if err != nil {
				t.Fatal(err)
			}
			if err = lockOrStart(dir, c.start); err == nil {
				t.Fatalf("locked a run.lock it could not read (%v)", was.Mode())
			}
			if !c.is(err) || !strings.Contains(err.Error(), lock) {
				t.Errorf("refused with %v; want it to say %s and why", err, lock)
			}
			if strings.Contains(err.Error(), "not known") {
				t.Errorf("it says %q; want no 'not known' of the holder: its lock was taken or never asked for", err)
			}
			for _, w := range c.says {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("it says %q; want %q in it", err, w)
				}
			}
			now, err := os.Lstat(lock)
			if err != nil || !os.SameFile(now, was) || now.Mode() != was.Mode() {
				t.Fatalf("run.lock after the refusal: %v (%v); want it as it was, %v", now, err, was.Mode())
			}
			if now.Mode().IsRegular() {
				os.Chmod(lock, 0o600)
				if data, err := os.ReadFile(lock); err != nil || string(data) != writeOnlyHeld {
					t.Errorf("run.lock holds %q (%v); want %q as it was", data, err, writeOnlyHeld)
				}
			}
		})
	}
}

// What a refused named pipe's words say, of an open and of a start.
var (
	pipeOpenSays = []string{"cannot be read (it is a named pipe, not a file)", "a run's lock is a plain file", "it could not read", "see what it is (ls -l ",
		"move it out of the run folder if it is wanted, else remove it: the next open makes the run's lock anew"}
	pipeStartSays = []string{"cannot be read (it is a named pipe, not a file)", "a run is not started without its lock", "see what it is (ls -l ", "or start the run in another folder (--runs DIR)"}
)

// macOSPipe is mkfifo, with an flock on a named pipe refused as macOS
// refuses it (ENOTSUP: its fifofs locks nothing), which no test on Linux
// finds, until the test ends.
func macOSPipe(t *testing.T, lock string) {
	mkfifo(t, lock)
	t.Cleanup(func() { lockFile = tryLockFile })
	lockFile = func(f *os.File, exclusive bool) error {
		if fi, err := f.Stat(); err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
			return syscall.ENOTSUP
		}
		return tryLockFile(f, exclusive)
	}
}

// TestProbeRefusesAPipePutInPlaceAtItsOpen: a named pipe put in
// run.lock's place after the probe's stat saw a plain file, as it opens
// it, is refused as one there from the first: before, the open waited for
// a writer, and rlt sessions hung. The swap is made by openProbe, which
// then opens the pipe as the probe does.
func TestProbeRefusesAPipePutInPlaceAtItsOpen(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, LockFileName)
	if err := os.WriteFile(lock, []byte(writeOnlyHeld), 0o644); err != nil {
		t.Fatal(err)
	}
	open := openProbe
	t.Cleanup(func() { openProbe = open })
	var swapErr error
	openProbe = func(path string) (*os.File, error) {
		if swapErr = os.Remove(path); swapErr == nil {
			swapErr = syscall.Mkfifo(path, 0o644)
		}
		return open(path)
	}
	held, _, refused, err := probeLockRead(dir)
	if swapErr != nil {
		t.Skipf("no named pipe put in place here: %v", swapErr)
	}
	var unread *lockReadError
	if held || err != nil || !errors.As(refused, &unread) || !strings.Contains(refused.Error(), "it is a named pipe, not a file") {
		t.Errorf("probe of a named pipe put in place at its open: held %v, refused %v, err %v; want refused as a named pipe, not held, no error", held, refused, err)
	}
}

// TestReadLockSaysAReadThatFails: a read of run.lock that fails (a
// folder opened: EISDIR) is a *lockReadError, which lockRun refuses and
// a listing says, not an empty record.
func TestReadLockSaysAReadThatFails(t *testing.T) {
	f, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var unread *lockReadError
	if data, err := readLock(f); !errors.As(err, &unread) || data != nil {
		t.Errorf("readLock of a folder: %q, %v; want a lockReadError", data, err)
	}
}

// TestListSaysARunLockNotRead: the listing says of a run whose run.lock
// an open to write the run refuses (too big, a named pipe, a folder: not
// read; a symbolic link) what it is, where, and what to do. Before, it
// said nothing (the run read as if run.lock were empty), and a named pipe
// hung it: its open waited for a writer.
func TestListSaysARunLockNotRead(t *testing.T) {
	const moveIt = "move it out of the run folder if it is wanted, else remove it"
	for _, c := range []struct {
		name string
		make func(t *testing.T, lock string)
		says string
		fix  string
	}{
		{"too big", func(t *testing.T, lock string) {
			if err := os.Truncate(lock, maxLockBytes+1); err != nil {
				t.Fatal(err)
			}
		}, "is not read (it holds 65537 bytes", moveIt},
		{"named pipe", func(t *testing.T, lock string) {
			os.Remove(lock)
			mkfifo(t, lock)
		}, "cannot be read (it is a named pipe, not a file)", moveIt},
		{"named pipe flock refuses as on macOS", func(t *testing.T, lock string) {
			os.Remove(lock)
			macOSPipe(t, lock)
		}, "cannot be read (it is a named pipe, not a file)", moveIt},
		{"folder", func(t *testing.T, lock string) {
			os.Remove(lock)
			if err := os.Mkdir(lock, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "cannot be read (it is a folder, not a file)", moveIt},
		{"symbolic link", func(t *testing.T, lock string) {
			target := filepath.Join(t.TempDir(), "elsewhere.lock")
			if err := os.Rename(lock, target); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, lock); err != nil {
				t.Fatal(err)
			}
		}, "is refused (it is a symbolic link to ", "remove the link (rm "},
		// The probe's stat follows the link: these said "cannot be read
		// (it is a named pipe, not a file)" and "move it out", of a link.
		{"symbolic link to a named pipe", func(t *testing.T, lock string) {
			target := filepath.Join(t.TempDir(), "elsewhere.pipe")
			mkfifo(t, target)
			os.Remove(lock)
			if err := os.Symlink(target, lock); err != nil {
				t.Fatal(err)
			}
		}, "is refused (it is a symbolic link to ", "remove the link (rm "},
		{"symbolic link to a folder", func(t *testing.T, lock string) {
			os.Remove(lock)
			if err := os.Symlink(t.TempDir(), lock); err != nil {
				t.Fatal(err)
			}
		}, "is refused (it is a symbolic link to ", "remove the link (rm "},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "run")
			writeClosed(t, dir, "stopped")
			lock := filepath.Join(dir, LockFileName)
			c.make(t, lock)
			list, err := List(root)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			for _, w := range []string{lock + " " + c.says, "the run cannot be resumed or written to while it is there (rlt open shows it read-only)",
				ShellQuote(lock), c.fix} {
				if !strings.Contains(list[0].Note, w) {
					t.Errorf("listed with the note %q; want %q in it", list[0].Note, w)
				}
			}
			if list[0].State != StateStopped {
				t.Errorf("listed %s; want stopped, as its events say", list[0].State)
			}
		})
	}
}

func mkfifo(t *testing.T, lock string) {
	if err := syscall.Mkfifo(lock, 0o644); err != nil {
		t.Skipf("no named pipe here: %v", err)
	}
}

// socket makes a Unix socket named lock, which an open refuses (ENXIO):
// lockRun said "cannot be opened (no such device or address)" of it,
// where the listing said "a socket, not a file", until it looked at what
// run.lock is before it opened it (openFound).
func socket(t *testing.T, lock string) {
	l, err := net.Listen("unix", lock)
	if err != nil {
		t.Skipf("no Unix socket here: %v", err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	t.Cleanup(func() { l.Close() })
}

// writeOnlyHeld is what a killed holder left in the run.lock that this
// user may write and not read.
const writeOnlyHeld = `{"pid":4242,"host":"gpu7","started":"2026-01-02T03:04:05Z"}` + "\n"

func writeOnly(t *testing.T, lock string) {
	if os.Geteuid() == 0 {
		t.Skip("root reads a file whatever its mode")
	}
	if err := os.WriteFile(lock, []byte(writeOnlyHeld), 0o200); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(lock); !errors.Is(err, fs.ErrPermission) {
		if err == nil {
			f.Close()
		}
		t.Skipf("a 0200 file is read here (%v)", err)
	}
}
