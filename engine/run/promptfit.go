package run

import (
	"bytes"
	"errors"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// TaskPromptsFit refuses, before any is sampled, a task's questions whose
// prompt for the model who (its folder dir) is longer than its maxPos
// positions, which sampling would refuse ("a prompt of 284 tokens is
// longer than the model's 256 positions"): a *rlt.RoomError of the first
// such question, with both lengths, the length that fits and how many
// tokens fewer, and shorten, what makes the prompt shorter (the system prompt
// is most of it: the official RLT one, where the folder has no
// prompts.json, takes more than a small model's 256 positions): a flag
// ("--teacher-system") or a configuration key ("prompts.teacher_system").
// rlt distill and rlt eval, which draw every question before they start,
// pass them all; a run's configuration (checkPromptsFit) passes its task's
// widest, for the questions of all its steps.
func TaskPromptsFit(who, dir, shorten string, t task.Task, exs []task.Example, maxPos int, prompt func(task.Example) int) error {
	for _, ex := range exs {
		if n := prompt(ex); n > maxPos {
			// A RoomError with no room, as the budget's check says a
			// prompt that fills the positions: one refusal of a prompt
			// too long, with the length that leaves room for the first
			// new token and how many tokens fewer that is.
			return &rlt.RoomError{Who: who, Dir: dir, Task: t.Name(), Question: ex.Question, Prompt: n, Positions: maxPos, Shorten: shorten}
		}
	}
	return nil
}

// checkPromptsFit refuses a run of a synthetic task whose prompts cannot
// hold a question that any of its steps may draw: said with the
// configuration's other problems, on its key, before a run folder is made
// and the models load, not by the sampler or the scorer at the step that
// draws it. It measures the prompts of the task's widest example
// (widestPrompts), not those of the first step's questions, which a later
// step's longer operands outgrew. In order:
//   - the teacher's prompt longer than the teacher's positions, or the
//     student's context (with an empty explanation) longer than the
//     student's: on prompts.teacher_system (prompts.student_system), in
//     TaskPromptsFit's words;
//   - either with grpo.max_new_tokens more past its model's positions
//     (rlt.Positions, the rule the scorer refuses an item by, sampling
//     keeps to and FitReason leaves a data run's row out by; BudgetFits):
//     on grpo.max_new_tokens, with the most it can be, or on the prompt's
//     key where the prompt leaves no position at all. The scorer failed
//     the step whose teacher wrote that long ("step 2: scoring: item 2:
//     257 tokens do not fit the models' 256 positions"), naming rlt
//     score's flags.
//
// A data run's rows that do not fit are left out as it starts (Data.fit);
// folders or tokenizers that cannot be read are said by checkModels and
// the load. teacherTok reads the teacher's tokenizer (Check's, read once).
func checkPromptsFit(c runconfig.Config, teacherTok func() (*tokenizer.Tokenizer, error)) error {
	t, ok := task.Lookup(c.Task)
	if c.Data != "" || !ok {
		return nil
	}
	tok, err := teacherTok()
	if err != nil {
		return nil
	}
	tc, _, terr := model.Inspect(c.Teacher)
	sc, _, serr := model.Inspect(c.Student)
	if terr != nil || serr != nil {
		return nil
	}
	widest, teacher, student := widestPrompts(tok, c.Prompts, t)
	exs := []task.Example{widest}
	if err := TaskPromptsFit("teacher", c.Teacher, "prompts.teacher_system", t, exs, tc.MaxPos, func(task.Example) int { return teacher }); err != nil {
		return configkey.Wrap("prompts.teacher_system", err)
	}
	if err := TaskPromptsFit("student", c.Student, "prompts.student_system", t, exs, sc.MaxPos, func(task.Example) int { return student }); err != nil {
		return configkey.Wrap("prompts.student_system", err)
	}
	// Each sequence with an explanation of the whole budget in its
	// model's positions.
	pos := rlt.Positions{Teacher: tc.MaxPos, Student: sc.MaxPos}
	err = BudgetFits(pos, c.GRPO.MaxNewTokens, "max_new_tokens", t, exs, func(task.Example) (int, int) { return teacher, student },
		func(who string) (dir, shorten string) {
			if who == "student" {
				return c.Student, "prompts.student_system"
			}
			return c.Teacher, "prompts.teacher_system"
		})
	if re := (*rlt.RoomError)(nil); errors.As(err, &re) {
		key := "grpo.max_new_tokens"
		if re.Room() < 1 {
			key = re.Shorten
		}
		return configkey.Wrap(key, err)
	}
	return err
}

// BudgetFits refuses a budget of maxNew new tokens for the teacher's
// explanations (what its caller calls it: a run's max_new_tokens, a
// command's --max-new-tokens) that the prompts of exs leave no room for
// in pos (rlt.Positions.Room, the rule the scorer and sampling keep): a
// *rlt.RoomError of the example that leaves the least, on the model whose
// positions bind it, with the most maxNew can be, or where no position is
// left what shortens that prompt. lengths gives an example's teacher
// prompt and student context (rlt.PromptLengths), model the folder of
// the model who and what shortens its prompt (a configuration key, a
// flag).
func BudgetFits(pos rlt.Positions, maxNew int, budget string, t task.Task, exs []task.Example, lengths func(task.Example) (teacher, student int), model func(who string) (dir, shorten string)) error {
	_, short := pos.Budget(maxNew, len(exs), func(i int) (string, int, int) {
		teacher, student := lengths(exs[i])
		return exs[i].Question, teacher, student
	})
	if short == nil {
		return nil
	}
	short.BudgetName = budget
	short.Dir, short.Shorten = model(short.Who)
	if t != nil {
		short.Task = t.Name()
	}
	return short
}

// widestPrompts is the widest example of the synthetic task t, with the
// teacher's prompt and the student's context (with an empty explanation)
// of the longest that any of t's questions can have under p: those of
// the widest example, each of their tokens that holds a digit counted at
// its bytes (atBytes). That is their length for a tokenizer that gives
// each digit a token (Qwen2's pre-tokenizer, the byte vocabulary); for
// one that writes a run of digits in fewer (GPT-2's: "99" one token, "37"
// two), it is what a number of the same width can take, a token a byte:
// a bound for every question, not only the widest's (task.Task.Widest).
func widestPrompts(tok *tokenizer.Tokenizer, p record.Prompts, t task.Task) (widest task.Example, teacher, student int) {
	widest = t.Widest()
	teacher = atBytes(tok, tok.Encode(p.TeacherPrompt(widest.Question, widest.Solution)))
	student = atBytes(tok, rlt.StudentLayout(tok, p, widest.Question, "", widest.Solution).IDs)
	return widest, teacher, student
}

// atBytes is the number of tokens ids, each that holds an ASCII digit
// counted at its bytes. A number is a word of its own (with the space
// GPT-2's pre-tokenizer may join to it before), and another number of its
// width can take a token a byte of that word.
func atBytes(tok *tokenizer.Tokenizer, ids []int32) int {
	n := 0
	for _, id := range ids {
		b := tok.DecodeBytes([]int32{id})
		if bytes.ContainsAny(b, "0123456789") {
			n += len(b)
		} else {
			n++
		}
	}
	return n
}
