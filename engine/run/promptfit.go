package run

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/hf"
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
// longer than the model's 256 positions"): the first such question, both
// lengths, and shorten, what makes the prompt shorter (the system prompt
// is most of it: the official RLT one, where the folder has no
// prompts.json, takes more than a small model's 256 positions): a flag
// ("--teacher-system") or a configuration key ("prompts.teacher_system").
// rlt distill and rlt eval, which draw every question before they start,
// pass them all; a run's configuration (checkPromptsFit) passes its task's
// widest, for the questions of all its steps.
func TaskPromptsFit(who, dir, shorten string, t task.Task, exs []task.Example, maxPos int, prompt func(task.Example) int) error {
	for _, ex := range exs {
		if n := prompt(ex); n > maxPos {
			return fmt.Errorf("the %s %s: its prompt for the %s task's question %q takes %d tokens, more than its %d positions (max_position_embeddings): give a shorter %s",
				who, dir, t.Name(), ex.Question, n, maxPos, shorten)
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
//   - the longer of the two with grpo.max_new_tokens more past the
//     positions both models take (FitReason's rule, by which a data run
//     leaves a row out): on grpo.max_new_tokens, with the most it can be,
//     or on the prompt's key where the prompt leaves no position at all.
//     The teacher's explanation is sampled up to the teacher's positions,
//     and the scorer, which takes both sequences whole, failed the step
//     whose teacher wrote that long ("step 2: scoring: item 2: 257 tokens
//     do not fit the models' 256 positions"), naming rlt score's flags.
//
// A data run's rows that do not fit are left out as it starts (Data.fit);
// folders or tokenizers that cannot be read are said by checkModels and
// the load.
func checkPromptsFit(c runconfig.Config) error {
	t, ok := task.Lookup(c.Task)
	if c.Data != "" || !ok {
		return nil
	}
	tok, err := tokenizer.Load(filepath.Join(c.Teacher, hf.TokenizerFile))
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
	// The longer of the two sequences, with an explanation of the whole
	// budget, in the positions both models take.
	who, dir, n, key := "teacher", c.Teacher, teacher, "prompts.teacher_system"
	if student > teacher {
		who, dir, n, key = "student", c.Student, student, "prompts.student_system"
	}
	maxPos, maxNew := min(tc.MaxPos, sc.MaxPos), c.GRPO.MaxNewTokens
	switch room := maxPos - n; {
	case room < 1:
		return configkey.Errorf(key, "the %s %s: its prompt for the %s task's question %q takes %d tokens, which leaves no room for an explanation in the %d positions (max_position_embeddings) both models take: give a shorter %s",
			who, dir, t.Name(), widest.Question, n, maxPos, key)
	case maxNew > room:
		return configkey.Errorf("grpo.max_new_tokens", "max_new_tokens %d is more than the room for an explanation: the %s %s: its prompt for the %s task's question %q takes %d tokens, and with max_new_tokens more that exceeds the %d positions (max_position_embeddings) both models take: lower max_new_tokens to at most %d, or give a shorter %s",
			maxNew, who, dir, t.Name(), widest.Question, n, maxPos, room, key)
	}
	return nil
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
