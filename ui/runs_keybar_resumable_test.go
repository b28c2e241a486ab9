package ui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestRunsKeyBarOffersResumeOnlyWhereItResumes: the Runs screen's key bar
// offers "r resume from checkpoint" only on a run r resumes, as the
// listing read it (runRow.Resumable): a stopped run with a checkpoint and
// steps left. On a run with no checkpoint, one imported from a trainer's
// folder and a finished one (its checkpoint of the last planned step) it
// offered r, which then said why the run is not
// resumed. The help page lists r whatever row is selected.
func TestRunsKeyBarOffersResumeOnlyWhereItResumes(t *testing.T) {
	runsWorld(t)
	// Stopped (no "done") with a checkpoint of step 1 of the 3 it plans:
	// a resume does step 2 again.
	withCheckpoint(t, filepath.Join("runs", "20260103-101500"), 1)
	withCheckpoint(t, filepath.Join("runs", "20260102-030405"), 11) // finished: its last planned step's
	imp := filepath.Join("runs", "imported")
	if _, err := sessions.Import(imp, filepath.Join("ext", "official")); err != nil {
		t.Fatal(err)
	}
	m := onRuns(t, nil, &testLauncher{runs: "runs"}, 200)
	want := map[string]bool{
		"20260102-030405": false, // finished
		"20260103-101500": true,  // a checkpoint of step 1 of its 3
		"20260104-090000": false, // no checkpoint
		"imported":        false,
	}
	const resume = "r resume from checkpoint"
	bar := func() string {
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		return lines[len(lines)-1]
	}
	seen := 0
	for _, row := range append([]runRow(nil), m.runs.rows...) {
		name := filepath.Base(row.Dir)
		w, ok := want[name]
		if !ok {
			continue
		}
		seen++
		selectRun(t, m, row.Dir)
		if got := strings.Contains(bar(), resume); got != w {
			t.Errorf("on %s (%s): key bar %q, want %q offered %v", name, row.State, bar(), resume, w)
		}
	}
	if seen != len(want) {
		t.Fatalf("%d of the %d runs listed:\n%s", seen, len(want), m.View())
	}
	hit(t, m, "?")
	if !strings.Contains(ansi.Strip(m.View()), "resume from checkpoint") {
		t.Errorf("the help page lacks r:\n%s", m.View())
	}
}
