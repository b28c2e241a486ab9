//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportParquetRefusesATerminal: rlt export --format parquet without
// --out, stdout a terminal (a pty, through script(1)), is refused with
// what to do (exit 2), where it wrote the file's bytes on the screen; to
// --out, and to a stdout sent to a file, it writes the file.
func TestExportParquetRefusesATerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) gives the command a terminal; not installed")
	}
	dir := t.TempDir()
	bin := buildRLT(t, dir)
	run := acceptedImport(t, dir, 2)
	for _, c := range []struct {
		name, shell string
		code        int
		want        string // in what the terminal shows
	}{
		{"stdout", bin + " export --run " + run + " --format parquet", 2,
			"rlt export: --format parquet writes a binary file, not written to a terminal: give --out FILE (sft.parquet) or send stdout to a file (> sft.parquet)"},
		{"out -", bin + " export --run " + run + " --format parquet --out -", 2, "not written to a terminal"},
		{"out", bin + " export --run " + run + " --format parquet --out " + filepath.Join(dir, "a.parquet"), 0, "2 written"},
		{"redirect", bin + " export --run " + run + " --format parquet > " + filepath.Join(dir, "b.parquet"), 0, "2 written"},
		{"messages", bin + " export --run " + run + " --format messages", 0, `{"messages":`},
	} {
		t.Run(c.name, func(t *testing.T) {
			said, err := exec.Command(script, "-qec", c.shell, "/dev/null").CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.code || !strings.Contains(string(said), c.want) {
				t.Fatalf("%s: exit %d, want %d; the terminal shows (its first 300 bytes):\n%q\nwant %q in it", c.shell, code, c.code, said[:min(len(said), 300)], c.want)
			}
			if c.code != 0 && strings.Contains(string(said), "PAR1") {
				t.Errorf("the terminal was written Parquet's bytes (PAR1):\n%q", said[:min(len(said), 300)])
			}
		})
	}
	for _, f := range []string{"a.parquet", "b.parquet"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) < 8 || string(b[:4]) != "PAR1" || string(b[len(b)-4:]) != "PAR1" {
			t.Errorf("%s: %v, %d bytes: want a Parquet file", f, err, len(b))
		}
	}
}
