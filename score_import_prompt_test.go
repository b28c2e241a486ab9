package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
)

// rlt score --run of a run imported from Bespoke-Stratos rows scores
// with the system prompt the rows carried ([import] student_system), the
// one rlt export writes them with (sessions.RowsPrompts, the one reader of
// both), unless --student-system says otherwise: its rewards are the rows'
// scored on stdin with that prompt. It scored with the models' own student
// prompt, so that a rescore of an import gave rewards under another prompt
// than the rows were made, ranked and exported with. An import that
// records no prompt (flat rows, Stratos rows with several) exports with
// record.DefaultStudentSystem and is scored with it, where it was scored
// with the models' own.
func TestScoreImportedRowsWithTheirSystemPrompt(t *testing.T) {
	const models = "Solve: thought, then solution." // the embedded student's own prompt
	rows := [][3]string{
		{"347+285=?", "7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632", "632"},
		{"12+9=?", "2+9=11 w1 c1; 1+0+1=2 w2 c0; ans 21", "21"},
	}
	stratos := func(system string) string {
		var b bytes.Buffer
		w := record.NewStratosWriter(&b, system)
		for _, r := range rows {
			if err := w.Write(r[0], r[1], r[2]); err != nil {
				t.Fatal(err)
			}
		}
		return b.String()
	}
	pair := []string{"score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu"}
	rewards := func(what, in string, args ...string) []float64 {
		t.Helper()
		code, out, errs := runCLI(t, in, append(append([]string{}, pair...), args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", what, code, errs)
		}
		var got []float64
		for _, l := range scoreLines(t, out) {
			r, ok := l["reward"].(float64)
			if !ok {
				t.Fatalf("%s: a line without a reward: %v", what, l)
			}
			got = append(got, r)
		}
		if len(got) != len(rows) {
			t.Fatalf("%s: %d rewards, want %d:\n%s", what, len(got), len(rows), out)
		}
		return got
	}
	const theirs = "Think it through step by step, then answer."
	byModels := rewards("stdin, the models' prompt", stratos(theirs))
	byTheirs := rewards("stdin, the rows' prompt", stratos(theirs), "--student-system", theirs)
	const flag = "Answer briefly."
	byFlag := rewards("stdin, --student-system", stratos(theirs), "--student-system", flag)
	if slices.Equal(byModels, byTheirs) || slices.Equal(byModels, byFlag) {
		t.Fatalf("the prompts scored alike (models' %v, rows' %v, flag's %v): the checks below prove nothing", byModels, byTheirs, byFlag)
	}
	// Rows that record no one prompt export with the default student
	// prompt: a rescore scores them under it (it scored them with the
	// models' own, which the export never writes).
	byDefault := rewards("stdin, the default student prompt", stratos(theirs), "--student-system", record.DefaultStudentSystem)
	if slices.Equal(byModels, byDefault) {
		t.Fatalf("the models' and the default prompt scored alike (%v): the checks below prove nothing", byModels)
	}
	var flat, several bytes.Buffer
	for i, r := range rows {
		b, _ := json.Marshal(map[string]string{"question": r[0], "explanation": r[1], "solution": r[2]})
		flat.Write(append(b, '\n'))
		w := record.NewStratosWriter(&several, []string{theirs, models}[i%2])
		if err := w.Write(r[0], r[1], r[2]); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		in     string   // the imported file
		system string   // the student prompt the export writes
		args   []string // given to score --run
		want   []float64
	}{
		{"the rows' own prompt", stratos(theirs), theirs, nil, byTheirs},
		{"the models' prompt, the rows'", stratos(models), models, nil, byModels},
		{"--student-system over the rows'", stratos(theirs), theirs, []string{"--student-system", flag}, byFlag},
		{"flat rows, no prompt", flat.String(), record.DefaultStudentSystem, nil, byDefault},
		{"Stratos rows with several prompts", several.String(), record.DefaultStudentSystem, nil, byDefault},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src, runDir := filepath.Join(dir, "rows.jsonl"), filepath.Join(dir, "run")
			if err := os.WriteFile(src, []byte(c.in), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, _, errs := runCLI(t, "", "import", src, "--out", runDir); code != 0 {
				t.Fatalf("import: exit %d: %s", code, errs)
			}
			if got := rewards("score --run", "", append([]string{"--run", runDir}, c.args...)...); !slices.Equal(got, c.want) {
				t.Errorf("score --run: rewards %v, want %v (the models' prompt's %v)", got, c.want, byModels)
			}
			// The export writes the rows with the prompt they were scored with.
			r, err := sessions.Open(runDir, nil)
			if err != nil {
				t.Fatal(err)
			}
			prompt, err := r.StudentPrompt()
			r.Close()
			if err != nil || prompt != c.system {
				t.Errorf("the export's student prompt %q (%v), want %q", prompt, err, c.system)
			}
		})
	}
}
