package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestWayOnSaysTheProgramAsStarted: the command a stopped or refused run
// is left to go on with begins as the user started rlt. A user who
// started with `go run .` (the README's first command) was told `rlt run
// --resume …` after a q, and has no rlt on PATH: the binary go run builds
// (here: rlt at the paths go run gives it) says `go run . run …`, and one
// started by its path says that path. The line is rlt import's refusal of
// an --out that holds a run: continue it with PROGRAM run --resume DIR
// (sessions.ExistingRun, which ContinueLine's resume command shares), and
// a wrong value's "See 'PROGRAM report --help'." (badValue).
func TestWayOnSaysTheProgramAsStarted(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, sessions.ConfigFile), []byte("steps = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	built := buildRLT(t, dir)
	for _, c := range []struct{ name, path, want string }{
		{"go run, its work directory", filepath.Join(dir, "go-build123", "b001", "exe", "rlt"), "go run ."},
		{"go run, the build cache", filepath.Join(dir, "go-build", "0a", strings.Repeat("0a1b2c3d", 8)+"-d", "rlt"), "go run ."},
		{"by its path", built, sessions.ShellQuote(built)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.path != built {
				if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Link(built, c.path); err != nil {
					if err := copyExecutable(built, c.path); err != nil {
						t.Fatal(err)
					}
				}
			}
			cmd := exec.Command(c.path, "import", filepath.Join(dir, "traces.jsonl"), "--out", run)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
			out, _ := cmd.CombinedOutput()
			want := "continue it with " + c.want + " run --resume " + sessions.ShellQuote(run) + "\n"
			if !strings.Contains(string(out), want) {
				t.Errorf("%s import --out RUN says\n%s\nwant the way on %q", c.path, out, want)
			}
			// A wrong value's pointer to the usage (badValue) too.
			cmd = exec.Command(c.path, "report", run, "--out", filepath.Join(dir, "report"), "--traces", "top:3,top:1")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
			out, _ = cmd.CombinedOutput()
			if want := "\nSee '" + c.want + " report --help'.\n"; !strings.HasSuffix(string(out), want) {
				t.Errorf("%s report --traces top:3,top:1 says\n%s\nwant it to end %q", c.path, out, want)
			}
		})
	}
}
