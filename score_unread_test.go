package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/warmstart"
	"github.com/rlt-workbench/rlt/sessions"
)

// Stored scores whose arrays cannot be read back (rescores.jsonl rewritten
// after the run was opened) are error lines, counted once: the summary
// never says a negative number of traces were scored.
func TestScoreRunStoredUnreadCountedOnce(t *testing.T) {
	runDir := filepath.Join(t.TempDir(), "official")
	if code, _, errs := runCLI(t, "", "import", officialFixture, "--out", runDir); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	prompts := warmstart.ShortPrompts()
	if code, _, errs := runCLI(t, "", "score", "--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem,
		"--teacher", embeddedTeacher, "--student", embeddedStudent, "--run", runDir, "--write"); code != 0 {
		t.Fatalf("score --write: exit %d: %s", code, errs)
	}
	run, err := sessions.OpenWith(runDir, nil, sessions.Options{Intent: sessions.IntentRescore})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	traces, _ := run.Store().TracesSince(0)
	rs, ok := run.Store().Rescore(traces[0].ID)
	if !ok {
		t.Fatal("no stored rescore")
	}
	// Another process rewrites rescores.jsonl, its lines in another order.
	path := filepath.Join(runDir, sessions.RescoresFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	lines = lines[:len(lines)-1]
	slices.Reverse(lines)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	st := &scoreStats{sc: &rlt.Scorer{Cfg: rs.Reward}}
	var out, errb bytes.Buffer
	err = scoreRun(run, st, 2, false, false, embeddedTeacher, embeddedStudent, &out, &errb)
	unread := strings.Count(out.String(), `"error"`)
	if unread == 0 {
		t.Skipf("every stored score was read back (the reversed file kept their lines in place): %s", errb.String())
	}
	if err == nil {
		t.Errorf("%d stored scores not read back, and no error", unread)
	}
	if strings.Contains(errb.String(), "scored -") || !strings.Contains(errb.String(), "scored 0 of ") {
		t.Errorf("summary after %d unread stored scores: %s", unread, errb.String())
	}
}
