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
	// This package's folder, the module's root, where go run . builds it:
	// from a subfolder go run is given .., from outside the module the
	// folder (TestGoRunProgram has the rest).
	repo, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	spaced := filepath.Join(dir, "my tools", "rlt")
	for _, c := range []struct{ name, path, wd, want string }{
		{"go run, its work directory", filepath.Join(dir, "go-build123", "b001", "exe", "rlt"), repo, "go run ."},
		{"go run, the build cache", filepath.Join(dir, "go-build", "0a", strings.Repeat("0a1b2c3d", 8)+"-d", "rlt"), repo, "go run ."},
		{"go run, from a subfolder", filepath.Join(dir, "go-build124", "b001", "exe", "rlt"), filepath.Join(repo, "docs"), "go run .."},
		{"go run, from outside the module", filepath.Join(dir, "go-build125", "b001", "exe", "rlt"), dir, "go run " + sessions.ShellQuote(repo)},
		{"by its path", built, dir, sessions.ShellQuote(built)},
		{"by a path with a space", spaced, dir, sessions.ShellQuote(spaced)},
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
			cmd.Dir = c.wd
			cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
			out, _ := cmd.CombinedOutput()
			want := "continue it with " + c.want + " run --resume " + sessions.ShellQuote(run) + "\n"
			if !strings.Contains(string(out), want) {
				t.Errorf("%s import --out RUN says\n%s\nwant the way on %q", c.path, out, want)
			}
			// A wrong value's pointer to the usage (badValue) too.
			cmd = exec.Command(c.path, "report", run, "--out", filepath.Join(dir, "report"), "--traces", "top:3,top:1")
			cmd.Dir = c.wd
			cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
			out, _ = cmd.CombinedOutput()
			if want := "\n" + seeHelp(c.want, " report") + "\n"; !strings.HasSuffix(string(out), want) {
				t.Errorf("%s report --traces top:3,top:1 says\n%s\nwant it to end %q", c.path, out, want)
			}
		})
	}
}

// TestSeeHelp: the way to a command's usage after a wrong value is a line
// a shell user can paste. A program said quoted (a path with a space) was
// quoted again, 'PROGRAM report --help' around its own quotes: the outer
// quote closed at the program's, leaving the space bare.
func TestSeeHelp(t *testing.T) {
	for _, c := range []struct{ program, sub, want string }{
		{"rlt", " report", "See 'rlt report --help'."},
		{"go run .", " model info", "See 'go run . model info --help'."},
		{"/opt/rlt/rlt", " score", "See '/opt/rlt/rlt score --help'."},
		{"'/home/me/my tools/rlt'", " report", "See '/home/me/my tools/rlt' report --help"},
		{"go run '/home/me/my work/rlt'", " report", "See go run '/home/me/my work/rlt' report --help"},
		{`"C:\my tools\rlt.exe"`, " report", `See "C:\my tools\rlt.exe" report --help`},
	} {
		if got := seeHelp(c.program, c.sub); got != c.want {
			t.Errorf("seeHelp(%q, %q) = %q, want %q", c.program, c.sub, got, c.want)
		}
	}
}
