package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/sessionstest"
)

// createAdditionRun creates a run in dir whose config is the addition task
// alone, for the tests that need a run of ours and nothing of its config.
func createAdditionRun(t *testing.T, dir string) *sessions.Run {
	t.Helper()
	r, err := sessions.Create(dir, struct {
		Task string `toml:"task"`
	}{"addition"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSessionsCountsStepsDone: rlt sessions lists the steps each run has
// done under STEPS, the workbench Runs screen's column and count: a run of
// ours numbers its steps from 0 (6 records, steps 0…5, are 6 done), a run
// imported with rlt import keeps its trainer's step numbers, which count
// from 1 (the official fixture's 3 steps are 3 done, not 4); a run
// planning 200 steps with none done yet reads 0/200 (sessions.StepsCell).
func TestSessionsCountsStepsDone(t *testing.T) {
	runs := t.TempDir()
	ours := createAdditionRun(t, filepath.Join(runs, "ours"))
	for s := range 6 {
		ours.Emit(event.Metrics{Time: time.Now(), Step: s, Values: map[string]float64{"reward": -1}})
	}
	ours.Emit(event.Phase{Time: time.Now(), Name: "done", Step: 6})
	if err := ours.Close(); err != nil {
		t.Fatal(err)
	}
	fresh := createAdditionRun(t, filepath.Join(runs, "fresh"))
	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}
	// Stopped before its first step of the 200 it plans: 0/200, as the
	// workbench's header training it said (step 0/200), not "—".
	planned, err := sessions.Create(filepath.Join(runs, "planned"), struct {
		Task  string `toml:"task"`
		Steps int    `toml:"steps"`
	}{"addition", 200})
	if err != nil {
		t.Fatal(err)
	}
	if err := planned.Close(); err != nil {
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
		{"planned", "stopped", "0/200"},
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
	gone := filepath.Join(empty, "gone")
	if code, _, errs = runCLI(t, "", "sessions", "--runs", gone); code != 1 ||
		!strings.Contains(errs, "rlt sessions: --runs "+gone+": no such folder: give the folder that holds the run folders") {
		t.Errorf("sessions of a missing folder: exit %d: %s", code, errs)
	}
	// --runs given a run folder itself names the folder that holds it (it
	// said there were no run folders under a folder that holds config.toml).
	code, _, errs = runCLI(t, "", "sessions", "--runs", filepath.Join(runs, "official"))
	if want := "is a run folder itself (it holds config.toml): --runs names the folder that holds run folders: --runs " + runs; code != 0 || !strings.Contains(errs, want) {
		t.Errorf("sessions of a run folder: exit %d: %s; want %q", code, errs, want)
	}
}

// TestSessionsSaysTimeLeft: a running run's line says where its step is
// and, where a rate is known, the phase's time left as the workbench's
// header says it, counted down to the listing's clock from when the
// record was written.
func TestSessionsSaysTimeLeft(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC)
	sampling := event.Progress{Time: t0.Add(10 * time.Second), Started: t0, Step: 3, Phase: "sampling", Done: 10, Total: 30, Unit: "tokens"}
	for _, c := range []struct {
		name string
		p    event.Progress
		now  time.Time
		want string
	}{
		{"as written", sampling, sampling.Time, "step 3: sampling 10/30 tokens · 1 tokens/s · 20s left"},
		{"read 4s later", sampling, sampling.Time.Add(4 * time.Second), "step 3: sampling 10/30 tokens · 1 tokens/s · 16s left"},
		{"past its ETA", sampling, sampling.Time.Add(time.Minute), "step 3: sampling 10/30 tokens · 1 tokens/s · 0s left"},
		{"no rate yet", event.Progress{Time: t0, Started: t0, Step: 3, Phase: "sampling", Total: 30, Unit: "tokens"}, t0, "step 3: sampling 0/30 tokens"},
		{"phase done", event.Progress{Time: t0.Add(time.Second), Started: t0, Step: 3, Phase: "scoring", Done: 4, Total: 4, Unit: "forwards"}, t0, "step 3: scoring 4/4 forwards · 4 forwards/s"},
		{"loading", event.Progress{Time: t0.Add(2 * time.Second), Started: t0, Step: -1, Phase: "loading", Done: 1, Total: 2, Unit: "models"}, t0.Add(2 * time.Second), "loading 1/2 models · 0.5 models/s · 2s left"},
	} {
		if got := c.p.StepLine(c.now); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}

	// The listing itself: a run this process holds, its progress.json
	// written 2 s ago by this process, 20 s of the phase left then.
	runs := t.TempDir()
	w := createAdditionRun(t, filepath.Join(runs, "live"))
	defer w.Close()
	now := time.Now()
	rec := sessions.ProgressRecord{Seg: w.Segment(), PID: os.Getpid(), Time: now.Add(-2 * time.Second), Started: now.Add(-12 * time.Second),
		Step: 0, Phase: "sampling", Done: 10, Total: 30, Unit: "tokens"}
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.Dir(), sessions.ProgressFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "sessions", "--runs", runs)
	if code != 0 {
		t.Fatalf("sessions: exit %d: %s", code, errs)
	}
	// 18 s left when listed at once; a slow machine's listing a second or
	// two later counts down.
	if !regexp.MustCompile(`(?m)^live\s+running\s.*  step 0: sampling 10/30 tokens · 1 tokens/s · 1[5-8]s left$`).MatchString(out) {
		t.Errorf("want the running run's step with its time left:\n%s", out)
	}
}

// TestSessionsSaysUnknownWhereTheLockCannotBeProbed: a run whose events
// leave its training session open, and whose run.lock cannot be probed
// (here a link to itself; a filesystem without locks, NFS whose lock
// manager is not reached), is listed unknown, noting why and what it is
// either way: its process may train it still, or be gone. It was listed
// stopped, its STATE saying as known what its note said was not.
func TestSessionsSaysUnknownWhereTheLockCannotBeProbed(t *testing.T) {
	runs := t.TempDir()
	dir := filepath.Join(runs, "unprobed")
	r := createAdditionRun(t, dir)
	r.Emit(event.Phase{Time: time.Now(), Name: "sampling", Step: 0})
	r.Emit(event.Metrics{Time: time.Now(), Step: 0, Values: map[string]float64{"reward": -1}})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// Its close taken back, as a process killed (or still training)
	// leaves it: its session open.
	sessionstest.TakeBackClose(t, dir)
	sessionstest.LockLinkedToItself(t, dir)
	code, out, errs := runCLI(t, "", "sessions", "--runs", runs)
	if code != 0 {
		t.Fatalf("sessions: exit %d: %s", code, errs)
	}
	const why = "whether a process holds it now is not known: "
	const both = "running if a process holds it, stopped if none does"
	if !regexp.MustCompile(`(?m)^unprobed\s+unknown\s`).MatchString(out) || !strings.Contains(out, why) || !strings.Contains(out, both) {
		t.Errorf("want unprobed listed unknown, noting %q and %q:\n%s", why, both, out)
	}
}
