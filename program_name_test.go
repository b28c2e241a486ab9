package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

// TestMessagesSayNoHardCodedRlt: no runtime message names a command as
// rlt …: a user who started with go run . has no rlt, and was told rlt open
// DIR, rlt score --run DIR, rlt run --config FILE in some 150 messages.
// Such a command begins with shell.Program() (sessions.Program() above
// engine). The scan reads every string literal of the module's code but
// its tests and bench/'s own programs, and lets pass what is no command to
// type:
//   - help texts, which write rlt as the documentation does: a constant or
//     variable named …Usage, a flag's usage (the last argument of
//     fs.String, fs.Int, …, the second of fs.Func), the command list
//     (func commands);
//   - a command's own name before what it says (rlt import: …) or as its
//     flag set's name (newFlags("rlt import", …)): who speaks;
//   - rlt X's …: the command as a thing (rlt serve's default);
//   - engine/serve's answers, which go to an HTTP client of the server,
//     not to a shell user.
//
// A command built as words ([]string{"rlt", "pretrain", …}) is caught too.
func TestMessagesSayNoHardCodedRlt(t *testing.T) {
	command := regexp.MustCompile(`\brlt ((run|open|sessions|report|export|import|model|tokenize|generate|pretrain|distill|eval|train|score|serve|logprobs|version|help)\b|--[a-z])`)
	speaker := regexp.MustCompile(`^rlt [a-z]+( [a-z]+)?(: |$)`)
	subcommands := map[string]bool{}
	for _, c := range commands() {
		subcommands[c.name] = true
	}
	flagDefinitions := map[string]bool{"String": true, "StringVar": true, "Int": true, "IntVar": true, "Int64": true, "Int64Var": true,
		"Uint": true, "UintVar": true, "Uint64": true, "Uint64Var": true, "Bool": true, "BoolVar": true, "Float64": true, "Float64Var": true,
		"Duration": true, "DurationVar": true, "Func": true, "BoolFunc": true, "Var": true, "TextVar": true}
	namesACommand := func(s string) bool {
		for _, m := range command.FindAllStringIndex(s, -1) {
			if !strings.HasPrefix(s[m[1]:], "'s ") {
				return true
			}
		}
		return false
	}
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (d.Name() == "testdata" || d.Name() == "bench" || strings.HasPrefix(d.Name(), ".") ||
				filepath.ToSlash(path) == "engine/serve") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		help := map[*ast.BasicLit]bool{}
		markHelp := func(n ast.Node) {
			ast.Inspect(n, func(m ast.Node) bool {
				if l, ok := m.(*ast.BasicLit); ok {
					help[l] = true
				}
				return true
			})
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.ValueSpec:
				for i, name := range x.Names {
					if strings.HasSuffix(name.Name, "Usage") && i < len(x.Values) {
						markHelp(x.Values[i])
					}
				}
			case *ast.FuncDecl:
				if x.Name.Name == "commands" && f.Name.Name == "main" {
					markHelp(x)
				}
			case *ast.CallExpr:
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok && flagDefinitions[sel.Sel.Name] && len(x.Args) >= 2 {
					// The usage alone: a Func's last argument is the
					// func whose refusals are messages.
					if sel.Sel.Name == "Func" || sel.Sel.Name == "BoolFunc" {
						markHelp(x.Args[1])
					} else {
						markHelp(x.Args[len(x.Args)-1])
					}
				}
			case *ast.CompositeLit:
				for i := 0; i+1 < len(x.Elts); i++ {
					if literal(x.Elts[i]) == "rlt" && subcommands[literal(x.Elts[i+1])] {
						t.Errorf("%s: a command built as the words \"rlt\", %q: begin it with Program()", fset.Position(x.Elts[i].Pos()), literal(x.Elts[i+1]))
					}
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			l, ok := n.(*ast.BasicLit)
			if !ok || l.Kind != token.STRING || help[l] {
				return true
			}
			// Who speaks is passed, not what it goes on to say.
			if s := literal(l); namesACommand(speaker.ReplaceAllString(s, "")) {
				t.Errorf("%s: a message names a command as rlt …, which a user of go run . does not have: begin it with Program(): %.120q", fset.Position(l.Pos()), s)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("scanned %d Go files: want the module's (run from its root)", files)
	}
}

// literal is the string a string literal expression holds, "" for any
// other expression.
func literal(e ast.Expr) string {
	l, ok := e.(*ast.BasicLit)
	if !ok || l.Kind != token.STRING {
		return ""
	}
	s, err := strconv.Unquote(l.Value)
	if err != nil {
		return ""
	}
	return s
}
