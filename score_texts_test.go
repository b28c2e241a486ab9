package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/warmstart"
	"github.com/rlt-workbench/rlt/sessions"
)

// importRows imports a traces file of rows (question, solution,
// explanation) into a run folder named name, and returns its path.
func importRows(t *testing.T, name string, rows ...[3]string) string {
	t.Helper()
	dir := t.TempDir()
	var file []byte
	for _, r := range rows {
		line, err := json.Marshal(map[string]string{"question": r[0], "solution": r[1], "explanation": r[2]})
		if err != nil {
			t.Fatal(err)
		}
		file = append(append(file, line...), '\n')
	}
	src := filepath.Join(dir, name+".jsonl")
	if err := os.WriteFile(src, file, 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, name)
	if code, _, errs := runCLI(t, "", "import", src, "--out", runDir); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	return runDir
}

// The store lists a trace by the starts of its question and explanation,
// on one line (sessions.TextPreview), not by its texts: rlt score --run
// scores the texts whole, read back from the trace files, as the same row
// on stdin scores (an explanation over several lines, its spaces kept; the
// embedded models' 256 positions leave no room for one longer than a
// preview), and rlt export writes them whole, to their last word.
func TestScoreAndExportReadWholeTexts(t *testing.T) {
	short := [3]string{"1+1=?\n\nShow  the working.", "2", "one and one\n\n  make two."}
	runDir := importRows(t, "short", short)
	prompts := warmstart.ShortPrompts()
	score := []string{"score", "--teacher", embeddedTeacher, "--student", embeddedStudent,
		"--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem}
	code, out, errs := runCLI(t, "", append(score, "--run", runDir)...)
	if code != 0 {
		t.Fatalf("score --run: exit %d: %s\n%s", code, errs, out)
	}
	fromRun := parseScores(t, out)
	row, _ := json.Marshal(map[string]string{"question": short[0], "solution": short[1], "explanation": short[2]})
	code, out, errs = runCLI(t, string(row)+"\n", score...)
	if code != 0 {
		t.Fatalf("score stdin: exit %d: %s\n%s", code, errs, out)
	}
	fromStdin := parseScores(t, out)
	if len(fromRun) != 1 || len(fromStdin) != 1 || fromRun[0].Reward == nil || fromStdin[0].Reward == nil ||
		*fromRun[0].Reward != *fromStdin[0].Reward || !slices.Equal(fromRun[0].ExplToks, fromStdin[0].ExplToks) {
		t.Fatalf("score --run %+v, stdin %+v: want the same scores of the same text", fromRun, fromStdin)
	}

	var long strings.Builder
	for long.Len() < 2*sessions.PreviewWidth {
		long.WriteString("one and one make two,\n  and two is the answer; ")
	}
	long.WriteString("LAST")
	runDir = importRows(t, "long", [3]string{short[0], "2", long.String()})
	w, err := sessions.Open(runDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Review("0-0-0", sessions.LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "", "export", "--run", runDir, "--format", "csv")
	if code != 0 || !strings.Contains(out, long.String()) || !strings.Contains(out, short[0]) {
		t.Errorf("export csv: exit %d (%s), the row lacks the whole texts:\n%s", code, errs, out)
	}
}
