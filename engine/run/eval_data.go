package run

import (
	"context"
	"fmt"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/sample"
	"github.com/rlt-workbench/rlt/engine/task"
)

// SkipWarning is the one-line report of the rows of a data file that were
// left out, "NAME PATH: skipped K of N rows: line L: reason; …" (at most ten
// lines spelled out), or "" when none was. name says which file it is
// ("data", "eval_data"). rlt train, rlt distill and rlt eval all report
// skipped rows with it.
func SkipWarning(name string, f *task.File) string {
	if f == nil || len(f.Report.Skipped) == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s: skipped %d of %s: %s", name, f.Path, len(f.Report.Skipped), jsonerr.Rows(f.Report.Rows), f.Report.SkipList(10))
}

// StudentFitReason rejects an example whose student prompt (the question
// before the student's own thought), with maxNew generated tokens, would
// exceed the student's maxPos positions (rlt.Positions.Continues, the
// sampler's rule; 0: not known, nothing is rejected): FitReason for a
// student that solves the question by itself. Use it with
// task.Report.Drop.
func StudentFitReason(tok rlt.Encoder, p record.Prompts, maxNew, maxPos int) func(task.Example) string {
	pos := rlt.Positions{Student: maxPos}
	return func(ex task.Example) string {
		if n := len(rlt.SolvePrompt(tok, p, ex.Question)); !pos.Continues("student", n, maxNew) {
			return tooLong("student", "", n, maxNew, maxPos)
		}
		return ""
	}
}

// tooLong is FitReason's and StudentFitReason's reason for a row whose
// prompt for the model who (in its folder dir, "" for none named) takes
// prompt tokens, past its positions with maxNew more: the model, its
// positions and by how much in the words of every refusal past them
// (model.Name, model.ItsPositions).
func tooLong(who, dir string, prompt, maxNew, positions int) string {
	return fmt.Sprintf("too long for %s: its prompt takes %d tokens, and with max_new_tokens = %d more that exceeds %s by %d",
		model.Name(who, dir), prompt, maxNew, model.ItsPositions(positions), prompt+maxNew-positions)
}

// ExplainResult is one question of a teacher evaluation: the teacher's
// explanation and the student's answer after reading it.
type ExplainResult struct {
	Question, Solution string
	Explanation        string // the teacher's (greedy)
	Answer             string // the student's (greedy)
	Correct            bool
	// Task is the task whose checker and verifier judged the question; ""
	// when the answer was checked by exact match and nothing verified the
	// explanation (Verdict is then the zero value).
	Task    string
	Verdict task.Verdict
}

// Verified reports whether the explanation's steps verify (false when no
// task verified it).
func (r ExplainResult) Verified() bool { return r.Task != "" && verified(r.Verdict) }

// rlt eval's questions where none are given, and its budget: EvalQuestions
// of a task's held-out split, drawn at EvalSeed, each explanation or
// thought at most EvalMaxNewTokens. rlt pretrain's check of the teacher it
// made and the embedded defaults' bar (TestEmbeddedTeacherExplainsWell)
// count on these, as rlt eval --questions 200 does.
const (
	EvalQuestions    = 200
	EvalSeed         = 7
	EvalMaxNewTokens = 160
)

// EvalTeacherResults is EvalTeacher with each question's result, in the
// order of exs. Its values are named as EvalStudent's, "accuracy",
// "verified_rate", and "leak_rate": the keys of rlt eval's summary in both
// modes (EvalTeacher prefixes them for a run's metrics). A cancelled ctx
// stops it within a token, with ctx's error and no results.
func EvalTeacherResults(ctx context.Context, pair *rlt.Pair, t task.Task, exs []task.Example, maxNew int) ([]ExplainResult, map[string]float64, error) {
	if len(exs) == 0 {
		return nil, nil, fmt.Errorf("evaluate: no questions")
	}
	var expl, answers []string
	tgen, sgen := sample.NewGenerator(pair.Teacher), sample.NewGenerator(pair.Student)
	tape := compute.NewTape(pair.Teacher.Backend())
	for lo := 0; lo < len(exs); lo += EvalBatch {
		part := exs[lo:min(lo+EvalBatch, len(exs))]
		qs := make([]rlt.Example, len(part))
		for i, ex := range part {
			qs[i] = rlt.Example{Question: ex.Question, Solution: ex.Solution}
		}
		// The teacher explains (greedy), the student answers from it.
		budget, err := pair.ExplainBudget(qs, maxNew)
		if err != nil {
			return nil, nil, err
		}
		ex, err := pair.Explain(tgen, tape, budget, 1, rlt.ExplainOptions{Stop: ctx.Err})
		if err != nil {
			return nil, nil, err
		}
		if err := ctx.Err(); err != nil { // the student's answers are short: asked before, not within
			return nil, nil, err
		}
		items := make([]rlt.Item, len(ex))
		for i, e := range ex {
			items[i] = e.Item()
			expl = append(expl, e.Body)
		}
		a, err := pair.Reconstruct(sgen, tape, items, 16)
		if err != nil {
			return nil, nil, err
		}
		answers = append(answers, a...)
	}
	out := make([]ExplainResult, len(exs))
	var correct, verifiable, nverified, leaked float64
	for i, ex := range exs {
		r := ExplainResult{Question: ex.Question, Solution: ex.Solution, Explanation: expl[i], Answer: answers[i]}
		r.Correct = checkAnswer(t, ex, answers[i])
		if r.Correct {
			correct++
		}
		if vt := judge(t, ex); vt != nil {
			r.Task, r.Verdict = vt.Name(), vt.VerifyExplanation(ex.Question, expl[i])
			verifiable++
			if verified(r.Verdict) {
				nverified++
			}
			if r.Verdict.AnswerFirst {
				leaked++
			}
		}
		out[i] = r
	}
	vals := map[string]float64{"accuracy": correct / float64(len(exs))}
	if verifiable > 0 {
		vals["verified_rate"], vals["leak_rate"] = nverified/verifiable, leaked/verifiable
	}
	return out, vals, nil
}

// EvalBatch bounds the questions generated for at once by an evaluation
// (the KV caches grow with the batch; a user data file may be large).
// Greedy decoding gives the same text alone or in a batch, so it changes no
// result.
const EvalBatch = 256

// judge is the task that checks and verifies ex: t, or with t nil (user
// data) the example's own task (Example.Task); nil when it has none.
func judge(t task.Task, ex task.Example) task.Task {
	if t != nil {
		return t
	}
	vt, _ := task.Lookup(ex.Task)
	return vt
}

// checkAnswer reports whether answer is right for ex: by t's checker, or
// with t nil by task.CheckSolution (the example's task, else exact match).
func checkAnswer(t task.Task, ex task.Example, answer string) bool {
	if t == nil {
		return task.CheckSolution(ex, answer)
	}
	return t.CheckAnswer(ex.Question, answer)
}

// verified is the evaluations' "steps verify": every expected step present
// and correct, none wrong.
func verified(v task.Verdict) bool { return v.Complete() && v.Wrong == 0 }
