package task

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestPandasCommandTakesAnyPath runs the python3 command that ReadFile's
// refusals of a CSV and a Parquet file give, through sh, on paths holding ', ", $, ` and a
// space, with a stand-in pandas module that writes the path its reader was
// given to the output file: the command must read the very file named.
// The path was written inside the command's Python quotes, where such a
// name ended the string (a Python syntax error) or was expanded by the
// shell ($HOME). It tests the command line's quoting, not pandas: the
// stand-in takes any keywords of to_json, so the real pandas' reading of
// the file and its keywords (orient, lines, force_ascii) are not checked
// here.
func TestPandasCommandTakesAnyPath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the command's quoting is sh's here")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	stub := filepath.Join(dir, "stub", "pandas")
	if err := os.MkdirAll(stub, 0o755); err != nil {
		t.Fatal(err)
	}
	pandas := "class _Frame:\n    def __init__(self, path): self.path = path\n" +
		"    def to_json(self, out, **kw): open(out, 'w').write(self.path)\n" +
		"def read_parquet(path): return _Frame(path)\nread_csv = read_parquet\n"
	if err := os.WriteFile(filepath.Join(stub, "__init__.py"), []byte(pandas), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []struct{ ext, content, out string }{
		{".csv", "question,solution\n1+2=?,3\n", "out.jsonl"},
		{".parquet", "PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00\x08\x1c\x01\x00\x00\x00PAR1", "rows.jsonl"},
	}
	for _, name := range []string{"train", "it's", `say "hi"`, "$HOME", "back`tick", "a b;c"} {
		for _, f := range files {
			t.Run(name+f.ext, func(t *testing.T) {
				work := t.TempDir()
				path := filepath.Join(work, name+f.ext)
				if err := os.WriteFile(path, []byte(f.content), 0o644); err != nil {
					t.Fatal(err)
				}
				_, err := ReadFile("data", path)
				if err == nil {
					t.Fatal("read as data")
				}
				// The command, as the refusal gives it.
				msg := err.Error()
				at := strings.Index(msg, "(e.g. python3 ")
				if at < 0 {
					t.Fatalf("no python3 command in %q", msg)
				}
				command := msg[at+len("(e.g. "):]
				if end := strings.Index(command, "; a file of "); end >= 0 {
					command = command[:end]
				} else {
					command = strings.TrimSuffix(command, ")")
				}
				// python3 as the shell finds it: the one LookPath found.
				cmd := exec.Command(sh, "-c", strings.Replace(command, "python3", python, 1))
				cmd.Dir = work
				cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "stub"))
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s: %v\n%s", command, err, out)
				}
				got, err := os.ReadFile(filepath.Join(work, f.out))
				if err != nil || string(got) != path {
					t.Errorf("%s: read %q (%v), want %q", command, got, err, path)
				}
			})
		}
	}
}
