package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestSessionsCountsStepsDone: rlt sessions lists the steps each run has
// done under STEPS, the workbench Runs screen's column and count: a run of
// ours numbers its steps from 0 (6 records, steps 0…5, are 6 done), a run
// imported with rlt import keeps its trainer's step numbers, which count
// from 1 (the official fixture's 3 steps are 3 done, not 4).
func TestSessionsCountsStepsDone(t *testing.T) {
	runs := t.TempDir()
	ours, err := sessions.Create(filepath.Join(runs, "ours"), struct {
		Task string `toml:"task"`
	}{"addition"})
	if err != nil {
		t.Fatal(err)
	}
	for s := range 6 {
		ours.Emit(event.Metrics{Time: time.Now(), Step: s, Values: map[string]float64{"reward": -1}})
	}
	ours.Emit(event.Phase{Time: time.Now(), Name: "done", Step: 6})
	if err := ours.Close(); err != nil {
		t.Fatal(err)
	}
	fresh, err := sessions.Create(filepath.Join(runs, "fresh"), struct {
		Task string `toml:"task"`
	}{"addition"})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"official": officialFixture,
		"trl":      "sessions/testdata/trainers/trl",
		"verl":     "sessions/testdata/trainers/verl",
		"nemo-rl":  "sessions/testdata/trainers/nemo-rl",
	} {
		if code, _, errs := runCLI(t, "", "import", src, "--out", filepath.Join(runs, name)); code != 0 {
			t.Fatalf("import %s: exit %d: %s", src, code, errs)
		}
	}
	// A folder a run was being made in, its config.toml never written (a
	// disk that filled): listed broken, with no time rather than year 1.
	if err := os.MkdirAll(filepath.Join(runs, "halfmade", sessions.TracesDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runs, "halfmade", sessions.MetricsFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "sessions", "--runs", runs)
	if code != 0 {
		t.Fatalf("sessions: exit %d: %s", code, errs)
	}
	if strings.Contains(out, "0001-01-01") {
		t.Errorf("a folder with no time is listed at year 1:\n%s", out)
	}
	if head, _, _ := strings.Cut(out, "\n"); !regexp.MustCompile(`^RUN\s+STATE\s+STEPS\s+BEST REWARD\s`).MatchString(head) {
		t.Errorf("header %q: want a STEPS column after STATE", head)
	}
	for _, c := range []struct{ run, state, steps string }{
		{"ours", "finished", "6"},
		{"fresh", "stopped", "—"},
		{"official", "finished", "3/3"},
		{"trl", "finished", "4/4"},
		{"verl", "finished", "2"},
		{"nemo-rl", "finished", "2"},
		{"halfmade", "broken", "—"},
	} {
		row := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(c.run) + `\s+` + c.state + `\s+(\S+)\s`).FindStringSubmatch(out)
		if row == nil || row[1] != c.steps {
			t.Errorf("%s: want %s steps done:\n%s", c.run, c.steps, out)
		}
	}
	// A folder with no run folder in it says so beside the empty table: a
	// mistyped --runs is not a silent blank; one that does not exist fails.
	empty := t.TempDir()
	code, out, errs = runCLI(t, "", "sessions", "--runs", empty)
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(errs, "no run folders under "+empty) {
		t.Errorf("sessions of an empty folder: exit %d:\n%s%s", code, out, errs)
	}
	if code, _, errs = runCLI(t, "", "sessions", "--runs", filepath.Join(empty, "gone")); code != 1 || !strings.Contains(errs, "no such file or directory") {
		t.Errorf("sessions of a missing folder: exit %d: %s", code, errs)
	}
}
