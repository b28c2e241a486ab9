package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalChecksTheModelsBeforeTheDevice: rlt eval refuses a --teacher or
// --student that is no model folder, a --max-new-tokens that the
// questions' prompts leave no room for, and a data file none of whose rows
// fits, before any device opens: a folder in the words of the pair's
// check (rlt.CheckPair: the model it is of, then the folder), with a
// teacher or without (the pair's load said it after "computing on
// cpu/avx512"; on a GPU, seconds of opening it), a budget and a data
// file's rows in the words they were said in then. rlt distill's
// --max-new-tokens and data rows too.
func TestEvalChecksTheModelsBeforeTheDevice(t *testing.T) {
	student := filepath.Join("engine", "defaults", "models", "student")
	dir := t.TempDir()
	notModel := filepath.Join(dir, "notes") // a folder of something else
	os.Mkdir(notModel, 0o755)
	os.WriteFile(filepath.Join(notModel, "notes.txt"), []byte("hello\n"), 0o644)
	tokenizerOnly := filepath.Join(dir, "tokenizer-only")
	os.Mkdir(tokenizerOnly, 0o755)
	tokData, err := os.ReadFile(filepath.Join(distillTeacher, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(tokenizerOnly, "tokenizer.json"), tokData, 0o644)
	missing := filepath.Join(dir, "nothing")
	data := filepath.Join(dir, "data.jsonl")
	os.WriteFile(data, []byte(`{"question": "1+1=?", "solution": "2"}`+"\n"), 0o644)
	out := filepath.Join(dir, "out") // nothing may be written there
	noTokenizer := func(d string) string {
		return d + " holds no tokenizer.json: give the tokenizer.json of the model, or the model folder that holds it"
	}
	huge := []string{"--max-new-tokens", "99999999"}
	for _, c := range []struct {
		name string
		args []string
		want string // the last line of stderr begins so
	}{
		{"a teacher that is no model", []string{"eval", "--teacher", notModel, "--student", student}, "rlt eval: teacher: " + noTokenizer(notModel)},
		{"a teacher not there", []string{"eval", "--teacher", missing, "--student", student}, "rlt eval: teacher: model folder " + missing + " does not exist"},
		{"a teacher of a tokenizer alone", []string{"eval", "--teacher", tokenizerOnly, "--student", student}, "rlt eval: teacher: model " + tokenizerOnly + ": "},
		{"a student that is no model, with a teacher", []string{"eval", "--teacher", distillTeacher, "--student", notModel}, "rlt eval: student: " + noTokenizer(notModel)},
		{"a student that is no model, alone", []string{"eval", "--student", notModel}, "rlt eval: student: " + noTokenizer(notModel)},
		{"a student of a tokenizer alone", []string{"eval", "--student", tokenizerOnly}, "rlt eval: student: model " + tokenizerOnly + ": "},
		{"a budget past the teacher's room", append([]string{"eval", "--teacher", distillTeacher, "--student", student}, huge...),
			"rlt eval: --max-new-tokens 99999999 is more than the room for an explanation: the teacher " + distillTeacher + ": "},
		{"a budget past the student's room", append([]string{"eval", "--student", student}, huge...),
			"rlt eval: --max-new-tokens 99999999 is more than the room for its thought and solution: the student " + student + ": "},
		{"no data row fits", append([]string{"eval", "--teacher", distillTeacher, "--student", student, "--data", data}, huge...),
			"rlt eval: data " + data + ": no row fits the models: "},
		{"distill's budget past the teacher's room", append([]string{"distill", "--teacher", distillTeacher, "--out", out, "--steps", "1"}, huge...),
			"rlt distill: --max-new-tokens 99999999 is more than the room for an explanation: the teacher " + distillTeacher + ": "},
		{"distill: no data row fits", append([]string{"distill", "--teacher", distillTeacher, "--data", data, "--out", out, "--steps", "1"}, huge...),
			"rlt distill: data " + data + ": no row to explain ("},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append(c.args, "--device", "cpu")
			if c.args[0] == "eval" || !strings.Contains(strings.Join(c.args, " "), "--data") {
				args = append(args, "--questions", "2")
			}
			code, stdout, errs := runCLI(t, "", args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if last := lines[len(lines)-1]; code != 1 || stdout != "" || !strings.HasPrefix(last, c.want) {
				t.Errorf("rlt %v: exit %d, stdout %q, last line %q; want exit 1 and %q…", c.args, code, stdout, last, c.want)
			}
			if strings.Contains(errs, "computing on") {
				t.Errorf("rlt %v opened a device before the refusal:\n%s", c.args, errs)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("rlt %v made %s", c.args, out)
			}
		})
	}
}
