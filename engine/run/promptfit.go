package run

import (
	"fmt"
	"path/filepath"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
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
// rlt distill, rlt eval and a run's configuration (checkPromptsFit) share
// it.
func TaskPromptsFit(who, dir, shorten string, t task.Task, exs []task.Example, maxPos int, prompt func(task.Example) int) error {
	for _, ex := range exs {
		if n := prompt(ex); n > maxPos {
			return fmt.Errorf("the %s %s: its prompt for the %s task's question %q takes %d tokens, more than its %d positions (max_position_embeddings): give a shorter %s",
				who, dir, t.Name(), ex.Question, n, maxPos, shorten)
		}
	}
	return nil
}

// checkPromptsFit refuses a run of a synthetic task whose teacher's prompt
// for the questions of its first step, or the student's with an empty
// explanation, is longer than that model's positions: said with the
// configuration's other problems, on the prompt's key, before a run folder
// is made and the models load, not by the sampler at step 0. A data run's
// rows that do not fit are left out as it starts (Data.fit); folders or
// tokenizers that cannot be read are said by checkModels and the load.
func checkPromptsFit(c runconfig.Config) error {
	t, ok := task.Lookup(c.Task)
	if c.Data != "" || !ok || c.GRPO.Questions <= 0 {
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
	batch := (&taskQuestions{task: t, seed: c.GRPO.Seed}).Batch(0, c.GRPO.Questions)
	exs := make([]task.Example, len(batch))
	for i, ex := range batch {
		exs[i] = task.Example{Question: ex.Question, Solution: ex.Solution}
	}
	if err := TaskPromptsFit("teacher", c.Teacher, "prompts.teacher_system", t, exs, tc.MaxPos, func(ex task.Example) int {
		return len(tok.Encode(c.Prompts.TeacherPrompt(ex.Question, ex.Solution)))
	}); err != nil {
		return configkey.Wrap("prompts.teacher_system", err)
	}
	err = TaskPromptsFit("student", c.Student, "prompts.student_system", t, exs, sc.MaxPos, func(ex task.Example) int {
		return len(rlt.StudentLayout(tok, c.Prompts, ex.Question, "", ex.Solution).IDs)
	})
	return configkey.Wrap("prompts.student_system", err)
}
