package run

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/task"
)

// A run's memory estimate follows the prompts its questions make, measured
// before anything loads, and says which it took: a synthetic task's widest
// question (the bound of every step's, as the positions check takes it),
// a data file's longest row; memory.PromptTokens (128) assumed only where
// nothing is known (CheckMemory of a data run's configuration alone, its
// rows unread). It assumed 128 tokens for every run: a model made by rlt
// model init with the embedded tokenizer has prompts of 285.
func TestRunEstimateTakesItsPrompts(t *testing.T) {
	long := strings.TrimSpace(strings.Repeat("How many apples are there when every tree has seven? ", 3))
	data := writeFile(t, "long.jsonl", fmt.Sprintf(`{"question": "What is 2 + 3?", "solution": "5", "reasoning_trace": "2 + 3 = 5."}
{"question": %q, "solution": "7", "reasoning_trace": "Seven."}
{"question": "What is 4 + 4?", "solution": "8", "reasoning_trace": "4 + 4 = 8."}
`, long))
	synthetic := DefaultConfig(defaultTeacher, defaultStudent)
	synthetic.GRPO.Questions, synthetic.GRPO.Samples, synthetic.GRPO.MaxNewTokens = 2, 2, 8
	r, err := rlt.ReadFolderTokenizer(defaultTeacher)
	if err != nil {
		t.Fatal(err)
	}
	add, _ := task.Lookup("addition")
	_, widest, _ := widestPrompts(r.Tok, synthetic.Prompts, add)
	longest, _ := rlt.PromptLengths(r.Tok, synthetic.Prompts, long, "7")
	t.Setenv("RLT_MEMORY_LIMIT", "1MiB")
	for _, c := range []struct {
		name string
		cfg  func() error
		want string
	}{
		{"the task's widest", func() error { _, err := checkAndNew(synthetic, nil); return err },
			fmt.Sprintf("sampling 4 sequences of %d tokens (prompts of up to %d tokens, the task's widest question;", widest+8, widest)},
		{"the data's longest row", func() error { _, err := checkAndNew(dataConfig(data), nil); return err },
			fmt.Sprintf("sampling 4 sequences of %d tokens (prompts of up to %d tokens, the longest of the data's rows;", longest+8, longest)},
		{"a data run's configuration alone", func() error { return CheckMemory(dataConfig(data)) },
			"sampling 4 sequences of 136 tokens (a prompt of 128 tokens assumed;"},
	} {
		if err := c.cfg(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want it to say %q", c.name, err, c.want)
		}
	}
	if longest <= widest || longest == 128 {
		t.Fatalf("the long row's prompt takes %d tokens, the task's widest %d: the test needs it longer", longest, widest)
	}
}
