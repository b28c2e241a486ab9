// Package sessionstest acts out, on a run folder sessions wrote, what the
// tests of several packages cannot have a real process or filesystem do:
// a writer killed before its close, a run.lock that can be neither opened
// nor probed.
package sessionstest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TakeBackClose removes the close event, the last line of dir's
// events.jsonl, as a process killed (or still training) leaves it: its
// session open. The test fails if the last line is not the close.
func TakeBackClose(t testing.TB, dir string) {
	t.Helper()
	path := filepath.Join(dir, sessions.EventsFile)
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
	lock := filepath.Join(dir, sessions.LockFileName)
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sessions.LockFileName, lock); err != nil {
		t.Skipf("a link to itself: %v", err)
	}
	return lock
}
