package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestResumeCommandAgreesWithTheResume: the command said to continue a
// run (sessions.ResumeCommand) asks for more steps (--steps N) exactly
// where rlt run --resume of that run (OpenForResume, as the workbench's
// resume opens it too) is refused as having nothing to run, on a real
// finished run of 3 steps and on copies of it edited as a user would: its
// plan raised, lowered or made open-ended, its final checkpoint deleted.
// TestResumeCommandSteps holds ResumeCommand to the rule; this holds the
// rule to the resume's refusal. Before 8aee763 the plan raised since, the
// plan made open-ended and the final checkpoint gone were asked for
// --steps N, which their resume did not need.
func TestResumeCommandAgreesWithTheResume(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 3)
	cfg.Device = "cpu"
	_, done := runToEnd(t, cfg)
	replan := func(steps string) func(dir string) error {
		return func(dir string) error {
			path := filepath.Join(dir, sessions.ConfigFile)
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if !strings.Contains(string(data), "\nsteps = 3\n") {
				t.Fatalf("%s plans no 3 steps:\n%s", path, data)
			}
			return os.WriteFile(path, []byte(strings.Replace(string(data), "\nsteps = 3\n", "\nsteps = "+steps+"\n", 1)), 0o644)
		}
	}
	for _, c := range []struct {
		name    string
		edit    func(dir string) error
		refused bool // as having nothing to run
	}{
		{"finished", func(string) error { return nil }, true},
		{"plan raised since", replan("5"), false},
		{"plan lowered since", replan("2"), true},
		{"made open-ended since", replan("0"), false},
		{"final checkpoint gone", func(dir string) error { return os.RemoveAll(sessions.CheckpointDir(dir, 2)) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			copyFolder(t, done, dir)
			if err := c.edit(dir); err != nil {
				t.Fatal(err)
			}
			asks := strings.Contains(sessions.ResumeCommand(dir), " --steps N ")
			r, err := OpenForResume(dir, Overrides{}, sessions.ProcessHeadless)
			if r.Rec != nil {
				r.Rec.Close()
			}
			var nothing *sessions.NothingToRunError
			refused := errors.As(err, &nothing)
			if err != nil && !refused {
				t.Fatalf("resume refused for another reason: %v", err)
			}
			if refused != c.refused || asks != refused {
				t.Errorf("resume refused as nothing to run: %v (want %v); the command said asks for --steps N: %v (%q)",
					refused, c.refused, asks, sessions.ResumeCommand(dir))
			}
		})
	}
}
