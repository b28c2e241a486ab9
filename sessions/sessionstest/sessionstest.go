// Package sessionstest acts out, on a run folder sessions wrote, what the
// tests of several packages cannot have a real process or filesystem do:
// a writer killed before its close, a run.lock that can be neither opened
// nor probed, a process that is gone.
//
// It does not import sessions, so that sessions' own tests use it too:
// the file names it writes are sessions' (TestNamesAreSessions).
package sessionstest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/durable"
)

// The files of a run folder it acts on: sessions.EventsFile and
// sessions.LockFileName.
const (
	eventsFile = "events.jsonl"
	lockFile   = "run.lock"
)

// TakeBackClose removes the close event, the last line of dir's
// events.jsonl, as a process killed (or still training) leaves it: its
// session open. The test fails if the last line is not the close.
func TakeBackClose(t testing.TB, dir string) {
	t.Helper()
	path := filepath.Join(dir, eventsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, `"kind":"close"`) {
		t.Fatalf("the last event is not the close: %s", last)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines[:len(lines)-1], "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// LockLinkedToItself makes the run.lock of the run in dir a link to
// itself, which can be neither opened nor probed (as one on a filesystem
// without locks cannot be locked), and returns its path; the test is
// skipped where no such link can be made.
func LockLinkedToItself(t testing.TB, dir string) string {
	t.Helper()
	lock := filepath.Join(dir, lockFile)
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(lockFile, lock); err != nil {
		t.Skipf("a link to itself: %v", err)
	}
	return lock
}

// deadFrom is the first pid DeadPIDs tries: past 1<<22, Linux's
// PID_MAX_LIMIT, which pid_max cannot be raised above (4194301, which
// tests named as dead, is below it and may be a live process's where
// pid_max is that high: systemd sets it so), and past macOS's and the
// BSDs' 99999; odd, where Windows' pids are multiples of 4 (OpenProcess
// may read an odd one as the multiple of 4 below it: the check finds that
// process, if any, alive, and DeadPIDs goes on).
const deadFrom = 1<<22 + 1

// DeadPIDs returns n pids, each of which no process has on this machine
// (durable.ProcessAlive: kill(pid, 0) finds none), nor can have while the
// tests run, to name a writer that is gone in a run.lock or an event.
// The same n on every call.
func DeadPIDs(n int) ([]int, error) {
	var pids []int
	for pid := deadFrom; len(pids) < n; pid += 2 {
		if pid > deadFrom+2*1000 {
			return nil, fmt.Errorf("sessionstest: %d pids no process has, from %d: found %d (%v): a process answers to the others", n, deadFrom, len(pids), pids)
		}
		if !durable.ProcessAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// DeadPID is the first of DeadPIDs: a pid no process has. The test fails
// where none is found.
func DeadPID(t testing.TB) int {
	t.Helper()
	pids, err := DeadPIDs(1)
	if err != nil {
		t.Fatal(err)
	}
	return pids[0]
}
