package sessionstest

import (
	"slices"
	"testing"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestNamesAreSessions: the files this package acts on are those sessions
// names (it cannot import sessions, whose tests use it).
func TestNamesAreSessions(t *testing.T) {
	if eventsFile != sessions.EventsFile || lockFile != sessions.LockFileName {
		t.Errorf("acts on %s and %s, sessions names %s and %s", eventsFile, lockFile, sessions.EventsFile, sessions.LockFileName)
	}
}

// TestDeadPIDs: the pids are distinct, the same at every call (a test
// names one where it writes it and where it reads what was said of it),
// and no process has them.
func TestDeadPIDs(t *testing.T) {
	pids, err := DeadPIDs(3)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DeadPIDs(3)
	if err != nil || !slices.Equal(pids, again) {
		t.Errorf("DeadPIDs(3): %v, then %v, %v; want the same", pids, again, err)
	}
	if first := DeadPID(t); first != pids[0] {
		t.Errorf("DeadPID %d, want DeadPIDs' first, %d", first, pids[0])
	}
	seen := map[int]bool{}
	for _, pid := range pids {
		if seen[pid] || durable.ProcessAlive(pid) {
			t.Errorf("pid %d: repeated (%v) or alive", pid, seen[pid])
		}
		seen[pid] = true
	}
}
