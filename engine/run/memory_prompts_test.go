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
			fmt.Sprintf("sampling 4 sequences of %d tokens (prompts of up to %d tokens, the longest of the data's rows, %s line 2;", longest+8, longest, data)},
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

// A data run refused for memory names its longest row, by file and line,
// and where that one row sets the estimate, says first to leave it out,
// with what the run needs without it; a row too long for the models, which
// New leaves out, is not counted. The advice named the step's settings
// only: a question of 24k tokens among short ones asked 129 GiB of a 0.5B
// pair that needs 15 without it, and no micro-batch or number of samples
// comes near.
func TestRunEstimateNamesTheLongestRow(t *testing.T) {
	long := strings.TrimSpace(strings.Repeat("How many apples are there when every tree has seven? ", 3))
	tooLong := strings.Repeat("seven apples ", 200) // past the default models' 256 positions
	short := `{"question": "What is 2 + 3?", "solution": "5"}
{"question": "What is 4 + 4?", "solution": "8"}
{"question": "What is 1 + 6?", "solution": "7"}
`
	for _, c := range []struct {
		name, rows string
		wantFix    bool
		line       int
	}{
		{"one long row", short + fmt.Sprintf(`{"question": %q, "solution": "7"}`+"\n", long), true, 4},
		{"one long row and one too long for the models", fmt.Sprintf(`{"question": %q, "solution": "7"}`+"\n", tooLong) + short +
			fmt.Sprintf(`{"question": %q, "solution": "7"}`+"\n", long), true, 5},
		{"two long rows", fmt.Sprintf(`{"question": %q, "solution": "7"}`+"\n", long) + short +
			fmt.Sprintf(`{"question": %q, "solution": "9"}`+"\n", long), false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := writeFile(t, "rows.jsonl", c.rows)
			cfg := dataConfig(data)
			cfg.Device = "cpu"
			cfg.GRPO.Questions, cfg.GRPO.Samples, cfg.GRPO.MicroBatch = 4, 8, 1
			checked, m := checkedMemory(t, cfg)
			row := fmt.Sprintf("%s line %d", data, c.line)
			if m.LongestRow != row {
				t.Fatalf("the estimate's longest row is %q; want %q", m.LongestRow, row)
			}
			// A limit the models fit in and the step does not: the
			// step's fixes are offered.
			fixed, need := m.Fixed().Total(), m.Estimate().Total()
			t.Setenv("RLT_MEMORY_LIMIT", fmt.Sprint((fixed+need)/2))
			err := checked.CheckMemory()
			if err == nil {
				t.Fatalf("the run fits %d bytes; the test wants one that does not", (fixed+need)/2)
			}
			fix := fmt.Sprintf("\n  - leave out or shorten %s, the data's longest row (a teacher prompt of %d tokens; the next longest row's is ", row, m.TeacherPrompt)
			if got := strings.Contains(err.Error(), fix); got != c.wantFix {
				t.Errorf("the advice says to leave the row out: %v, want %v:\n%v", got, c.wantFix, err)
			}
			if !strings.Contains(err.Error(), "the longest of the data's rows, "+row+";") {
				t.Errorf("the estimate does not name the row %s:\n%v", row, err)
			}
			if c.wantFix && !strings.Contains(err.Error(), "To fit, try:"+fix) {
				t.Errorf("leaving the row out is not the first fix:\n%v", err)
			}
		})
	}
}
