package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestHeadlessSaysItFinished: rlt run --headless that did its planned
// steps says so on its last lines, in its other lines' style: the steps,
// the run folder and its last checkpoint (on disk), then the commands a
// researcher runs next on it, each of which runs as said. Its last line
// was its last step's: nothing said it had finished, nor where to look.
func TestHeadlessSaysItFinished(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	teacher, _ := filepath.Abs(embeddedTeacher)
	student, _ := filepath.Abs(embeddedStudent)
	cfg := filepath.Join(t.TempDir(), "small.toml")
	if err := os.WriteFile(cfg, []byte("teacher = "+strconv.Quote(teacher)+"\nstudent = "+strconv.Quote(student)+"\n"+smallRun), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	code, _, errs := runCLI(t, "", "run", "--headless", "--device", "cpu", "--steps", "2", "--runs", runs, "--config", cfg)
	if code != 0 {
		t.Fatalf("rlt run: exit %d: %s", code, errs)
	}
	entries, err := os.ReadDir(runs)
	if err != nil || len(entries) != 1 {
		t.Fatalf("runs: %v, %v", entries, err)
	}
	dir := filepath.Join(runs, entries[0].Name())
	q := sessions.ShellQuote(dir)
	ck := sessions.CheckpointDir(dir, 1)
	lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
	want := []string{
		"finished 2 of 2 steps; the run folder " + dir + " is complete, its last checkpoint " + ck,
		"next: rlt open " + q + " reviews its traces · rlt score --run " + q + " --write > scores.jsonl rescores them · rlt export --run " + q + " writes the accepted ones",
	}
	if len(lines) < 3 || !strings.HasPrefix(lines[len(lines)-3], "step 1  reward") || strings.Join(lines[len(lines)-2:], "\n") != strings.Join(want, "\n") {
		t.Fatalf("stderr ends:\n%s\nwant step 1's line, then\n%s", errs, strings.Join(want, "\n"))
	}
	if fi, err := os.Stat(ck); err != nil || !fi.IsDir() {
		t.Errorf("the last checkpoint said, %s, is not a folder: %v", ck, err)
	}
	// The commands said run as said (rlt open starts the workbench: not here).
	if code, out, errs := runCLI(t, "", "score", "--run", dir, "--write"); code != 0 || strings.Count(out, "\n") != 8 {
		t.Errorf("rlt score --run %s --write: exit %d, %d lines: %s", dir, code, strings.Count(out, "\n"), errs)
	}
	if code, _, errs := runCLI(t, "", "export", "--run", dir); code != 1 || !strings.Contains(errs, "no trace is accepted in review (of 8 traces: 8 unreviewed") {
		t.Errorf("rlt export --run %s: exit %d: %s", dir, code, errs)
	}
}
