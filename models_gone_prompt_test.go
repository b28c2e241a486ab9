package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run whose config.toml records no [prompts] (a hand edit, or another
// version's file) took the models' own prompts, from the prompts.json of
// the teacher and student folders it names. Where those folders have been
// moved or removed since, rlt export and rlt score --run refuse, naming
// the folder and what to do, where they took the default prompts, unsaid:
// the export wrote every row with the default student prompt, and the
// scoring (the models given by --teacher and --student in place of the
// moved ones) scored with their prompts or the defaults, maybe not the
// prompt the rows were made with. The fixture's folders are a run's real
// ones, its models long gone. Prompts given (in [prompts] or by the flags)
// export and score as before.
func TestExportAndScoreRefuseAMovedModelsPrompt(t *testing.T) {
	fixture := filepath.Join("sessions", "testdata", "prev-format", "grpo") // 0-0-0 accepted
	const prompts = "[prompts]\nteacher_system = 'Teach: solution, then explanation.'\nstudent_system = 'Solve: thought, then solution.'\n\n"
	orig, err := os.ReadFile(filepath.Join(fixture, "config.toml"))
	if err != nil || !strings.Contains(string(orig), prompts) {
		t.Fatalf("the fixture's config.toml has no %q: %v", prompts, err)
	}
	gone := strings.TrimSuffix(strings.SplitN(string(orig), "'", 3)[1], "'") // its teacher
	if _, err := os.Stat(gone); err == nil {
		t.Skipf("the fixture's teacher %s is there", gone)
	}
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, fixture, dir)
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(orig), prompts, "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	way := "put the folder back at " + gone + ", set teacher in " + cfg + " to where it is now, "
	pair := []string{"--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu"}
	for _, c := range []struct {
		name string
		args []string
		want string // on stderr, exit 1 and nothing on stdout
	}{
		{"export", []string{"export", "--run", dir},
			cfg + "'s [prompts] records no student prompt, so its rows take the models' own: the teacher it names, " + gone +
				", is not there now (moved or removed since the run), so its prompts.json cannot be read; the default in its place may not be the prompt the run's student was trained on, so nothing is exported: " +
				way + "or write the run's student prompt as student_system in " + cfg + "'s [prompts]"},
		{"score with other models", append([]string{"score", "--run", dir}, pair...),
			cfg + "'s [prompts] records no teacher or student prompt, so the prompts of its rows are the models' own: the teacher it names, " + gone +
				", is not there now (moved or removed since the run), so its prompts.json cannot be read; the default in its place may not be the prompt the rows were made with, so nothing is scored: " +
				way + "write the run's prompts as teacher_system and student_system in its [prompts], or give --teacher-system and --student-system"},
		{"score, the student's prompt given", append([]string{"score", "--run", dir, "--student-system", "Answer."}, pair...),
			"records no teacher prompt, so the prompts of its rows are the models' own: the teacher it names, " + gone},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", c.args...)
			if code != 1 || out != "" || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, %d bytes on stdout, stderr:\n%s\nwant exit 1, no stdout and %q", code, len(out), errs, c.want)
			}
		})
	}
	// Both prompts given by the flags: scored with them, as before.
	code, out, errs := runCLI(t, "", append([]string{"score", "--run", dir, "--teacher-system", "Teach.", "--student-system", "Answer."}, pair...)...)
	if code != 0 || strings.Count(out, "\n") != 8 || !strings.Contains(errs, `student prompt: "Answer." (--student-system)`) {
		t.Errorf("score with the prompts given: exit %d, %d rows, stderr:\n%s", code, strings.Count(out, "\n"), errs)
	}
	// Written back in [prompts]: the export writes it.
	if err := os.WriteFile(cfg, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, "", "export", "--run", dir); code != 0 || !strings.Contains(out, `"system":"Solve: thought, then solution."`) {
		t.Errorf("export with [prompts]: exit %d, stdout %q, stderr %s", code, out, errs)
	}
}
