package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rlt score --run scores with the prompts the run's traces were made with,
// whatever models --teacher and --student name: --teacher and --student
// choose the models that score, not the prompts. A run whose config.toml
// records no [prompts] (another version's, a hand edit) took the models'
// own, from the prompts.json of the folders it names, and its export
// writes those; score --run took the prompts of the models given instead,
// so a rescore with another student was under another prompt than the
// run's rewards and its export, unsaid. --student-system still gives one.
func TestScoreRunTakesTheRunsModelsPromptsOverTheFlags(t *testing.T) {
	fixture := filepath.Join("sessions", "testdata", "prev-format", "grpo")
	orig, err := os.ReadFile(filepath.Join(fixture, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, fixture, dir)
	// The run's models: folders that hold only what their prompts are
	// read from, the pair that scores given by the flags.
	teacher, student := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(teacher, "prompts.json"), []byte(`{"teacher_system": "Teach the run's way.", "student_system": "Solve the run's way."}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var lines []string
	inPrompts := false
	for _, l := range strings.Split(string(orig), "\n") {
		switch {
		case strings.HasPrefix(l, "teacher = "):
			l = "teacher = '" + teacher + "'"
		case strings.HasPrefix(l, "student = "):
			l = "student = '" + student + "'"
		case l == "[prompts]":
			inPrompts = true
			continue
		case strings.HasPrefix(l, "["):
			inPrompts = false
		}
		if !inPrompts {
			lines = append(lines, l)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	pair := []string{"score", "--run", dir, "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu"}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"the run's models' prompts", pair, `student prompt: "Solve the run's way." (the models' own, ` + filepath.Join(teacher, "prompts.json") + ")"},
		{"a flag's", append(pair[:len(pair):len(pair)], "--student-system", "Answer."), `student prompt: "Answer." (--student-system)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", c.args...)
			if code != 0 || strings.Count(out, "\n") != 8 || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, %d rows, stderr:\n%s\nwant exit 0, 8 rows and %q", code, strings.Count(out, "\n"), errs, c.want)
			}
		})
	}
	// Its export writes the same student prompt.
	if code, out, errs := runCLI(t, "", "export", "--run", dir); code != 0 || !strings.Contains(out, `"system":"Solve the run's way."`) {
		t.Errorf("export: exit %d, stdout %q, stderr %s", code, out, errs)
	}
}
