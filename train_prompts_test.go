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

// A model folder's prompts.json that cannot be read has the default
// prompts stand in while the rest is checked; their length against the
// model's positions is no problem of the run's, and is not said: it was
// said first, on a key the file does not set ("prompts.teacher_system
// (default '…', not set in this file): … give a shorter
// prompts.teacher_system"), above the prompts.json problem that was the
// one to fix. Prompts the configuration sets are its own, and measured.
func TestTrainBrokenPromptsFileIsNotMeasured(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	if err := os.WriteFile(shape, []byte(`{"vocab_size": 272, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256, "tie_word_embeddings": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model") // 256 positions: the official RLT prompt does not fit
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", model, "--tokenizer", distillTeacher); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	promptsFile := filepath.Join(model, "prompts.json")
	if err := os.WriteFile(promptsFile, []byte(`{"teacher_system": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := promptsFile + `: line 1, column 20: field "teacher_system" holds a JSON number where text is wanted`
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("teacher = '"+model+"'\nstudent = '"+model+"'\nsteps = 1\n"+text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	none := write("none.toml", "")
	long := strings.Repeat("Teach well. ", 40)
	own := write("own.toml", "[prompts]\nteacher_system = '"+long+"'\nstudent_system = 'Solve.'\n")
	ownTeacher := write("own-teacher.toml", "[prompts]\nteacher_system = '"+long+"'\n")
	fits := "its prompt for the addition task's question "
	for _, c := range []struct {
		name      string
		args      []string
		want, not []string
	}{
		{"the file sets no prompt", []string{"--config", none}, []string{broken}, []string{fits, "prompts.teacher_system"}},
		{"--print-config", []string{"--config", none, "--print-config"}, []string{broken}, []string{fits, "prompts.teacher_system"}},
		{"no file", []string{"--teacher", model, "--student", model, "--steps", "1"}, []string{broken}, []string{fits, "prompts.teacher_system"}},
		{"the file's own prompts", []string{"--config", own}, []string{own + ":5:1: prompts.teacher_system: the teacher " + model + ": " + fits, broken}, nil},
		// The teacher's prompt set, the student's a stand-in: the
		// teacher's is measured (both were left out), the student's not.
		{"the file's own teacher prompt alone", []string{"--config", ownTeacher}, []string{ownTeacher + ":5:1: prompts.teacher_system: the teacher " + model + ": " + fits, broken}, []string{"prompts.student_system"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"train", "--device", "cpu"}, c.args...)...)
			if code != 1 || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q: a broken prompts.json must stop it before any step", code, out, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q\nwant it to contain %q", errs, w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(errs, w) {
					t.Errorf("stderr %q\nwant no %q: the default stands in for the folder's prompts", errs, w)
				}
			}
		})
	}
}
