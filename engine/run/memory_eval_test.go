package run

import (
	"testing"
)

// A run that evaluates (eval_every > 0) has its held-out evaluation
// counted beside the step: the teacher's explanations and the student's
// answers are sampled between steps with samplers and a tape of their own,
// beside what the step keeps, and raise the peak. Measured at the embedded
// default, --device cpu, 3 steps: 299,084 kB of peak RSS without an
// evaluation, 321,804 kB with one of 32 questions after each step, 536,856
// kB with 256, where the estimate said 379.6 MiB for each: under the last.
// The evaluation answers eval_questions at once, at most EvalBatch.
func TestMemoryCountsTheEvaluation(t *testing.T) {
	dir := tinyModels(t)
	total := func(every, questions int) int64 {
		c := smallConfig(dir)
		c.Steps, c.EvalEvery, c.EvalQuestions = 0, every, questions
		m, err := Memory(c)
		if err != nil {
			t.Fatal(err)
		}
		return m.Estimate().Total()
	}
	none, q32, q256, q1000 := total(0, 32), total(1, 32), total(1, EvalBatch), total(1, 1000)
	if !(none < q32 && q32 < q256 && q256 == q1000) {
		t.Errorf("estimates: no evaluation %d bytes, 32 questions %d, %d %d, 1000 %d: want each more, up to the batch of %d", none, q32, EvalBatch, q256, q1000, EvalBatch)
	}
	// A run of fewer steps than eval_every never evaluates.
	c := smallConfig(dir)
	c.Steps, c.EvalEvery, c.EvalQuestions = 4, 10, 32
	if m, err := Memory(c); err != nil || m.EvalSeqs != 0 {
		t.Errorf("4 steps, eval_every 10: %d questions evaluated at once counted (%v), want none", m.EvalSeqs, err)
	}
	c.Steps = 10
	if m, err := Memory(c); err != nil || m.EvalSeqs != 32 {
		t.Errorf("10 steps, eval_every 10: %d questions evaluated at once counted (%v), want 32", m.EvalSeqs, err)
	}
}
