package run

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/task"
)

// A run's estimate counts the student's reconstruction at the longest
// solution (memory.GRPO.Solution): the trainer asks for it and
// memory.ReconstructMargin more, after the student's context before the
// solution (BeforeSolution) and the explanation. A data run's are
// measured on its training rows, each solution encoded alone as the
// trainer encodes it; the longest solution and the longest context before
// one may be different rows'; a held-out row, which the student never
// reconstructs, is not counted. A synthetic task's are its widest
// example's, whose solution (a number) stays within the sampler's first
// stretch: its estimate has no reconstruction cache growing. Before,
// neither was known and the reconstruction was counted as 8 new tokens
// after the whole student sequence, its solution taken as prompt.
func TestMemoryCountsTheSolutions(t *testing.T) {
	long := strings.Repeat("carry the one, then ", 4) + "the sum is 4"
	shortQ, longQ := "What is 2 + 2?", strings.TrimSpace(strings.Repeat("a question much longer than the others ", 3))
	row := func(q, s string) string {
		b, err := json.Marshal(map[string]string{"question": q, "solution": s})
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n"
	}
	c := dataConfig(writeFile(t, "train.jsonl", row(shortQ, long)+row(longQ, "4")+row("What is 3 + 3?", "6")))
	c.EvalData = writeFile(t, "eval.jsonl", row("held out?", strings.Repeat("x y ", 30)))
	checked, m := checkedMemory(t, c)
	tok, err := checked.tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	_, withLong := rlt.PromptLengths(tok, checked.cfg.Prompts, shortQ, long)
	_, withLongQ := rlt.PromptLengths(tok, checked.cfg.Prompts, longQ, "4")
	wantSolution := len(tok.Encode(long))
	wantBefore := max(withLong-wantSolution, withLongQ-len(tok.Encode("4")))
	if m.Solution != wantSolution || m.BeforeSolution != wantBefore {
		t.Errorf("data run: Solution %d, BeforeSolution %d; want the longest training solution's %d tokens and the longest context before one, %d",
			m.Solution, m.BeforeSolution, wantSolution, wantBefore)
	}
	if wantSolution+memory.ReconstructMargin <= 32 {
		t.Fatalf("the longest solution, %d tokens, stays within the sampler's first stretch: not the case this test is for", wantSolution)
	}
	words := fmt.Sprintf("up to %d new", wantSolution+memory.ReconstructMargin)
	var recon, growing bool
	for _, p := range m.Estimate().Parts {
		recon = recon || strings.HasPrefix(p.What, "the student's reconstructions") && strings.Contains(p.What, words)
		growing = growing || strings.Contains(p.What, "cache growing") && strings.Contains(p.What, "(the student's reconstructions)")
	}
	if !recon || !growing {
		t.Errorf("data run: reconstructions of %s counted %v, their cache growing %v: %v", words, recon, growing, m.Estimate())
	}

	synthetic, s := checkedMemory(t, DefaultConfig(defaultTeacher, defaultStudent))
	tt, _ := task.Lookup(synthetic.cfg.Task)
	widest := tt.Widest()
	if want := atBytes(tok, tok.Encode(widest.Solution)); s.Solution != want || s.BeforeSolution != s.StudentPrompt-want {
		t.Errorf("task %s: Solution %d, BeforeSolution %d; want the widest solution's %d and the student context less it, %d",
			synthetic.cfg.Task, s.Solution, s.BeforeSolution, want, s.StudentPrompt-want)
	}
	for _, p := range s.Estimate().Parts {
		if strings.Contains(p.What, "(the student's reconstructions)") {
			t.Errorf("task %s: %q counted, though its solutions stay within the first stretch", synthetic.cfg.Task, p.What)
		}
	}
}

// The estimate's reconstruction is at least what rlt.Trainer asks the
// student for on each training row: its prompt, the student's context
// through the solution's opening tag and the explanation
// (Pair.StudentSequence(question, body, "").Prompt, as Pair.Reconstruct
// lays it out), within BeforeSolution and the body's tokens, and its
// budget, the solution encoded alone (Trainer.reconstruct), within
// Solution. BeforeSolution is measured on the row's whole student context
// less its solution: a layout that put more before the solution than the
// context holds (another tag, a lead) would make it short.
func TestMemoryBoundsTheTrainersReconstruction(t *testing.T) {
	c := dataConfig(trainFixture)
	checked, m := checkedMemory(t, c)
	tok, err := checked.tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	if m.Solution <= 0 || m.BeforeSolution <= 0 {
		t.Fatalf("Solution %d, BeforeSolution %d: not measured", m.Solution, m.BeforeSolution)
	}
	body := "carry the one, then add the tens: 3 + 4 = 7."
	bodyTokens := len(tok.Encode(body))
	longest, before := 0, 0
	for _, ex := range checked.data.Train {
		longest = max(longest, len(tok.Encode(ex.Solution)))
		before = max(before, len(rlt.StudentLayout(tok, checked.cfg.Prompts, ex.Question, body, "").Prompt)-bodyTokens)
	}
	if longest > m.Solution || before > m.BeforeSolution {
		t.Errorf("the trainer asks for %d new tokens after prompts of %d tokens and the explanation's %d; the estimate counts %d after %d",
			longest+memory.ReconstructMargin, before, bodyTokens, m.Solution+memory.ReconstructMargin, m.BeforeSolution)
	}
}
