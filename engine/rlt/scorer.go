// Package rlt is the model-dependent half of the Reinforcement-Learned
// Teachers method of ../shared/RLT.md: the teacher–student Pair (loaded
// once under one tokenizer rule; the teacher explains, the student's
// context is laid out once, the student reconstructs), the scorer, which
// computes the per-token log-probs of an explanation with the pair — or
// with any LogProbSource, such as an inference server (engine/remote) —
// and fills a record.Scored (the reward's formats and reductions are in
// engine/record), and GRPO, which trains the teacher on that reward.
package rlt

import (
	"context"
	"errors"
	"fmt"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// Tokenizer is what scoring needs of a tokenizer. Teacher and student share
// one (Pair): the explanation's ids are located in both sequences.
type Tokenizer interface {
	Encoder
	TokenString(id int32) string
	VocabSize() int
}

// Item is one explanation to score.
type Item struct {
	Question, Solution string
	// Explanation is the body the teacher wrote: the text after the
	// prefill's "<|begin_of_explanation|>\n\n" and before the end tag.
	Explanation string
	// Ended is false when the teacher never closed the explanation.
	Ended bool
}

// Scorer computes RLT rewards with a teacher and a frozen student, batched:
// in process (NewScorer, a Pair's models) or through inference servers
// (NewSourceScorer), with the same code and the same record.Scored.
type Scorer struct {
	// Tok and Prompts lay out the two models' sequences (the pair's).
	Tok     Tokenizer
	Prompts record.Prompts
	// Teacher and Student give the log-probs.
	Teacher, Student LogProbSource
	// Cfg is the reward configuration the scores are computed under. Its
	// Temperature is the one the log-probs are of: Requested where both
	// sources apply it, else 1 (NewSourceScorer), so that a score is never
	// labelled with a temperature it was not computed at.
	Cfg record.RewardConfig
	// Requested is the temperature asked for.
	Requested float64
	// MicroBatchTokens bounds each in-process forward's padded positions
	// (rows × the longest row): a batch of items runs as several forwards
	// (ModelSource.MicroBatchTokens). 0 = no token limit.
	MicroBatchTokens int
	// TooLong, if set, says what to change where an item's sequence for
	// the model who ("teacher" or "student") does not fit that model's
	// positions, in the terms of the scorer's user (a run's configuration
	// keys); where nil, rlt score's flags are named.
	TooLong func(who string) string
	// OnForward, if set, is told after each model's pass over a Score
	// call's batch how many of its total passes are done (progress: the
	// teacher's, the student's, and the full KL's when it is the estimator).
	OnForward func(done, total int)

	pair   *Pair        // in process: the models (the full KL needs them); else nil
	tm, sm *ModelSource // in process: Teacher and Student
	tape   *compute.Tape
}

// NewScorer scores with pair's models in this process under cfg.
func NewScorer(pair *Pair, cfg record.RewardConfig) (*Scorer, error) {
	tp := compute.NewTape(pair.Teacher.Backend())
	tp.SetRecording(false)
	return newScorerOn(pair, cfg, tp)
}

// newScorerOn is NewScorer on tp, a no-grad tape that others may use
// between scorings (the GRPO trainer's reference tape: one arena then
// serves both, rather than one each).
func newScorerOn(pair *Pair, cfg record.RewardConfig, tp *compute.Tape) (*Scorer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// The two sources share the scorer's tape: Score runs them in turn.
	tm := &ModelSource{M: pair.Teacher, Name: "teacher", Vocab: pair.Shared(), tape: tp}
	sm := &ModelSource{M: pair.Student, Name: "student", Vocab: pair.Shared(), tape: tp}
	return &Scorer{Tok: pair.Tok, Prompts: pair.Prompts, Teacher: tm, Student: sm, Cfg: cfg, Requested: cfg.Temperature,
		pair: pair, tm: tm, sm: sm, tape: tp, MicroBatchTokens: runconfig.DefaultMicroBatchTokens}, nil
}

// NewSourceScorer scores with any two log-prob sources (inference servers,
// engine/remote) sharing tok under prompts and cfg. The full-vocabulary KL
// estimator is refused: a server's prompt log-probs are of the tokens
// given, not whole distributions. Where a source cannot apply cfg's
// temperature (a server computes prompt log-probs of the raw logits), both
// are asked at temperature 1 and the scorer's Cfg says so.
func NewSourceScorer(teacher, student LogProbSource, tok Tokenizer, prompts record.Prompts, cfg record.RewardConfig) (*Scorer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Estimator == record.FullKL {
		return nil, fmt.Errorf("the %q estimator needs the teacher's and the student's whole distributions at each explanation token, which an inference server's prompt log-probs do not return (only the given tokens'): score through a server with %q or %q, or give model folders", record.FullKL, record.LogRatio, record.K3)
	}
	s := &Scorer{Tok: tok, Prompts: prompts, Teacher: teacher, Student: student, Cfg: cfg, Requested: cfg.Temperature}
	tt, st := teacher.Temperature(cfg.Temperature), student.Temperature(cfg.Temperature)
	if tt != cfg.Temperature || st != cfg.Temperature {
		if teacher.Temperature(1) != 1 || student.Temperature(1) != 1 {
			return nil, fmt.Errorf("temperature %g: the teacher (%s) computes log-probs at %g and the student (%s) at %g, and not both at 1", cfg.Temperature, teacher, tt, student, st)
		}
		s.Cfg.Temperature = 1
	}
	return s, nil
}

// Raw reports whether the scores are at a temperature other than the one
// requested (a server that computes prompt log-probs of the raw logits).
func (s *Scorer) Raw() bool { return s.Cfg.Temperature != s.Requested }

func (s *Scorer) encode(it Item) Layout {
	return ItemLayout(s.Tok, s.Prompts, it.Question, it.Solution, it.Explanation)
}

// SequenceLengths is the number of tokens of it's teacher sequence (prompt
// up to the explanation, then the explanation) and student sequence
// (context, explanation, solution): the two forwards Score runs for it.
func (s *Scorer) SequenceLengths(it Item) (teacher, student int) {
	e := s.encode(it)
	return len(e.Teacher), len(e.Student.IDs)
}

// Score computes the reward of each item. Questions and solutions holding a
// tag, or empty solutions, are refused with the item's index. ctx stops it
// where a source can be stopped part way (an inference server's requests,
// cancelled: the error is then a fatal *SourceError wrapping ctx.Err()); a
// model in this process finishes its forward.
//
// A stop or a source's failure part way through the batch (a fatal error)
// is returned with the scores of the items before it whose teacher and
// student log-probs had both come, items[:len(out)], each complete: the
// sources give back what they were answered before it (LogProbSource),
// and the two are paired here, so that a caller writes those items rather
// than drop a batch a server had scored in part. Any other error returns
// no scores.
func (s *Scorer) Score(ctx context.Context, items []Item) ([]record.Scored, error) {
	out, _, err := s.score(ctx, items)
	return out, err
}

// score is Score, with how many of the items' texts were tokenized part by
// part (Layout.Whole false), which a trainer's step records.
func (s *Scorer) score(ctx context.Context, items []Item) (out []record.Scored, partByPart int, err error) {
	enc := make([]Layout, len(items))
	for i, it := range items {
		// An *ItemError, so that ScoreEach, scoring the items one by one,
		// says the problem without the index (always 0) of a batch of one.
		if err := record.CheckText("question", it.Question); err != nil {
			return nil, 0, &ItemError{Item: i, Err: err}
		}
		if err := record.CheckText("solution", it.Solution); err != nil {
			return nil, 0, &ItemError{Item: i, Err: err}
		}
		enc[i] = s.encode(it)
	}
	return s.scoreLayouts(ctx, items, enc)
}

// scoreLayouts is score of items laid out already, enc[i] items[i]'s
// ItemLayout under s.Tok and s.Prompts, whose texts score or its caller
// checked: a GRPO step's explanations, which Pair.Explain laid out to fit
// the models, are scored as they were measured, not encoded again.
func (s *Scorer) scoreLayouts(ctx context.Context, items []Item, enc []Layout) (out []record.Scored, partByPart int, err error) {
	if len(items) == 0 {
		return nil, 0, nil
	}
	for i, e := range enc {
		if !e.Whole {
			partByPart++
		}
		if who, n, max := s.positions().over(e); who != "" {
			return nil, 0, &TooLongError{Item: i, Model: who, Dir: s.sourceName(who), Tokens: n, Max: max,
				Explanation: len(e.T), Advice: s.tooLongAdvice(who)}
		}
	}
	invT := float32(1 / s.Cfg.Temperature)
	full := s.Cfg.Estimator == record.FullKL && s.pair != nil
	if s.Cfg.Estimator == record.FullKL && s.pair == nil {
		return nil, 0, fmt.Errorf("the %q estimator needs the models in this process", record.FullKL)
	}
	if s.tm != nil {
		s.tm.MicroBatchTokens, s.sm.MicroBatchTokens = s.MicroBatchTokens, s.MicroBatchTokens
	}
	passes := 2
	if full {
		passes = 3
	}
	forward := func(done int) {
		if s.OnForward != nil {
			s.OnForward(done, passes)
		}
	}

	// Teacher: log-probs of the explanation tokens with the solution in context.
	tSeqs := make([][]int32, len(enc))
	tWant := make([][2]int, len(enc)) // [first position, count] of scored tokens
	for i, e := range enc {
		tSeqs[i] = e.Teacher
		tWant[i] = [2]int{e.TeacherT, len(e.T)}
	}
	tLP, tHidden, err := s.logProbs(ctx, s.Teacher, s.tm, tSeqs, [][][2]int{tWant}, invT, full)
	if err != nil {
		// No item is complete: the student has scored none.
		return nil, 0, itemError("teacher", err)
	}
	forward(1)

	// Student: explanation tokens (before the solution) and solution tokens.
	sSeqs := make([][]int32, len(enc))
	sExpl := make([][2]int, len(enc))
	sSol := make([][2]int, len(enc))
	for i, e := range enc {
		sSeqs[i] = e.Student.IDs
		sExpl[i] = [2]int{e.Student.Expl.Start, len(e.T)}
		sSol[i] = [2]int{e.Student.Sol.Start, len(e.S)}
	}
	sLP, sHidden, err := s.logProbs(ctx, s.Student, s.sm, sSeqs, [][][2]int{sExpl, sSol}, invT, full)
	if err != nil {
		// The teacher's are all here: the items whose student values
		// came whole before the stop or the failure are complete.
		if !Fatal(err) {
			return nil, 0, itemError("student", err)
		}
		done := 0
		for n := 0; done < len(enc); done++ {
			if n += len(enc[done].T) + len(enc[done].S); n > len(sLP) {
				break
			}
		}
		return s.assemble(items[:done], enc[:done], tLP, sLP, nil), 0, itemError("student", err)
	}
	forward(2)

	var kl []float32
	if full {
		if kl, err = s.fullKL(tHidden, sHidden, enc, invT); err != nil {
			return nil, 0, fmt.Errorf("full KL: %w", err)
		}
		forward(3)
	}

	return s.assemble(items, enc, tLP, sLP, kl), partByPart, nil
}

// assemble is the scores of items, laid out as enc, from the teacher's
// log-probs tLP (each item's explanation tokens, item after item), the
// student's sLP (each item's explanation tokens, then its solution's) and,
// with the full KL, its values kl (each item's explanation tokens); the
// values may run on past the items' (those of a batch's first items).
func (s *Scorer) assemble(items []Item, enc []Layout, tLP, sLP, kl []float32) []record.Scored {
	full := kl != nil
	out := make([]record.Scored, len(items))
	ti, si, ki := 0, 0, 0
	for i, e := range enc {
		sc := &out[i]
		sc.Ended = items[i].Ended
		nt, ns := len(e.T), len(e.S)
		sc.ExplanationIDs, sc.SolutionIDs = e.T, e.S
		sc.ExplanationTokens, sc.SolutionTokens = s.tokens(e.T), s.tokens(e.S)
		sc.TeacherLP = tLP[ti : ti+nt : ti+nt]
		sc.StudentLP = sLP[si : si+nt : si+nt]
		ti += nt
		si += nt
		sc.D = make([]float32, nt)
		for k := range sc.D {
			if full {
				sc.D[k] = kl[ki+k]
			} else {
				sc.D[k] = s.Cfg.TokenScore(sc.TeacherLP[k], sc.StudentLP[k])
			}
		}
		ki += nt
		sc.SolutionLP = sLP[si : si+ns : si+ns]
		si += ns
		sc.Terms = s.Cfg.Reduce(sc.SolutionLP, sc.D, sc.StudentLP, sc.Ended)
	}
	return out
}

// TooLongError is an item whose sequence for one model, with the
// explanation it gives, does not fit that model's positions
// (Positions.over). It is said in RoomError's words (the model as
// model.Name names it, model.ItsPositions) but is not one: a RoomError refuses a
// budget of new tokens from a prompt's length before the teacher writes,
// and its caller lowers that budget; here the explanation is written
// already (a trace's, a step's) and measured whole as the models read it,
// so there is no budget to lower, only the explanation or the prompts to
// shorten, and the item is known by its place (the batch's index, the
// caller's line), not by a question drawn from a task.
type TooLongError struct {
	Item  int    // index in the batch; -1 when scored alone (ScoreEach)
	Model string // "teacher" or "student"
	// Dir is how a source outside this process is known (an inference
	// server's URL); "" for the pair's models.
	Dir         string
	Tokens, Max int
	// Explanation is how many of Tokens are the explanation's.
	Explanation int
	// Advice says what to change, in the terms of the scorer's caller
	// (Scorer.TooLong).
	Advice string
}

// Room is the most tokens the rest of the sequence leaves the explanation
// (below 1: none).
func (e *TooLongError) Room() int { return e.Max - (e.Tokens - e.Explanation) }

func (e *TooLongError) Error() string {
	sequence := "its prompt and the explanation's %d tokens take %d"
	if e.Model == "student" {
		sequence = "its context, the explanation's %d tokens and the solution take %d"
	}
	left := "none"
	if e.Room() > 0 {
		left = fmt.Sprint(e.Room())
	}
	msg := fmt.Sprintf("%s: "+sequence+", more than %s, which leave the explanation %s: %s",
		model.Name(e.Model, e.Dir), e.Explanation, e.Tokens, model.ItsPositions(e.Max), left, e.Advice)
	if e.Item >= 0 {
		return fmt.Sprintf("item %d: %s", e.Item, msg)
	}
	return msg
}

// ScoreEach scores items as one batch and, when the batch fails, one by
// one, so that only the items that cannot be scored fail: errs[i] is item
// i's error (nil when out[i] holds its score). A source's own failure
// (Fatal) stops it: no later item is scored, and the items it left
// unscored each have its error (an *ItemError naming the item it failed
// on where it is known). ctx stops it as it stops Score: a fatal error, a
// stop is no item's fault. Either keeps the scores of the items that both
// sources had answered before it (Score): out[i] with errs[i] nil, the
// first items of the batch, which a caller writes.
func (s *Scorer) ScoreEach(ctx context.Context, items []Item) (out []record.Scored, errs []error) {
	errs = make([]error, len(items))
	out, err := s.Score(ctx, items)
	if err == nil {
		return out, errs
	}
	if Fatal(err) {
		for i := len(out); i < len(errs); i++ {
			errs[i] = err
		}
		return append(out, make([]record.Scored, len(items)-len(out))...), errs
	}
	out = make([]record.Scored, len(items))
	for i := range items {
		one, err := s.Score(ctx, items[i:i+1])
		if err != nil {
			// The caller knows item i by its own position (a line …).
			if tl := (*TooLongError)(nil); errors.As(err, &tl) {
				tl.Item = -1
			}
			var ie *ItemError
			if errors.As(err, &ie) {
				err = ie.Err
			}
			if Fatal(err) {
				for j := i; j < len(items); j++ {
					errs[j] = &ItemError{Item: i, Err: err}
				}
				return out, errs
			}
			errs[i] = err
			continue
		}
		out[i] = one[0]
	}
	return out, errs
}

func (s *Scorer) tokens(ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = s.Tok.TokenString(id)
	}
	return out
}

// logProbs asks src for the log-probs of the span groups of seqs (see
// LogProbSource); with keepHidden (the full KL, in process) it runs the
// in-process model ms itself and also returns the final hidden rows. A
// source's error comes with the values it gave beside it: those of the
// first sequences, whole, answered before a stop or its failure.
func (s *Scorer) logProbs(ctx context.Context, src LogProbSource, ms *ModelSource, seqs [][]int32, groups [][][2]int, invT float32, keepHidden bool) ([]float32, *compute.Tensor, error) {
	if keepHidden {
		return ms.logProbs(seqs, groups, invT, true)
	}
	lp, err := src.LogProbs(ctx, seqs, groups, s.Cfg.Temperature)
	if err != nil {
		return lp, nil, err
	}
	want := 0
	for _, g := range groups {
		for _, sp := range g {
			want += sp[1]
		}
	}
	if len(lp) != want {
		return nil, nil, &SourceError{Source: src.String(), Seq: -1, Fatal: true, Err: fmt.Errorf("gave %d log-probs for %d tokens", len(lp), want)}
	}
	return lp, nil, nil
}

// itemError names the item a source's error concerns (its sequence index
// is the item's: one sequence per item and model).
func itemError(who string, err error) error {
	var se *SourceError
	if errors.As(err, &se) && se.Seq >= 0 {
		return &ItemError{Item: se.Seq, Err: fmt.Errorf("%s: %w", who, err)}
	}
	return fmt.Errorf("%s: %w", who, err)
}

// positions is the longest sequence each source takes (0: not known).
func (s *Scorer) positions() Positions {
	return Positions{Teacher: s.Teacher.MaxPositions(), Student: s.Student.MaxPositions()}
}

// sourceName is how a refusal names the source of the model who where it
// runs outside this process (an inference server: its URL), "" for a
// model in this process, which its caller knows by its folder.
func (s *Scorer) sourceName(who string) string {
	src := s.Teacher
	if who == "student" {
		src = s.Student
	}
	// A ModelSource is known by its role alone ("teacher").
	if s.pair != nil || src.String() == who {
		return ""
	}
	return src.String()
}

// tooLongAdvice is what to change where an item's sequence for the model
// who does not fit its positions (TooLong), by default in rlt score's
// flags.
func (s *Scorer) tooLongAdvice(who string) string {
	if s.TooLong != nil {
		return s.TooLong(who)
	}
	return "shorten the explanation, or score with the shorter system prompts the traces were made with (--run DIR takes the run's; else --teacher-system and --student-system)"
}

// fullKL computes KL(teacher ‖ student) over the shared vocabulary at each
// explanation position, from the final hidden rows through both LM heads a
// chunk of rows at a time. Teacher rows are the explanations, item after
// item; the student's rows hold each item's explanation rows followed by its
// solution rows.
func (s *Scorer) fullKL(tHidden, sHidden *compute.Tensor, enc []Layout, invT float32) ([]float32, error) {
	if tHidden == nil {
		return nil, nil // no explanation tokens anywhere
	}
	var expl []int32
	r := 0
	for _, e := range enc {
		for k := range e.T {
			expl = append(expl, int32(r+k))
		}
		r += len(e.T) + len(e.S)
	}
	be := s.pair.Teacher.Backend()
	sExpl := be.New("scorer.student_explanation", len(expl), s.pair.Student.Cfg.Hidden)
	be.GatherRows(sExpl, sHidden, expl)
	tp := s.tape
	tp.Reset()
	kl := tp.HeadKL(tHidden, s.pair.Teacher.LMHead, sExpl, s.pair.Student.LMHead, s.pair.Shared(), invT)
	if err := tp.Err(); err != nil {
		return nil, err
	}
	out := make([]float32, kl.Len())
	if err := compute.ReadBack(be, out, kl); err != nil {
		return nil, err
	}
	return out, nil
}
