package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenWaitsOutAListingsLook: an open of a run (LockRun) at the
// instant a listing looks at it (probeLock's shared lock, held for a lock
// and an unlock) takes the run once the listing has let go; before, it was
// refused as "locked by pid 4242 on host gpu7", the writer that run.lock
// still names, killed long since. A shared lock held for longer than the
// open waits is said as readers that hold the run, naming no writer; a
// writer's lock is refused at once, naming it, as before. The listing is
// an open file of this process holding a shared lock, as flock and
// LockFileEx hold it for any other; it lets go when the open's shared
// lock is granted (lockFile), the open's first sign that only readers
// hold the run: no test can time a listing's look.
func TestOpenWaitsOutAListingsLook(t *testing.T) {
	const record = `{"pid":4242,"host":"gpu7","started":"2026-01-02T03:04:05Z"}` + "\n"
	for _, c := range []struct {
		name      string
		exclusive bool // the other holds a writer's lock, not a listing's
		letsGo    bool // the listing lets go once the open asks
	}{
		{"a listing lets go", false, true},
		{"a listing holds on", false, false},
		{"a writer holds it", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			lock := filepath.Join(dir, LockFileName)
			if err := os.WriteFile(lock, []byte(record), 0o644); err != nil {
				t.Fatal(err)
			}
			other, err := os.OpenFile(lock, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if err := tryLockFile(other, c.exclusive); err != nil {
				t.Fatal(err)
			}
			held := true
			defer func() {
				if held {
					unlockFile(other)
				}
			}()
			t.Cleanup(func() { lockFile = tryLockFile })
			lockFile = func(f *os.File, exclusive bool) error {
				err := tryLockFile(f, exclusive)
				if err == nil && !exclusive && c.letsGo && held {
					unlockFile(other)
					held = false
				}
				return err
			}
			l, err := LockRun(dir)
			if c.letsGo {
				if err != nil {
					t.Fatalf("refused with %v; want the run taken once the listing let go", err)
				}
				defer l.Unlock()
				if l.Previous == nil || l.Previous.PID != 4242 {
					t.Errorf("the record found: %+v; want the killed writer's, pid 4242", l.Previous)
				}
				return
			}
			var le *LockedError
			if !errors.As(err, &le) {
				t.Fatalf("refused with %v; want a LockedError", err)
			}
			said := err.Error()
			switch {
			case c.exclusive && (le.Reading || !strings.Contains(said, "locked by pid 4242 on host gpu7")):
				t.Errorf("it says %q (reading %v); want the writer named, pid 4242 on host gpu7", said, le.Reading)
			case !c.exclusive && (!le.Reading || strings.Contains(said, "4242") ||
				!strings.Contains(said, lock+": run folder is held by processes that read it without writing it (a listing: rlt sessions, a Runs screen)") ||
				!strings.Contains(said, "no process writes the run; try again")):
				t.Errorf("it says %q (reading %v); want readers said, and no writer named", said, le.Reading)
			}
		})
	}
}
