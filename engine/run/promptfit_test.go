package run

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// TestCheckRefusesPromptsPastThePositions: a run of a synthetic task whose
// teacher prompt (or student layout) for its first step's questions is
// longer than that model's positions is refused by Check, on the prompt's
// key, naming the model, a question, both lengths and the key to shorten,
// before any run folder or step: the official RLT teacher prompt (a folder
// without prompts.json) takes more than a 256-position model has. It was
// the sampler's 'sample: a prompt of 284 tokens is longer than the model's
// 256 positions' at step 0. It says by how much the prompt passes them.
func TestCheckRefusesPromptsPastThePositions(t *testing.T) {
	overBy := regexp.MustCompile(`takes (\d+) tokens, (\d+) more than its 256 positions`)
	dir := tinyModels(t) // 256 positions
	long := strings.Repeat("Think it through. ", 60)
	for _, tc := range []struct {
		name    string
		prompts record.Prompts
		key     string // "" = fits
		who     string
	}{
		{"the embedded run's prompts", warmstart.ShortPrompts(), "", ""},
		{"the official teacher prompt", record.DefaultPrompts(), "prompts.teacher_system", "teacher"},
		{"a long student prompt", record.Prompts{TeacherSystem: warmstart.ShortPrompts().TeacherSystem, StudentSystem: long}, "prompts.student_system", "student"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallConfig(dir)
			c.Prompts = tc.prompts
			_, err := Check(c)
			if tc.key == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			key, _ := configkey.Of(err)
			folder := c.Teacher
			if tc.who == "student" {
				folder = c.Student
			}
			want := tc.key + ": the " + tc.who + " " + folder + ": its prompt for the addition task's question "
			tail := " more than its 256 positions (max_position_embeddings): give a shorter " + tc.key
			if err == nil || key != tc.key || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), tail) {
				t.Errorf("%v (key %q)\nwant %s…%s on %s", err, key, want, tail, tc.key)
				return
			}
			// Both lengths, and by how much the one passes the other.
			m := overBy.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("%v: no \"takes N tokens, M more than\"", err)
			}
			tokens, _ := strconv.Atoi(m[1])
			over, _ := strconv.Atoi(m[2])
			if over != tokens-256 || over < 1 {
				t.Errorf("%v: %d tokens said to be %d more than 256", err, tokens, over)
			}
		})
	}
	// A data run's rows that do not fit are left out as it starts, not
	// refused here.
	c := smallConfig(dir)
	c.Prompts = record.DefaultPrompts()
	c.Task, c.Data = DataTask, writeFile(t, "rows.jsonl", `{"question":"1+1=?","solution":"2"}`+"\n"+`{"question":"2+2=?","solution":"4"}`+"\n")
	c.EvalEvery = 0
	if _, err := Check(c); err != nil {
		t.Errorf("a data run refused for its prompts: %v", err)
	}
}
