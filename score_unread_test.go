package main

import (
	"bytes"
	"context"
	"fmt"
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
	err = scoreRun(context.Background(), run, st, 2, false, false, embeddedTeacher, embeddedStudent, nil, &out, &errb)
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

// Trace records that cannot be read are traces of the run: rlt score --run
// counts them in its summary and exits 1, as stdin's bad lines do, instead
// of saying it scored every trace.
func TestScoreRunCountsUnreadableTraces(t *testing.T) {
	prompts := warmstart.ShortPrompts()
	// The imported fixture's traces: 000001.jsonl holds 2, 000002.jsonl 3.
	for _, c := range []struct {
		name    string
		corrupt map[string][]int // 1-based lines of traces files made unreadable
		cut     string           // traces files (comma-separated) whose last line is cut to its first 20 bytes
		code    int
		want    []string // in stderr
	}{
		{"all readable", nil, "", 0, []string{"scored 5 of 5 traces of "}},
		{"one broken", map[string][]int{"000002.jsonl": {2}}, "", 1, []string{"scored 4 of 5 traces of ",
			"; 1 unreadable (listed above), not scored", "1 trace record of ", " could not be read and was not scored (", "000002.jsonl line 2): mend or remove that line in ",
			"; then run the same command again"}},
		{"two broken", map[string][]int{"000002.jsonl": {1, 3}}, "", 1, []string{"scored 3 of 5 traces of ",
			"; 2 unreadable (listed above), not scored", "2 trace records of ", " could not be read and were not scored (", "000002.jsonl lines 1, 3): mend or remove those lines in ",
			"; then run the same command again"}},
		{"all broken", map[string][]int{"000001.jsonl": {1, 2}, "000002.jsonl": {1, 2, 3}}, "", 1, []string{
			"has no readable traces to score: 5 trace records of ", " could not be read and were not scored (", "000001.jsonl lines 1, 2; ", "000002.jsonl lines 1, 2, 3): mend or remove those lines in ",
			"; then run the same command again"}},
		// A trace cut short in the file's partial last line cannot be
		// mended: it was said among the lines to mend.
		{"all broken, the last cut short", map[string][]int{"000001.jsonl": {1, 2}, "000002.jsonl": {1, 2}}, "000002.jsonl", 1, []string{
			"has no readable traces to score: 4 trace records of ", " could not be read and were not scored (", "): mend or remove those lines in ",
			"; 1 trace of ", " was cut short after the run wrote it whole (the 20-byte partial last line of ",
			"000002.jsonl:3), and was not scored: put the file back from a copy of the run folder if there is one"}},
		{"all broken, both last lines cut short", map[string][]int{"000001.jsonl": {1}, "000002.jsonl": {1, 2}}, "000001.jsonl,000002.jsonl", 1, []string{
			"has no readable traces to score: 3 trace records of ", " could not be read and were not scored (", "): mend or remove those lines in ",
			"; 2 traces of ", " were cut short after the run wrote them whole (the 20-byte partial last line of ",
			"000001.jsonl:2, the 20-byte partial last line of ", "and were not scored: put the files back from a copy of the run folder if there is one; then run the same command again"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runDir := filepath.Join(t.TempDir(), "official")
			if code, _, errs := runCLI(t, "", "import", officialFixture, "--out", runDir); code != 0 {
				t.Fatalf("import: exit %d: %s", code, errs)
			}
			var listed []string
			for file, lines := range c.corrupt {
				breakLines(t, filepath.Join(runDir, sessions.TracesDir, file), lines)
				for _, n := range lines {
					listed = append(listed, fmt.Sprintf("%s:%d: skipped broken record", file, n))
				}
			}
			for file := range strings.SplitSeq(c.cut, ",") {
				if file == "" {
					continue
				}
				path := filepath.Join(runDir, sessions.TracesDir, file)
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				rows := strings.SplitAfter(string(data), "\n")
				rows = rows[:len(rows)-1] // the empty string after the last newline
				rows[len(rows)-1] = rows[len(rows)-1][:20]
				if err := os.WriteFile(path, []byte(strings.Join(rows, "")), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, _, errs := runCLI(t, "", "score", "--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem,
				"--teacher", embeddedTeacher, "--student", embeddedStudent, "--run", runDir)
			if code != c.code {
				t.Errorf("exit %d, want %d:\n%s", code, c.code, errs)
			}
			for _, want := range append(c.want, listed...) {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errs)
				}
			}
			if c.cut != "" && strings.Contains(errs, "mend those lines") {
				t.Errorf("a trace cut short said as a line to mend:\n%s", errs)
			}
			if c.corrupt == nil && strings.Contains(errs, "unreadable") {
				t.Errorf("unreadable said of a whole run:\n%s", errs)
			}
		})
	}
}
