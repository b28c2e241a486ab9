package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

// TestResumeRecordsTheNewPlan: `rlt run --resume DIR --steps N` records N
// as the run's plan in its config.toml, changing nothing else there, so
// `rlt sessions` and the workbench's header (the launcher's session for
// the folder) count against N, not the steps the run was started with
// ("2/2", not "2 (1 planned)"), and a later resume without --steps goes
// on to N and no further. The embedded default at smallRun's size.
func TestResumeRecordsTheNewPlan(t *testing.T) {
	runDir := runOneStep(t, "steps = 1\n")
	runs := filepath.Dir(runDir)
	recorded := func() runconfig.Config {
		t.Helper()
		var c runconfig.Config
		if _, err := sessions.ReadConfigFile(filepath.Join(runDir, sessions.ConfigFile), "run", &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	started := recorded()
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		args   []string
		says   string // on stderr
		plan   int    // the steps config.toml records after it
		listed string // STEPS of `rlt sessions`
		idle   bool   // nothing runs: events.jsonl is left as it was
	}{
		{"resumed with more steps", []string{"--steps", "2"}, "resuming", 2, "2/2", false},
		{"resumed with no --steps: the recorded plan is done", nil, "has done 2 steps", 2, "2/2", true},
		{"resumed with more again", []string{"--steps", "3"}, "step 2  reward", 3, "3/3", false},
		{"resumed with fewer steps than done: nothing runs, the plan stays", []string{"--steps", "2"}, "nothing to run", 3, "3/3", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			events := filepath.Join(runDir, sessions.EventsFile)
			before, _ := os.ReadFile(events)
			args := append([]string{"run", "--resume", runDir, "--headless"}, c.args...)
			code, _, errs := runCLI(t, "", args...)
			if code != 0 || !strings.Contains(errs, c.says) {
				t.Fatalf("%v: exit %d, want %q said: %s", c.args, code, c.says, errs)
			}
			if after, _ := os.ReadFile(events); c.idle && string(after) != string(before) {
				t.Errorf("nothing ran, yet events.jsonl grew by %q", after[min(len(before), len(after)):])
			}
			now := recorded()
			if now.Steps != c.plan {
				t.Errorf("config.toml records %d steps, want %d", now.Steps, c.plan)
			}
			now.Steps = started.Steps
			if now != started {
				t.Errorf("config.toml changed beyond its steps:\n%+v\nwas\n%+v", now, started)
			}
			code, out, errs := runCLI(t, "", "sessions", "--runs", runs)
			if code != 0 || !regexp.MustCompile(`\s`+regexp.QuoteMeta(c.listed)+`\s`).MatchString(out) || strings.Contains(out, "planned") {
				t.Errorf("rlt sessions: exit %d, want STEPS %s: %s%s", code, c.listed, out, errs)
			}
			l := runner.NewLauncher(context.Background(), runs, models)
			s, err := l.OpenReadOnly(runDir)
			if err != nil {
				t.Fatal(err)
			}
			if s.Steps != c.plan {
				t.Errorf("the workbench's session plans %d steps, want %d", s.Steps, c.plan)
			}
			if s.Close != nil {
				s.Close()
			}
		})
	}
}

// TestResumeChecksTheConfigurationItRuns: rlt run --resume checks the run's
// config.toml with this call's --device, --matmul and --steps over it, as
// it will run: --device cpu resumes a run whose file records a device name
// this build does not know (a newer version's, another machine's), --steps
// N one whose recorded steps cannot run, and N is then recorded. A resume
// refused for the file, or that cannot start, leaves config.toml as it
// was, --steps or not.
func TestResumeChecksTheConfigurationItRuns(t *testing.T) {
	runDir := runOneStep(t, "steps = 1\ndevice = 'cpu'\n")
	path := filepath.Join(runDir, sessions.ConfigFile)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// As recorded by a version that knew a device this one does not, and
	// then edited to a steps value that cannot run.
	recorded := strings.Replace(strings.Replace(string(text), "device = 'cpu'", "device = 'npu'", 1), "steps = 1", "steps = -1", 1)
	if !strings.Contains(recorded, "device = 'npu'") || !strings.Contains(recorded, "steps = -1") {
		t.Fatalf("config.toml has no device = 'cpu' and steps = 1 to change:\n%s", text)
	}
	os.WriteFile(path, []byte(recorded), 0o644)
	deviceLine := 1 + strings.Count(recorded[:strings.Index(recorded, "device = ")], "\n")
	for _, c := range []struct {
		name string
		args []string
		code int
		says string // on stderr
		file string // config.toml after it
	}{
		{"the file's device, refused: --steps is not recorded", []string{"--steps", "2"}, 1,
			fmt.Sprintf(`%s:%d:1: device "npu": want cpu, gpu, gpu:N or auto`, path, deviceLine), recorded},
		{"a device that cannot start: --steps is not recorded", []string{"--steps", "2", "--device", "gpu:99"}, 1,
			"gpu:99", recorded},
		{"--device cpu and --steps over the file's: it runs, and records the plan alone", []string{"--steps", "2", "--device", "cpu"}, 0,
			"step 1  reward", strings.Replace(recorded, "steps = -1", "steps = 2", 1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"run", "--resume", runDir, "--headless"}, c.args...)
			code, _, errs := runCLI(t, "", args...)
			if code != c.code || !strings.Contains(errs, c.says) {
				t.Fatalf("%v: exit %d, want %d with %q said: %s", c.args, code, c.code, c.says, errs)
			}
			if now, _ := os.ReadFile(path); string(now) != c.file {
				t.Errorf("config.toml after it:\n%s\nwant\n%s", now, c.file)
			}
		})
	}
}

// runOneStep runs the embedded default at smallRun's size under head (the
// configuration's first keys) with rlt run --headless, in a cache and a
// runs folder of the test's own, and returns the one run folder it made.
func runOneStep(t *testing.T, head string) string {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfgPath := filepath.Join(t.TempDir(), "one.toml")
	os.WriteFile(cfgPath, []byte(head+smallRun), 0o644)
	runs := t.TempDir()
	if code, _, errs := runCLI(t, "", "run", "--headless", "--runs", runs, "--config", cfgPath); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	entries, _ := os.ReadDir(runs)
	if len(entries) != 1 {
		t.Fatalf("%d run folders", len(entries))
	}
	return filepath.Join(runs, entries[0].Name())
}
