package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

// A run of ours whose [prompts] records no student prompt (a hand edit)
// exports its rows with the models' own, the prompt rlt run takes for a
// configuration without one (record.PromptsFor) and rlt score --run
// scores the rows with (RowsPrompts gives none): its teacher's
// prompts.json, else its student's, else the defaults. It exported
// record.DefaultStudentSystem, so the rows went out under another prompt
// than their rewards were scored with. One that cannot be read is the
// export's error, naming it.
func TestStudentPromptOfARunWithoutOne(t *testing.T) {
	models, err := filepath.Abs("../engine/defaults/models")
	if err != nil {
		t.Fatal(err)
	}
	teacher, student := filepath.Join(models, "teacher"), filepath.Join(models, "student")
	const own = "Solve: thought, then solution." // the embedded models' student prompt
	bare := t.TempDir()                          // a folder without prompts.json
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, record.PromptsFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	type prompts struct {
		TeacherSystem string `toml:"teacher_system"`
		StudentSystem string `toml:"student_system,omitempty"`
	}
	type cfg struct {
		Teacher string  `toml:"teacher"`
		Student string  `toml:"student"`
		Prompts prompts `toml:"prompts"`
	}
	for _, c := range []struct {
		name             string
		teacher, student string
		system           string // [prompts] student_system
		want, err        string
	}{
		{"the run's", teacher, student, "Answer.", "Answer.", ""},
		{"none: the teacher's prompts.json", teacher, student, "", own, ""},
		{"none: the student's, the teacher recording none", bare, student, "", own, ""},
		{"none, nor the models: the default", bare, bare, "", record.DefaultStudentSystem, ""},
		{"none, the teacher's unreadable", broken, student, "", "", "records no student prompt, so its rows take the models' own, which cannot be read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Create(filepath.Join(t.TempDir(), "run"), cfg{c.teacher, c.student, prompts{"Teach.", c.system}})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := r.StudentPrompt()
			if c.err != "" {
				// What to do names both files it may be done in: it said
				// "write student_system there, or mend the file".
				todo := "; mend or remove " + filepath.Join(c.teacher, record.PromptsFile) +
					", or write the student's prompt as student_system in " + filepath.Join(r.Dir(), ConfigFile) + "'s [prompts]"
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasSuffix(err.Error(), todo) {
					t.Errorf("StudentPrompt %q, %v; want an error saying %q, ending %q", got, err, c.err, todo)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("StudentPrompt %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// A model folder the run's config.toml names that is not there now
// (moved or removed since the run), where its prompts.json would decide
// the prompts, refuses the export's student prompt, naming the folder and
// the key that names it (ModelFolderGone): it was read as a folder without
// prompts.json, and the rows exported with the default student prompt,
// unsaid, where the run's student may have been trained on the models'
// own. The teacher's prompts.json decides before the student's, so a
// student gone past a teacher that records its prompts is no matter.
func TestStudentPromptOfAModelFolderGone(t *testing.T) {
	models, err := filepath.Abs("../engine/defaults/models")
	if err != nil {
		t.Fatal(err)
	}
	teacher := filepath.Join(models, "teacher")
	bare := t.TempDir() // a folder without prompts.json
	gone := filepath.Join(t.TempDir(), "moved")
	type cfg struct {
		Teacher string `toml:"teacher"`
		Student string `toml:"student"`
	}
	for _, c := range []struct {
		name             string
		teacher, student string
		want, key        string // key: the one named gone
	}{
		{"the teacher gone", gone, teacher, "", "teacher"},
		{"the student gone, the teacher recording none", bare, gone, "", "student"},
		{"the student gone past the teacher's prompts.json", teacher, gone, "Solve: thought, then solution.", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Create(filepath.Join(t.TempDir(), "run"), cfg{c.teacher, c.student})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := r.StudentPrompt()
			if c.key == "" {
				if err != nil || got != c.want {
					t.Errorf("StudentPrompt %q, %v; want %q", got, err, c.want)
				}
				return
			}
			cfgPath := filepath.Join(r.Dir(), ConfigFile)
			var g *ModelFolderGone
			want := "the " + c.key + " it names, " + gone + ", is not there now (moved or removed since the run)"
			todo := "put the folder back at " + gone + ", set " + c.key + " in " + cfgPath + " to where it is now, or write the run's student prompt as student_system in " + cfgPath + "'s [prompts]"
			if !errors.As(err, &g) || g.Key != c.key || g.Dir != gone || !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), todo) {
				t.Errorf("StudentPrompt %q, %v; want a *ModelFolderGone saying %q, ending %q", got, err, want, todo)
			}
		})
	}
}
