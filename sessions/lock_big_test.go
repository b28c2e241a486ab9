package sessions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLockRefusesAFileFarPastALock: a run.lock past maxLockBytes is not
// one this program wrote (a record is a few hundred bytes): an open and a
// start refuse it unread (a LockUnknownError, Op "open", of a
// lockTooBigError), saying its size, its path and what to do, and leave
// it as it was. Before, each open read it whole into memory, to put it
// back as found. The files are sparse (os.Truncate): they take no disk.
func TestLockRefusesAFileFarPastALock(t *testing.T) {
	for _, size := range []int64{maxLockBytes + 1, 1 << 30} {
		for _, start := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d bytes, start %v", size, start), func(t *testing.T) {
				dir := t.TempDir()
				lock := filepath.Join(dir, LockFileName)
				if err := os.WriteFile(lock, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(lock, size); err != nil {
					t.Fatal(err)
				}
				was, err := os.Stat(lock)
				if err != nil {
					t.Fatal(err)
				}
				if err = lockOrStart(dir, start); err == nil {
					t.Fatalf("locked a run.lock of %d bytes", size)
				}
				var lu *LockUnknownError
				var big *lockTooBigError
				if !errors.As(err, &lu) || lu.Op != "open" || lu.Path != lock || !errors.As(err, &big) || big.Size != size {
					t.Errorf("refused with %v; want a LockUnknownError, Op open, of %s holding %d bytes", err, lock, size)
				}
				says := []string{lock + " cannot be opened (it holds " + fmt.Sprint(size) + " bytes", "it is not a run.lock this program wrote",
					"see what it is (ls -l " + ShellQuote(lock) + ")", "move it out of the run folder if it is wanted, else remove it"}
				if start {
					says = append(says, "or start the run in another folder (--runs DIR)")
				} else {
					// Refused once locked: no other process held it.
					says = append(says, "no other process held its lock")
					if strings.Contains(err.Error(), "not known") {
						t.Errorf("it says %q; want no 'not known' of the holder: its lock was taken", err)
					}
				}
				for _, w := range says {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("it says %q; want %q in it", err, w)
					}
				}
				now, err := os.Stat(lock)
				if err != nil || now.Size() != size || !now.ModTime().Equal(was.ModTime()) || !os.SameFile(now, was) {
					t.Errorf("run.lock after the refusal: %v (%v); want it as it was, %d bytes", now, err, size)
				}
			})
		}
	}
}

// lockOrStart takes dir's run.lock as an open does (LockRun) or, start, as
// a start does (Create), and lets go of what it took: the error is the
// refusal, nil where the lock was taken.
func lockOrStart(dir string, start bool) error {
	if start {
		r, err := Create(dir, testCfg())
		if err == nil {
			r.Close()
		}
		return err
	}
	l, err := LockRun(dir)
	if err == nil {
		l.Unlock()
	}
	return err
}
