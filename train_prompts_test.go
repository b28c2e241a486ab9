package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/hf/hftest"
)

// rlt train says a model folder's broken prompts.json with the
// configuration's other problems, after them, each naming its own file,
// not alone first (a second try then found the rest). The folder's
// prompts are not blamed on the configuration's [prompts] keys, which are
// checked as the file writes them.
func TestTrainSaysABrokenPromptsFileWithTheOtherProblems(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	teacher, student := filepath.Join(dir, "teacher"), filepath.Join(dir, "student")
	hftest.StubFolder(t, teacher) // checked for, not loaded
	hftest.StubFolder(t, student)
	promptsFile := filepath.Join(teacher, "prompts.json")
	if err := os.WriteFile(promptsFile, []byte(`{"teacher_system": "", "student_system": "Solve it."}`), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	badLR := write("lr.toml", "steps = 1\n[grpo]\nlr = -1.0\n")
	badPrompt := write("prompt.toml", "steps = 1\n[prompts]\nstudent_system = 'Solve. <|im_end|>'\n")
	good := write("good.toml", "steps = 1\n")
	folder := promptsFile + ": teacher_system is empty: write the teacher's system prompt there"
	for _, c := range []struct {
		name string
		args []string
		want []string // the lines of stderr after "rlt train: ", in order
	}{
		{"a key of the file", []string{"--config", badLR},
			[]string{badLR + ":3:1: grpo.lr -1 must be a finite number, not negative", folder}},
		{"the file's own [prompts], checked as it writes them", []string{"--config", badPrompt},
			[]string{badPrompt + ":3:1: prompts.student_system contains the ChatML marker <|im_end|>, which would end its turn early; remove it", folder}},
		{"a flag's value, with no file", []string{"--task", "division"},
			[]string{`--task: unknown task "division" (known: addition, linear, or "jsonl" with data = FILE)`, folder}},
		{"nothing else wrong", []string{"--config", good}, []string{folder}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"train", "--teacher", teacher, "--student", student}, c.args...)
			code, out, errs := runCLI(t, "", args...)
			if code != 1 || out != "" {
				t.Fatalf("exit %d, stdout %q: a broken prompts.json must stop it before any step", code, out)
			}
			if got, want := strings.TrimSpace(errs), "rlt train: "+strings.Join(c.want, "\n"); got != want {
				t.Errorf("stderr\n%s\nwant\n%s", got, want)
			}
		})
	}
	// --print-config cannot print the prompts it would resolve: it says why.
	if code, _, errs := runCLI(t, "", "train", "--teacher", teacher, "--student", student, "--print-config"); code != 1 || !strings.Contains(errs, folder) {
		t.Errorf("--print-config: exit %d, %s", code, errs)
	}
}
