package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

// rlt score --run says, beside its reward line, the student prompt it
// scores the rows with and where it came from (sessions.RowsStudentPrompt:
// the run's [prompts] student_system, an import's [import] student_system,
// the default an import that records none exports with; --student-system;
// else the models' own prompts.json). Nothing said it, so that which of
// the four scored a rescore was to be guessed from its rewards.
func TestScoreRunSaysItsStudentPrompt(t *testing.T) {
	const models = "Solve: thought, then solution." // the embedded models' student prompt
	dir, _, _ := stepRun(t)
	cfgPath := filepath.Join(dir, "config.toml")
	orig, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	const line = "student_system = '" + models + "'\n"
	if !bytes.Contains(orig, []byte(line)) {
		t.Fatalf("config.toml has no %q:\n%s", line, orig)
	}
	own := bytes.Replace(orig, []byte(line), []byte("student_system = 'Solve it: thought, then solution.'\n"), 1)
	rows := [][3]string{{"12+9=?", "2+9=11 w1 c1; 1+0+1=2 w2 c0; ans 21", "21"}}
	var flat, stratos bytes.Buffer
	for _, r := range rows {
		b, _ := json.Marshal(map[string]string{"question": r[0], "explanation": r[1], "solution": r[2]})
		flat.Write(append(b, '\n'))
		if err := record.NewStratosWriter(&stratos, "Think it through, then answer.").Write(r[0], r[1], r[2]); err != nil {
			t.Fatal(err)
		}
	}
	imported := func(t *testing.T, rows string) string {
		t.Helper()
		tmp := t.TempDir()
		src, runDir := filepath.Join(tmp, "rows.jsonl"), filepath.Join(tmp, "run")
		if err := os.WriteFile(src, []byte(rows), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := runCLI(t, "", "import", src, "--out", runDir); code != 0 {
			t.Fatalf("import: exit %d: %s", code, errs)
		}
		return runDir
	}
	teacher, _ := filepath.Abs(embeddedTeacher)
	pair := []string{"--teacher", embeddedTeacher, "--student", embeddedStudent}
	for _, c := range []struct {
		name string
		run  func(t *testing.T) string
		args []string
		want string
	}{
		{"the run's [prompts]", func(t *testing.T) string { return dir }, nil,
			`student prompt: "` + models + `" (` + cfgPath + `'s [prompts] student_system)`},
		{"--student-system", func(t *testing.T) string { return dir }, []string{"--student-system", "Answer."},
			`student prompt: "Answer." (--student-system)`},
		{"the models' own", func(t *testing.T) string {
			text := bytes.Replace(own, []byte("student_system = 'Solve it: thought, then solution.'\n"), nil, 1)
			if err := os.WriteFile(cfgPath, text, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.WriteFile(cfgPath, orig, 0o644) })
			return dir
		}, nil, `student prompt: "` + models + `" (the models' own, ` + filepath.Join(teacher, record.PromptsFile) + `)`},
		{"an import's rows' prompt", func(t *testing.T) string { return imported(t, stratos.String()) }, pair,
			`student prompt: "Think it through, then answer." (RUN/config.toml's [import] student_system, the system prompt every imported row carried)`},
		{"an import that records none", func(t *testing.T) string { return imported(t, flat.String()) }, pair,
			`… (` + strconv.Itoa(len([]rune(record.DefaultStudentSystem))) + ` characters) (the default student prompt: RUN/config.toml's import records none, and its export writes it)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			runDir := c.run(t)
			args := append([]string{"score", "--device", "cpu", "--run", runDir}, c.args...)
			code, _, errs := runCLI(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			want := strings.ReplaceAll(c.want, "RUN/config.toml", filepath.Join(runDir, "config.toml"))
			if !strings.Contains(errs, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errs)
			}
		})
	}
}

// rlt score on stdin says the student prompt it scores the rows with and
// where it came from, as rlt score --run says it (studentPromptLine, one
// owner): --student-system, else the models' own prompts.json, else the
// default. It said none, so that which prompt gave the rewards of rows
// piped in was to be guessed.
func TestScoreStdinSaysItsStudentPrompt(t *testing.T) {
	const models = "Solve: thought, then solution." // the embedded models' student prompt
	row := `{"question":"12+9=?","explanation":"2+9=11 w1 c1; ans 21","solution":"21"}` + "\n"
	bare := tinyFolder(t, "f32") // no prompts.json
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"the models' own", []string{"--teacher", embeddedTeacher, "--student", embeddedStudent},
			`student prompt: "` + models + `" (the models' own, ` + filepath.Join(embeddedTeacher, record.PromptsFile) + `)`},
		{"--student-system", []string{"--teacher", embeddedTeacher, "--student", embeddedStudent, "--student-system", "Answer."},
			`student prompt: "Answer." (--student-system)`},
		{"models that record none", []string{"--teacher", bare, "--student", bare},
			`… (` + strconv.Itoa(len([]rune(record.DefaultStudentSystem))) + ` characters) (the default student prompt: the models record none (no ` + record.PromptsFile + `))`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, row, append([]string{"score", "--device", "cpu"}, c.args...)...)
			if code != 0 || !strings.Contains(out, `"reward"`) {
				t.Fatalf("exit %d, want the row scored: %s\n%s", code, out, errs)
			}
			if !strings.Contains(errs, c.want+"\n") {
				t.Errorf("stderr lacks %q:\n%s", c.want, errs)
			}
		})
	}
}
