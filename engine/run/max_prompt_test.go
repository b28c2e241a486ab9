package run

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/task"
)

// max_prompt_tokens leaves out the data rows whose teacher prompt takes
// more tokens, counted among the skipped rows with their line, and the
// memory estimate sizes the steps for the longest row kept: one long row
// among short ones set every step's sequences, and no setting left it
// out (verl's data.max_prompt_length with filter_overlong_prompts does).
// A refusal for memory names the setting beside the row; a cap without a
// data file is refused.
func TestMaxPromptTokensLeavesLongRowsOut(t *testing.T) {
	long := strings.TrimSpace(strings.Repeat("How many apples are there when every tree has seven? ", 3))
	var b strings.Builder
	for i := range 8 {
		fmt.Fprintf(&b, "{\"question\": \"What is %d plus 1?\", \"solution\": \"%d\"}\n", i, i+1)
	}
	fmt.Fprintf(&b, "{\"question\": %q, \"solution\": \"7\"}\n", long)
	data := writeFile(t, "rows.jsonl", b.String())
	cfg := dataConfig(data)
	cfg.Device = "cpu"
	cfg.GRPO.Questions, cfg.GRPO.Samples, cfg.GRPO.MicroBatch = 4, 8, 1
	uncapped, m := checkedMemory(t, cfg)
	if m.LongestRow != data+" line 9" || m.NextTeacherPrompt >= m.TeacherPrompt {
		t.Fatalf("the estimate's longest row %q (%d tokens, the next %d); want line 9, longer than the rest", m.LongestRow, m.TeacherPrompt, m.NextTeacherPrompt)
	}
	// The advice names the setting, with the cap that leaves the row out.
	t.Setenv("RLT_MEMORY_LIMIT", fmt.Sprint((m.Fixed().Total()+m.Estimate().Total())/2))
	want := fmt.Sprintf("the next longest row's is %d), or set max_prompt_tokens = %d, which leaves out every row longer: ", m.NextTeacherPrompt, m.NextTeacherPrompt)
	if err := uncapped.CheckMemory(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("refused for memory: %v\nwant it to say %q", err, want)
	}
	t.Setenv("RLT_MEMORY_LIMIT", "")

	cfg.MaxPromptTokens = m.NextTeacherPrompt
	capped, mc := checkedMemory(t, cfg)
	if mc.TeacherPrompt != m.NextTeacherPrompt || mc.Estimate().Total() >= m.Estimate().Total() {
		t.Errorf("capped at %d: the estimate takes prompts of %d tokens, %d bytes (uncapped %d); want the cap's prompts, less memory",
			cfg.MaxPromptTokens, mc.TeacherPrompt, mc.Estimate().Total(), m.Estimate().Total())
	}
	e, err := New(context.Background(), capped, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := append(append([]string{}, questionsOf(e.Data.Train)...), questionsOf(e.Data.HeldOut)...)
	reason := fmt.Sprintf("line 9: its teacher prompt takes %d tokens, more than max_prompt_tokens = %d", m.TeacherPrompt, m.NextTeacherPrompt)
	if len(rows) != 8 || strings.Contains(strings.Join(rows, "\n"), long) || !strings.Contains(e.Data.File.Report.SkipList(10), reason) {
		t.Errorf("capped: %d rows kept, skips %q; want 8, the long one skipped: %q", len(rows), e.Data.File.Report.SkipList(10), reason)
	}

	synthetic := DefaultConfig(defaultTeacher, defaultStudent)
	synthetic.MaxPromptTokens = 100
	if err := Validate(synthetic); err == nil || !strings.Contains(err.Error(), "max_prompt_tokens 100 caps the prompts of a data file's rows, and this run has none") {
		t.Errorf("a synthetic task with max_prompt_tokens: %v", err)
	}
}

func questionsOf(exs []task.Example) []string {
	var qs []string
	for _, ex := range exs {
		qs = append(qs, ex.Question)
	}
	return qs
}
