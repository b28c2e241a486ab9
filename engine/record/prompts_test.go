package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/configkey"
)

func TestParseTeacherPrompt(t *testing.T) {
	cases := []struct {
		prompt, q, s, err string
	}{
		{"<|im_start|>system\nT<|im_end|>\n<|im_start|>user\nWhat?<|im_end|>\n<|im_start|>assistant\n<|begin_of_solution|>42<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n", "What?", "42", ""},
		{"<|im_start|>user\nmulti\nline<|im_end|>\n<|im_start|>assistant\n<|begin_of_solution|>a\nb<|end_of_solution|>", "multi\nline", "a\nb", ""},
		{"plain", "", "", "no \"<|im_start|>user\" turn"},
		{"<|im_start|>user\nq", "", "", "has no <|im_end|>"},
		{"<|im_start|>user\nq<|im_end|>\n", "", "", "no assistant turn"},
		{"<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\nno tags", "", "", "no <|begin_of_solution|>"},
	}
	for _, c := range cases {
		q, s, err := ParseTeacherPrompt(c.prompt)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.prompt, err, c.err)
			}
			continue
		}
		if err != nil || q != c.q || s != c.s {
			t.Errorf("%q: %q %q %v", c.prompt, q, s, err)
		}
	}
}

func TestPromptsFor(t *testing.T) {
	short := Prompts{TeacherSystem: "Teach between <|begin_of_solution|> & its end.", StudentSystem: "Solve."}
	teacher, student, bare := t.TempDir(), t.TempDir(), t.TempDir()
	if err := WritePrompts(teacher, short); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(teacher, PromptsFile)); err != nil || !strings.Contains(string(b), short.TeacherSystem) {
		t.Errorf("%s does not hold the prompt as written (%v):\n%s", PromptsFile, err, b)
	}
	if err := WritePrompts(student, Prompts{TeacherSystem: "T2", StudentSystem: "S2"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name             string
		teacher, student string
		override         Prompts
		want             Prompts
	}{
		{"the teacher's folder first", teacher, student, Prompts{}, short},
		{"else the student's", bare, student, Prompts{}, Prompts{TeacherSystem: "T2", StudentSystem: "S2"}},
		{"student only", "", student, Prompts{}, Prompts{TeacherSystem: "T2", StudentSystem: "S2"}},
		{"none recorded", bare, "", Prompts{}, DefaultPrompts()},
		{"a flag overrides its field", teacher, "", Prompts{StudentSystem: "Mine."}, Prompts{TeacherSystem: short.TeacherSystem, StudentSystem: "Mine."}},
	}
	for _, c := range cases {
		got, err := PromptsFor(c.teacher, c.student, c.override)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v, want %+v", c.name, got, err, c.want)
		}
	}
	if err := os.WriteFile(filepath.Join(bare, PromptsFile), []byte(`{"teacher_system": 3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PromptsFor(bare, "", Prompts{}); err == nil || !strings.Contains(err.Error(), PromptsFile) {
		t.Errorf("a broken %s: %v", PromptsFile, err)
	}
	if err := WritePrompts(bare, Prompts{TeacherSystem: "x" + ImEnd, StudentSystem: "y"}); err == nil {
		t.Error("a prompt with a ChatML marker was written")
	}
}

// Validate says every problem of a pair of prompts, each on the key below
// [prompts] that a run configuration writes it under.
func TestPromptsValidateNamesEachKey(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Prompts
		want []string // each problem, in order, its key's path first
	}{
		{"valid", Prompts{TeacherSystem: "Teach.", StudentSystem: "Solve."}, nil},
		{"an empty teacher prompt", Prompts{TeacherSystem: " \n", StudentSystem: "Solve."},
			[]string{"prompts.teacher_system is empty: write the teacher's system prompt there"}},
		{"a marker in the student prompt", Prompts{TeacherSystem: "Teach.", StudentSystem: "Solve." + EndOfText},
			[]string{"prompts.student_system contains the ChatML marker " + EndOfText + ", which would end its turn early; remove it"}},
		{"both wrong: both said", Prompts{TeacherSystem: ImStart + "system", StudentSystem: ""},
			[]string{"prompts.teacher_system contains the ChatML marker " + ImStart + ", which would end its turn early; remove it",
				"prompts.student_system is empty: write the student's system prompt there"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, e := range configkey.Problems(c.p.Validate()) {
				if key, _ := configkey.Of(e); !strings.HasPrefix(e.Error(), key+" ") {
					t.Errorf("%q does not begin with its key %q", e, key)
				}
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// A model folder's prompts.json read with ReadPrompts is its own file, not
// a run configuration: each problem is a *PromptsFileError naming that
// file and the field at fault, in Validate's words after the file, and
// carries no configuration key (configkey.Of finds none), so nothing that
// places a configuration's problems on their keys' lines can put it on a
// run configuration's [prompts] lines.
func TestReadPromptsProblemsAreTheFilesNotAConfigurations(t *testing.T) {
	type problem struct{ field, words string } // words: Error() after "PATH: "
	for _, c := range []struct {
		name, json string
		want       []problem
	}{
		{"both prompts empty", `{"teacher_system": "", "student_system": " "}`, []problem{
			{"teacher_system", "teacher_system is empty: write the teacher's system prompt there"},
			{"student_system", "student_system is empty: write the student's system prompt there"}}},
		{"a ChatML marker", `{"teacher_system": "Teach.", "student_system": "Solve.` + ImEnd + `"}`, []problem{
			{"student_system", "student_system contains the ChatML marker " + ImEnd + ", which would end its turn early; remove it"}}},
		// JSON problems in the file's words, at their place (a wrong type
		// read "json: cannot unmarshal number into Go struct field
		// Prompts.teacher_system of type string"), with what to do (they
		// said only what the file should hold).
		{"not the JSON it should be", `{"teacher_system": 3}`, []problem{
			{"teacher_system", "line 1, column 20: field \"teacher_system\" holds a JSON number where text is wanted (want {\"teacher_system\": …, \"student_system\": …}): fix the file to that form, or remove it to use the default prompts"}}},
		{"cut short", "{\"teacher_system\": \"Teach.\",\n", []problem{
			{"", "it ends at line 1, column 29 before the JSON is complete: the file was cut short (an interrupted write, download or copy?) (want {\"teacher_system\": …, \"student_system\": …}): fix the file to that form, or remove it to use the default prompts"}}},
		{"empty", "\n", []problem{
			{"", "the file is empty (want {\"teacher_system\": …, \"student_system\": …}, or no prompts.json for the default prompts)"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, PromptsFile)
			if err := os.WriteFile(path, []byte(c.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, ok, err := ReadPrompts(dir)
			if ok || err == nil {
				t.Fatalf("ReadPrompts: ok %v, err %v; want it refused", ok, err)
			}
			var got []problem
			for _, e := range configkey.Problems(err) {
				if key, keyed := configkey.Of(e); keyed {
					t.Errorf("%v carries the configuration key %q", e, key)
				}
				var pe *PromptsFileError
				if !errors.As(e, &pe) || pe.File != path {
					t.Fatalf("%v (%T) is no *PromptsFileError about %s", e, e, path)
				}
				words, named := strings.CutPrefix(e.Error(), path+": ")
				if !named {
					t.Errorf("%q does not start with the file", e)
				}
				got = append(got, problem{pe.Field, words})
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

// ReadPrompts of a file where a model folder goes says it is a file (and
// which folder to give for one of a model folder's own), not "not a
// directory" on its prompts.json; a folder without prompts.json records
// none.
func TestReadPromptsOfAFile(t *testing.T) {
	model := t.TempDir()
	weights := filepath.Join(model, "model.safetensors")
	os.WriteFile(filepath.Join(model, "config.json"), []byte("{}"), 0o644)
	os.WriteFile(weights, []byte("{}"), 0o644)
	data := filepath.Join(t.TempDir(), "data.jsonl")
	os.WriteFile(data, []byte("{}\n"), 0o644)
	for _, c := range []struct {
		dir, want string // want "": no prompts, no error
	}{
		{weights, weights + " is a file, not a model folder: give the folder that holds it (" + model + ")"},
		{data, data + " is a file, not a model folder: give a folder holding config.json"},
		{model, ""},
	} {
		_, ok, err := ReadPrompts(c.dir)
		switch {
		case c.want == "" && (ok || err != nil):
			t.Errorf("ReadPrompts(%s): ok %v, %v; want no prompts and no error", c.dir, ok, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
			t.Errorf("ReadPrompts(%s): %v, want %q", c.dir, err, c.want)
		}
	}
}
