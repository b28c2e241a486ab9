package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/sample"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// bestOfBatch is the most explanations rlt distill --best-of has the
// teacher write, and the scorer score, at once: the questions of a batch
// with all their samples (64 / N questions), or, past 64 samples, one
// question's samples 64 at a time, so that memory does not grow with N.
// It is the raw variant's batch of questions (runpkg.WriteExplanations).
const bestOfBatch = 64

// bestOf is RLT.md §5's ranked variant of distillation: the teacher
// writes N explanations of each question and the one with the highest
// RLT reward (r = r_SS − r_KL + m, against a frozen student) is kept.
type bestOf struct {
	N           int
	Temperature float64 // the teacher samples at it, and the reward is on it
	MaxNew      int
	Seed        uint64
	// Samples, if set, gets every sampled explanation with its reward, one
	// JSON line each (sampleLine), as its question is ranked.
	Samples io.Writer
	// Progress, if set, is told what the ranking did so far after each
	// batch of questions.
	Progress func(rankStats)
}

// rankStats is what the ranking did: the questions ranked, the
// explanations sampled, and the mean reward of the kept ones and of all
// (each over its finite rewards: a NaN or infinite reward, never kept
// over a finite one, would make the mean say nothing).
type rankStats struct {
	Questions, Sampled int
	kept, all          meanOf
}

// meanOf is a running mean of the finite values added.
type meanOf struct {
	sum float64
	n   int
}

func (m *meanOf) add(v float64) {
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		m.sum += v
		m.n++
	}
}

// Mean is the mean of the finite values added, NaN with none.
func (m meanOf) Mean() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	return m.sum / float64(m.n)
}

// String says the stats in one line, as rlt distill's stderr does.
func (s rankStats) String(n int) string {
	return fmt.Sprintf("ranked %s (best of %d): mean reward %.4f of the kept explanations, %.4f of all %d sampled",
		plural(s.Questions, "question"), n, s.kept.Mean(), s.all.Mean(), s.Sampled)
}

// sampleLine is one line of --samples-out: a sampled explanation as rlt
// score reads it (its question, solution and the teacher's raw completion,
// from which the explanation and whether it ended are extracted), with the
// reward that ranked it, which question it explains (group, in the order
// of the rows) and which of its samples it is, and whether it was kept.
type sampleLine struct {
	Group      int             `json:"group"`
	Sample     int             `json:"sample"`
	Question   string          `json:"question"`
	Solution   string          `json:"solution"`
	Completion string          `json:"completion"`
	Reward     json.RawMessage `json:"reward"` // record.AppendFloat: NaN and ±Inf as strings
	Kept       bool            `json:"kept"`
}

// explainBestOf has teacher explain each of exs b.N times and keeps, of
// each question's explanations, the one with the highest reward (ties: the
// first sampled), in the order of exs. The reward is a GRPO step's
// (rlt.Trainer.Step): the teacher writes as the step samples
// (rlt.Pair.Explain, within the room the prompts leave in both models'
// positions), and each explanation is scored by rlt.Scorer with the run
// configuration's default coefficients (record.DefaultRewardConfig) at
// the sampling temperature, as a run scores, against student, the frozen
// student. On an error it returns the rows of the questions ranked before
// it (a cancelled ctx's: a signal).
func explainBestOf(ctx context.Context, teacher, student *model.Model, tok rlt.TextTokenizer, p record.Prompts, exs []task.Example, microBatchTokens int, b bestOf) ([]runpkg.DistillRow, rankStats, error) {
	var st rankStats
	pair, err := rlt.NewPair(teacher, student, tok, p)
	if err != nil {
		return nil, st, err
	}
	rc := record.DefaultRewardConfig()
	rc.Temperature = b.Temperature // RLT.md §3: the log-probs are at the generation temperature
	sc, err := rlt.NewScorer(pair, rc)
	if err != nil {
		return nil, st, err
	}
	sc.MicroBatchTokens = microBatchTokens
	sc.TooLong = func(who string) string {
		return fmt.Sprintf("lower --max-new-tokens, or give a shorter --%s-system", who)
	}
	gen := sample.NewGenerator(teacher)
	tp := compute.NewTape(teacher.Backend())
	var w *bufio.Writer
	var enc *json.Encoder
	if b.Samples != nil {
		w = bufio.NewWriter(b.Samples)
		enc = json.NewEncoder(w)
		enc.SetEscapeHTML(false) // the tags (<|end_of_explanation|>) read as themselves
	}
	per := max(1, bestOfBatch/b.N) // questions a batch
	rows := make([]runpkg.DistillRow, 0, len(exs))
	for lo := 0; lo < len(exs); lo += per {
		if err := ctx.Err(); err != nil {
			return rows, st, err
		}
		part := exs[lo:min(lo+per, len(exs))]
		qs := make([]rlt.Example, len(part))
		for i, ex := range part {
			qs[i] = rlt.Example{Question: ex.Question, Solution: ex.Solution}
		}
		budget, err := pair.ExplainBudget(qs, b.MaxNew)
		if re := (*rlt.RoomError)(nil); errors.As(err, &re) {
			re.BudgetName, re.Shorten = "--max-new-tokens", "--"+re.Who+"-system"
		}
		if err != nil {
			return rows, st, err
		}
		// Each question's samples, all of them, or bestOfBatch at a time:
		// sampled (in question order, a question's samples together),
		// scored, and their lines kept until the question is ranked.
		best := make([]int, len(part))
		bestReward := make([]float64, len(part))
		kept := make([]string, len(part))
		var lines [][]sampleLine // lines[i]: part[i]'s, when written
		if w != nil {
			lines = make([][]sampleLine, len(part))
		}
		for first := 0; first < b.N; first += bestOfBatch {
			k := min(b.N-first, bestOfBatch)
			// A seed for each call, none the same: the raw variant's for
			// the batch's first question, past every question's for a
			// question's later calls.
			seed := b.Seed + uint64(lo) + uint64(first/bestOfBatch)*uint64(len(exs))
			gens, err := pair.Explain(gen, tp, budget, k, rlt.ExplainOptions{Temperature: b.Temperature, Seed: seed, Stop: ctx.Err})
			if err != nil {
				return rows, st, err
			}
			items := make([]rlt.Item, len(gens))
			for i, g := range gens {
				items[i] = g.Item()
			}
			scores, err := sc.Score(items)
			if err != nil {
				return rows, st, err
			}
			for i, s := range scores {
				q, n := i/k, first+i%k // the question in part, and its sample
				r := s.Reward
				st.all.add(r)
				if n == 0 || better(r, bestReward[q]) {
					best[q], bestReward[q], kept[q] = n, r, gens[i].Body
				}
				if lines != nil {
					lines[q] = append(lines[q], sampleLine{Group: lo + q, Sample: n, Question: gens[i].Question,
						Solution: gens[i].Solution, Completion: gens[i].Text, Reward: record.AppendFloat(nil, r)})
				}
			}
			st.Sampled += len(gens)
		}
		for q, ex := range part {
			rows = append(rows, runpkg.DistillRow{Question: ex.Question, Explanation: kept[q], Solution: ex.Solution})
			st.kept.add(bestReward[q])
			if lines == nil {
				continue
			}
			lines[q][best[q]].Kept = true
			for _, l := range lines[q] {
				if err := enc.Encode(l); err != nil {
					return rows, st, err
				}
			}
		}
		st.Questions += len(part)
		if w != nil {
			if err := w.Flush(); err != nil {
				return rows, st, err
			}
		}
		if b.Progress != nil {
			b.Progress(st)
		}
	}
	return rows, st, nil
}

// better reports whether reward r ranks above best: a higher one, or a
// number over a NaN (which compares as neither).
func better(r, best float64) bool {
	return r > best || (math.IsNaN(best) && !math.IsNaN(r))
}

// rewardStudentPrecision is how --reward-student holds its matrices: as a
// run holds its frozen student by default (grpo.frozen_weights), so the
// reward is the one a run with this student computes.
func rewardStudentPrecision() model.Precision {
	return rlt.FrozenPrecision(runconfig.DefaultGRPO())
}

// checkBestOf refuses, before any work, a --best-of that cannot rank and
// the flags that only a ranking reads given without one.
func checkBestOf(fs *flag.FlagSet, set map[string]bool, n int, reference bool, temperature float64, rewardStudent, samplesOut string) error {
	if n == 1 {
		for _, name := range []string{"reward-student", "samples-out"} {
			if set[name] {
				return misuse(fs, "--%s without --best-of above 1: it belongs to the ranked variant (the teacher writes N explanations of each question, the highest-reward one is kept); give --best-of N, or leave --%s out", name, name)
			}
		}
		return nil
	}
	switch {
	case reference:
		return misuse(fs, "--best-of %d with --reference: the task's own explanations are one a question, with nothing to rank; leave --best-of out, or give --teacher for a teacher's", n)
	case temperature == 0:
		return misuse(fs, "--best-of %d with --temperature 0: greedy sampling writes the same explanation %d times, with nothing to rank; give a temperature above 0 (the default is 0.7), or leave --best-of out", n, n)
	case rewardStudent == "":
		return misuse(fs, "--best-of %d needs --reward-student DIR: the frozen student the reward (r = r_SS − r_KL + m, as rlt score --student computes it) ranks the explanations with, such as the student the teacher was trained against", n)
	}
	if samplesOut != "" {
		if st, err := os.Stat(samplesOut); err == nil && st.IsDir() {
			return misuse(fs, "--samples-out %s: a folder; give a file to write the samples to", samplesOut)
		}
		if err := refuseUnwritable("samples-out", samplesOut, filepath.Dir(samplesOut)); err != nil {
			return err
		}
	}
	return nil
}

// checkRewardStudent checks, before any device opens, that dir is a ChatML
// model folder that reads the teacher's (tdir's) tokens, as rlt score
// checks its --student, and says its positions (max_position_embeddings).
func checkRewardStudent(dir, tdir string, tok *tokenizer.Tokenizer) (positions int, err error) {
	if err := rlt.CheckChatML("--reward-student", dir); err != nil {
		return 0, err
	}
	stok, err := loadTokenizer(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return 0, fmt.Errorf("--reward-student %s: %w", dir, err)
	}
	if err := rlt.SameVocabulary(tok, stok); err != nil {
		return 0, fmt.Errorf("--reward-student %s and the teacher %s: %w (the reward reads the teacher's explanations in its tokens: give a student whose tokenizer.json is the teacher's)", dir, tdir, err)
	}
	if err := rlt.CheckTokenizerRows("--reward-student", dir, tok.VocabSize()); err != nil {
		return 0, err
	}
	positions, err = maxPositions(dir, 0)
	if err != nil {
		return 0, fmt.Errorf("--reward-student %s: %w", dir, err)
	}
	return positions, nil
}

// rewardFits is fit, a data row's reason to be left out, with, where
// rewardDir is given, the row's reason from the reward's student (its
// rewardPos positions): each explanation of the row is scored, read by it
// with the row's context and solution.
func rewardFits(fit func(task.Example) string, tok rlt.Encoder, p record.Prompts, maxNew, teacherPos, rewardPos int, rewardDir string) func(task.Example) string {
	if rewardDir == "" {
		return fit
	}
	reward := runpkg.FitReason(tok, p, maxNew, rlt.Positions{Teacher: teacherPos, Student: rewardPos})
	return func(ex task.Example) string {
		if why := fit(ex); why != "" {
			return why
		}
		if why := reward(ex); why != "" { // named by its folder, as a task's question's refusal names it
			return strings.Replace(why, model.Name("student", ""), model.Name("student", rewardDir), 1)
		}
		return ""
	}
}

// distillBestOf is rlt distill --best-of: it loads the reward's student
// (rewardDir) and ranks the teacher's explanations of exs with it
// (explainBestOf), saying on stderr what the ranking did and writing every
// sample to samplesOut where given. A signal's stop is said with what it
// leaves (nothing in out; the samples ranked so far in samplesOut).
func distillBestOf(ctx context.Context, be compute.Backend, teacher *model.Model, tok rlt.TextTokenizer, p record.Prompts, exs []task.Example, b bestOf,
	rewardDir, samplesOut string, microBatchTokens int, out string, stderr io.Writer) ([]runpkg.DistillRow, error) {
	student, err := model.LoadAs(ctx, be, rewardDir, rewardStudentPrecision())
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("stopped by a signal while the reward's student (--reward-student %s) loaded: nothing was written to %s; to start again, run the same command", rewardDir, out)
	}
	if err != nil {
		return nil, fmt.Errorf("--reward-student %s: %w", rewardDir, err)
	}
	var samples *os.File
	if samplesOut != "" {
		if samples, err = os.Create(samplesOut); err != nil {
			return nil, fmt.Errorf("--samples-out: %w", err)
		}
		defer samples.Close()
		b.Samples = samples
	}
	said := 0 // questions ranked when stderr last said so
	b.Progress = func(st rankStats) {
		if st.Questions-said >= bestOfBatch || st.Questions == len(exs) {
			fmt.Fprintln(stderr, st.String(b.N))
			said = st.Questions
		}
	}
	fmt.Fprintf(stderr, "explaining %d questions, %d times each: the highest-reward explanation of each is kept...\n", len(exs), b.N)
	rows, st, err := explainBestOf(ctx, teacher, student, tok, p, exs, microBatchTokens, b)
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		left := "nothing was written to " + out
		if samples != nil {
			left += fmt.Sprintf(", and %s holds the samples of the %s ranked", samplesOut, plural(st.Questions, "question"))
		}
		return nil, fmt.Errorf("stopped by a signal after the teacher's explanations of %d of %d questions were ranked: %s; to start again, run the same command", st.Questions, len(exs), left)
	}
	if err != nil {
		return nil, err
	}
	if samples != nil {
		if err := samples.Close(); err != nil {
			return nil, fmt.Errorf("--samples-out: %w", err)
		}
	}
	return rows, nil
}
