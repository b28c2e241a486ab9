package run

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/task"
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
	overBy := regexp.MustCompile(`takes (\d+) tokens, (\d+) more than fit in its 256 positions .*, for a prompt of at most 255 tokens \((\d+) fewer\)$`)
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
			tail := " more than fit in its 256 positions (max_position_embeddings) beside an explanation: give a shorter " + tc.key + ", for a prompt of at most 255 tokens ("
			if err == nil || key != tc.key || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tail) {
				t.Errorf("%v (key %q)\nwant %s…%s on %s", err, key, want, tail, tc.key)
				return
			}
			// Both lengths, by how much the prompt passes the length that
			// leaves room for the first new one, and as many tokens fewer:
			// one number, where it said one less more than 256.
			m := overBy.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("%v: no \"takes N tokens, M more than … (K fewer)\"", err)
			}
			tokens, _ := strconv.Atoi(m[1])
			over, _ := strconv.Atoi(m[2])
			fewer, _ := strconv.Atoi(m[3])
			if over != tokens-255 || over < 1 || fewer != over {
				t.Errorf("%v: %d tokens said to be %d more than fit in 256 and %d too many", err, tokens, over, fewer)
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

// TestTaskPromptsFitSaysHowMuchShorter: a prompt past its model's
// positions, refused before any budget, says its tokens, the positions,
// the length of prompt that leaves room for the first new token and how
// many tokens fewer that is, in the words of the budget's check of a
// prompt that fills them (rlt.RoomError); it said "give a shorter X" and
// no number. A prompt that fits the positions is the budget's to refuse.
func TestTaskPromptsFitSaysHowMuchShorter(t *testing.T) {
	addition := task.DefaultAddition()
	exs := []task.Example{{Question: "1+1=?", Solution: "2"}, {Question: "12+34=?", Solution: "46"}}
	for _, c := range []struct {
		name           string
		who, dir, flag string
		positions      int
		tokens         map[string]int // a question's prompt
		want           string         // "" = fits
	}{
		{"fits", "teacher", "/m/t", "--teacher-system", 256, map[string]int{"1+1=?": 200, "12+34=?": 256}, ""},
		{"one past", "teacher", "/m/t", "--teacher-system", 256, map[string]int{"1+1=?": 200, "12+34=?": 257},
			`the teacher /m/t: its prompt for the addition task's question "12+34=?" takes 257 tokens, 2 more than fit in its 256 positions (max_position_embeddings) beside an explanation: give a shorter --teacher-system, for a prompt of at most 255 tokens (2 fewer)`},
		{"the first past, a key", "student", "/m/s", "prompts.student_system", 24, map[string]int{"1+1=?": 60, "12+34=?": 90},
			`the student /m/s: its prompt for the addition task's question "1+1=?" takes 60 tokens, 37 more than fit in its 24 positions (max_position_embeddings) beside an explanation: give a shorter prompts.student_system, for a prompt of at most 23 tokens (37 fewer)`},
		{"no folder", "teacher", "", "--teacher-system", 512, map[string]int{"1+1=?": 1000, "12+34=?": 1000},
			`the teacher: its prompt for the addition task's question "1+1=?" takes 1000 tokens, 489 more than fit in its 512 positions (max_position_embeddings) beside an explanation: give a shorter --teacher-system, for a prompt of at most 511 tokens (489 fewer)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := TaskPromptsFit(c.who, c.dir, c.flag, addition, exs, c.positions, func(ex task.Example) int { return c.tokens[ex.Question] })
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || err.Error() != c.want {
				t.Fatalf("got  %v\nwant %s", err, c.want)
			}
			// One refusal of a prompt too long, one type.
			if re := (*rlt.RoomError)(nil); !errors.As(err, &re) || re.Room() >= 1 {
				t.Errorf("%T %v: want a *rlt.RoomError with no room", err, err)
			}
		})
	}
}
