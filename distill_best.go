package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/shell"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// bestOfBatch is the most explanations rlt distill --best-of has the
// teacher write, and the scorer score, at once (runpkg.BestOfBatch): its
// stderr says the ranking's progress every bestOfBatch questions.
const bestOfBatch = runpkg.BestOfBatch

// rankSummary says what the ranking did so far (st) of --best-of n, in
// one line, as rlt distill's stderr does.
func rankSummary(st runpkg.RankStats, n int) string {
	return fmt.Sprintf("ranked %s (best of %d): mean reward %.4f of the kept explanations, %.4f of all %d sampled",
		plural(st.Questions, "question"), n, st.Kept(), st.All(), st.Sampled)
}

// checkBestOf refuses, before any work, a --best-of that cannot rank, the
// flags that only a ranking reads given without one, and a reward
// configuration rc (the reward's coefficients, from rewardCoefficientFlags,
// and estimator, from rewardEstimatorFlag)
// that rlt score and a run's [reward] refuse, said by its flag as rlt
// score says it (RewardConfig.Validate, rewardFlagProblems).
func checkBestOf(fs *flag.FlagSet, set map[string]bool, n int, reference bool, temperature float64, rc record.RewardConfig, rewardStudent, samplesOut string) error {
	if n == 1 {
		names := []string{"reward-student", "samples-out"}
		for _, f := range rewardCoefficients {
			names = append(names, f.flag)
		}
		names = append(names, "estimator") // rewardEstimatorFlag's
		for _, name := range names {
			switch {
			case set[name] && reference: // --best-of N would be refused with it: say so at once
				return misuse(fs, "--%s with --reference: it belongs to the ranked variant (--best-of N), which ranks a teacher's explanations, not the task's own; leave --%s out", name, name)
			case set[name]:
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
		return misuse(fs, "--best-of %d needs --reward-student DIR: the frozen student the reward (r = r_SS − r_KL + m, as "+shell.Program()+" score --student computes it) ranks the explanations with, such as the student the teacher was trained against", n)
	}
	rc.Temperature = temperature // the reward is at the sampling temperature
	if err := rc.Validate(); err != nil {
		return rewardFlagProblems(fs, err)
	}
	if samplesOut != "" {
		if st, err := os.Stat(samplesOut); err == nil && st.IsDir() {
			return badValue(fs, "--samples-out %s: a folder; give a file to write the samples to", samplesOut)
		}
		if err := refuseUnwritable("samples-out", samplesOut, filepath.Dir(samplesOut)); err != nil {
			return err
		}
	}
	return nil
}

// checkStudentFolder checks, before any device opens, that dir, given as
// flag (--student-init, --reward-student), is a student folder to pair
// with tdir, the folder whose tokenizer tok the rows are in (owner names
// it: "the teacher", or with --reference "--tokenizer-from"), as rlt score
// checks its --student: a ChatML model folder (rlt.CheckChatML) whose
// tokenizer.json is tok's vocabulary (rlt.SameVocabularyOf, its tokens
// said as owner's and flag's; why says what reads tok's tokens with it,
// and what to give) and whose embedding has a
// row for each of them (rlt.CheckTokenizerRows). It says the folder's
// positions (max_position_embeddings). Each refusal names flag and dir:
// one owner, where --student-init's and --reward-student's were written
// out apart.
func checkStudentFolder(flag, dir, owner, tdir string, tok *tokenizer.Tokenizer, why string) (positions int, err error) {
	if err := rlt.CheckChatML(flag, dir); err != nil {
		return 0, err
	}
	// A tokenizer.json of the very bytes of tdir's is its vocabulary: it
	// is not parsed again (rlt.SameTokenizerFile).
	if !rlt.SameTokenizerFile(tdir, dir) {
		stok, err := loadTokenizer(filepath.Join(dir, hf.TokenizerFile))
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w", flag, dir, err)
		}
		if err := rlt.SameVocabularyOf(owner, tok, flag, stok); err != nil { // the roles as given: --tokenizer-from is no teacher
			return 0, fmt.Errorf("%s %s and %s %s: %w (%s)", flag, dir, owner, tdir, err, why)
		}
	}
	if err := rlt.CheckTokenizerRows(flag, dir, tok.VocabSize()); err != nil {
		return 0, err
	}
	positions, err = maxPositions(dir, 0)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", flag, dir, err)
	}
	return positions, nil
}

// rewardFits is a data row's reason to be left out (runpkg.FitReason of
// the distilled pair's positions pos), with, where rewardDir is given,
// the row's reason from the reward's student (its rewardPos positions):
// each explanation of the row is scored, read by it with the row's
// context and solution. Both read the same teacher prompt and student
// context, so each row's are measured once (rlt.PromptLengths), where
// the two reasons each tokenized them. A student given as a folder
// (--student-init initDir, --reward-student rewardDir) is named by it
// (runpkg.LengthsFitReason's studentDir), as a task's question's refusal
// and the rows left out name it: the distilled one was "the student"
// where the reward's was named.
func rewardFits(tok rlt.Encoder, p record.Prompts, maxNew int, pos rlt.Positions, rewardPos int, initDir, rewardDir string) func(task.Example) string {
	reward := rlt.Positions{Teacher: pos.Teacher, Student: rewardPos}
	return func(ex task.Example) string {
		teacher, student := rlt.PromptLengths(tok, p, ex.Question, ex.Solution)
		if why := runpkg.LengthsFitReason(maxNew, pos, ex.Question, teacher, student, initDir); why != "" {
			return why
		}
		if rewardDir == "" {
			return ""
		}
		return runpkg.LengthsFitReason(maxNew, reward, ex.Question, teacher, student, rewardDir)
	}
}

// distillBestOf is rlt distill --best-of: it loads the reward's student
// (rewardDir) and ranks the teacher's explanations of exs with it
// (runpkg.WriteBestExplanations), saying on stderr what the ranking did
// and writing every sample to samplesOut where given. It returns the rows
// the student can learn from, and what the ranking did (the rows it left
// out: RankStats.Tagged and Long). A signal's stop is
// said with what it leaves: while the reward's student loads, as every
// load's (loadStopped); while it ranks, nothing in out and the samples
// ranked so far in samplesOut.
func distillBestOf(ctx context.Context, be compute.Backend, teacher *model.Model, tok rlt.TextTokenizer, p record.Prompts, exs []task.Example, b runpkg.BestOf,
	rewardDir, samplesOut, out string, stderr io.Writer) ([]runpkg.DistillRow, runpkg.RankStats, error) {
	student, err := model.LoadAs(ctx, be, rewardDir, runpkg.RewardStudentPrecision())
	if err := loadStopped(ctx, err, "the reward's student (--reward-student "+rewardDir+") loaded", "question", "to start again, run the same command"); err != nil {
		return nil, runpkg.RankStats{}, err
	}
	if err != nil {
		return nil, runpkg.RankStats{}, fmt.Errorf("--reward-student %s: %w", rewardDir, err)
	}
	var samples *os.File
	if samplesOut != "" {
		if samples, err = os.Create(samplesOut); err != nil {
			return nil, runpkg.RankStats{}, fmt.Errorf("--samples-out: %w", err)
		}
		defer samples.Close()
		b.Samples = samples
	}
	b.TooLong = func(who string) string {
		return fmt.Sprintf("lower --max-new-tokens, or give a shorter --%s-system", who)
	}
	said := 0 // questions ranked when stderr last said so
	b.Progress = func(st runpkg.RankStats) {
		if st.Questions-said >= bestOfBatch || st.Questions == len(exs) {
			fmt.Fprintln(stderr, rankSummary(st, b.N))
			said = st.Questions
		}
	}
	// RLT.md §3: the resolved reward is said, as the workbench says a
	// rescore's (RewardConfig.Summary) and rlt score its own (rewardLine),
	// before the ranking that uses it.
	fmt.Fprintln(stderr, rewardLine(b.ResolvedReward(), rewardDir, ""))
	fmt.Fprintf(stderr, "explaining %d questions, %d times each: the highest-reward explanation of each is kept...\n", len(exs), b.N)
	rows, st, err := runpkg.WriteBestExplanations(ctx, teacher, student, tok, p, exs, b)
	if re := (*rlt.RoomError)(nil); errors.As(err, &re) {
		re.BudgetName, re.Shorten = "--max-new-tokens", "--"+re.Who+"-system"
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		left := "nothing was written to " + out
		if samples != nil {
			left += fmt.Sprintf(", and %s holds the samples of the %s ranked", samplesOut, plural(st.Questions, "question"))
		}
		return nil, runpkg.RankStats{}, fmt.Errorf("stopped by a signal after the teacher's explanations of %d of %d questions were ranked: %s; to start again, run the same command", st.Questions, len(exs), left)
	}
	if err != nil {
		return nil, runpkg.RankStats{}, err
	}
	if samples != nil {
		if err := samples.Close(); err != nil {
			return nil, runpkg.RankStats{}, fmt.Errorf("--samples-out: %w", err)
		}
	}
	return rows, st, nil
}
