package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
)

// rlt export, and rlt score --run, of an import whose [import] format
// this rlt does not know (a newer rlt's, or a typo) read its rows with
// the student_system the file records, which every rlt import writes
// alike (the format numbers and names the run's steps, no word of a row),
// and warn with the format's line and the way on; one that records no
// student_system is refused, the default in its place a guess. Both were
// refused as a format of the wrong type is, though the rows' prompt stood
// in the file (rlt score --run until the rule was one,
// sessions.Run.RowsConfigTypes).
func TestExportAnImportOfAnUnknownFormat(t *testing.T) {
	const system = "Think it through step by step, then answer."
	var rows bytes.Buffer
	w := record.NewStratosWriter(&rows, system)
	if err := w.Write("347+285=?", "7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632", "632"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, edit string // what replaces the format line of config.toml
		code       int
		want       string // on stderr
	}{
		{"a newer rlt's format", "format = 'openrlhf'", 0,
			`warning: ` + filepath.Join("RUN", "config.toml") + `:2:10: [import] format "openrlhf" is not one this rlt writes (official, trl, verl, nemo-rl, traces): its rows are exported with the student_system its [import] records, which does not depend on the format; a newer rlt imported it? use that rlt to read the rest of the run (its steps), or correct a typo of the format`},
		{"no student_system", "format = 'openrlhf'\nstudent_system = ''", 1,
			`[import] format "openrlhf" is not one this rlt writes (official, trl, verl, nemo-rl, traces), and the [import] records no student_system: the default system prompt this rlt's formats mean may not be what the rows carried, so nothing is exported: export it with the newer rlt that imported it, or write the rows' system prompt as student_system in ` + filepath.Join("RUN", "config.toml") + `'s [prompts] (or correct a typo of the format)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			runDir := importAccepted(t, rows.Bytes())
			cfg := filepath.Join(runDir, sessions.ConfigFile)
			text, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(text), "\n")
			if len(lines) < 2 || !strings.HasPrefix(lines[1], "format = ") || !strings.Contains(string(text), "student_system = ") {
				t.Fatalf("config.toml's [import] is not as the test expects (format on line 2, a student_system):\n%s", text)
			}
			if strings.Contains(c.edit, "student_system") {
				var kept []string
				for _, l := range lines {
					if !strings.HasPrefix(l, "student_system = ") {
						kept = append(kept, l)
					}
				}
				lines = kept
			}
			lines[1] = c.edit
			if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCLI(t, "", "export", "--run", runDir)
			want := strings.ReplaceAll(c.want, filepath.Join("RUN", "config.toml"), cfg)
			if code != c.code || !strings.Contains(errs, want) {
				t.Fatalf("export: exit %d, want %d and %q:\n%s", code, c.code, want, errs)
			}
			if c.code == 0 && (strings.Count(out, "\n") != 1 || !strings.Contains(out, `"value":"`+system+`"`) && !strings.Contains(out, system)) {
				t.Errorf("export wrote %q, want the row with its system prompt %q", out, system)
			}
			// rlt score --run reads the rows by the same rule
			// (sessions.Run.RowsConfigTypes): it refused every unknown
			// format, where the export wrote the rows.
			code, out, errs = runCLI(t, "", "score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu", "--run", runDir)
			want = strings.NewReplacer("are exported with", "are scored with", "nothing is exported: export it", "nothing is scored: score it").Replace(want)
			if code != c.code || !strings.Contains(errs, want) {
				t.Fatalf("score --run: exit %d, want %d and %q:\n%s", code, c.code, want, errs)
			}
			if c.code == 0 && len(scoreLines(t, out)) != 1 {
				t.Errorf("score --run wrote %q, want the row's one line", out)
			}
		})
	}
}
