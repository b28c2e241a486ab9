package shell

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestProgramFor: the commands said to a user begin as the user started
// the process: "go run ." for a binary go run built (a temporary work
// directory's, or the build cache's since Go 1.24), the program as
// invoked otherwise. A user who started with go run . was told rlt run
// --resume …, and had no rlt on PATH.
func TestProgramFor(t *testing.T) {
	for _, c := range []struct{ argv0, want string }{
		{"/tmp/go-build1975012155/b001/exe/rlt", "go run ."},
		{"/home/me/tmp/go-build42/b001/exe/rlt", "go run ."}, // GOTMPDIR
		{`C:\Users\me\AppData\Local\Temp\go-build123\b001\exe\rlt.exe`, "go run ."},
		{"/root/.cache/go-build/93/93dbad74a4e6d627cb8a54b7af7216ec968065981b7ebd8b9f33c0e7dd1fa87f-d/rlt", "go run ."},
		{"/srv/gocache/0a/0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9-d/rlt", "go run ."},
		{"rlt", "rlt"},
		{"./rlt", "./rlt"},
		{"/opt/rlt/bin/rlt", "/opt/rlt/bin/rlt"},
		{"", "rlt"},
		{"/tmp/go-build1975012155/b001/rlt.test", "/tmp/go-build1975012155/b001/rlt.test"}, // go test's binary
		{"/home/me/exe/b1/rlt", "/home/me/exe/b1/rlt"},
		// darwin's and windows' places for both
		{"/var/folders/x1/y2z3/T/go-build77/b001/exe/rlt", "go run ."},
		{"/Users/me/Library/Caches/go-build/fa/fae866981a8350b8225f14f4cc40f0562da3c8f68f3cddb49fc46995ef7d697d-d/rlt", "go run ."},
		{`C:\Users\me\AppData\Local\go-build\fa\fae866981a8350b8225f14f4cc40f0562da3c8f68f3cddb49fc46995ef7d697d-d\rlt.exe`, "go run ."},
		// a user's folders that only look like go run's
		{"/home/me/go-builds/b1/exe/rlt", "/home/me/go-builds/b1/exe/rlt"},
		{"/home/me/go-build-tools/b001/exe/rlt", "/home/me/go-build-tools/b001/exe/rlt"},
		{"/data/ab/0123456789abcdef0123456789abcdef-d/rlt", "/data/ab/0123456789abcdef0123456789abcdef-d/rlt"},
	} {
		if got := programFor(c.argv0); got != c.want {
			t.Errorf("programFor(%q) = %q, want %q", c.argv0, got, c.want)
		}
	}
	if got := programFor("/home/me/my tools/rlt"); got != Quote("/home/me/my tools/rlt") || !strings.ContainsAny(got[:1], `'"`) {
		t.Errorf("programFor of a path with a space = %q, want it quoted", got)
	}
}

// TestProgramOfGoRun: what go run really runs is told apart, whichever of
// its two places it runs from (the first run builds in a temporary work
// directory, a second may run the cached binary): the program the test
// builds prints goRunBinary of its os.Args[0].
func TestProgramOfGoRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with go run")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	shellDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	// The program is this package's goRunBinary, copied beside a main.
	src, err := os.ReadFile(filepath.Join(shellDir, "program.go"))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(src), "package shell", "package main", 1)
	body = strings.Replace(body, `import (`, "import (\n\t\"fmt\"", 1)
	body += "\nfunc Quote(p string) string { return p }\n\nfunc Word(w string) string { return w }\n\nfunc main() { fmt.Println(goRunBinary(os.Args[0]), os.Args[0]) }\n"
	for name, text := range map[string]string{"main.go": body, "go.mod": "module example.com/rlt\n\ngo 1.22\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		cmd := exec.Command(goBin, "run", ".")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go run: %v\n%s", err, out)
		}
		if !strings.HasPrefix(string(out), "true ") {
			t.Errorf("go run . (run %d): its binary is not told a go run binary: %s", i+1, out)
		}
	}
}

// TestGoRunProgram: a binary go run built says the go run command that
// runs it again from the folder it runs in. "go run ." was said wherever
// that was, and from a module's subfolder (go run ..) go run . builds
// another package or none; from outside the module go run reads no folder
// of it (the module cache's go run MODULE@VERSION, a workspace's path).
func TestGoRunProgram(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "rlt")
	cache := filepath.Join(tmp, "pkg", "mod", "github.com", "rlt-workbench", "rlt@v1.2.3")
	spaced := filepath.Join(tmp, "my work", "rlt")
	for _, d := range []string{filepath.Join(root, "docs", "deep"), filepath.Join(root, "cmd", "rlt"), filepath.Join(root, "tools"),
		filepath.Join(tmp, "elsewhere"), filepath.Join(tmp, "other"), cache, spaced} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, mod := range []string{root, filepath.Join(root, "tools"), filepath.Join(tmp, "other"), cache, spaced} {
		if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const pkg = "github.com/rlt-workbench/rlt"
	for _, c := range []struct{ mainDir, wd, version, want string }{
		{root, root, "(devel)", "go run ."},
		{root, filepath.Join(root, "docs"), "(devel)", "go run .."},
		{root, filepath.Join(root, "docs", "deep"), "(devel)", "go run " + Quote(filepath.Join("..", ".."))},
		{filepath.Join(root, "cmd", "rlt"), root, "(devel)", "go run " + Quote("."+string(filepath.Separator)+filepath.Join("cmd", "rlt"))},
		{filepath.Join(root, "cmd", "rlt"), filepath.Join(root, "docs"), "(devel)", "go run " + Quote(filepath.Join("..", "cmd", "rlt"))},
		// outside the module: a workspace's go run takes the folder
		{root, filepath.Join(tmp, "elsewhere"), "(devel)", "go run " + Quote(root)},
		{root, filepath.Join(tmp, "other"), "v0.0.0-20261207000000-0123456789ab+dirty", "go run " + Quote(root)},
		{root, filepath.Join(root, "tools"), "(devel)", "go run " + Quote(root)}, // a module of its own inside
		{spaced, tmp, "(devel)", "go run " + Quote(spaced)},
		// the module cache's
		{cache, filepath.Join(tmp, "elsewhere"), "v1.2.3", "go run " + pkg + "@v1.2.3"},
		// -trimpath: the import path, not a folder
		{pkg, filepath.Join(tmp, "elsewhere"), "(devel)", "go run ."},
		{root, "", "(devel)", "go run ."},
	} {
		if got := goRunProgram(c.mainDir, c.wd, pkg, c.version); got != c.want {
			t.Errorf("goRunProgram(%q, %q, %q) = %q, want %q", c.mainDir, c.wd, c.version, got, c.want)
		}
	}
}
