package run

import (
	"context"
	"fmt"
	"strings"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/sample"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// DistillRow is one student SFT row: the question, the teacher's raw
// explanation and the reference solution (RLT.md §5: no filtering).
type DistillRow struct {
	Question, Explanation, Solution string
}

// WriteExplanations has the teacher explain every example, sampling at
// temperature (0 = greedy) from a seed; raw outputs, no filtering. A
// cancelled ctx stops it between batches of examples, with the rows
// written so far and ctx's error.
func WriteExplanations(ctx context.Context, teacher *model.Model, tok rlt.TextTokenizer, p record.Prompts, exs []task.Example, temperature float64, maxNew int, seed uint64, batch int) ([]DistillRow, error) {
	if batch <= 0 {
		batch = BestOfBatch
	}
	rows := make([]DistillRow, 0, len(exs))
	gen := sample.NewGenerator(teacher)
	tp := compute.NewTape(teacher.Backend())
	for lo := 0; lo < len(exs); lo += batch {
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		part := exs[lo:min(lo+batch, len(exs))]
		qs := make([]rlt.Example, len(part))
		for i, ex := range part {
			qs[i] = rlt.Example{Question: ex.Question, Solution: ex.Solution}
		}
		res, err := rlt.Explain(gen, tp, tok, p, qs, 1, rlt.ExplainOptions{Temperature: temperature, MaxNewTokens: maxNew, Seed: seed + uint64(lo)})
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			rows = append(rows, DistillRow{Question: r.Question, Explanation: r.Body, Solution: r.Solution})
		}
	}
	return rows, nil
}

// ReferenceRows are the rows of the examples' own reference explanations
// (rlt distill --reference: the reference explanation generator). A row's
// Explanation is the body, after the lead (record.ExplanationLead) that
// the student layout puts after the thought tag: a reasoning trace read
// from a Bespoke-Stratos row (or from rlt distill's own distill.jsonl) is
// already the body (record.ParseStratosAssistant), so the row written again
// is the row read.
func ReferenceRows(exs []task.Example) []DistillRow {
	rows := make([]DistillRow, len(exs))
	for i, ex := range exs {
		rows[i] = DistillRow{Question: ex.Question, Explanation: ex.Reference, Solution: ex.Solution}
	}
	return rows
}

// Learnable keeps the rows a student can learn from, in order: raw
// outputs, no filtering (RLT.md §5), except an explanation that holds a
// ChatML or RLT tag (it would break the row's own format) and a row longer
// than the student's maxPos positions in the student layout (a reference
// trace has no token budget); those are counted. WriteBestExplanations
// ranks by the same rule (unlearnable), so that it keeps an explanation
// that is not left out here wherever its question has one, and leaves out
// and counts a question's row as this does, from the verdict it ranked by.
func Learnable(rows []DistillRow, tok rlt.Encoder, p record.Prompts, maxPos int) (kept []DistillRow, tagged, long int) {
	for _, r := range rows {
		switch isTagged, isLong := unlearnable(r, tok, p, maxPos); {
		case isTagged:
			tagged++
		case isLong:
			long++
		default:
			kept = append(kept, r)
		}
	}
	return kept, tagged, long
}

// unlearnable says why a student of maxPos positions cannot learn from r
// (Learnable): its explanation holds a ChatML or RLT tag, or else its row
// in the student layout is longer than maxPos; neither where it can.
func unlearnable(r DistillRow, tok rlt.Encoder, p record.Prompts, maxPos int) (tagged, long bool) {
	if _, bad := record.ContainsTag(r.Explanation); bad {
		return true, false
	}
	return false, len(warmstart.StudentSequence(tok, p, r.Question, r.Explanation, r.Solution).Tokens) > maxPos
}

// DistillConfig is the student fine-tuning budget.
type DistillConfig struct {
	Steps, Batch int
	// MicroBatchTokens bounds each forward/backward's padded positions
	// (warmstart.SFT); 0 = a whole batch at once.
	MicroBatchTokens int
	LR, MinLR        float64
	Seed             uint64
}

// FineTune trains student on rows in the student layout (the same recipe
// as the warm start), cycling through the rows in a seeded order.
func FineTune(ctx context.Context, student *model.Model, tok *tokenizer.Tokenizer, p record.Prompts, rows []DistillRow, c DistillConfig, progress func(step int, loss float64)) error {
	if len(rows) == 0 {
		return fmt.Errorf("distill: no rows to learn from")
	}
	seqs := make([]warmstart.Sequence, len(rows))
	for i, r := range rows {
		seqs[i] = warmstart.StudentSequence(tok, p, r.Question, r.Explanation, r.Solution)
	}
	sft, err := warmstart.NewSFT(student, compute.CosineLR{Peak: c.LR, Min: c.MinLR, Warmup: min(50, c.Steps/10), Total: c.Steps}, 1, 0)
	if err != nil {
		return err
	}
	sft.MicroBatchTokens = c.MicroBatchTokens
	order := permutation(len(seqs), c.Seed)
	batch := make([]warmstart.Sequence, c.Batch)
	k := 0
	for step := 0; step < c.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range batch {
			batch[i] = seqs[order[k%len(order)]]
			k++
		}
		loss, _, err := sft.Step(batch)
		if err != nil {
			return fmt.Errorf("distill step %d: %w", step, err)
		}
		if progress != nil {
			progress(step, loss)
		}
	}
	return nil
}

func permutation(n int, seed uint64) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	// xorshift-driven Fisher–Yates: deterministic for the seed.
	x := seed*0x9e3779b97f4a7c15 + 1
	for i := n - 1; i > 0; i-- {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		j := int(x % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// SolveResult is a student's own attempt at a question.
type SolveResult struct {
	Question, Solution, Thought, Answer string
	Correct                             bool
	// Task is the task whose checker and verifier judged the attempt; ""
	// when the answer was checked by exact match and nothing verified the
	// thought (Verdict is then the zero value).
	Task    string
	Verdict task.Verdict
}

// Verified reports whether the thought's steps verify (false when no task
// verified it).
func (r SolveResult) Verified() bool { return r.Task != "" && verified(r.Verdict) }

// EvalStudent has the student solve each question by generating its own
// thought and solution (greedy), the way a distilled student is judged:
// exact-match accuracy, and how often its thought verifies step by step.
// With t nil (user data) each example is judged as in EvalTeacher: by its
// own task when it has one, else by exact match of its solution
// (task.CheckSolution); verified_rate is then over the examples that have a
// task, and absent when none has. A cancelled ctx stops it within a token,
// with ctx's error and no results.
func EvalStudent(ctx context.Context, student *model.Model, tok rlt.TextTokenizer, p record.Prompts, t task.Task, exs []task.Example, maxNew int) ([]SolveResult, map[string]float64, error) {
	if len(exs) == 0 {
		return nil, nil, fmt.Errorf("evaluate: no questions")
	}
	prompts := make([][]int32, len(exs))
	for i, ex := range exs {
		prompts[i] = rlt.SolvePrompt(tok, p, ex.Question)
	}
	res := make([]sample.Result, 0, len(exs))
	for lo := 0; lo < len(prompts); lo += EvalBatch {
		part, err := sample.Generate(compute.NewTape(student.Backend()), student, prompts[lo:min(lo+EvalBatch, len(prompts))], sample.Options{
			MaxNewTokens: maxNew, StopIDs: rlt.StopIDs(tok), StopStrings: []string{record.EndSolution}, Decoder: tok, AllowedVocab: tok.VocabSize(),
			OnStep: func(int, []sample.StepToken) error { return ctx.Err() }})
		if err != nil {
			return nil, nil, err
		}
		res = append(res, part...)
	}
	out := make([]SolveResult, len(exs))
	var correct, verifiable, nverified float64
	for i, r := range res {
		text := tok.Decode(r.IDs)
		thought, rest, _ := strings.Cut(text, record.EndThought)
		_, ans, _ := strings.Cut(rest, record.BeginSolution)
		ans, _, _ = strings.Cut(ans, record.EndSolution)
		ex := exs[i]
		sr := SolveResult{Question: ex.Question, Solution: ex.Solution, Thought: thought, Answer: ans} // the prompt ends with the lead
		sr.Correct = checkAnswer(t, ex, ans)
		if sr.Correct {
			correct++
		}
		if vt := judge(t, ex); vt != nil {
			sr.Task, sr.Verdict = vt.Name(), vt.VerifyExplanation(ex.Question, sr.Thought)
			verifiable++
			if verified(sr.Verdict) {
				nverified++
			}
		}
		out[i] = sr
	}
	vals := map[string]float64{"accuracy": correct / float64(len(exs))}
	if verifiable > 0 {
		vals["verified_rate"] = nverified / verifiable
	}
	return out, vals, nil
}
