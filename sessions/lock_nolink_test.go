package sessions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// noLinks has openLock find a filesystem without hard links (FAT, some
// network shares: errNoLink), which no test can mount, until the test
// ends: run.lock, where missing, is made with O_EXCL, as on Windows.
// made, when not nil, runs where the link would have been tried.
func noLinks(t *testing.T, made func(path string)) {
	t.Cleanup(func() { linkLock = makeLocked })
	linkLock = func(path string) (*os.File, error) {
		if made != nil {
			made(path)
		}
		return nil, errNoLink
	}
}

// TestLockWithoutLinks: where run.lock cannot be linked into place (no
// hard links), a missing one is made with O_EXCL (openLock's fallback):
// locked, it holds this owner's record, another open finds it held, and
// a clean unlock leaves it empty; an open closed before it began leaves
// none, as it found none; a lock not granted (no locks either) removes
// the one it made (unmake), leaving the folder as it was; one that
// another opener made in between is opened as found, and its holder
// named. No temporary name is left in any.
func TestLockWithoutLinks(t *testing.T) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, dir, path string) // the lock, and what it must leave
		want []string                             // the folder's names after it
	}{
		{"made, held, unlocked clean", func(t *testing.T, dir, path string) {
			l, err := LockRun(dir)
			if err != nil {
				t.Fatal(err)
			}
			if info, err := decodeLockInfo(mustRead(t, path)); err != nil || info.PID != os.Getpid() {
				t.Errorf("run.lock holds %+v (%v), want this owner's pid %d", info, err, os.Getpid())
			}
			if l2, err := LockRun(dir); !errors.Is(err, ErrLocked) {
				if err == nil {
					l2.Unlock()
				}
				t.Errorf("a second lock: %v, want the run found locked", err)
			}
			if err := l.Unlock(); err != nil {
				t.Fatal(err)
			}
			if data, err := os.ReadFile(path); err != nil || len(data) != 0 {
				t.Errorf("run.lock after a clean unlock: %q (%v), want it empty", data, err)
			}
		}, []string{LockFileName}},
		{"made, the open closed before it began", func(t *testing.T, dir, path string) {
			l, err := lockRun(dir, IntentResume, "")
			if err != nil {
				t.Fatal(err)
			}
			l.keepPrevious = true // nothing done under it, as a deferred open closed unbegun
			if err := l.Unlock(); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"made, its lock refused", func(t *testing.T, dir, path string) {
			noLocks(t)
			l, err := LockRun(dir)
			if err == nil {
				l.Unlock()
				t.Fatal("locked where files do not lock")
			}
			if lu := (*LockUnknownError)(nil); !errors.As(err, &lu) || lu.Op != "lock" || !errors.Is(err, syscall.ENOLCK) {
				t.Errorf("refused with %v; want a LockUnknownError, Op lock, ENOLCK", err)
			}
		}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			noLinks(t, nil)
			c.run(t, dir, filepath.Join(dir, LockFileName))
			if now := folderNames(t, dir); !slices.Equal(now, c.want) {
				t.Errorf("the folder holds %q, want %q", now, c.want)
			}
		})
	}

	t.Run("made by another opener in between", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, LockFileName)
		var other *os.File
		t.Cleanup(func() {
			if other != nil {
				other.Close()
			}
		})
		noLinks(t, func(path string) { // after the open found none, before O_EXCL
			var err error
			if other, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := tryLockFile(other, true); err != nil {
				t.Fatal(err)
			}
			if _, err := fmt.Fprintf(other, `{"pid":%d}`+"\n", deadPID); err != nil {
				t.Fatal(err)
			}
		})
		l, err := LockRun(dir)
		if err == nil {
			l.Unlock()
			t.Fatal("locked a run.lock another opener holds")
		}
		if le := (*LockedError)(nil); !errors.As(err, &le) || le.Holder.PID != deadPID {
			t.Errorf("refused with %v; want a LockedError naming the other opener (pid %d)", err, deadPID)
		}
		if !named(other, path) {
			t.Errorf("the other opener's run.lock is no longer named %s", path)
		}
		if now := folderNames(t, dir); !slices.Equal(now, []string{LockFileName}) {
			t.Errorf("the folder holds %q, want only %s", now, LockFileName)
		}
	})

}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
