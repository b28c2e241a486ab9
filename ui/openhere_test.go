package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunsScreenSaysTheRunOpenHere: the Runs screen's note on the run this
// workbench trains says it is open here, in words, where it named the
// workbench's own pid ("pid 4242") as it names another process that
// holds a run. rlt sessions, another process, still reads the pid
// (sessions' TestListSaysTheRunOpenHere, which also lists a run kept open
// here with no engine).
func TestRunsScreenSaysTheRunOpenHere(t *testing.T) {
	t.Chdir(t.TempDir())
	m, _ := liveOnRuns(t, -1.5)
	self := fmt.Sprintf("pid %d", os.Getpid())
	row := m.runs.selected()
	if row == nil || filepath.Base(row.Dir) != "live" || !m.runs.isCurrent(*row) {
		t.Fatalf("selected %+v, want the run open here", row)
	}
	if row.State != "running" || row.Note != "open here, training it" || strings.Contains(row.Note, self) {
		t.Errorf("the run trained here listed %s, %q; want running, %q", row.State, row.Note, "open here, training it")
	}
}
